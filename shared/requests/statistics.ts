/**
 * Statistics on request handling, from a node's own records: per counterpart and per request
 * type, counts by status, the median and 90th percentile of the time to acknowledge and the time
 * to execute (both counted from sending), and how many are overdue. Percentiles use the
 * nearest-rank method (the value at rank ⌈p·n⌉), so every figure is a time that really occurred.
 */
import type { Flag } from './deadlines.ts';
import { STATUSES, type RequestType, type Status, type Urgency } from './vocabulary.ts';

export type Direction = 'out' | 'in';

/** One request as statistics see it: no content, only metadata and times. */
export interface StatsRecord {
  direction: Direction;
  counterpart: string;
  requestType: RequestType;
  urgency: Urgency;
  state: Status;
  sentAt: string;
  /** Seconds from sending to acknowledgement / to execution, when reached. */
  acknowledgeSeconds: number | null;
  executeSeconds: number | null;
  flags: Flag[];
}

export interface Durations {
  count: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface StatsRow {
  direction: Direction;
  /** null in the per-type summary. */
  counterpart: string | null;
  /** null in the per-counterpart summary. */
  requestType: RequestType | null;
  total: number;
  byStatus: Record<Status, number>;
  acknowledge: Durations;
  execute: Durations;
  overdue: number;
}

export interface Statistics {
  /** One row per direction, counterpart and request type. */
  rows: StatsRow[];
  byCounterpart: StatsRow[];
  byType: StatsRow[];
  totals: StatsRow[];
  /** Trends: per direction, each month in which requests were sent, oldest first. */
  byMonth: (MonthRow & { direction: Direction })[];
}

/** The figures of the requests sent in one calendar month (UTC). */
export interface MonthRow extends Tally {
  /** YYYY-MM of sending, in UTC. */
  month: string;
}

/** The nearest-rank percentile of `values` (0 < p ≤ 1), or null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

function durations(values: number[]): Durations {
  return {
    count: values.length,
    medianSeconds: percentile(values, 0.5),
    p90Seconds: percentile(values, 0.9),
  };
}

/** The figures of a group of records: counts by status, times, overdue (a network's merge uses it too). */
export type Tally = Pick<StatsRow, 'total' | 'byStatus' | 'acknowledge' | 'execute' | 'overdue'>;

export function tally(
  records: readonly Pick<StatsRecord, 'state' | 'acknowledgeSeconds' | 'executeSeconds' | 'flags'>[],
): Tally {
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const r of records) byStatus[r.state]++;
  return {
    total: records.length,
    byStatus,
    acknowledge: durations(records.map((r) => r.acknowledgeSeconds).filter((s): s is number => s !== null)),
    execute: durations(records.map((r) => r.executeSeconds).filter((s): s is number => s !== null)),
    overdue: records.filter((r) => r.flags.includes('overdue')).length,
  };
}

function row(
  direction: Direction,
  counterpart: string | null,
  requestType: RequestType | null,
  records: StatsRecord[],
): StatsRow {
  return { direction, counterpart, requestType, ...tally(records) };
}

function groupRows(
  records: StatsRecord[],
  key: (r: StatsRecord) => [string | null, RequestType | null],
): StatsRow[] {
  const groups = new Map<
    string,
    { direction: Direction; k: [string | null, RequestType | null]; items: StatsRecord[] }
  >();
  for (const r of records) {
    const k = key(r);
    const id = JSON.stringify([r.direction, ...k]);
    const g = groups.get(id);
    if (g) g.items.push(r);
    else groups.set(id, { direction: r.direction, k, items: [r] });
  }
  return [...groups.values()]
    .map((g) => row(g.direction, g.k[0], g.k[1], g.items))
    .sort(
      (a, b) =>
        a.direction.localeCompare(b.direction) ||
        (a.counterpart ?? '').localeCompare(b.counterpart ?? '') ||
        (a.requestType ?? '').localeCompare(b.requestType ?? ''),
    );
}

type MonthInput = Pick<StatsRecord, 'sentAt' | 'state' | 'acknowledgeSeconds' | 'executeSeconds' | 'flags'>;

/** Trends: the tally of each calendar month (UTC) in which requests were sent, oldest first. */
export function monthRows(records: readonly MonthInput[]): MonthRow[] {
  const groups = new Map<string, MonthInput[]>();
  for (const r of records) {
    const month = r.sentAt.slice(0, 7);
    const g = groups.get(month);
    if (g) g.push(r);
    else groups.set(month, [r]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([month, items]) => ({ month, ...tally(items) }));
}

export function statistics(records: readonly StatsRecord[]): Statistics {
  const all = [...records];
  return {
    rows: groupRows(all, (r) => [r.counterpart, r.requestType]),
    byCounterpart: groupRows(all, (r) => [r.counterpart, null]),
    byType: groupRows(all, (r) => [null, r.requestType]),
    totals: groupRows(all, () => [null, null]),
    byMonth: (['out', 'in'] as const).flatMap((direction) =>
      monthRows(all.filter((r) => r.direction === direction)).map((m) => ({ direction, ...m })),
    ),
  };
}

/** Seconds between two RFC 3339 instants, or null when `to` is missing. */
export function secondsBetween(from: string, to: string | undefined): number | null {
  if (!to) return null;
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

const CSV_STATUSES = STATUSES.filter((s) => s !== 'draft');

/** The CSV columns of a tally (a network's merge adds its own before and after). */
export const TALLY_CSV_COLUMNS = [
  'total',
  ...CSV_STATUSES,
  'acknowledged_n',
  'acknowledge_median_h',
  'acknowledge_p90_h',
  'executed_n',
  'execute_median_h',
  'execute_p90_h',
  'overdue',
];

/** A tally's cells, in TALLY_CSV_COLUMNS order; durations in hours, one decimal. */
export function tallyCsvCells(t: Tally): string[] {
  const hours = (s: number | null) => (s === null ? '' : (s / 3600).toFixed(1));
  return [
    String(t.total),
    ...CSV_STATUSES.map((s) => String(t.byStatus[s])),
    String(t.acknowledge.count),
    hours(t.acknowledge.medianSeconds),
    hours(t.acknowledge.p90Seconds),
    String(t.execute.count),
    hours(t.execute.medianSeconds),
    hours(t.execute.p90Seconds),
    String(t.overdue),
  ];
}

/** RFC 4180 quoting of one cell. */
export const csvCell = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** One CSV line per row (RFC 4180 quoting), with a header; durations in hours, one decimal. */
export function statisticsCsv(rows: readonly StatsRow[]): string {
  const header = ['direction', 'counterpart', 'request_type', ...TALLY_CSV_COLUMNS];
  const lines = rows.map((r) =>
    [r.direction, r.counterpart ?? '*', r.requestType ?? '*', ...tallyCsvCells(r)].map(csvCell).join(','),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}
