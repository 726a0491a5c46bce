/** RFC 3339 timestamps on the wire: parsed strictly, so that "2026-02-30" or "month 13" never slip through. */
import { EntraideError } from './errors.ts';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch; throws SCHEMA_INVALID naming `field` when the text is not a real instant. */
export function parseTimestamp(text: string, field: string): number {
  const m = RFC3339.exec(text);
  const bad = () => new EntraideError('SCHEMA_INVALID', `${field} is not a valid RFC 3339 date-time`);
  if (!m) throw bad();
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59)
    throw bad();
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) throw bad();
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw bad();
  return ms;
}
