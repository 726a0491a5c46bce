/**
 * Deadlines and silence. A request is flagged when:
 * - `overdue`: its deadline (or the data-retention date, whichever is first) has passed and it is
 *   not executed, closed, refused or withdrawn;
 * - `due_soon`: that day is within the next few days;
 * - `undelivered`: no node of the requested authority stored it within the time its urgency
 *   allows, or by its deadline;
 * - `unacknowledged`: the requested authority has not acknowledged it within the time its
 *   urgency allows, or by its deadline;
 * - `followup_due`: a preservation was executed, its retention date comes within FOLLOWUP_DAYS
 *   (or has come), and no request following it up (production, or an extension) was sent: the
 *   evidence disappears unless the requesting side acts;
 * - `translation_pending` / `translation_overdue`: a translation the request announced has not
 *   arrived, before / after the day it was due.
 * Pure: the caller passes the clock reading, and what it knows of follow-ups and translations.
 */
import { EXECUTED_STATES, TRANSITIONS } from './lifecycle.ts';
import type { RequestType, Status, Urgency } from './vocabulary.ts';

export type Flag =
  | 'overdue'
  | 'due_soon'
  | 'undelivered'
  | 'unacknowledged'
  | 'followup_due'
  | 'translation_pending'
  | 'translation_overdue';
export const FLAGS: readonly Flag[] = [
  'overdue',
  'due_soon',
  'undelivered',
  'unacknowledged',
  'followup_due',
  'translation_pending',
  'translation_overdue',
];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How long silence is normal, by urgency (a delivery takes seconds when both relays are up). */
export const EXPECTED = {
  delivery: { immediate: 1 * HOUR, urgent: 4 * HOUR, routine: 1 * DAY },
  acknowledgement: { immediate: 1 * DAY, urgent: 3 * DAY, routine: 10 * DAY },
} as const satisfies Record<string, Record<Urgency, number>>;

export const DUE_SOON_DAYS = 3;
/** How long before a preservation's retention date its follow-up is flagged as due. */
export const FOLLOWUP_DAYS = 7;

const DONE: ReadonlySet<Status> = new Set<Status>([...EXECUTED_STATES, 'closed', 'refused', 'withdrawn']);
const ENDED: ReadonlySet<Status> = new Set<Status>(['closed', 'refused', 'withdrawn']);
/** Steps of the requested side by status update: any of them answers the request. */
const ANSWERS: readonly Status[] = [
  ...new Set(TRANSITIONS.filter((t) => t.owner === 'requested' && t.by === 'update').map((t) => t.to)),
];

/** When the requested side first answered (acknowledged, returned, refused... the request), if it did. */
export function firstAnswer(times: Partial<Record<Status, string>>): string | undefined {
  return ANSWERS.map((s) => times[s])
    .filter((t): t is string => !!t)
    .sort()[0];
}

/** When the request was first carried out (executed, or for an extradition surrendered or submitted). */
export function firstExecution(times: Partial<Record<Status, string>>): string | undefined {
  return EXECUTED_STATES.map((s) => times[s])
    .filter((t): t is string => !!t)
    .sort()[0];
}

export interface DeadlineInput {
  urgency: Urgency;
  deadline?: string | null;
  dataRetentionUntil?: string | null;
  state: Status;
  times: Partial<Record<Status, string>>;
  requestType?: RequestType;
  /**
   * For a preservation on the side that asked for it: whether a request following it up was sent
   * (absent on the side that executes it, which does not owe the follow-up).
   */
  followedUp?: boolean | undefined;
  /** A translation the request announced, and whether it arrived. */
  translationPending?: { language: string; due: string } | undefined;
  translationArrived?: boolean | undefined;
}

/** A preservation executed whose retention date is near (or past) and that nothing followed up. */
function followUpDue(r: DeadlineInput, nowMs: number, days: number): boolean {
  if (r.requestType !== 'expedited_preservation' || r.followedUp !== false || !r.dataRetentionUntil)
    return false;
  if (!r.times.executed && !r.times.partially_executed) return false;
  if (r.state === 'refused' || r.state === 'withdrawn') return false;
  return endOfDay(r.dataRetentionUntil) - nowMs <= days * DAY;
}

/** The earlier of the deadline and the retention date (YYYY-MM-DD), or null. */
export function effectiveDeadline(r: Pick<DeadlineInput, 'deadline' | 'dataRetentionUntil'>): string | null {
  const days = [r.deadline, r.dataRetentionUntil].filter((d): d is string => !!d).sort();
  return days[0] ?? null;
}

/** The instant a deadline day ends (the whole day counts, in UTC). */
export function endOfDay(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) + DAY;
}

export function flags(
  r: DeadlineInput,
  nowMs: number,
  dueSoonDays = DUE_SOON_DAYS,
  followUpDays = FOLLOWUP_DAYS,
): Flag[] {
  const out: Flag[] = [];
  const sentAt = r.times.sent ? Date.parse(r.times.sent) : null;
  if (sentAt === null) return out;
  // A closed preservation still needs its follow-up: checked before the end of the request.
  if (followUpDue(r, nowMs, followUpDays)) out.push('followup_due');
  if (ENDED.has(r.state)) return out;
  if (r.translationPending && !r.translationArrived)
    out.push(nowMs >= endOfDay(r.translationPending.due) ? 'translation_overdue' : 'translation_pending');
  const day = effectiveDeadline(r);
  const ends = day ? endOfDay(day) : null;
  const pastDeadline = ends !== null && nowMs >= ends;
  if (!DONE.has(r.state)) {
    if (pastDeadline) out.push('overdue');
    else if (ends !== null && ends - nowMs <= dueSoonDays * DAY) out.push('due_soon');
  }
  if (!r.times.delivered && (pastDeadline || nowMs - sentAt > EXPECTED.delivery[r.urgency]))
    out.push('undelivered');
  const acknowledged = firstAnswer(r.times);
  if (
    !acknowledged &&
    !DONE.has(r.state) &&
    (pastDeadline || nowMs - sentAt > EXPECTED.acknowledgement[r.urgency])
  )
    out.push('unacknowledged');
  return out;
}
