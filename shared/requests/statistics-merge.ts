/**
 * A network coordinator's merge of its members' statistics exports (statistics-export.ts), pure:
 * the caller reads the files and verifies each signature against the keys it holds for the
 * exporting authority (client/stats-merge.ts) before handing the exports here.
 *
 * Each request is counted once. Both sides of a request export it (the requesting authority as
 * `out`, the requested one as `in`); in a version-2 export it goes by the same keyed hash on both
 * sides, so the records are joined by that hash. Version-1 exports carry no hash: their records are
 * merged as they are, and counted in `notDeduplicated` so the coordinator knows how many requests
 * may be counted twice.
 *
 * Figures per network: totals; per requested authority, per pair (requesting → requested), per
 * request type and per pair and type: counts by status, median and 90th percentile of the times
 * to acknowledge and to execute, overdue (statistics.ts), and the breakdowns
 * (statistics-breakdowns.ts).
 */
import { EntraideError } from '../errors.ts';
import type { Flag } from './deadlines.ts';
import { FINAL_STATES } from './lifecycle.ts';
import {
  BREAKDOWN_CSV_COLUMNS,
  breakdownCsvCells,
  breakdowns,
  type Breakdowns,
  type CodedRecord,
  type RequestCodes,
} from './statistics-breakdowns.ts';
import type { AnyStatisticsExport } from './statistics-export.ts';
import {
  csvCell,
  monthRows,
  tally,
  TALLY_CSV_COLUMNS,
  tallyCsvCells,
  type MonthRow,
  type StatsRecord,
  type Tally,
} from './statistics.ts';
import type { RequestType } from './vocabulary.ts';

/** An export whose signature the caller verified, and where it came from (a file name). */
export interface VerifiedExport {
  source: string;
  export: AnyStatisticsExport;
}

/** One request as the merge sees it, whichever version it came in. */
export interface MergedRecord extends CodedRecord, Omit<StatsRecord, 'direction' | 'counterpart'> {
  /** The keyed hash (version 2), or null (version 1: cannot be joined with the other side's). */
  request: string | null;
  /** The authority whose export held it. */
  exportedBy: string;
  requesting: string;
  requested: string;
}

export interface MergedRow extends Tally {
  /** null where the row sums over every requesting authority. */
  requesting: string | null;
  requested: string | null;
  requestType: RequestType | null;
  breakdowns: Breakdowns;
}

export interface NetworkMerge {
  /** null for version-1 records that no single network of the merge could take. */
  network: string | null;
  exports: {
    source: string;
    v: 1 | 2;
    authority: string;
    node: string;
    generatedAt: string;
    records: number;
  }[];
  /** Records read, and requests once each is counted once. */
  records: number;
  requests: number;
  /** Requests that both sides exported (counted once). */
  exportedByBothSides: number;
  /** Of those, requests whose two records differ (state, times, type or authorities). */
  disagreements: number;
  /** Records of version-1 exports: no hash, so never joined with the other side's record. */
  notDeduplicated: number;
  totals: MergedRow;
  byRequested: MergedRow[];
  byPair: MergedRow[];
  byType: MergedRow[];
  /** Per pair and request type: the finest rows. */
  rows: MergedRow[];
  /** Trends: each month in which requests were sent, oldest first. */
  byMonth: MonthRow[];
}

/**
 * Why an export cannot be merged (it is signed, yet does not hold together), or null. Each record
 * must be a request of the exporting authority itself, on the side its direction says: an
 * authority cannot report requests between two others. A version-2 export names each request
 * once, carries a refusal ground only on a refused request, and must be for `network` when given.
 */
export function exportProblem(e: AnyStatisticsExport, network?: string): string | null {
  if (e.v === 1) {
    const self = e.records.findIndex((r) => r.counterpart === e.authority);
    return self < 0 ? null : `record ${self} names the exporting authority as its own counterpart`;
  }
  if (network !== undefined && e.network !== network)
    return `it is an export for network ${e.network}, not ${network}`;
  const seen = new Set<string>();
  for (const [i, r] of e.records.entries()) {
    const side = r.direction === 'out' ? r.requesting : r.requested;
    const other = r.direction === 'out' ? r.requested : r.requesting;
    if (side !== e.authority || other === e.authority)
      return `record ${i} is not a request ${r.direction === 'out' ? 'sent' : 'received'} by ${e.authority}`;
    if (seen.has(r.request)) return `record ${i} repeats request ${r.request}`;
    seen.add(r.request);
    if (r.refusalGround !== null && r.state !== 'refused')
      return `record ${i} has a refusal ground but its state is ${r.state}`;
  }
  return null;
}

function mergedRecords(e: AnyStatisticsExport): MergedRecord[] {
  const flags = (overdue: boolean): Flag[] => (overdue ? ['overdue'] : []);
  if (e.v === 1) {
    return e.records.map((r) => ({
      request: null,
      exportedBy: e.authority,
      requesting: r.direction === 'out' ? e.authority : r.counterpart,
      requested: r.direction === 'out' ? r.counterpart : e.authority,
      requestType: r.requestType,
      urgency: r.urgency,
      state: r.state,
      sentAt: r.sentAt,
      acknowledgeSeconds: r.acknowledgeSeconds,
      executeSeconds: r.executeSeconds,
      flags: flags(r.overdue),
      codes: null,
    }));
  }
  return e.records.map((r) => {
    const codes: RequestCodes = {
      refusalGround: r.refusalGround,
      legalBases: r.legalBases,
      measures: r.measures,
      dataCategories: r.dataCategories,
      offenceCategory: r.offenceCategory,
    };
    return { ...r, request: r.request, exportedBy: e.authority, flags: flags(r.overdue), codes };
  });
}

/**
 * Which record of a request exported by several sides counts. Both sides derive the state from the
 * same signed updates, so they normally agree; they differ when one side has not received the
 * latest update yet. So the record that has seen further wins: a final state (closed, refused,
 * withdrawn) over an open one, then one that reached execution, then one that reached
 * acknowledgement. Where neither has seen further, the requested side's record wins: its times to
 * acknowledge and to execute are those of its own steps. Last, the authority's address (only a
 * forged pair of records could tie there) keeps the result independent of the files' order.
 */
const rank = (r: MergedRecord): number[] => [
  FINAL_STATES.includes(r.state) ? 1 : 0,
  r.executeSeconds !== null ? 1 : 0,
  r.acknowledgeSeconds !== null ? 1 : 0,
  r.exportedBy === r.requested ? 1 : 0,
];

function compareRank(a: MergedRecord, b: MergedRecord): number {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
  return a.exportedBy.localeCompare(b.exportedBy);
}

const agree = (a: MergedRecord, b: MergedRecord): boolean =>
  a.state === b.state &&
  a.acknowledgeSeconds === b.acknowledgeSeconds &&
  a.executeSeconds === b.executeSeconds &&
  a.requestType === b.requestType &&
  a.requesting === b.requesting &&
  a.requested === b.requested;

function row(
  key: Pick<MergedRow, 'requesting' | 'requested' | 'requestType'>,
  records: readonly MergedRecord[],
): MergedRow {
  return { ...key, ...tally(records), breakdowns: breakdowns(records) };
}

function groupRows(
  records: readonly MergedRecord[],
  key: (r: MergedRecord) => Pick<MergedRow, 'requesting' | 'requested' | 'requestType'>,
): MergedRow[] {
  const groups = new Map<string, { key: ReturnType<typeof key>; items: MergedRecord[] }>();
  for (const r of records) {
    const k = key(r);
    const id = JSON.stringify([k.requesting, k.requested, k.requestType]);
    const g = groups.get(id);
    if (g) g.items.push(r);
    else groups.set(id, { key: k, items: [r] });
  }
  return [...groups.values()]
    .map((g) => row(g.key, g.items))
    .sort(
      (a, b) =>
        (a.requested ?? '').localeCompare(b.requested ?? '') ||
        (a.requesting ?? '').localeCompare(b.requesting ?? '') ||
        (a.requestType ?? '').localeCompare(b.requestType ?? ''),
    );
}

function mergeNetwork(network: string | null, exports: readonly VerifiedExport[]): NetworkMerge {
  const byHash = new Map<string, MergedRecord[]>();
  const unjoined: MergedRecord[] = [];
  let records = 0;
  for (const { export: e } of exports) {
    for (const r of mergedRecords(e)) {
      records++;
      if (r.request === null) unjoined.push(r);
      else byHash.set(r.request, [...(byHash.get(r.request) ?? []), r]);
    }
  }
  const counted: MergedRecord[] = [...unjoined];
  let both = 0;
  let disagreements = 0;
  for (const candidates of byHash.values()) {
    const sorted = [...candidates].sort(compareRank);
    counted.push(sorted[0]!);
    if (sorted.length > 1) both++;
    if (sorted.some((r) => !agree(r, sorted[0]!))) disagreements++;
  }
  const all = (): Pick<MergedRow, 'requesting' | 'requested' | 'requestType'> => ({
    requesting: null,
    requested: null,
    requestType: null,
  });
  return {
    network,
    exports: exports.map(({ source, export: e }) => ({
      source,
      v: e.v,
      authority: e.authority,
      node: e.node,
      generatedAt: e.generatedAt,
      records: e.records.length,
    })),
    records,
    requests: counted.length,
    exportedByBothSides: both,
    disagreements,
    notDeduplicated: unjoined.length,
    totals: row(all(), counted),
    byRequested: groupRows(counted, (r) => ({ ...all(), requested: r.requested })),
    byPair: groupRows(counted, (r) => ({ ...all(), requesting: r.requesting, requested: r.requested })),
    byType: groupRows(counted, (r) => ({ ...all(), requestType: r.requestType })),
    rows: groupRows(counted, (r) => ({
      requesting: r.requesting,
      requested: r.requested,
      requestType: r.requestType,
    })),
    byMonth: monthRows(counted),
  };
}

/**
 * Merges verified exports, one section per network. Version-1 exports name no network: their
 * records join the merge's network when there is exactly one (`network`, or the one every
 * version-2 export names), else they form a section of their own (network null).
 * Preconditions: each export verified and without exportProblem; at least one export; one export
 * per authority and network (USAGE otherwise: a second export would count its requests twice).
 */
export function mergeStatistics(exports: readonly VerifiedExport[], network?: string): NetworkMerge[] {
  if (exports.length === 0) throw new EntraideError('USAGE', 'no statistics export to merge');
  const seen = new Map<string, string>();
  for (const { source, export: e } of exports) {
    const key = `${e.v === 2 ? e.network : ''} ${e.authority}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new EntraideError(
        'USAGE',
        `${source} and ${earlier} are both exports of ${e.authority}${e.v === 2 ? ` for ${e.network}` : ''}: merge one export per authority (the newest), or its requests count twice`,
      );
    }
    seen.set(key, source);
  }
  const networks = [
    ...new Set([
      ...(network ? [network] : []),
      ...exports.flatMap((x) => (x.export.v === 2 ? [x.export.network] : [])),
    ]),
  ].sort();
  const v1 = exports.filter((x) => x.export.v === 1);
  const v1Home = networks.length === 1 ? networks[0]! : null;
  const sections = networks.map((n) =>
    mergeNetwork(n, [
      ...exports.filter((x) => x.export.v === 2 && x.export.network === n),
      ...(n === v1Home ? v1 : []),
    ]),
  );
  if (v1.length > 0 && v1Home === null) sections.push(mergeNetwork(null, v1));
  return sections;
}

/** The columns of mergedCsv: where the row sums over every value of a key column, it holds `*`. */
export const MERGED_CSV_COLUMNS = [
  'network',
  'requesting',
  'requested',
  'request_type',
  ...TALLY_CSV_COLUMNS,
  ...BREAKDOWN_CSV_COLUMNS,
];

/**
 * One table: per network, its totals, then per request type, per requested authority, per pair,
 * and per pair and type; each row with its counts, times (hours, one decimal) and breakdowns.
 * A network-less section (version-1 records only) has an empty network cell.
 */
export function mergedCsv(sections: readonly NetworkMerge[]): string {
  const lines = [MERGED_CSV_COLUMNS.join(',')];
  for (const s of sections) {
    for (const r of [s.totals, ...s.byType, ...s.byRequested, ...s.byPair, ...s.rows]) {
      lines.push(
        [
          s.network ?? '',
          r.requesting ?? '*',
          r.requested ?? '*',
          r.requestType ?? '*',
          ...tallyCsvCells(r),
          ...breakdownCsvCells(r.breakdowns),
        ]
          .map(csvCell)
          .join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}
