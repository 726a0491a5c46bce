/**
 * Statistics on requests: this node's own (`entraide stats`), its signed export for a network
 * coordinator (`--export`, `--network`), and a coordinator's merge of its members' exports
 * (`entraide stats merge`).
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { EntraideError } from '../../shared/errors.ts';
import { statistics, statisticsCsv, type Statistics } from '../../shared/requests/statistics.ts';
import type { RequestStatsRecord } from '../../shared/requests/statistics-export.ts';
import { mergedCsv, type NetworkMerge } from '../../shared/requests/statistics-merge.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import type { AuthorityNode } from '../node.ts';
import { signedStatisticsExport } from '../stats-export.ts';
import { mergeStatisticsFiles, readExportText } from '../stats-merge.ts';
import { mergeText, statsLine } from './format-stats.ts';
import { homeDir, query, type GlobalOptions } from './fast-io.ts';
import { liveService, serviceCalls, type ServiceCalls } from './fast-service.ts';
import { json, out, withNode } from './io.ts';
import { refresh, type Run } from './requests.ts';

/** The signed export: every request (version 1), or those with members of `network` (version 2). */
export function exportFile(
  node: AuthorityNode,
  records: RequestStatsRecord[],
  file: string,
  network: string | undefined,
): void {
  const exported = signedStatisticsExport(node, records, network);
  writeFileSync(file, JSON.stringify(exported, null, 2) + '\n');
  process.stderr.write(
    `${exported.records.length} request(s) exported to ${file}${network ? ` for network ${network}` : ''}\n`,
  );
}

interface StatsOptions {
  json?: boolean;
  csv?: boolean;
  export?: string;
  network?: string;
}

function printStats(s: Statistics, o: StatsOptions): void {
  if (o.json) return json(s);
  if (o.csv) return void process.stdout.write(statisticsCsv(s.rows));
  if (o.export) return;
  if (s.totals.length === 0) return out('no requests sent or received yet');
  out('Totals');
  for (const r of s.totals) out(statsLine(r));
  out('');
  out('By counterpart');
  for (const r of s.byCounterpart) out(statsLine(r));
  out('');
  out('By request type');
  for (const r of s.byType) out(statsLine(r));
}

/** `entraide stats` through the node's service (routes-statistics.ts), printed as above. */
async function servedStats(svc: ServiceCalls, o: StatsOptions): Promise<void> {
  if (o.export) {
    const exported = await svc.get<{ records: unknown[] }>(
      `/api/v1/statistics/export${query({ network: o.network })}`,
    );
    writeFileSync(o.export, JSON.stringify(exported, null, 2) + '\n');
    process.stderr.write(
      `${exported.records.length} request(s) exported to ${o.export}${o.network ? ` for network ${o.network}` : ''}\n`,
    );
    if (!o.json && !o.csv) return;
  }
  const { refusalGround: _, ...s } = await svc.get<Statistics & { refusalGround: unknown }>(
    '/api/v1/statistics',
  );
  printStats(s, o);
}

export interface MergeOptions {
  network?: string | undefined;
  json?: boolean | undefined;
  csv?: boolean | undefined;
  out?: string | undefined;
}

/**
 * `entraide stats merge`: every file read and verified before anything is printed or written, so
 * a refused file leaves no partial output.
 */
export async function mergeCommand(node: AuthorityNode, files: string[], o: MergeOptions): Promise<void> {
  if (o.json && o.csv) throw new EntraideError('USAGE', 'choose --json or --csv, not both');
  const sections = await mergeStatisticsFiles(
    {
      sender: (authority, address) => node.trust.sender(authority, address),
      members: (network) => node.networks.roster(network)?.members ?? null,
    },
    files,
    { network: o.network },
  );
  writeMerge(sections, files.length, o);
}

/**
 * `entraide stats merge` through the node's service (routes-statistics.ts): the files read here,
 * verified and merged there, printed as above.
 */
async function servedMerge(svc: ServiceCalls, files: string[], o: MergeOptions): Promise<void> {
  if (o.json && o.csv) throw new EntraideError('USAGE', 'choose --json or --csv, not both');
  const exports = files.map((file) => ({ name: file, text: readExportText(file) }));
  const { networks } = await svc.post<{ networks: NetworkMerge[] }>('/api/v1/statistics/merge', {
    ...(o.network ? { network: o.network } : {}),
    exports,
  });
  writeMerge(networks, files.length, o);
}

function writeMerge(sections: NetworkMerge[], files: number, o: MergeOptions): void {
  const text = o.json
    ? JSON.stringify({ networks: sections }, null, 2) + '\n'
    : o.csv
      ? mergedCsv(sections)
      : mergeText(sections);
  if (!o.out) return void process.stdout.write(text);
  writeFileAtomic(o.out, text);
  const requests = sections.reduce((n, s) => n + s.requests, 0);
  process.stderr.write(`${requests} request(s) from ${files} export(s) merged into ${o.out}\n`);
}

export function statsCommands(program: Command, run: Run): void {
  const stats = program
    .command('stats')
    .description(
      'statistics on requests sent and received: counts by status, times to acknowledge and execute, overdue',
    )
    .option('--json', 'machine-readable output')
    .option('--csv', 'one CSV row per direction, counterpart and request type')
    .option('--export <file>', 'write the signed per-request export a network coordinator merges')
    .option(
      '--network <id>',
      'with --export: only the requests with members of this network, with their codes (version 2)',
    )
    .action((o: StatsOptions) =>
      run(async () => {
        if (o.network && !o.export) throw new EntraideError('USAGE', '--network goes with --export <file>');
        // While `entraide serve` holds the folder, its service answers (the same figures).
        const live = liveService(homeDir(program.opts<GlobalOptions>()));
        if (live) return servedStats(serviceCalls(live), o);
        await withNode(program, async (node) => {
          await refresh(node);
          const records = node.requests.records();
          if (o.export) exportFile(node, records, o.export, o.network);
          printStats(statistics(records), o);
        });
      }),
    );

  stats
    .command('merge <files...>')
    .description(
      'for a network coordinator: verify members’ statistics exports against their authorities’ keys and merge them, each request counted once',
    )
    .option('--network <id>', 'refuse any export made for another network')
    .option('--json', 'every figure, machine-readable')
    .option(
      '--csv',
      'one table: network, requesting, requested, request type (* for all), counts, times, breakdowns',
    )
    .option('--out <file>', 'write the result to this file instead of the standard output')
    .action((files: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        // The parent `stats` shares option names: read them from both levels.
        const o = cmd.optsWithGlobals<MergeOptions>();
        const live = liveService(homeDir(program.opts<GlobalOptions>()));
        if (live) return servedMerge(serviceCalls(live), files, o);
        await withNode(program, (node) => mergeCommand(node, files, o));
      }),
    );
}
