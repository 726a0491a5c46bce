import { describe, expect, it } from 'vitest';
import { EntraideError } from '../../shared/errors.ts';
import { parseTimestamp } from '../../shared/time.ts';

describe('parseTimestamp', () => {
  it('reads RFC 3339 instants with Z, offsets and fractions', () => {
    expect(parseTimestamp('2026-11-27T11:00:00Z', 't')).toBe(Date.UTC(2026, 10, 27, 11));
    expect(parseTimestamp('2026-11-27T12:00:00.250+01:00', 't')).toBe(Date.UTC(2026, 10, 27, 11, 0, 0, 250));
    expect(parseTimestamp('2028-02-29T00:00:00Z', 't')).toBe(Date.UTC(2028, 1, 29));
  });

  it.each([
    '2026-13-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2027-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-11-27T24:00:00Z',
    '2026-11-27T11:60:00Z',
    '2026-11-27T11:00:61Z',
    '2026-11-27T11:00:00+24:00',
    '2026-11-27 11:00:00Z',
    '2026-11-27T11:00:00',
    '',
  ])('refuses %j with SCHEMA_INVALID naming the field', (text) => {
    let caught: unknown;
    try {
      parseTimestamp(text, 'envelope.sentAt');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EntraideError);
    expect((caught as EntraideError).code).toBe('SCHEMA_INVALID');
    expect((caught as EntraideError).message).toContain('envelope.sentAt');
  });
});
