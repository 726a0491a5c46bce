/**
 * The offset changes of a time zone over a span of time, found from Intl alone: a scan at a fixed
 * step, then a binary search to the minute around each change. Used to describe a zone in an
 * iCalendar VTIMEZONE and to check a meeting that straddles a change.
 */
import { EntraideError } from '../errors.ts';
import { checkTimeZone, firstOffsetChange, offsetAt } from './zoned-time.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Zones change offset at most once within this step (true of every zone since 1970). */
const SCAN_STEP = 12 * HOUR;
/** A scan covers at most this much: ten years is enough for any meeting's VTIMEZONE. */
export const MAX_TRANSITION_SPAN = 10 * 366 * 24 * HOUR;

export interface OffsetTransition {
  /** The first instant (epoch ms) at the new offset. */
  at: number;
  /** Offsets in minutes east of UTC, before and after. */
  from: number;
  to: number;
}

/** Every offset change of `tz` in (from, until], in order. Preconditions: a known zone, a span ≤ 10 years. */
export function offsetTransitions(tz: string, from: number, until: number): OffsetTransition[] {
  checkTimeZone(tz);
  if (
    !Number.isFinite(from) ||
    !Number.isFinite(until) ||
    until < from ||
    until - from > MAX_TRANSITION_SPAN
  ) {
    throw new EntraideError('TIME_INVALID', 'offset changes are searched over at most ten years');
  }
  const out: OffsetTransition[] = [];
  // Changes happen on whole minutes: scanning from a minute boundary finds them exactly.
  let t = Math.floor(from / MINUTE) * MINUTE;
  let offset = offsetAt(t, tz);
  while (t < until) {
    const next = Math.min(t + SCAN_STEP, until);
    const o = offsetAt(next, tz);
    if (o !== offset) {
      const at = firstOffsetChange(t, next, tz);
      out.push({ at, from: offset, to: offsetAt(at, tz) });
    }
    offset = o;
    t = next;
  }
  return out;
}

/** The offset changes in the UTC calendar years from `startYear` to `endYear` included. */
export function transitionsInYears(tz: string, startYear: number, endYear: number): OffsetTransition[] {
  return offsetTransitions(tz, Date.UTC(startYear, 0, 1) - 1, Date.UTC(endYear + 1, 0, 1) - 1);
}

/** A zone's offset at any instant, answered from a precomputed list of changes where possible. */
export interface OffsetClock {
  readonly tz: string;
  /** Offset in minutes east of UTC at `t`. */
  offset(t: number): number;
  /** The first instant in (a, b] at another offset than a's, or null if none. */
  changeIn(a: number, b: number): number | null;
}

/** A clock that asks Intl every time: right everywhere, slower. */
export function intlClock(tz: string): OffsetClock {
  checkTimeZone(tz);
  return {
    tz,
    offset: (t) => offsetAt(t, tz),
    changeIn: (a, b) => (offsetAt(a, tz) === offsetAt(b, tz) ? null : firstOffsetChange(a, b, tz)),
  };
}

/**
 * A clock for instants in [from, until], from the zone's changes found once: a slot search then
 * costs arithmetic, not an Intl call, per instant. Outside that span it falls back to Intl.
 */
export function spanClock(tz: string, from: number, until: number): OffsetClock {
  const changes = offsetTransitions(tz, from, until);
  const initial = offsetAt(from, tz);
  const fallback = intlClock(tz);
  const inSpan = (t: number) => t >= from && t <= until;
  const offset = (t: number): number => {
    if (!inSpan(t)) return fallback.offset(t);
    let o = initial;
    for (const c of changes) {
      if (c.at > t) break;
      o = c.to;
    }
    return o;
  };
  return {
    tz,
    offset,
    changeIn: (a, b) => {
      if (!inSpan(a) || !inSpan(b)) return fallback.changeIn(a, b);
      return changes.find((c) => c.at > a && c.at <= b)?.at ?? null;
    },
  };
}
