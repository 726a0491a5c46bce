/**
 * The slot finder as a heat map: for every candidate start on a UTC grid over the coming weeks, how
 * many members are inside their declared working hours for the whole meeting (each in their own
 * zone at that instant, daylight-saving changes included, as findSlots counts them). A coordinator
 * reads at a glance where everyone, or most, can meet. Bounded like findSlots: at most eight weeks
 * of 15-minute steps.
 */
import { EntraideError } from '../errors.ts';
import { MAX_MEETING_MINUTES, MAX_WINDOW_MINUTES } from './duration.ts';
import { MAX_SLOT_CANDIDATES, MAX_SLOT_MEMBERS, type SlotMember } from './slots.ts';
import { spanClock } from './transitions.ts';
import { checkWorkingHours, withinWorkingHours } from './working-hours.ts';

const MINUTE = 60_000;

export interface Heatmap {
  /** The first candidate start, epoch ms (a multiple of the step in UTC). */
  from: number;
  stepMin: number;
  durationMin: number;
  /** The members counted, in the order given. */
  members: string[];
  /** Members inside their hours for the meeting starting at from + i × step. */
  counts: number[];
}

export function slotHeatmap(q: {
  members: readonly SlotMember[];
  durationMin: number;
  from: number;
  until: number;
  stepMin: number;
}): Heatmap {
  const bad = (why: string) => new EntraideError('DURATION_INVALID', why);
  if (q.members.length < 1 || q.members.length > MAX_SLOT_MEMBERS)
    throw new EntraideError('MEETING_INVALID', `a heat map needs 1 to ${MAX_SLOT_MEMBERS} members`);
  if (!Number.isInteger(q.durationMin) || q.durationMin < 1 || q.durationMin > MAX_MEETING_MINUTES)
    throw bad(`a meeting lasts 1 to ${MAX_MEETING_MINUTES} minutes`);
  if (!Number.isInteger(q.stepMin) || q.stepMin < 15 || q.stepMin > 1440)
    throw bad('the step between candidate starts is 15 to 1440 minutes');
  if (!Number.isFinite(q.from) || !(q.until > q.from) || q.until - q.from > MAX_WINDOW_MINUTES * MINUTE)
    throw bad('the window is at most 8 weeks, and ends after it starts');
  const step = q.stepMin * MINUTE;
  const duration = q.durationMin * MINUTE;
  const first = Math.ceil(q.from / step) * step;
  const starts = Math.max(0, Math.floor((q.until - duration - first) / step) + 1);
  if (starts > MAX_SLOT_CANDIDATES) throw bad(`at most ${MAX_SLOT_CANDIDATES} candidate starts`);
  const members = q.members.map((m) => {
    const hours = checkWorkingHours(m.hours, `working hours of ${m.authority}`);
    return { hours, clock: spanClock(hours.tz, q.from, q.until) };
  });
  const counts = new Array<number>(starts).fill(0);
  for (let i = 0; i < starts; i++) {
    const start = first + i * step;
    let n = 0;
    for (const m of members) if (withinWorkingHours(m.hours, start, start + duration, m.clock)) n++;
    counts[i] = n;
  }
  return {
    from: first,
    stepMin: q.stepMin,
    durationMin: q.durationMin,
    members: q.members.map((m) => m.authority),
    counts,
  };
}
