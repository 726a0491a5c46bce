/**
 * Local times in IANA zones (shared/meetings/zoned-time.ts) and offset changes
 * (shared/meetings/transitions.ts): daylight-saving gaps and overlaps in America/New_York,
 * Europe/Paris, Australia/Lord_Howe (a 30-minute change) and Africa/Casablanca (Morocco leaves
 * UTC+1 for Ramadan: in 2027, from 7 February to 14 March), zones without daylight saving, and
 * a brute-force reference for the conversion.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { offsetTransitions, transitionsInYears } from '../../shared/meetings/transitions.ts';
import {
  formatInZone,
  formatOffset,
  isTimeZone,
  localParts,
  localTimeAt,
  offsetAt,
  zonedToInstant,
} from '../../shared/meetings/zoned-time.ts';
import { codeOf, entraideErrorOf } from './fixtures.ts';

const MINUTE = 60_000;
const utc = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('time zone names', () => {
  it.each([
    'Africa/Dakar',
    'Europe/Paris',
    'America/Argentina/Buenos_Aires',
    'Asia/Kolkata',
    'UTC',
    'Etc/GMT+5',
  ])('knows %s', (tz) => expect(isTimeZone(tz)).toBe(true));
  it.each(['Mars/Olympus', 'europe/paris', '+01:00', '', 'Europe/Paris ', '../etc/passwd', 'A'.repeat(65)])(
    'refuses %j',
    (tz) => {
      expect(isTimeZone(tz)).toBe(false);
      expect(codeOf(() => zonedToInstant('2027-01-14T10:00', tz))).toBe('TIMEZONE_UNKNOWN');
      expect(codeOf(() => offsetAt(0, tz))).toBe('TIMEZONE_UNKNOWN');
    },
  );
  it('refuses what is not a string', () => {
    expect(isTimeZone(42)).toBe(false);
    expect(isTimeZone(null)).toBe(false);
  });
});

describe('zonedToInstant: ordinary times', () => {
  it.each([
    ['2027-01-14T10:00', 'Africa/Dakar', '2027-01-14T10:00:00.000Z'],
    ['2027-07-14T10:00', 'Africa/Dakar', '2027-07-14T10:00:00.000Z'],
    ['2027-01-14T10:00', 'Africa/Lagos', '2027-01-14T09:00:00.000Z'],
    ['2027-07-14T10:00', 'Africa/Lagos', '2027-07-14T09:00:00.000Z'],
    ['2027-01-14T10:00', 'Atlantic/Cape_Verde', '2027-01-14T11:00:00.000Z'],
    ['2027-01-14T10:00', 'Asia/Kathmandu', '2027-01-14T04:15:00.000Z'],
    ['2027-01-14T10:00', 'Australia/Eucla', '2027-01-14T01:15:00.000Z'],
    ['2027-01-14T10:00', 'America/St_Johns', '2027-01-14T13:30:00.000Z'],
    ['2027-01-14T10:00', 'Australia/Lord_Howe', '2027-01-13T23:00:00.000Z'],
    ['2027-07-14T10:00', 'Australia/Lord_Howe', '2027-07-13T23:30:00.000Z'],
    ['2027-02-20T10:00', 'Africa/Casablanca', '2027-02-20T10:00:00.000Z'],
    ['2027-05-20T10:00', 'Africa/Casablanca', '2027-05-20T09:00:00.000Z'],
    ['2027-03-14T03:00', 'America/New_York', '2027-03-14T07:00:00.000Z'],
    ['2027-03-28T03:00', 'Europe/Paris', '2027-03-28T01:00:00.000Z'],
  ])('%s in %s is %s', (local, tz, expected) => {
    expect(iso(zonedToInstant(local, tz))).toBe(expected);
    expect(localTimeAt(utc(expected), tz)).toBe(local);
  });

  it.each([
    ['2027-02-29T10:00', 'that month has 28 days'],
    ['2028-02-30T10:00', 'that month has 29 days'],
    ['2027-13-01T10:00', 'no month 13'],
    ['2027-04-31T10:00', '30 days'],
    ['2027-01-14T24:00', 'hours go from 00 to 23'],
    ['2027-01-14T10:60', 'minutes from 00 to 59'],
    ['2027-01-14 10:00', 'YYYY-MM-DDTHH:MM'],
    ['2027-01-14T10:00:00', 'YYYY-MM-DDTHH:MM'],
    ['2027-1-14T10:00', 'YYYY-MM-DDTHH:MM'],
    ['', 'YYYY-MM-DDTHH:MM'],
    ['0999-01-14T10:00', 'between 1900 and 9999'],
  ])('refuses %j with TIME_INVALID (%s)', (local, why) => {
    const err = entraideErrorOf(() => zonedToInstant(local, 'Europe/Paris'));
    expect(err.code).toBe('TIME_INVALID');
    expect(err.message).toContain(why);
  });
});

describe('zonedToInstant: skipped local times (TIME_NONEXISTENT)', () => {
  it.each([
    ['2027-03-14T02:30', 'America/New_York', '02:00 to 03:00', 'UTC-05:00 → UTC-04:00', '2027-03-14T03:00'],
    ['2027-03-14T02:00', 'America/New_York', '02:00 to 03:00', 'UTC-05:00 → UTC-04:00', '2027-03-14T03:00'],
    ['2027-03-28T02:30', 'Europe/Paris', '02:00 to 03:00', 'UTC+01:00 → UTC+02:00', '2027-03-28T03:00'],
    [
      '2027-10-03T02:15',
      'Australia/Lord_Howe',
      '02:00 to 02:30',
      'UTC+10:30 → UTC+11:00',
      '2027-10-03T02:30',
    ],
    ['2027-03-14T02:59', 'Africa/Casablanca', '02:00 to 03:00', 'UTC+00:00 → UTC+01:00', '2027-03-14T03:00'],
  ])('%s in %s', (local, tz, jump, offsets, next) => {
    const err = entraideErrorOf(() => zonedToInstant(local, tz));
    expect(err.code).toBe('TIME_NONEXISTENT');
    expect(err.message).toContain(`${local} does not exist in ${tz}`);
    expect(err.message).toContain(`clocks jump from ${jump}`);
    expect(err.message).toContain(offsets);
    expect(err.message).toContain(`the next valid time is ${next}`);
    expect(err.details).toMatchObject({ next });
    // The suggestion itself is valid, and so is the minute before the gap.
    expect(() => zonedToInstant(next, tz)).not.toThrow();
    // A disambiguation does not make a skipped time exist.
    expect(codeOf(() => zonedToInstant(local, tz, 'later'))).toBe('TIME_NONEXISTENT');
  });
});

describe('zonedToInstant: repeated local times (TIME_AMBIGUOUS)', () => {
  it.each([
    ['2027-11-07T01:30', 'America/New_York', '2027-11-07T05:30', '2027-11-07T06:30', '-04:00', '-05:00'],
    ['2027-10-31T02:30', 'Europe/Paris', '2027-10-31T00:30', '2027-10-31T01:30', '+02:00', '+01:00'],
    ['2027-04-04T01:45', 'Australia/Lord_Howe', '2027-04-03T14:45', '2027-04-03T15:15', '+11:00', '+10:30'],
    ['2027-02-07T02:30', 'Africa/Casablanca', '2027-02-07T01:30', '2027-02-07T02:30', '+01:00', '+00:00'],
  ])('%s in %s', (local, tz, earlier, later, o1, o2) => {
    const err = entraideErrorOf(() => zonedToInstant(local, tz));
    expect(err.code).toBe('TIME_AMBIGUOUS');
    expect(err.message).toContain(`${local} happens twice in ${tz}`);
    expect(err.message).toContain(`${earlier}Z (UTC${o1})`);
    expect(err.message).toContain(`${later}Z (UTC${o2})`);
    expect(iso(zonedToInstant(local, tz, 'earlier'))).toBe(`${earlier}:00.000Z`);
    expect(iso(zonedToInstant(local, tz, 'later'))).toBe(`${later}:00.000Z`);
    expect(localTimeAt(utc(`${earlier}:00Z`), tz)).toBe(local);
    expect(localTimeAt(utc(`${later}:00Z`), tz)).toBe(local);
  });

  it('a disambiguation changes nothing for an ordinary time', () => {
    const t = zonedToInstant('2027-06-01T10:00', 'Europe/Paris');
    expect(zonedToInstant('2027-06-01T10:00', 'Europe/Paris', 'earlier')).toBe(t);
    expect(zonedToInstant('2027-06-01T10:00', 'Europe/Paris', 'later')).toBe(t);
  });
});

describe('offsets, parts and display', () => {
  it('offsetAt gives minutes east of UTC, with half and three-quarter hours', () => {
    const jan = utc('2027-01-14T12:00:00Z');
    expect(offsetAt(jan, 'Africa/Dakar')).toBe(0);
    expect(offsetAt(jan, 'Africa/Lagos')).toBe(60);
    expect(offsetAt(jan, 'Atlantic/Cape_Verde')).toBe(-60);
    expect(offsetAt(jan, 'Asia/Kathmandu')).toBe(345);
    expect(offsetAt(jan, 'America/St_Johns')).toBe(-210);
    expect(offsetAt(jan, 'Australia/Lord_Howe')).toBe(660);
    expect(offsetAt(utc('2027-07-14T12:00:00Z'), 'Australia/Lord_Howe')).toBe(630);
    expect(formatOffset(345)).toBe('+05:45');
    expect(formatOffset(-210)).toBe('-03:30');
  });

  it('formatInZone shows every participant their own clock for one instant', () => {
    const t = zonedToInstant('2027-01-14T10:00', 'Africa/Dakar');
    expect(formatInZone(t, 'Africa/Dakar')).toBe('2027-01-14 10:00 (Africa/Dakar, UTC+00:00)');
    expect(formatInZone(t, 'Africa/Lagos')).toBe('2027-01-14 11:00 (Africa/Lagos, UTC+01:00)');
    expect(formatInZone(t, 'Atlantic/Cape_Verde')).toBe('2027-01-14 09:00 (Atlantic/Cape_Verde, UTC-01:00)');
    expect(formatInZone(t, 'Asia/Kathmandu')).toBe('2027-01-14 15:45 (Asia/Kathmandu, UTC+05:45)');
    expect(formatInZone(t, 'America/Bogota')).toBe('2027-01-14 05:00 (America/Bogota, UTC-05:00)');
    expect(formatInZone(t, 'Australia/Lord_Howe')).toBe('2027-01-14 21:00 (Australia/Lord_Howe, UTC+11:00)');
  });

  it('localParts gives ISO weekdays (1 = Monday … 7 = Sunday) of the local date', () => {
    // 2027-01-17 is a Sunday; at 23:30 UTC it is already Monday in Lagos.
    expect(localParts(utc('2027-01-17T23:30:00Z'), 'Africa/Dakar')).toEqual({
      year: 2027,
      month: 1,
      day: 17,
      hour: 23,
      minute: 30,
      weekday: 7,
    });
    expect(localParts(utc('2027-01-17T23:30:00Z'), 'Africa/Lagos')).toMatchObject({
      day: 18,
      hour: 0,
      weekday: 1,
    });
    expect(localParts(utc('2027-01-18T02:00:00Z'), 'America/Bogota')).toMatchObject({ day: 17, weekday: 7 });
  });
});

describe('offset changes', () => {
  it.each([
    ['America/New_York', ['2027-03-14T07:00:00.000Z -300→-240', '2027-11-07T06:00:00.000Z -240→-300']],
    ['Europe/Paris', ['2027-03-28T01:00:00.000Z 60→120', '2027-10-31T01:00:00.000Z 120→60']],
    ['Australia/Lord_Howe', ['2027-04-03T15:00:00.000Z 660→630', '2027-10-02T15:30:00.000Z 630→660']],
    ['Africa/Casablanca', ['2027-02-07T02:00:00.000Z 60→0', '2027-03-14T02:00:00.000Z 0→60']],
    ['Africa/Dakar', []],
    ['Africa/Lagos', []],
    ['Asia/Kathmandu', []],
  ])('%s in 2027', (tz, expected) => {
    expect(transitionsInYears(tz, 2027, 2027).map((c) => `${iso(c.at)} ${c.from}→${c.to}`)).toEqual(expected);
  });

  it('refuses a span longer than ten years or reversed', () => {
    expect(codeOf(() => offsetTransitions('Europe/Paris', 0, 11 * 366 * 86_400_000))).toBe('TIME_INVALID');
    expect(codeOf(() => offsetTransitions('Europe/Paris', 10, 0))).toBe('TIME_INVALID');
  });
});

// ---- a reference written from the definition: scan every instant that could show the time ----

function referenceInstants(local: string, tz: string): number[] {
  const wall = Date.parse(`${local}:00Z`);
  const out: number[] = [];
  for (let t = wall - 18 * 60 * MINUTE; t <= wall + 18 * 60 * MINUTE; t += 15 * MINUTE) {
    if (localTimeAt(t, tz) === local) out.push(t);
  }
  return out;
}

const ZONES = [
  'America/New_York',
  'Europe/Paris',
  'Australia/Lord_Howe',
  'Africa/Casablanca',
  'Africa/Dakar',
  'Asia/Kathmandu',
  'America/Santiago',
  'Pacific/Chatham',
] as const;

describe('zonedToInstant against the reference', () => {
  it('finds exactly the instants the reference finds, around every change of 2027', () => {
    for (const tz of ZONES) {
      for (const change of transitionsInYears(tz, 2027, 2027)) {
        for (let d = -90; d <= 90; d += 15) {
          // Wall times around the change, read with the offset before it and with the one after.
          for (const offset of [change.from, change.to]) {
            const text = new Date(change.at + (offset + d) * MINUTE).toISOString().slice(0, 16);
            const expected = referenceInstants(text, tz);
            if (expected.length === 0)
              expect(codeOf(() => zonedToInstant(text, tz))).toBe('TIME_NONEXISTENT');
            else if (expected.length === 1) expect(zonedToInstant(text, tz)).toBe(expected[0]);
            else {
              expect(codeOf(() => zonedToInstant(text, tz))).toBe('TIME_AMBIGUOUS');
              expect([zonedToInstant(text, tz, 'earlier'), zonedToInstant(text, tz, 'later')]).toEqual([
                expected[0],
                expected[expected.length - 1],
              ]);
            }
          }
        }
      }
    }
  });

  it('round-trips any quarter-hour instant from 1990 to 2040 (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 1) / (15 * MINUTE), max: Date.UTC(2040, 0, 1) / (15 * MINUTE) }),
        fc.constantFrom(...ZONES),
        (quarter, tz) => {
          const t = quarter * 15 * MINUTE;
          const local = localTimeAt(t, tz);
          const both = [zonedToInstant(local, tz, 'earlier'), zonedToInstant(local, tz, 'later')];
          expect(both).toContain(t);
          expect(Date.parse(`${local}:00Z`) - t).toBe(offsetAt(t, tz) * MINUTE);
        },
      ),
      { numRuns: 300 },
    );
  });
});
