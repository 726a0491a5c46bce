/**
 * Finding meeting times across time zones: every candidate start on a fixed UTC grid is checked
 * against each member's declared working hours, in that member's local time at that instant, so
 * that daylight-saving changes in any member's zone are accounted for. Bounded: at most eight
 * weeks of candidates at 15-minute steps, whatever step is asked for.
 */
import { EntraideError } from '../errors.ts';
import { MAX_MEETING_MINUTES, MAX_WINDOW_MINUTES } from './duration.ts';
import { spanClock } from './transitions.ts';
import { checkWorkingHours, withinWorkingHours, type WorkingHours } from './working-hours.ts';

const MINUTE = 60_000;
/** The most candidate starts one search checks: eight weeks at 15-minute steps. */
export const MAX_SLOT_CANDIDATES = (MAX_WINDOW_MINUTES / 15) | 0;
export const MAX_SLOT_MEMBERS = 500;
export const MAX_SLOT_LIMIT = 100;

export interface SlotMember {
  authority: string;
  hours: WorkingHours;
}

export interface SlotQuery {
  members: readonly SlotMember[];
  durationMin: number;
  /** The search window, epoch ms: meetings start at or after `from` and end by `until`. */
  from: number;
  until: number;
  /** Candidate starts are multiples of this many minutes in UTC. */
  stepMin?: number;
  limit?: number;
}

export interface Slot {
  start: number;
  end: number;
  /** Members inside their working hours for the whole meeting, in the order given. */
  available: string[];
  /** Members outside their working hours at some moment of the meeting. */
  outside: string[];
}

function guard(q: SlotQuery, stepMin: number, limit: number): void {
  const bad = (code: 'MEETING_INVALID' | 'DURATION_INVALID', why: string) => new EntraideError(code, why);
  if (q.members.length < 1 || q.members.length > MAX_SLOT_MEMBERS)
    throw bad('MEETING_INVALID', `a slot search needs 1 to ${MAX_SLOT_MEMBERS} members`);
  if (new Set(q.members.map((m) => m.authority)).size !== q.members.length)
    throw bad('MEETING_INVALID', 'each member may appear only once in a slot search');
  if (!Number.isInteger(q.durationMin) || q.durationMin < 1 || q.durationMin > MAX_MEETING_MINUTES)
    throw bad('DURATION_INVALID', `a meeting lasts 1 to ${MAX_MEETING_MINUTES} minutes`);
  if (!Number.isInteger(stepMin) || stepMin < 5 || stepMin > 1440)
    throw bad('DURATION_INVALID', 'the step between candidate starts is 5 to 1440 minutes');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SLOT_LIMIT)
    throw bad('MEETING_INVALID', `ask for 1 to ${MAX_SLOT_LIMIT} slots`);
  if (!Number.isFinite(q.from) || !Number.isFinite(q.until) || q.until <= q.from)
    throw bad('DURATION_INVALID', 'the search window must end after it starts');
  if (q.until - q.from > MAX_WINDOW_MINUTES * MINUTE)
    throw bad('DURATION_INVALID', 'the search window is at most 8 weeks');
  if ((q.until - q.from) / (stepMin * MINUTE) > MAX_SLOT_CANDIDATES)
    throw bad('DURATION_INVALID', `at most ${MAX_SLOT_CANDIDATES} candidate starts: use a larger step`);
}

/**
 * Meeting slots of `durationMin` in [from, until], sorted by start (the grid's order), at most `limit`.
 * When some slots suit every member, only those are returned. Otherwise the slots that suit the
 * most members are, each naming who would be outside their hours; none when nobody is ever
 * available.
 * Throws MEETING_INVALID, DURATION_INVALID, SCHEMA_INVALID / TIMEZONE_UNKNOWN /
 * WORKING_HOURS_INVALID (a member's hours) when the query breaks a precondition.
 */
export function findSlots(q: SlotQuery): Slot[] {
  const stepMin = q.stepMin ?? 30;
  const limit = q.limit ?? 10;
  guard(q, stepMin, limit);
  const duration = q.durationMin * MINUTE;
  const step = stepMin * MINUTE;
  const members = q.members.map((m) => {
    const hours = checkWorkingHours(m.hours, `working hours of ${m.authority}`);
    return { authority: m.authority, hours, clock: spanClock(hours.tz, q.from, q.until) };
  });

  const candidates: Slot[] = [];
  let best = 0;
  let everyone = 0;
  for (let start = Math.ceil(q.from / step) * step; start + duration <= q.until; start += step) {
    const end = start + duration;
    const available: string[] = [];
    const outside: string[] = [];
    for (const m of members) {
      (withinWorkingHours(m.hours, start, end, m.clock) ? available : outside).push(m.authority);
    }
    if (available.length === 0 || available.length < best) continue;
    best = available.length;
    candidates.push({ start, end, available, outside });
    // Every member fits, and slots come in order: the first `limit` such slots are the answer.
    if (outside.length === 0 && ++everyone >= limit) break;
  }
  return candidates.filter((c) => c.available.length === best).slice(0, limit);
}
