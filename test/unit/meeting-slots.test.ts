/**
 * Working hours (shared/meetings/working-hours.ts) and the slot finder (shared/meetings/slots.ts):
 * WACAP-like members (Dakar, Lagos, Praia), a mixed set (Bogotá, Lisbon, Accra) across the last
 * Sunday of March, members no slot can satisfy together, meetings straddling a clock change, and
 * a per-minute reference for the working-hours test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findSlots, type Slot, type SlotMember } from '../../shared/meetings/slots.ts';
import { intlClock, spanClock, transitionsInYears } from '../../shared/meetings/transitions.ts';
import {
  checkWorkingHours,
  defaultWorkingHours,
  withinWorkingHours,
  type WorkingHours,
} from '../../shared/meetings/working-hours.ts';
import { formatInZone, localParts, zonedToInstant } from '../../shared/meetings/zoned-time.ts';
import { authorityIn, codeOf } from './fixtures.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const utc = (iso: string) => Date.parse(iso);
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

const member = (authority: string, tz: string, hours: Partial<WorkingHours> = {}): SlotMember => ({
  authority,
  hours: { ...defaultWorkingHours(tz), ...hours },
});

const SN = authorityIn('wacap', 'SN', 'moj');
const NG = authorityIn('wacap', 'NG', 'fmoj');
const CV = authorityIn('wacap', 'CV', 'mj');
const GH = authorityIn('crimjust', 'GH', 'ag');
const CO = authorityIn('crimjust', 'CO', 'fgn');
const PT = 'pt.pgr@relay.crimjust.example';
const WACAP = [member(SN, 'Africa/Dakar'), member(NG, 'Africa/Lagos'), member(CV, 'Atlantic/Cape_Verde')];

describe('working hours', () => {
  it('defaults to Monday–Friday, 09:00–17:00', () => {
    expect(defaultWorkingHours('Africa/Dakar')).toEqual({
      tz: 'Africa/Dakar',
      days: [1, 2, 3, 4, 5],
      start: '09:00',
      end: '17:00',
    });
  });

  it('sorts days, and accepts 24:00 as an end', () => {
    const h = checkWorkingHours({ tz: 'Europe/Lisbon', days: [5, 1, 3], start: '20:00', end: '24:00' });
    expect(h.days).toEqual([1, 3, 5]);
    const friday = zonedToInstant('2027-01-15T23:00', 'Europe/Lisbon');
    expect(withinWorkingHours(h, friday, friday + HOUR)).toBe(true);
    expect(withinWorkingHours(h, friday, friday + HOUR + MINUTE)).toBe(false);
  });

  it.each([
    [{ tz: 'Africa/Dakar', days: [1], start: '17:00', end: '09:00' }, 'WORKING_HOURS_INVALID'],
    [{ tz: 'Africa/Dakar', days: [1], start: '09:00', end: '09:00' }, 'WORKING_HOURS_INVALID'],
    [{ tz: 'Africa/Atlantis', days: [1], start: '09:00', end: '17:00' }, 'TIMEZONE_UNKNOWN'],
    [{ tz: 'Africa/Dakar', days: [0], start: '09:00', end: '17:00' }, 'SCHEMA_INVALID'],
    [{ tz: 'Africa/Dakar', days: [8], start: '09:00', end: '17:00' }, 'SCHEMA_INVALID'],
    [{ tz: 'Africa/Dakar', days: [], start: '09:00', end: '17:00' }, 'SCHEMA_INVALID'],
    [{ tz: 'Africa/Dakar', days: [1, 1], start: '09:00', end: '17:00' }, 'SCHEMA_INVALID'],
    [{ tz: 'Africa/Dakar', days: [1], start: '9:00', end: '17:00' }, 'SCHEMA_INVALID'],
    [{ tz: 'Africa/Dakar', days: [1], start: '09:00', end: '24:01' }, 'SCHEMA_INVALID'],
    [{ tz: 'Africa/Dakar', days: [1], start: '24:00', end: '24:00' }, 'SCHEMA_INVALID'],
    [{ tz: 'Africa/Dakar', days: [1], start: '09:00', end: '17:00', lunch: '13:00' }, 'SCHEMA_INVALID'],
  ])('refuses %j with %s', (hours, code) => expect(codeOf(() => checkWorkingHours(hours))).toBe(code));

  it('follows the local clock through a spring-forward change during the meeting', () => {
    // Paris, Sunday 2027-03-28: 02:00 becomes 03:00. 01:30 + 90 minutes ends at 04:00 local.
    const h = checkWorkingHours({ tz: 'Europe/Paris', days: [7], start: '01:00', end: '03:30' });
    const start = zonedToInstant('2027-03-28T01:30', 'Europe/Paris');
    expect(withinWorkingHours(h, start, start + 60 * MINUTE)).toBe(true); // ends 03:30
    expect(withinWorkingHours(h, start, start + 90 * MINUTE)).toBe(false); // ends 04:00, not 03:00
  });

  it('sees the local clock go back during a meeting that ends where it started', () => {
    // Paris, Sunday 2027-10-31: 03:00 becomes 02:00. From 02:20 (CEST) for 60 minutes the clock
    // reads 02:20 … 02:59, 02:00 … 02:19: it leaves hours that start at 02:15.
    const h = checkWorkingHours({ tz: 'Europe/Paris', days: [7], start: '02:15', end: '04:00' });
    const start = zonedToInstant('2027-10-31T02:20', 'Europe/Paris', 'earlier');
    expect(withinWorkingHours(h, start, start + 60 * MINUTE)).toBe(false);
    expect(withinWorkingHours({ ...h, start: '02:00' }, start, start + 60 * MINUTE)).toBe(true);
  });

  it('agrees with a minute-by-minute reference around clock changes (fast-check)', () => {
    const zones = [
      'Europe/Paris',
      'Australia/Lord_Howe',
      'Africa/Casablanca',
      'America/New_York',
      'Africa/Lagos',
    ];
    const changes = zones.flatMap((tz) => {
      const list = transitionsInYears(tz, 2027, 2027).map((c) => ({ tz, at: c.at }));
      return list.length ? list : [{ tz, at: utc('2027-03-28T01:00:00Z') }];
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...changes),
        fc.integer({ min: -16, max: 8 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 94 }),
        fc.integer({ min: 1, max: 96 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
        ({ tz, at }, startQuarters, durationQuarters, openQ, lengthQ, days) => {
          const closeQ = Math.min(96, openQ + lengthQ);
          const clock = (q: number) =>
            `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;
          const hours = checkWorkingHours({ tz, days, start: clock(openQ), end: clock(closeQ) });
          const start = at + startQuarters * 15 * MINUTE;
          const end = start + durationQuarters * 15 * MINUTE;
          const expected = reference(hours, start, end);
          expect(withinWorkingHours(hours, start, end)).toBe(expected);
          expect(withinWorkingHours(hours, start, end, spanClock(tz, at - DAY, at + DAY))).toBe(expected);
          expect(withinWorkingHours(hours, start, end, intlClock(tz))).toBe(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** Every minute of the meeting, on the local date it starts, a working day, within the span. */
function reference(h: WorkingHours, start: number, end: number): boolean {
  const p0 = localParts(start, h.tz);
  const [open, close] = [h.start, h.end].map((c) => Number(c.slice(0, 2)) * 60 + Number(c.slice(3)));
  for (let t = start; t < end; t += MINUTE) {
    const p = localParts(t, h.tz);
    const minute = p.hour * 60 + p.minute;
    if (p.year !== p0.year || p.month !== p0.month || p.day !== p0.day) return false;
    if (!h.days.includes(p.weekday) || minute < open! || minute >= close!) return false;
  }
  return true;
}

/** Slots checked against the reference, member by member. */
function expectHonest(slots: Slot[], members: SlotMember[]): void {
  for (const s of slots) {
    for (const m of members) {
      const inside = reference(checkWorkingHours(m.hours), s.start, s.end);
      expect(inside ? s.available : s.outside).toContain(m.authority);
    }
  }
}

describe('findSlots', () => {
  it('finds the WACAP overlap: Dakar 09–17 (UTC), Lagos 09–17 (UTC+1), Praia 09–17 (UTC−1)', () => {
    const from = utc('2027-01-11T00:00:00Z'); // a Monday
    const slots = findSlots({ members: WACAP, durationMin: 90, from, until: from + 7 * DAY, limit: 100 });
    // The common span is 10:00–16:00 UTC: starts 10:00 … 14:30, ten a day, Monday to Friday.
    expect(slots).toHaveLength(50);
    expect(slots.every((s) => s.outside.length === 0 && s.available.length === 3)).toBe(true);
    expect(new Set(slots.map((s) => hhmm(s.start)))).toEqual(
      new Set(['10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '13:00', '13:30', '14:00', '14:30']),
    );
    expect(slots.map((s) => s.start)).toEqual([...slots.map((s) => s.start)].sort((a, b) => a - b));
    expect(slots.every((s) => s.end - s.start === 90 * MINUTE)).toBe(true);
    const first = slots[0]!;
    expect(formatInZone(first.start, 'Africa/Dakar')).toBe('2027-01-11 10:00 (Africa/Dakar, UTC+00:00)');
    expect(formatInZone(first.start, 'Africa/Lagos')).toBe('2027-01-11 11:00 (Africa/Lagos, UTC+01:00)');
    expect(formatInZone(first.start, 'Atlantic/Cape_Verde')).toBe(
      '2027-01-11 09:00 (Atlantic/Cape_Verde, UTC-01:00)',
    );
    expectHonest(slots, WACAP);
    // The default limit is 10; no weekend slot.
    expect(findSlots({ members: WACAP, durationMin: 90, from, until: from + 7 * DAY })).toEqual(
      slots.slice(0, 10),
    );
    expect(slots.some((s) => localParts(s.start, 'Africa/Dakar').weekday > 5)).toBe(false);
  });

  it('follows Lisbon onto summer time on the last Sunday of March (Bogotá and Accra do not change)', () => {
    const members = [member(CO, 'America/Bogota'), member(PT, 'Europe/Lisbon'), member(GH, 'Africa/Accra')];
    const from = utc('2027-03-22T00:00:00Z');
    const slots = findSlots({ members, durationMin: 60, from, until: from + 12 * DAY, limit: 100 });
    const before = slots.filter((s) => s.start < utc('2027-03-28T01:00:00Z'));
    const after = slots.filter((s) => s.start > utc('2027-03-28T01:00:00Z'));
    // Before: Lisbon is UTC+0, the common span 14:00–17:00 UTC; after: UTC+1, 14:00–16:00 UTC.
    expect(before).toHaveLength(5 * 5);
    expect(after).toHaveLength(5 * 3);
    expect(new Set(before.map((s) => hhmm(s.start)))).toEqual(
      new Set(['14:00', '14:30', '15:00', '15:30', '16:00']),
    );
    expect(new Set(after.map((s) => hhmm(s.start)))).toEqual(new Set(['14:00', '14:30', '15:00']));
    expect(formatInZone(after[0]!.start, 'Europe/Lisbon')).toBe(
      '2027-03-29 15:00 (Europe/Lisbon, UTC+01:00)',
    );
    expect(formatInZone(after[0]!.start, 'America/Bogota')).toBe(
      '2027-03-29 09:00 (America/Bogota, UTC-05:00)',
    );
    expect(formatInZone(after[0]!.start, 'Africa/Accra')).toBe('2027-03-29 14:00 (Africa/Accra, UTC+00:00)');
    expectHonest(slots, members);
  });

  it('when nobody can meet all together, offers the slots that suit the most, naming who is out', () => {
    const members = [
      member('nz.crown@relay.example', 'Pacific/Auckland'),
      member(PT, 'Europe/Lisbon'),
      member('us.oia@relay.example', 'America/Los_Angeles'),
    ];
    const from = utc('2027-03-22T00:00:00Z');
    const slots = findSlots({
      members,
      durationMin: 60,
      from,
      until: from + 7 * DAY,
      stepMin: 15,
      limit: 20,
    });
    expect(slots).toHaveLength(20);
    expect(slots.every((s) => s.available.length === 2 && s.outside.length === 1)).toBe(true);
    expect(slots.map((s) => s.start)).toEqual([...slots.map((s) => s.start)].sort((a, b) => a - b));
    expect(new Set(slots.flatMap((s) => s.outside)).size).toBeGreaterThan(1);
    expectHonest(slots, members);
  });

  it('returns nothing when nobody is ever available', () => {
    const members = [member(SN, 'Africa/Dakar', { days: [6], start: '09:00', end: '10:00' })];
    const from = utc('2027-01-11T00:00:00Z'); // Monday to Friday only
    expect(findSlots({ members, durationMin: 30, from, until: from + 4 * DAY })).toEqual([]);
  });

  it('keeps to eight weeks at 15-minute steps, quickly, for a network of 14 members', () => {
    const zones = ['Africa/Dakar', 'Africa/Lagos', 'Atlantic/Cape_Verde', 'Africa/Abidjan', 'Africa/Accra'];
    const members = Array.from({ length: 14 }, (_, i) =>
      member(`m${i}.moj@relay.wacap.example`, zones[i % 5]!),
    );
    members.push(member('x.moj@relay.wacap.example', 'Asia/Tokyo'));
    const from = utc('2027-01-04T00:00:00Z');
    const started = Date.now();
    const slots = findSlots({
      members,
      durationMin: 60,
      from,
      until: from + 56 * DAY,
      stepMin: 15,
      limit: 100,
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(slots).toHaveLength(100);
    expect(slots.every((s) => s.outside.length === 1 && s.outside[0] === 'x.moj@relay.wacap.example')).toBe(
      true,
    );
  });

  it.each([
    ['no members', { members: [] }, 'MEETING_INVALID'],
    ['a member twice', { members: [WACAP[0]!, WACAP[0]!] }, 'MEETING_INVALID'],
    ['a zero duration', { durationMin: 0 }, 'DURATION_INVALID'],
    ['a duration over a day', { durationMin: 1441 }, 'DURATION_INVALID'],
    ['a fractional duration', { durationMin: 30.5 }, 'DURATION_INVALID'],
    ['a window over 8 weeks', { until: utc('2027-01-11T00:00:00Z') + 57 * DAY }, 'DURATION_INVALID'],
    ['a window that ends before it starts', { until: utc('2027-01-10T00:00:00Z') }, 'DURATION_INVALID'],
    [
      'too many candidates',
      { until: utc('2027-01-11T00:00:00Z') + 56 * DAY, stepMin: 5 },
      'DURATION_INVALID',
    ],
    ['a tiny step', { stepMin: 1 }, 'DURATION_INVALID'],
    ['a zero limit', { limit: 0 }, 'MEETING_INVALID'],
    ['a huge limit', { limit: 1000 }, 'MEETING_INVALID'],
    ['bad hours', { members: [member(SN, 'Africa/Dakar', { start: '18:00' })] }, 'WORKING_HOURS_INVALID'],
    [
      'an unknown zone',
      { members: [member(SN, 'Africa/Dakar', { tz: 'Africa/Timbuktu2' })] },
      'TIMEZONE_UNKNOWN',
    ],
  ])('refuses %s', (_what, over, code) => {
    const from = utc('2027-01-11T00:00:00Z');
    expect(
      codeOf(() => findSlots({ members: WACAP, durationMin: 60, from, until: from + 7 * DAY, ...over })),
    ).toBe(code);
  });
});
