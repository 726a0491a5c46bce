/** How `entraide stats` and `entraide stats merge` print their figures for a person. */
import type { Breakdown, Breakdowns } from '../../shared/requests/statistics-breakdowns.ts';
import type { MergedRow, NetworkMerge } from '../../shared/requests/statistics-merge.ts';
import type { StatsRow, Tally } from '../../shared/requests/statistics.ts';
import { STATUSES } from '../../shared/requests/vocabulary.ts';

function hours(s: number | null): string {
  if (s === null) return '-';
  if (s < 120) return `${s} s`;
  return s < 3600
    ? `${Math.round(s / 60)} min`
    : s < 172_800
      ? `${(s / 3600).toFixed(1)} h`
      : `${(s / 86_400).toFixed(1)} d`;
}

/** The two lines under a row's title: counts by status, then times and overdue. */
function tallyLines(r: Tally): string[] {
  const counts = STATUSES.filter((s) => r.byStatus[s] > 0)
    .map((s) => `${s} ${r.byStatus[s]}`)
    .join(', ');
  return [
    `    ${counts || '-'}`,
    `    acknowledge: median ${hours(r.acknowledge.medianSeconds)}, p90 ${hours(r.acknowledge.p90Seconds)} (${r.acknowledge.count})` +
      `; execute: median ${hours(r.execute.medianSeconds)}, p90 ${hours(r.execute.p90Seconds)} (${r.execute.count})` +
      `; overdue ${r.overdue}`,
  ];
}

export function statsLine(r: StatsRow): string {
  return [
    `${r.direction === 'out' ? 'sent to' : 'received from'} ${r.counterpart ?? 'all'}${r.requestType ? `, ${r.requestType}` : ''}: ${r.total}`,
    ...tallyLines(r),
  ].join('\n');
}

function mergedLine(r: MergedRow): string {
  const who =
    r.requesting && r.requested
      ? `${r.requesting} → ${r.requested}`
      : r.requested
        ? `to ${r.requested}`
        : (r.requestType ?? 'all');
  const type = r.requestType && (r.requesting || r.requested) ? `, ${r.requestType}` : '';
  return [`  ${who}${type}: ${r.total}`, ...tallyLines(r)].join('\n');
}

function breakdownLine<C extends string>(title: string, b: Breakdown<C>): string {
  const parts = b.counts.map((c) => `${c.code} ${c.requests}`);
  if (b.none) parts.push(`none stated ${b.none}`);
  if (b.notRecorded) parts.push(`not recorded (version 1) ${b.notRecorded}`);
  return `  ${title} (${b.of}): ${parts.join(', ') || '-'}`;
}

function breakdownLines(b: Breakdowns): string[] {
  const share = b.untoc.share === null ? '-' : `${Math.round(b.untoc.share * 1000) / 10}%`;
  return [
    breakdownLine('refusal grounds, of refused requests', b.refusalGround),
    breakdownLine('legal bases', b.legalBasis),
    `  under UNTOC: ${b.untoc.requests} of the ${b.untoc.of} request(s) whose legal bases are known (${share})`,
    breakdownLine('measures', b.measure),
    breakdownLine('data categories', b.dataCategory),
    breakdownLine('offence categories', b.offenceCategory),
  ];
}

/** A merge as text: per network, where the figures come from, then its tables and breakdowns. */
export function mergeText(sections: readonly NetworkMerge[]): string {
  const lines: string[] = [];
  for (const s of sections) {
    lines.push(
      s.network ? `Network ${s.network}` : 'Version-1 exports (for no single network)',
      `  ${s.requests} request(s) from ${s.exports.length} export(s), ${s.records} record(s): ` +
        `${s.exportedByBothSides} exported by both sides and counted once` +
        (s.disagreements ? ` (${s.disagreements} whose two sides differ: the further side counts)` : '') +
        `; ${s.notDeduplicated} from version-1 exports could not be deduplicated`,
    );
    for (const x of s.exports)
      lines.push(
        `  from ${x.authority} (${x.node}, version ${x.v}, ${x.records} record(s), ${x.generatedAt})`,
      );
    lines.push('', 'Totals', mergedLine(s.totals), '', 'By requested authority');
    for (const r of s.byRequested) lines.push(mergedLine(r));
    lines.push('', 'By pair (requesting → requested)');
    for (const r of s.byPair) lines.push(mergedLine(r));
    lines.push('', 'By request type');
    for (const r of s.byType) lines.push(mergedLine(r));
    lines.push('', 'Breakdowns', ...breakdownLines(s.totals.breakdowns), '');
  }
  return lines.join('\n');
}
