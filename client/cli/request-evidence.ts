/**
 * What an officer shows others about requests: evidence of delivery (signed envelope and receipts),
 * statistics (times to acknowledge and execute, for export and merging), forwarding under the
 * handling code, and the log of handling-code overrides.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { statistics, statisticsCsv, type StatsRow } from '../../shared/requests/statistics.ts';
import { exportStatistics } from '../../shared/requests/statistics-export.ts';
import { STATUSES } from '../../shared/requests/vocabulary.ts';
import { forward } from '../forward.ts';
import { json, out, shortTime, withNode } from './io.ts';
import { flushReceipts, refresh, type Run } from './requests.ts';
import { confirmCounterparts, UNVERIFIED_OK_OPTION } from './unverified.ts';

function hours(s: number | null): string {
  if (s === null) return '-';
  if (s < 120) return `${s} s`;
  return s < 3600
    ? `${Math.round(s / 60)} min`
    : s < 172_800
      ? `${(s / 3600).toFixed(1)} h`
      : `${(s / 86_400).toFixed(1)} d`;
}

function statsLine(r: StatsRow): string {
  const counts = STATUSES.filter((s) => r.byStatus[s] > 0)
    .map((s) => `${s} ${r.byStatus[s]}`)
    .join(', ');
  return [
    `${r.direction === 'out' ? 'sent to' : 'received from'} ${r.counterpart ?? 'all'}${r.requestType ? `, ${r.requestType}` : ''}: ${r.total}`,
    `    ${counts || '-'}`,
    `    acknowledge: median ${hours(r.acknowledge.medianSeconds)}, p90 ${hours(r.acknowledge.p90Seconds)} (${r.acknowledge.count})` +
      `; execute: median ${hours(r.execute.medianSeconds)}, p90 ${hours(r.execute.p90Seconds)} (${r.execute.count})` +
      `; overdue ${r.overdue}`,
  ].join('\n');
}

/** evidence, stats, forward, overrides */
export function evidenceCommands(program: Command, run: Run): void {
  program
    .command('evidence <id>')
    .description(
      'proof of delivery of something this authority sent: the signed envelope and the signed receipts',
    )
    .option('--json', 'the evidence bundle, for a file or a court')
    .action((id: string, o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          await refresh(node);
          // A request id (or reference) stands for the envelope that carried the request.
          const req = node.store.requests.request(id);
          const envelopeId = req?.envelopeId ?? id;
          const e = node.receipts.evidence(envelopeId);
          if (o.json) return json(e);
          out(`Envelope  ${e.envelope.id} (${e.kind})`);
          out(`From      ${e.envelope.from}`);
          out(`To        ${e.envelope.to.join(', ')}`);
          out(`Sent      ${shortTime(e.envelope.sentAt)}; accepted by the relay ${shortTime(e.acceptedAt)}`);
          out(`Ciphertext SHA-256  ${e.ciphertextHash}`);
          if (e.receipts.length === 0) out('No receipt yet.');
          for (const r of e.receipts) {
            out(
              `  ${r.kind.padEnd(9)} ${r.node}  ${shortTime(r.at)}  ${r.valid ? 'signature and ciphertext hash verified' : `INVALID: ${r.problem}`}`,
            );
          }
          if (e.undelivered.length) out(`No delivery receipt from: ${e.undelivered.join(', ')}`);
          if (e.documents.length) out('Documents:');
          for (const d of e.documents) {
            out(`  ${d.name}  ${d.role}  ${d.size} bytes  SHA-256 ${d.sha256}`);
            for (const by of d.downloadedBy)
              out(`    downloaded and verified by ${by.node}  ${shortTime(by.at)} (signed receipt)`);
            if (d.downloadedBy.length === 0) out('    no downloaded receipt yet');
          }
        }),
      ),
    );

  program
    .command('stats')
    .description(
      'statistics on requests sent and received: counts by status, times to acknowledge and execute, overdue',
    )
    .option('--json', 'machine-readable output')
    .option('--csv', 'one CSV row per direction, counterpart and request type')
    .option('--export <file>', 'write the signed per-request export a network coordinator aggregates')
    .action((o: { json?: boolean; csv?: boolean; export?: string }) =>
      run(() =>
        withNode(program, async (node) => {
          await refresh(node);
          const records = node.requests.records();
          const s = statistics(records);
          if (o.export) {
            const file = exportStatistics(
              {
                authority: node.authority,
                node: node.address,
                generatedAt: new Date().toISOString(),
                records,
              },
              node.identitySecretKey,
            );
            writeFileSync(o.export, JSON.stringify(file, null, 2) + '\n');
            process.stderr.write(`${records.length} request(s) exported to ${o.export}\n`);
          }
          if (o.json) return json(s);
          if (o.csv) return void process.stdout.write(statisticsCsv(s.rows));
          if (o.export) return;
          if (records.length === 0) return out('no requests sent or received yet');
          out('Totals');
          for (const r of s.totals) out(statsLine(r));
          out('');
          out('By counterpart');
          for (const r of s.byCounterpart) out(statsLine(r));
          out('');
          out('By request type');
          for (const r of s.byType) out(statsLine(r));
        }),
      ),
    );

  program
    .command('forward <id>')
    .description('forward a received message or request to another authority, as its handling code allows')
    .requiredOption('--to <authority-address...>', 'recipient authority (repeatable)')
    .option(
      '--consent <reference>',
      'the reference of the sender’s consent, when the handling code asks for it',
    )
    .option('--override <reason>', 'forward against the handling code, for this reason (logged)')
    .option('--note <text>', 'a note above the forwarded text')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action(
      (
        id: string,
        o: {
          to: string[];
          consent?: string;
          override?: string;
          note?: string;
          unverifiedOk?: boolean;
          json?: boolean;
        },
      ) =>
        run(() =>
          withNode(program, async (node) => {
            const confirmed = await confirmCounterparts(node, o.to, o.unverifiedOk);
            const r = await forward(node, id, {
              to: o.to,
              consent: o.consent,
              override: o.override,
              note: o.note,
            });
            await node.counterparts.confirm(confirmed);
            await flushReceipts(node);
            if (o.json) return json(r);
            out(r.id);
          }),
        ),
    );

  program
    .command('overrides')
    .description('the handling-code overrides and consents logged on this node')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const list = node.store.requests.overrides();
          if (o.json) return json(list);
          if (list.length === 0) out('no overrides');
          for (const v of list)
            out(`${shortTime(v.at)}  ${v.action.padEnd(20)} ${v.item}  ${v.node}  ${v.reason}`);
        }),
      ),
    );
}
