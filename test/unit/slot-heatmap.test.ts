/**
 * The slot finder's heat map (shared/meetings/heatmap.ts): each start's count equals the number of
 * members within their hours for the whole meeting, worked out independently here with Intl's own
 * time-zone rules, across the daylight-saving changes of March 2027 in New York (14th) and Paris
 * (28th) and a zone without them; a start the findSlots search returns for everyone counts every
 * member; and its bounds are refused.
 */
import { describe, expect, it } from 'vitest';
import { slotHeatmap } from '../../shared/meetings/heatmap.ts';
import { findSlots } from '../../shared/meetings/slots.ts';

const MEMBERS = [
  {
    authority: 'fr.mj@relay.eu',
    hours: { tz: 'Europe/Paris', days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' },
  },
  {
    authority: 'us.doj@relay.us',
    hours: { tz: 'America/New_York', days: [1, 2, 3, 4, 5], start: '08:00', end: '17:00' },
  },
  {
    authority: 'jp.moj@relay.jp',
    hours: { tz: 'Asia/Tokyo', days: [1, 2, 3, 4, 5, 6], start: '07:00', end: '23:00' },
  },
];

/** Local date, ISO weekday and minute of the day of `t` in `tz`, by Intl. */
function local(t: number, tz: string): { date: string; weekday: number; minute: number } {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(t)
      .map((x) => [x.type, x.value]),
  );
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday!) + 1;
  return { date: `${p.year}-${p.month}-${p.day}`, weekday, minute: Number(p.hour) * 60 + Number(p.minute) };
}

function within(h: (typeof MEMBERS)[number]['hours'], start: number, end: number): boolean {
  const [s, e] = [local(start, h.tz), local(end, h.tz)];
  const clock = (x: string) => Number(x.slice(0, 2)) * 60 + Number(x.slice(3));
  const endMinute = e.date === s.date ? e.minute : e.minute === 0 ? 1440 : -1;
  return (
    h.days.includes(s.weekday) && s.minute >= clock(h.start) && endMinute >= 0 && endMinute <= clock(h.end)
  );
}

describe('slotHeatmap', () => {
  const from = Date.parse('2027-03-10T00:00:00Z');
  const until = from + 3 * 7 * 86_400_000;

  it('counts, at each start, the members within their hours, across daylight-saving changes', () => {
    const map = slotHeatmap({ members: MEMBERS, durationMin: 60, from, until, stepMin: 30 });
    expect(map.from).toBe(from);
    expect(map.members).toEqual(MEMBERS.map((m) => m.authority));
    expect(map.counts).toHaveLength((until - from) / 1_800_000 - 1);
    const seen = new Set<number>();
    map.counts.forEach((count, i) => {
      const start = from + i * 1_800_000;
      const expected = MEMBERS.filter((m) => within(m.hours, start, start + 3_600_000)).length;
      expect(count, new Date(start).toISOString()).toBe(expected);
      seen.add(count);
    });
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it('counts every member at the starts findSlots gives for everyone', () => {
    const map = slotHeatmap({ members: MEMBERS, durationMin: 60, from, until, stepMin: 30 });
    const slots = findSlots({ members: MEMBERS, durationMin: 60, from, until, stepMin: 30, limit: 100 });
    expect(slots.length).toBeGreaterThan(0);
    for (const s of slots) {
      expect(s.outside).toEqual([]);
      expect(map.counts[(s.start - map.from) / 1_800_000]).toBe(3);
    }
  });

  it('refuses no member, a step under 15 minutes, a meeting over a day and a window over 8 weeks', () => {
    const q = { members: MEMBERS, durationMin: 60, from, until, stepMin: 30 };
    expect(() => slotHeatmap({ ...q, members: [] })).toThrow(
      expect.objectContaining({ code: 'MEETING_INVALID' }),
    );
    expect(() => slotHeatmap({ ...q, stepMin: 10 })).toThrow(
      expect.objectContaining({ code: 'DURATION_INVALID' }),
    );
    expect(() => slotHeatmap({ ...q, durationMin: 1441 })).toThrow(
      expect.objectContaining({ code: 'DURATION_INVALID' }),
    );
    expect(() => slotHeatmap({ ...q, until: from + 57 * 86_400_000 })).toThrow(
      expect.objectContaining({ code: 'DURATION_INVALID' }),
    );
    expect(() =>
      slotHeatmap({
        ...q,
        members: [
          { authority: 'x.y@z', hours: { tz: 'Mars/Olympus', days: [1], start: '09:00', end: '10:00' } },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: 'TIMEZONE_UNKNOWN' }));
  });
});
