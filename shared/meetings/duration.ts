/**
 * Durations as people type them: a meeting's length ('90m', '1h', '1h30m', 'PT1H30M') and the
 * window a slot search looks ahead ('2w', '10d', '48h'). Both come back in whole minutes.
 */
import { EntraideError } from '../errors.ts';

/** A meeting lasts at most a day. */
export const MAX_MEETING_MINUTES = 24 * 60;
/** A slot search looks at most eight weeks ahead. */
export const MAX_WINDOW_MINUTES = 8 * 7 * 24 * 60;

// Up to four digits per part: enough for 1440 minutes, and no number so long it loses precision.
const SHORT = /^(?:(\d{1,4})h)?(?:(\d{1,4})m(?:in)?)?$/i;
const ISO = /^PT(?:(\d{1,4})H)?(?:(\d{1,4})M)?$/i;
const WINDOW = /^(?:(\d{1,3})w)?(?:(\d{1,3})d)?(?:(\d{1,4})h)?$/i;

function invalid(text: string, why: string): EntraideError {
  return new EntraideError('DURATION_INVALID', `"${text}" is not a valid duration: ${why}`);
}

/**
 * A meeting's duration in minutes, from 1 to 1440. Throws DURATION_INVALID for anything else,
 * including '0m', '25h' and '1h75m' (minutes after hours must be under 60).
 */
export function parseDuration(text: string): number {
  const t = typeof text === 'string' ? text.trim() : '';
  const m = SHORT.exec(t) ?? ISO.exec(t);
  if (t === '' || t.toUpperCase() === 'PT' || !m || (m[1] === undefined && m[2] === undefined)) {
    throw invalid(String(text), 'write it as 90m, 1h, 1h30m or PT1H30M');
  }
  const hours = Number(m[1] ?? 0);
  const minutes = Number(m[2] ?? 0);
  if (m[1] !== undefined && minutes >= 60) throw invalid(t, 'after hours, give fewer than 60 minutes');
  const total = hours * 60 + minutes;
  if (total < 1) throw invalid(t, 'a meeting lasts at least one minute');
  if (total > MAX_MEETING_MINUTES) throw invalid(t, 'a meeting lasts at most 24 hours');
  return total;
}

/** A look-ahead window in minutes ('2w', '10d', '48h', '1w3d'), at most eight weeks. */
export function parseWindow(text: string): number {
  const t = typeof text === 'string' ? text.trim() : '';
  const m = WINDOW.exec(t);
  if (t === '' || !m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) {
    throw invalid(String(text), 'write the window as 2w, 10d or 48h');
  }
  const total = (Number(m[1] ?? 0) * 7 * 24 + Number(m[2] ?? 0) * 24 + Number(m[3] ?? 0)) * 60;
  if (total < 60) throw invalid(t, 'the window must be at least one hour');
  if (total > MAX_WINDOW_MINUTES) throw invalid(t, 'the window is at most 8 weeks');
  return total;
}

/** '1h30m', '45m', '2h': the short form people type, for messages. */
export function formatDuration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h${m}m`;
}
