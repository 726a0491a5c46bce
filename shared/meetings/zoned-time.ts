/**
 * Local wall-clock times in IANA time zones, computed with Intl only (Node 20 ships full ICU):
 * no time-zone table of our own to keep up to date. A local time is 'YYYY-MM-DDTHH:MM'; an
 * instant is epoch milliseconds. Local times that a daylight-saving change skips or repeats are
 * refused with a message that says what happens at that moment, never silently shifted.
 */
import { EntraideError } from '../errors.ts';

export const LOCAL_TIME_PATTERN = '^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2})$';
const LOCAL_TIME = new RegExp(LOCAL_TIME_PATTERN);
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+){0,2}$/;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export type Disambiguation = 'earlier' | 'later';

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

// Formatters are costly to build and pure to use: one per zone, kept for the process's life.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/**
 * True for a zone name that Intl knows, written as Intl writes it ('Europe/Paris', not
 * 'europe/paris'); links such as Asia/Kolkata are accepted.
 */
export function isTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz.length > 64 || !ZONE_NAME.test(tz)) return false;
  if (formatters.has(tz)) return true;
  try {
    const resolved = formatter(tz).resolvedOptions().timeZone;
    if (resolved === tz || resolved.toLowerCase() !== tz.toLowerCase()) return true;
  } catch {
    return false;
  }
  formatters.delete(tz);
  return false;
}

export function checkTimeZone(tz: string): string {
  if (!isTimeZone(tz)) {
    throw new EntraideError(
      'TIMEZONE_UNKNOWN',
      `"${tz}" is not a known IANA time zone (e.g. Africa/Dakar, Europe/Paris)`,
    );
  }
  return tz;
}

/** Wall-clock fields in `tz` at `instant`, seconds included (for offsets to the second). */
function wallFields(instant: number, tz: string): [number, number, number, number, number, number] {
  const out = [0, 0, 0, 0, 0, 0] as [number, number, number, number, number, number];
  const index: Record<string, number> = { year: 0, month: 1, day: 2, hour: 3, minute: 4, second: 5 };
  for (const p of formatter(tz).formatToParts(instant)) {
    const i = index[p.type];
    if (i !== undefined) out[i] = Number(p.value);
  }
  return out;
}

/** The zone's offset from UTC at `instant`, in minutes (east positive): 345 for Asia/Kathmandu. */
export function offsetAt(instant: number, tz: string): number {
  checkTimeZone(tz);
  const [y, mo, d, h, mi, s] = wallFields(instant, tz);
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  return Math.round((wall - Math.floor(instant / 1000) * 1000) / MINUTE);
}

export function localParts(instant: number, tz: string): LocalParts {
  checkTimeZone(tz);
  const [year, month, day, hour, minute] = wallFields(instant, tz);
  const weekday = ((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7) + 1;
  return { year, month, day, hour, minute, weekday };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** '+05:45', '-03:30', '+00:00'. */
export function formatOffset(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The local time at `instant` as 'YYYY-MM-DDTHH:MM'. */
export function localTimeAt(instant: number, tz: string): string {
  const p = localParts(instant, tz);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** '2027-01-14 10:00 (Africa/Dakar, UTC+00:00)': what each participant reads. */
export function formatInZone(instant: number, tz: string): string {
  return `${localTimeAt(instant, tz).replace('T', ' ')} (${tz}, UTC${formatOffset(offsetAt(instant, tz))})`;
}

/** A wall-clock value (a local time read as UTC) as 'YYYY-MM-DDTHH:MM'. */
const wallText = (wall: number) => new Date(wall).toISOString().slice(0, 16);
const utcText = (instant: number) => wallText(instant) + 'Z';

/** Parses 'YYYY-MM-DDTHH:MM' into its wall-clock value read as UTC; TIME_INVALID if it is no real date. */
export function parseLocalTime(local: string): number {
  const m = typeof local === 'string' ? LOCAL_TIME.exec(local) : null;
  const bad = (why: string) =>
    new EntraideError('TIME_INVALID', `"${String(local)}" is not a local time: ${why}`);
  if (!m) throw bad('write it as YYYY-MM-DDTHH:MM, e.g. 2027-01-14T10:00');
  const [year, month, day, hour, minute] = m.slice(1, 6).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1900 || year > 9999) throw bad('the year must be between 1900 and 9999');
  if (month < 1 || month > 12) throw bad('there is no month ' + month);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) throw bad(`that month has ${days} days`);
  if (hour > 23 || minute > 59) throw bad('hours go from 00 to 23 and minutes from 00 to 59');
  return Date.UTC(year, month - 1, day, hour, minute);
}

/**
 * The first instant in (a, b], to the minute, whose offset differs from the offset at `a`.
 * Precondition: the offset at `b` differs from the one at `a`, and changes once in between.
 */
export function firstOffsetChange(a: number, b: number, tz: string): number {
  const before = offsetAt(a, tz);
  let lo = a;
  let hi = b;
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (offsetAt(mid, tz) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The instant at which the local time `local` happens in `tz`.
 * Throws TIMEZONE_UNKNOWN, TIME_INVALID, TIME_NONEXISTENT (a spring-forward gap: the message
 * names the gap and the next valid time) or TIME_AMBIGUOUS (a fall-back overlap, unless
 * `disambiguation` says which of the two instants is meant).
 */
export function zonedToInstant(local: string, tz: string, disambiguation?: Disambiguation): number {
  checkTimeZone(tz);
  const wall = parseLocalTime(local);
  // Offsets lie within ±18 h, so the instants that can show this wall time lie within ±18 h of
  // it; sampling every 3 h finds every offset in force there (zones change at most once a day).
  const offsets = new Set<number>();
  for (let k = -6; k <= 6; k++) offsets.add(offsetAt(wall + k * 3 * HOUR, tz));
  const candidates = [...offsets]
    .map((o) => wall - o * MINUTE)
    .filter((t) => offsetAt(t, tz) * MINUTE === wall - t)
    .sort((x, y) => x - y);
  const unique = [...new Set(candidates)];
  if (unique.length === 1) return unique[0]!;
  if (unique.length >= 2) {
    const earlier = unique[0]!;
    const later = unique[unique.length - 1]!;
    if (disambiguation === 'earlier') return earlier;
    if (disambiguation === 'later') return later;
    const [oe, ol] = [offsetAt(earlier, tz), offsetAt(later, tz)];
    throw new EntraideError(
      'TIME_AMBIGUOUS',
      `${local} happens twice in ${tz} (clocks go back): first at ${utcText(earlier)} (UTC${formatOffset(oe)}), ` +
        `then at ${utcText(later)} (UTC${formatOffset(ol)}); say "earlier" or "later"`,
      { earlier, later, offsets: [oe, ol] },
    );
  }
  // No instant shows this wall time: it lies in a gap. Find the change around it.
  const change = firstOffsetChange(wall - 18 * HOUR, wall + 18 * HOUR, tz);
  const [from, to] = [offsetAt(change - MINUTE, tz), offsetAt(change, tz)];
  // The wall clock reads change + offset: the old offset gives where the gap starts, the new where it ends.
  const gapStart = wallText(change + from * MINUTE);
  const next = wallText(change + to * MINUTE);
  throw new EntraideError(
    'TIME_NONEXISTENT',
    `${local} does not exist in ${tz}: clocks jump from ${gapStart.slice(11)} to ${next.slice(11)} ` +
      `(UTC${formatOffset(from)} → UTC${formatOffset(to)}); the next valid time is ${next}`,
    { gapStart, next, offsets: [from, to] },
  );
}
