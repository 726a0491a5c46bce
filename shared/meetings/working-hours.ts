/**
 * An authority's declared working hours: a time zone, the working days and one daily span. A
 * meeting fits them when, for its whole length, the authority's local clock stays on one working
 * day inside the span — computed from the instants, so that a daylight-saving change during the
 * meeting is accounted for.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EntraideError } from '../errors.ts';
import { check } from '../protocol/validate.ts';
import { intlClock, type OffsetClock } from './transitions.ts';
import { checkTimeZone } from './zoned-time.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const CLOCK = '^(?:[01]\\d|2[0-3]):[0-5]\\d$';

export const WorkingHours = Type.Object(
  {
    tz: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone' }),
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
      minItems: 1,
      maxItems: 7,
      uniqueItems: true,
      description: 'ISO weekdays: 1 = Monday … 7 = Sunday',
    }),
    start: Type.String({ pattern: CLOCK, description: 'HH:MM, local' }),
    end: Type.String({
      pattern: '^(?:(?:[01]\\d|2[0-3]):[0-5]\\d|24:00)$',
      description: 'HH:MM, local; 24:00 is midnight',
    }),
  },
  { additionalProperties: false },
);
export type WorkingHours = Static<typeof WorkingHours>;

/** Monday to Friday, 09:00 to 17:00, in `tz`. */
export function defaultWorkingHours(tz: string): WorkingHours {
  return { tz: checkTimeZone(tz), days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
}

/** 'HH:MM' as minutes since midnight. */
export function clockMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/**
 * Checks shape (SCHEMA_INVALID), zone (TIMEZONE_UNKNOWN) and that the day's span is not empty
 * (WORKING_HOURS_INVALID); returns the hours with their days sorted.
 */
export function checkWorkingHours(value: unknown, what = 'working hours'): WorkingHours {
  const h = check(WorkingHours, value, what);
  checkTimeZone(h.tz);
  if (clockMinutes(h.start) >= clockMinutes(h.end)) {
    throw new EntraideError(
      'WORKING_HOURS_INVALID',
      `${what}: start (${h.start}) must be before end (${h.end})`,
    );
  }
  return { ...h, days: [...h.days].sort((a, b) => a - b) };
}

interface Position {
  /** Days since the epoch of the local date. */
  date: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
}

function position(instant: number, clock: OffsetClock): Position {
  const wall = instant + clock.offset(instant) * MINUTE;
  const date = Math.floor(wall / DAY);
  // 1970-01-01 (day 0) was a Thursday.
  return {
    date,
    weekday: ((((date + 3) % 7) + 7) % 7) + 1,
    minute: Math.floor((wall - date * DAY) / MINUTE),
  };
}

/**
 * True when the authority's local clock stays within its hours during [start, end): every minute
 * of the meeting falls on the same local working day, at or after `start` and before `end` of the
 * declared span. Local time rises steadily except at an offset change, so it is enough to check
 * the first and last minutes and, when the offset changes during the meeting, both sides of the
 * change. Preconditions: hours checked with checkWorkingHours; start < end, both whole minutes,
 * at most 24 h apart; `clock` (when given) is for hours.tz.
 */
export function withinWorkingHours(
  hours: WorkingHours,
  start: number,
  end: number,
  clock: OffsetClock = intlClock(hours.tz),
): boolean {
  const first = position(start, clock);
  if (!hours.days.includes(first.weekday)) return false;
  const open = clockMinutes(hours.start);
  const close = clockMinutes(hours.end);
  const inside = (t: number) => {
    const p = position(t, clock);
    return p.date === first.date && p.minute >= open && p.minute < close;
  };
  const last = end - MINUTE;
  if (!inside(start) || !inside(last)) return false;
  const change = clock.changeIn(start, last);
  return change === null || (inside(change - MINUTE) && inside(change));
}
