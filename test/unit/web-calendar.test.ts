/**
 * The calendar days of the web app's Meetings page (client/web/src/calendar.ts), held to a
 * reference computed day by day with Date in UTC: a week is 7 consecutive days holding the anchor
 * and starting on the locale's first day; a month is whole weeks covering every day of the month.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonths, calendarDays, isoWeekday, stepAnchor } from '../../client/web/src/calendar.ts';

const DAY = 86_400_000;
const day = fc
  .integer({ min: Date.UTC(1990, 0, 1) / DAY, max: Date.UTC(2100, 11, 31) / DAY })
  .map((n) => new Date(n * DAY).toISOString().slice(0, 10));
const firstDay = fc.integer({ min: 1, max: 7 });
const next = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
const consecutive = (days: string[]) => days.every((d, i) => i === 0 || next(days[i - 1]!) === d);

describe('calendar days', () => {
  it('names ISO weekdays as Date does', () => {
    expect(isoWeekday('2026-12-07')).toBe(1); // a Monday
    expect(isoWeekday('2026-12-13')).toBe(7);
    expect(isoWeekday('2024-02-29')).toBe(4);
  });

  it('shows a week of 7 consecutive days from the first day, holding the anchor', () => {
    fc.assert(
      fc.property(day, firstDay, (anchor, first) => {
        const week = calendarDays(anchor, 'week', first);
        expect(week).toHaveLength(7);
        expect(consecutive(week)).toBe(true);
        expect(week).toContain(anchor);
        expect(isoWeekday(week[0]!)).toBe(first);
      }),
    );
  });

  it('shows a month as whole weeks covering each of its days', () => {
    fc.assert(
      fc.property(day, firstDay, (anchor, first) => {
        const grid = calendarDays(anchor, 'month', first);
        expect(grid.length % 7).toBe(0);
        expect(grid.length).toBeGreaterThanOrEqual(28);
        expect(grid.length).toBeLessThanOrEqual(42);
        expect(consecutive(grid)).toBe(true);
        expect(isoWeekday(grid[0]!)).toBe(first);
        const month = anchor.slice(0, 7);
        const inMonth = grid.filter((d) => d.startsWith(month));
        const [y, m] = [Number(month.slice(0, 4)), Number(month.slice(5, 7))];
        expect(inMonth).toHaveLength(new Date(Date.UTC(y, m, 0)).getUTCDate());
        // No whole week of the grid lies outside the month.
        for (let i = 0; i < grid.length; i += 7)
          expect(grid.slice(i, i + 7).some((d) => d.startsWith(month))).toBe(true);
      }),
    );
  });

  it('steps by a week or to the first of the next or previous month', () => {
    expect(stepAnchor('2026-12-31', 'week', 1)).toBe('2027-01-07');
    expect(stepAnchor('2026-03-31', 'month', -1)).toBe('2026-02-01');
    expect(stepAnchor('2026-12-15', 'month', 1)).toBe('2027-01-01');
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-01');
  });
});
