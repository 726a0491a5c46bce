/**
 * Calendar days for the Meetings page: weeks and months as lists of civil days ('YYYY-MM-DD'),
 * worked out on the calendar alone (no instant, no zone), so that a day is never shifted by the
 * browser's own offset. Which day an instant falls on in a zone is zoned.ts's business.
 */

export type CalendarMode = 'week' | 'month';

const DAY_MS = 86_400_000;

const toMs = (day: string): number => Date.UTC(+day.slice(0, 4), +day.slice(5, 7) - 1, +day.slice(8, 10));
const fromMs = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** `day` moved by `n` days. */
export const addDays = (day: string, n: number): string => fromMs(toMs(day) + n * DAY_MS);

/** ISO weekday of `day`: 1 Monday … 7 Sunday. */
export const isoWeekday = (day: string): number => ((new Date(toMs(day)).getUTCDay() + 6) % 7) + 1;

/** The day that starts the week holding `day`, when weeks start on `firstDay` (1 Monday … 7 Sunday). */
export function weekStart(day: string, firstDay: number): string {
  return addDays(day, -((isoWeekday(day) - firstDay + 7) % 7));
}

/** The first of the month `n` months from `day`'s. */
export function addMonths(day: string, n: number): string {
  const d = new Date(toMs(day));
  return fromMs(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
}

/**
 * The days shown for `mode` around `anchor`: its week (7 days), or its month in whole weeks
 * (from the week of the 1st to the week of the last day: 28 to 42 days).
 */
export function calendarDays(anchor: string, mode: CalendarMode, firstDay: number): string[] {
  if (mode === 'week') {
    const start = weekStart(anchor, firstDay);
    return Array.from({ length: 7 }, (_, i) => addDays(start, i));
  }
  const first = addMonths(anchor, 0);
  const last = addDays(addMonths(anchor, 1), -1);
  const start = weekStart(first, firstDay);
  const end = addDays(weekStart(last, firstDay), 6);
  const n = Math.round((toMs(end) - toMs(start)) / DAY_MS) + 1;
  return Array.from({ length: n }, (_, i) => addDays(start, i));
}

/** `anchor` moved one week or one month back (-1) or on (+1). */
export const stepAnchor = (anchor: string, mode: CalendarMode, by: -1 | 1): string =>
  mode === 'week' ? addDays(anchor, 7 * by) : addMonths(anchor, by);

/** Noon UTC of `day`: an instant to name the day with Intl in timeZone 'UTC'. */
export const dayInstant = (day: string): number => toMs(day) + DAY_MS / 2;

/** The locale's first day of the week (1 Monday … 7 Sunday), Monday where Intl cannot say. */
export function firstDayOf(locale: string): number {
  try {
    const l = new Intl.Locale(locale) as Intl.Locale & {
      getWeekInfo?: () => { firstDay: number };
      weekInfo?: { firstDay: number };
    };
    const first = l.getWeekInfo?.().firstDay ?? l.weekInfo?.firstDay;
    return first && first >= 1 && first <= 7 ? first : 1;
  } catch {
    return 1;
  }
}
