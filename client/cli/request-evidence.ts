/**
 * What an officer shows others about requests: evidence of delivery (signed envelope and receipts),
 * forwarding under the handling code, and the log of handling-code overrides. Statistics, their
 * export and a coordinator's merge are in stats.ts.
 */
import type { Command } from 'commander';
import { forward } from '../forward.ts';
import { json, out, shortTime, withNode } from './io.ts';
import { flushReceipts, refresh, type Run } from './requests.ts';
import { confirmCounterparts, UNVERIFIED_OK_OPTION } from './unverified.ts';

/** evidence, forward, overrides (statistics are in stats.ts) */
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
