/**
 * Statistics on request handling (shared/requests/statistics.ts), their signed export
 * (statistics-export.ts) and the deadline flags they count (deadlines.ts). All pure: the clock
 * reading is passed in.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { check } from '../../shared/protocol/validate.ts';
import { effectiveDeadline, endOfDay, flags, type DeadlineInput } from '../../shared/requests/deadlines.ts';
import {
  exportStatistics,
  importedRecords,
  StatisticsExport,
  verifyStatisticsExport,
} from '../../shared/requests/statistics-export.ts';
import {
  percentile,
  secondsBetween,
  statistics,
  statisticsCsv,
  type StatsRecord,
  type StatsRow,
} from '../../shared/requests/statistics.ts';
import { STATUSES, type Status } from '../../shared/requests/vocabulary.ts';
import { random } from './fixtures.ts';

const NG = 'ng.moj@relay.wacap.example';
const KE = 'ke.ag@relay.great-lakes.example';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const rec = (
  r: Partial<StatsRecord> & Pick<StatsRecord, 'direction' | 'counterpart' | 'state'>,
): StatsRecord => ({
  requestType: 'mutual_legal_assistance',
  urgency: 'routine',
  sentAt: '2026-03-02T08:00:00.000Z',
  acknowledgeSeconds: null,
  executeSeconds: null,
  flags: [],
  ...r,
});

const RECORDS: StatsRecord[] = [
  rec({
    direction: 'out',
    counterpart: NG,
    state: 'executed',
    acknowledgeSeconds: 3600,
    executeSeconds: 86_400,
  }),
  rec({
    direction: 'out',
    counterpart: NG,
    state: 'in_execution',
    urgency: 'urgent',
    acknowledgeSeconds: 7200,
    flags: ['overdue'],
  }),
  rec({ direction: 'out', counterpart: NG, state: 'refused', requestType: 'extradition' }),
  rec({
    direction: 'out',
    counterpart: KE,
    state: 'acknowledged',
    acknowledgeSeconds: 1800,
    flags: ['overdue', 'due_soon'],
  }),
  rec({
    direction: 'in',
    counterpart: NG,
    state: 'closed',
    requestType: 'expedited_preservation',
    acknowledgeSeconds: 600,
    executeSeconds: 3600,
  }),
  rec({
    direction: 'in',
    counterpart: KE,
    state: 'sent',
    requestType: 'expedited_preservation',
    flags: ['undelivered', 'unacknowledged'],
  }),
];

const counts = (by: Partial<Record<Status, number>>) =>
  Object.fromEntries(STATUSES.map((s) => [s, by[s] ?? 0])) as Record<Status, number>;
const key = (r: StatsRow) => [r.direction, r.counterpart, r.requestType, r.total];

describe('percentile (nearest rank)', () => {
  it('takes the value at rank ⌈p·n⌉', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 0.5)).toBe(5);
    expect(percentile(ten, 0.9)).toBe(9);
    expect(percentile(ten, 0.91)).toBe(10);
    expect(percentile(ten, 1)).toBe(10);
    expect(percentile(ten, 0.1)).toBe(1);
    expect(percentile([3, 1, 2, 4], 0.5)).toBe(2);
    expect(percentile([7200, 3600, 1800], 0.5)).toBe(3600);
  });

  it('a single value is every percentile; no values give null; the input is not reordered', () => {
    expect(percentile([42], 0.5)).toBe(42);
    expect(percentile([42], 0.9)).toBe(42);
    expect(percentile([], 0.5)).toBeNull();
    const input = [10, 1, 5];
    expect(percentile(input, 0.5)).toBe(5);
    expect(input).toEqual([10, 1, 5]);
  });

  it('p90 of 1..n is always a value that occurred, at the right rank', () => {
    for (let n = 1; n <= 300; n++) {
      const values = Array.from({ length: n }, (_, i) => i + 1);
      expect(percentile(values, 0.9)).toBe(Math.ceil((9 * n) / 10));
      expect(percentile(values, 0.5)).toBe(Math.ceil(n / 2));
    }
  });
});

describe('statistics', () => {
  const s = statistics(RECORDS);

  it('one row per direction, counterpart and type, sorted', () => {
    expect(s.rows.map(key)).toEqual([
      ['in', KE, 'expedited_preservation', 1],
      ['in', NG, 'expedited_preservation', 1],
      ['out', KE, 'mutual_legal_assistance', 1],
      ['out', NG, 'extradition', 1],
      ['out', NG, 'mutual_legal_assistance', 2],
    ]);
    const mla = s.rows[4]!;
    expect(mla.byStatus).toEqual(counts({ executed: 1, in_execution: 1 }));
    expect(mla.acknowledge).toEqual({ count: 2, medianSeconds: 3600, p90Seconds: 7200 });
    expect(mla.execute).toEqual({ count: 1, medianSeconds: 86_400, p90Seconds: 86_400 });
    expect(mla.overdue).toBe(1);
    expect(s.rows[0]!.acknowledge).toEqual({ count: 0, medianSeconds: null, p90Seconds: null });
    expect(s.rows[0]!.byStatus).toEqual(counts({ sent: 1 }));
  });

  it('per counterpart, per type and totals', () => {
    expect(s.byCounterpart.map(key)).toEqual([
      ['in', KE, null, 1],
      ['in', NG, null, 1],
      ['out', KE, null, 1],
      ['out', NG, null, 3],
    ]);
    expect(s.byCounterpart[3]!.byStatus).toEqual(counts({ executed: 1, in_execution: 1, refused: 1 }));
    expect(s.byType.map(key)).toEqual([
      ['in', null, 'expedited_preservation', 2],
      ['out', null, 'extradition', 1],
      ['out', null, 'mutual_legal_assistance', 3],
    ]);
    expect(s.byType[2]!.acknowledge).toEqual({ count: 3, medianSeconds: 3600, p90Seconds: 7200 });
    expect(s.byType[2]!.overdue).toBe(2);
    expect(s.totals.map(key)).toEqual([
      ['in', null, null, 2],
      ['out', null, null, 4],
    ]);
    const out = s.totals[1]!;
    expect(out.byStatus).toEqual(counts({ executed: 1, in_execution: 1, refused: 1, acknowledged: 1 }));
    expect(out.acknowledge).toEqual({ count: 3, medianSeconds: 3600, p90Seconds: 7200 });
    expect(out.execute).toEqual({ count: 1, medianSeconds: 86_400, p90Seconds: 86_400 });
    expect(out.overdue).toBe(2);
    expect(s.totals[0]!.execute).toEqual({ count: 1, medianSeconds: 3600, p90Seconds: 3600 });
  });

  it('trends: per direction, one row per month of sending (UTC), oldest first', () => {
    const months = statistics([
      ...RECORDS,
      rec({ direction: 'out', counterpart: KE, state: 'sent', sentAt: '2026-01-31T23:59:59.000Z' }),
      rec({
        direction: 'out',
        counterpart: KE,
        state: 'acknowledged',
        sentAt: '2026-05-01T00:00:00.000Z',
        acknowledgeSeconds: 60,
      }),
    ]).byMonth;
    expect(months.map((m) => [m.direction, m.month, m.total])).toEqual([
      ['out', '2026-01', 1],
      ['out', '2026-03', 4],
      ['out', '2026-05', 1],
      ['in', '2026-03', 2],
    ]);
    expect(months[1]!.acknowledge).toEqual(s.totals[1]!.acknowledge);
    expect(months[2]!.acknowledge).toEqual({ count: 1, medianSeconds: 60, p90Seconds: 60 });
  });

  it('no records, no rows', () => {
    expect(statistics([])).toEqual({ rows: [], byCounterpart: [], byType: [], totals: [], byMonth: [] });
  });

  it('secondsBetween rounds, clamps at zero and reads offsets', () => {
    expect(secondsBetween('2026-03-02T08:00:00Z', '2026-03-02T10:00:00+01:00')).toBe(3600);
    expect(secondsBetween('2026-03-02T08:00:00Z', '2026-03-02T08:00:01.600Z')).toBe(2);
    expect(secondsBetween('2026-03-02T08:00:00Z', '2026-03-02T07:00:00Z')).toBe(0);
    expect(secondsBetween('2026-03-02T08:00:00Z', undefined)).toBeNull();
  });
});

describe('statisticsCsv', () => {
  it('a header and one line per row, durations in hours', () => {
    const csv = statisticsCsv([statistics(RECORDS).totals[1]!]);
    expect(csv.endsWith('\n')).toBe(true);
    const [header, line, ...rest] = csv.split('\n');
    expect(rest).toEqual(['']);
    expect(header).toBe(
      'direction,counterpart,request_type,total,sent,delivered,acknowledged,returned_for_formal_defects,' +
        'transmitted_to_executing_authority,in_execution,additional_info_requested,postponed,' +
        'conditions_proposed,conditions_accepted,conditions_declined,provisional_arrest,judicial_phase,' +
        'extradition_granted,surrendered,submitted_for_prosecution,partially_executed,executed,closed,refused,withdrawn,' +
        'acknowledged_n,acknowledge_median_h,acknowledge_p90_h,executed_n,execute_median_h,execute_p90_h,overdue',
    );
    expect(line).toBe('out,*,*,4,0,0,1,0,0,1,0,0,0,0,0,0,0,0,0,0,0,1,0,1,0,3,1.0,2.0,1,24.0,24.0,2');
    expect(line!.split(',')).toHaveLength(header!.split(',').length);
  });

  it('empty durations are empty cells; fields with commas or quotes are quoted', () => {
    const row = { ...statistics(RECORDS).rows[0]!, counterpart: 'a,"b"' };
    const line = statisticsCsv([row]).split('\n')[1];
    expect(line).toBe(`in,"a,""b""",expedited_preservation,1,1,${'0,'.repeat(20)}0,,,0,,,0`);
  });
});

describe('deadline flags', () => {
  const SENT = Date.parse('2026-03-02T08:00:00.000Z');
  const base = (over: Partial<DeadlineInput> = {}): DeadlineInput => ({
    urgency: 'routine',
    deadline: '2026-03-10',
    state: 'in_execution',
    times: {
      sent: '2026-03-02T08:00:00.000Z',
      delivered: '2026-03-02T08:00:02.000Z',
      acknowledged: '2026-03-03T08:00:00.000Z',
    },
    ...over,
  });
  const at = (iso: string) => Date.parse(iso);

  it('effectiveDeadline is the earlier day, or null', () => {
    expect(effectiveDeadline({ deadline: '2026-03-10', dataRetentionUntil: '2026-03-05' })).toBe(
      '2026-03-05',
    );
    expect(effectiveDeadline({ deadline: '2026-03-04', dataRetentionUntil: '2026-03-05' })).toBe(
      '2026-03-04',
    );
    expect(effectiveDeadline({ dataRetentionUntil: '2026-03-05' })).toBe('2026-03-05');
    expect(effectiveDeadline({ deadline: null, dataRetentionUntil: null })).toBeNull();
    expect(endOfDay('2026-03-10')).toBe(at('2026-03-11T00:00:00Z'));
  });

  it('due_soon within three days of the end of the deadline day, overdue from then on', () => {
    expect(flags(base(), at('2026-03-05T08:00:00Z'))).toEqual([]);
    expect(flags(base(), at('2026-03-07T23:59:59.999Z'))).toEqual([]);
    expect(flags(base(), at('2026-03-08T00:00:00Z'))).toEqual(['due_soon']);
    expect(flags(base(), at('2026-03-10T23:59:59.999Z'))).toEqual(['due_soon']);
    expect(flags(base(), at('2026-03-11T00:00:00Z'))).toEqual(['overdue']);
    expect(flags(base(), at('2026-03-09T00:00:00Z'), 1)).toEqual([]);
  });

  it('the retention date counts when it is earlier than the deadline', () => {
    expect(flags(base({ dataRetentionUntil: '2026-03-04' }), at('2026-03-05T00:00:00Z'))).toEqual([
      'overdue',
    ]);
  });

  it('executed, closed, refused or withdrawn requests are never overdue', () => {
    const late = at('2026-04-01T00:00:00Z');
    expect(flags(base({ state: 'executed' }), late)).toEqual([]);
    expect(
      flags(
        base({
          state: 'executed',
          times: { sent: '2026-03-02T08:00:00.000Z', delivered: '2026-03-02T08:00:02.000Z' },
        }),
        late,
      ),
    ).toEqual([]);
    for (const state of ['closed', 'refused', 'withdrawn'] as const)
      expect(flags(base({ state, times: { sent: '2026-03-02T08:00:00.000Z' } }), late)).toEqual([]);
    expect(flags(base({ state: 'partially_executed' }), late)).toEqual(['overdue']);
  });

  it('undelivered after the time the urgency allows, or at the deadline', () => {
    const sentOnly = { sent: '2026-03-02T08:00:00.000Z' };
    const r = (urgency: DeadlineInput['urgency']) =>
      base({ urgency, deadline: null, state: 'sent', times: sentOnly });
    expect(flags(r('routine'), SENT + DAY)).toEqual([]);
    expect(flags(r('routine'), SENT + DAY + 1)).toEqual(['undelivered']);
    expect(flags(r('urgent'), SENT + 4 * HOUR + 1)).toEqual(['undelivered']);
    expect(flags(r('immediate'), SENT + HOUR)).toEqual([]);
    expect(flags(r('immediate'), SENT + HOUR + 1)).toEqual(['undelivered']);
    const shortDeadline = base({ deadline: '2026-03-02', state: 'sent', times: sentOnly });
    expect(flags(shortDeadline, at('2026-03-03T00:00:00Z'))).toEqual([
      'overdue',
      'undelivered',
      'unacknowledged',
    ]);
  });

  it('unacknowledged after the time the urgency allows', () => {
    const delivered = { sent: '2026-03-02T08:00:00.000Z', delivered: '2026-03-02T08:00:02.000Z' };
    const r = (urgency: DeadlineInput['urgency']) =>
      base({ urgency, deadline: null, state: 'delivered', times: delivered });
    expect(flags(r('routine'), SENT + 10 * DAY)).toEqual([]);
    expect(flags(r('routine'), SENT + 10 * DAY + 1)).toEqual(['unacknowledged']);
    expect(flags(r('urgent'), SENT + 3 * DAY + 1)).toEqual(['unacknowledged']);
    expect(flags(r('immediate'), SENT + DAY + 1)).toEqual(['unacknowledged']);
    expect(flags(base({ deadline: null }), SENT + 100 * DAY)).toEqual([]);
  });

  it('a draft (never sent) has no flags', () => {
    expect(flags(base({ state: 'draft', times: {} }), at('2027-01-01T00:00:00Z'))).toEqual([]);
  });
});

describe('signed statistics export', () => {
  let key: SigningKeyPair;
  beforeAll(() => {
    key = generateSigningKeyPair(random);
  });
  const input = () => ({
    authority: 'sn.moj@relay.wacap.example',
    node: 'desk1/sn.moj@relay.wacap.example',
    generatedAt: '2026-03-31T17:00:00.000Z',
    records: RECORDS,
  });

  it('validates against the schema and verifies under the exporting node key', () => {
    const e = exportStatistics(input(), key.secretKey);
    expect(check(StatisticsExport, e, 'export')).toBe(e);
    expect(e.records).toHaveLength(6);
    expect(e.records[1]).toEqual({
      direction: 'out',
      counterpart: NG,
      requestType: 'mutual_legal_assistance',
      urgency: 'urgent',
      state: 'in_execution',
      sentAt: '2026-03-02T08:00:00.000Z',
      acknowledgeSeconds: 7200,
      executeSeconds: null,
      overdue: true,
    });
    const pk = toBase64url(key.publicKey);
    expect(verifyStatisticsExport(e, pk)).toBe(true);
    expect(verifyStatisticsExport(JSON.parse(JSON.stringify(e)) as StatisticsExport, pk)).toBe(true);
    expect(verifyStatisticsExport(e, toBase64url(generateSigningKeyPair(random).publicKey))).toBe(false);
  });

  it('any edit breaks the signature', () => {
    const e = exportStatistics(input(), key.secretKey);
    const pk = toBase64url(key.publicKey);
    const edited = (records: StatisticsExport['records']) => verifyStatisticsExport({ ...e, records }, pk);
    expect(edited(e.records.map((r, i) => (i === 0 ? { ...r, state: 'refused' as const } : r)))).toBe(false);
    expect(edited(e.records.map((r, i) => (i === 2 ? { ...r, acknowledgeSeconds: 60 } : r)))).toBe(false);
    expect(edited(e.records.map((r, i) => (i === 1 ? { ...r, overdue: false } : r)))).toBe(false);
    expect(edited(e.records.slice(1))).toBe(false);
    expect(edited([...e.records].reverse())).toBe(false);
    expect(verifyStatisticsExport({ ...e, authority: 'ng.moj@relay.wacap.example' }, pk)).toBe(false);
    expect(verifyStatisticsExport({ ...e, generatedAt: '2026-04-01T17:00:00.000Z' }, pk)).toBe(false);
    expect(edited(e.records)).toBe(true);
  });

  it('importedRecords gives the records back, keeping only the overdue flag, and the same statistics', () => {
    const back = importedRecords(exportStatistics(input(), key.secretKey));
    expect(back).toEqual(
      RECORDS.map((r) => ({ ...r, flags: r.flags.includes('overdue') ? ['overdue'] : [] })),
    );
    expect(statistics(back)).toEqual(statistics(RECORDS));
  });

  it('an export with a non-integer duration or a bad counterpart is refused by the schema', () => {
    const e = exportStatistics(input(), key.secretKey);
    const bad1 = { ...e, records: [{ ...e.records[0]!, acknowledgeSeconds: 1.5 }] };
    const bad2 = { ...e, records: [{ ...e.records[0]!, counterpart: 'Not An Address' }] };
    expect(() => check(StatisticsExport, bad1, 'export')).toThrow(/acknowledgeSeconds/);
    expect(() => check(StatisticsExport, bad2, 'export')).toThrow(/counterpart/);
  });
});
