/** Durations and look-ahead windows as officers type them (shared/meetings/duration.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseWindow } from '../../shared/meetings/duration.ts';
import { codeOf, entraideErrorOf } from './fixtures.ts';

describe('parseDuration', () => {
  it.each([
    ['90m', 90],
    ['1h', 60],
    ['1h30m', 90],
    ['2h15m', 135],
    ['PT1H30M', 90],
    ['PT90M', 90],
    ['PT2H', 120],
    ['pt45m', 45],
    [' 45m ', 45],
    ['1H30M', 90],
    ['90min', 90],
    ['24h', 1440],
    ['1440m', 1440],
    ['1m', 1],
  ])('%j is %i minutes', (text, minutes) => expect(parseDuration(text)).toBe(minutes));

  it.each([
    ['0m', 'at least one minute'],
    ['0h', 'at least one minute'],
    ['PT0M', 'at least one minute'],
    ['24h1m', 'at most 24 hours'],
    ['1441m', 'at most 24 hours'],
    ['25h', 'at most 24 hours'],
    ['PT25H', 'at most 24 hours'],
    ['1h75m', 'fewer than 60 minutes'],
    ['', 'write it as'],
    ['PT', 'write it as'],
    ['90', 'write it as'],
    ['1.5h', 'write it as'],
    ['-30m', 'write it as'],
    ['30m1h', 'write it as'],
    ['1d', 'write it as'],
    ['P1D', 'write it as'],
    ['99999999m', 'write it as'],
    ['half an hour', 'write it as'],
  ])('refuses %j with DURATION_INVALID (%s)', (text, why) => {
    const err = entraideErrorOf(() => parseDuration(text));
    expect(err.code).toBe('DURATION_INVALID');
    expect(err.message).toContain(why);
  });

  it('reads back what formatDuration writes, for every valid length (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1440 }), (minutes) => {
        expect(parseDuration(formatDuration(minutes))).toBe(minutes);
        expect(parseDuration(`PT${minutes}M`)).toBe(minutes);
      }),
    );
  });
});

describe('parseWindow', () => {
  it.each([
    ['2w', 2 * 7 * 24 * 60],
    ['10d', 10 * 24 * 60],
    ['48h', 48 * 60],
    ['1w3d', 10 * 24 * 60],
    ['8w', 8 * 7 * 24 * 60],
    ['1h', 60],
  ])('%j is %i minutes', (text, minutes) => expect(parseWindow(text)).toBe(minutes));

  it.each(['9w', '57d', '1345h', '0d', '', '2 weeks', '2x', '-1w', '30m'])('refuses %j', (text) => {
    expect(codeOf(() => parseWindow(text))).toBe('DURATION_INVALID');
  });
});
