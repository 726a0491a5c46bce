/** The node's own record: `entraide record` lists it, `entraide record verify` checks it. */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { exportRecord, recordEvents, verifyRecord } from '../record.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { json, out, withNode } from './io.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

export function recordCommands(program: Command, run: Run): void {
  const record = program
    .command('record')
    .description('this node’s own record: what it sent, received and opened, and the receipts it holds')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const events = recordEvents(node);
          if (o.json) return json(events);
          for (const e of events) {
            const who = e.counterparts?.join(', ') ?? e.receipt?.node ?? '';
            out(
              `${String(e.seq).padStart(6)}  ${e.at}  ${e.kind.padEnd(8)}  ${e.envelope}  ${e.item ?? e.receipt?.kind ?? e.reason ?? ''}  ${who}`,
            );
          }
        }),
      ),
    );

  record
    .command('verify')
    .description('check the record against every head this node signed; prints the first index not proven')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = verifyRecord(node);
          if (o.json) json(r);
          if (r.problem) {
            throw new EntraideError(
              'PROOF_INVALID',
              `this node’s record is not what it signed from index ${r.problem.index}: ${r.problem.message}`,
            );
          }
          if (!o.json) out(`ok: ${r.size} entries, ${r.heads} signed heads`);
        }),
      ),
    );

  record
    .command('export')
    .description(
      'write the record with every head this node signed, for an auditor (`audit reconcile --record`)',
    )
    .requiredOption('--out <file>', 'the file to write')
    .action((o: { out: string }) =>
      run(() =>
        withNode(program, async (node) => {
          const exported = exportRecord(node);
          writeFileAtomic(o.out, JSON.stringify(exported) + '\n');
          out(
            `wrote ${o.out}: ${exported.entries.length} entries of ${node.address}, ${exported.heads.length} signed heads (metadata only, no content)`,
          );
        }),
      ),
    );
}
