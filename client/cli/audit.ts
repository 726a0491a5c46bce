/** The auditor's commands: audit keygen | log | verify | proof. */
import type { Command } from 'commander';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import { spreadsheetCell } from '../../shared/csv.ts';
import { parseTimestamp } from '../../shared/time.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { EntraideError } from '../../shared/errors.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  AuditorClient,
  checkProofExport,
  createAuditor,
  distinctHeads,
  knownHeadsFile,
  readAuditor,
  readHeads,
} from '../audit/auditor.ts';
import { reconcile } from '../audit/relay-reconcile.ts';
import {
  reconcileRecord,
  recordDifferences,
  recordRelay,
  type RecordReport,
} from '../audit/record-reconcile.ts';
import { homeDir, json, out, passphrase, type GlobalOptions } from './io.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

const CSV_COLUMNS = [
  'seq',
  'at',
  'kind',
  'envelope',
  'sender',
  'recipients',
  'node',
  'peer',
  'size',
  'ciphertextHash',
  'reason',
  'detail',
  'auditor',
  'count',
  'source',
  'since',
] as const;

function line(e: AuditEvent): string {
  const parts = [
    String(e.seq).padStart(6),
    e.at,
    e.kind.padEnd(11),
    e.envelope ?? '-',
    e.sender ? `${e.sender}${e.recipients ? ` → ${e.recipients.join(', ')}` : ''}` : '',
    e.node ? `node ${e.node}` : '',
    e.auditor ? `auditor ${e.auditor}` : '',
    e.peer ? `peer ${e.peer}` : '',
    e.size !== undefined ? `${e.size} B` : '',
    e.reason ? `[${e.reason}]` : '',
    e.detail ? JSON.stringify(e.detail) : '',
    e.count !== undefined ? `×${e.count} from ${e.source ?? '?'} since ${e.since ?? '?'}` : '',
  ];
  return parts.filter(Boolean).join('  ');
}

function matches(
  e: AuditEvent,
  f: { from?: number; to?: number; authority?: string; envelope?: string },
): boolean {
  const at = Date.parse(e.at);
  if (f.from !== undefined && at < f.from) return false;
  if (f.to !== undefined && at > f.to) return false;
  if (f.envelope && e.envelope !== f.envelope) return false;
  if (f.authority) {
    const a = f.authority;
    const nodeOf = (n?: string) => (n ? n.slice(n.indexOf('/') + 1) : undefined);
    if (nodeOf(e.sender) !== a && nodeOf(e.node) !== a && !(e.recipients ?? []).includes(a)) return false;
  }
  return true;
}

function printRecordReport(r: RecordReport): void {
  out(
    `${r.node}: record of ${r.record.size} entries verified (${r.record.heads} signed heads), compared up to ${r.until}`,
  );
  out(
    `  ${r.matched.sent} sent and accepted, ${r.matched.received} received and delivered, ${r.matched.receipts} receipts matching a delivery`,
  );
  for (const id of r.sentNotAccepted) out(`  sent by the node, not accepted by the relay: ${id}`);
  for (const id of r.receivedNotDelivered) out(`  received by the node, no delivery to it in the log: ${id}`);
  for (const x of r.receiptWithoutDelivery)
    out(`  receipt from ${x.node} held by the node, no delivery to ${x.node} in the log: ${x.envelope}`);
  for (const id of r.acceptedNotSent)
    out(`  accepted by the relay in the node’s name, not in its record: ${id}`);
  for (const id of r.deliveredNotReceived)
    out(`  delivered to the node by the log, not in its record: ${id}`);
  for (const id of r.hashMismatch) out(`  ciphertext hash differs between the record and the log: ${id}`);
}

/** A file an auditor was handed (a proof, a node's record), parsed; INVALID_JSON when it cannot be. */
function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new EntraideError('INVALID_JSON', `${file} is not a readable JSON file`);
  }
}

export function auditCommands(program: Command, run: Run): void {
  const audit = program
    .command('audit')
    .description('for auditors: read and verify a relay’s audit log, without content');

  const client = async (relay?: string) => {
    const home = homeDir(program.opts<GlobalOptions>());
    await loadSodium();
    const creds = readAuditor(home, await passphrase(), relay);
    return new AuditorClient(creds, relay?.includes('://') ? relay : creds.relayUrl);
  };

  audit
    .command('keygen')
    .description('create this auditor’s key pair (kept under the passphrase) and pin the relay’s key')
    .requiredOption('--relay <url>', 'the relay’s URL')
    .option(
      '--relay-key <key>',
      'the relay’s public key or its fingerprint, from its operator (`entraide relay info`); required',
    )
    .requiredOption('--name <name>', 'the auditor’s name on that relay, e.g. alice')
    .action((o: { relay: string; relayKey?: string; name: string }) =>
      run(async () => {
        const home = homeDir(program.opts<GlobalOptions>());
        if (o.relayKey === undefined)
          throw new EntraideError(
            'USAGE',
            'give --relay-key: the relay’s key fingerprint, which its operator reads from `entraide relay info` and gives you by another channel than the relay itself',
          );
        const creds = await createAuditor(home, {
          name: o.name,
          relayUrl: o.relay,
          relayKey: o.relayKey,
          passphrase: await passphrase(true),
        });
        out(`Auditor ${creds.name} for ${creds.relayDomain} (relay key ${creds.relayKey}).`);
        out(`Public key: ${creds.publicKey}`);
        out('Give the public key to the relay operator, who runs:');
        out(`  entraide relay auditor add ${creds.name} --key ${creds.publicKey}`);
      }),
    );

  audit
    .command('log')
    .description('list the audit log’s entries (metadata only), optionally filtered')
    .option('--relay <url>', 'the relay’s URL (default: the one pinned at keygen)')
    .option('--from <time>', 'entries at or after this RFC 3339 time')
    .option('--to <time>', 'entries at or before this RFC 3339 time')
    .option('--authority <address>', 'entries that name this authority (sender, recipient or node)')
    .option('--envelope <id>', 'entries about this envelope')
    .option('--json', 'a JSON array of entries')
    .option('--csv', 'CSV, one row per entry')
    .action(
      (o: {
        relay?: string;
        from?: string;
        to?: string;
        authority?: string;
        envelope?: string;
        json?: boolean;
        csv?: boolean;
      }) =>
        run(async () => {
          const filter = {
            ...(o.from ? { from: parseTimestamp(o.from, '--from') } : {}),
            ...(o.to ? { to: parseTimestamp(o.to, '--to') } : {}),
            ...(o.authority ? { authority: o.authority } : {}),
            ...(o.envelope ? { envelope: o.envelope } : {}),
          };
          const c = await client(o.relay);
          const found: AuditEvent[] = [];
          if (o.csv) out(CSV_COLUMNS.join(','));
          for await (const e of c.events()) {
            if (!matches(e, filter)) continue;
            if (o.json) found.push(e);
            else if (o.csv) out(CSV_COLUMNS.map((k) => spreadsheetCell(e[k])).join(','));
            else out(line(e));
          }
          if (o.json) json(found);
        }),
    );

  audit
    .command('verify')
    .description(
      'check every signed head, their consistency, and every entry against them; prints the first bad index',
    )
    .option('--relay <url>', 'the relay’s URL (default: the one pinned at keygen)')
    .option(
      '--heads <file>',
      'also hold the relay to heads it showed someone else (another auditor’s --export-heads)',
    )
    .option('--export-heads <file>', 'write the heads checked, for another auditor to compare')
    .option('--json', 'machine-readable output')
    .action((o: { relay?: string; heads?: string; exportHeads?: string; json?: boolean }) =>
      run(async () => {
        const c = await client(o.relay);
        const home = homeDir(program.opts<GlobalOptions>());
        const keptFile = knownHeadsFile(home, c.creds.relayDomain);
        // Heads kept from earlier audits: a relay that rewrites its history afterwards is caught.
        const known = existsSync(keptFile) ? readHeads(readFileSync(keptFile, 'utf8'), keptFile) : [];
        if (o.heads) known.push(...readHeads(readFileSync(o.heads, 'utf8'), o.heads));
        const started = Date.now();
        const { seenHeads: checked, ...r } = await c.verify((done, total) => {
          if (!o.json) process.stderr.write(`  ${done} / ${total}\r`);
        }, known);
        const seconds = (Date.now() - started) / 1000;
        if (o.json) json({ ...r, seconds });
        if (r.problem) {
          throw new EntraideError(
            'PROOF_INVALID',
            `the audit log is not what the relay signed from index ${r.problem.index}: ${r.problem.message}`,
          );
        }
        const keep = distinctHeads(checked);
        writeFileSync(keptFile, JSON.stringify(keep, null, 2) + '\n');
        if (o.exportHeads) writeFileSync(o.exportHeads, JSON.stringify(keep, null, 2) + '\n');
        if (!o.json)
          out(
            `ok: ${r.size} entries, ${r.heads} signed heads, ${r.consistency} consistency proofs, in ${seconds.toFixed(1)} s`,
          );
      }),
    );

  audit
    .command('reconcile')
    .description(
      'what one relay says it forwarded to another against what that one says it received, both ways; and nodes’ own records against their relay’s log',
    )
    .requiredOption(
      '--relay <url...>',
      'the relays: two to reconcile forwarding (give --relay twice); the auditor needs an account on each',
    )
    .option(
      '--record <file...>',
      'a node’s record written by `entraide record export`, set against its relay’s log (repeatable)',
    )
    .option('--json', 'machine-readable output')
    .action((o: { relay: string[]; record?: string[]; json?: boolean }) =>
      run(async () => {
        const records = o.record ?? [];
        if (o.relay.length > 2 || (records.length === 0 && o.relay.length !== 2))
          throw new EntraideError(
            'USAGE',
            'give two relays (--relay A --relay B), or one or two relays with --record files',
          );
        const home = homeDir(program.opts<GlobalOptions>());
        await loadSodium();
        const secret = await passphrase();
        const clients = o.relay.map((r) => {
          const creds = readAuditor(home, secret, r);
          return new AuditorClient(creds, r.includes('://') ? r : creds.relayUrl);
        });
        const relays = clients.length === 2 ? await reconcile(clients[0]!, clients[1]!) : null;
        const nodes: RecordReport[] = [];
        for (const file of records) {
          const value = readJsonFile(file);
          const domain = recordRelay(value);
          const c = clients.find((x) => x.creds.relayDomain === domain);
          if (!c) {
            throw new EntraideError(
              'AUDITOR_MISSING',
              `${file} is the record of a node of ${domain || 'an unknown relay'}: give that relay with --relay`,
            );
          }
          nodes.push(await reconcileRecord(c, value));
        }
        if (o.json) json(relays ? { ...relays, nodes } : { nodes });
        const bad = relays?.logs.find((l) => l.problem);
        if (bad) {
          throw new EntraideError(
            'PROOF_INVALID',
            `the audit log of ${bad.relay} is not what it signed from index ${bad.problem!.index}: ${bad.problem!.message}`,
          );
        }
        const badLog = nodes.find((n) => n.log.problem);
        if (badLog) {
          throw new EntraideError(
            'PROOF_INVALID',
            `the audit log of ${badLog.log.relay} is not what it signed from index ${badLog.log.problem!.index}: ${badLog.log.problem!.message}`,
          );
        }
        const badRecord = nodes.find((n) => n.record.problem);
        if (badRecord) {
          throw new EntraideError(
            'PROOF_INVALID',
            `the record of ${badRecord.node} is not what it signed from index ${badRecord.record.problem!.index}: ${badRecord.record.problem!.message}`,
          );
        }
        if (!o.json && relays) {
          for (const l of relays.logs) out(`${l.relay}: ${l.size} entries, verified`);
          for (const x of relays.alarms) out(`  ${x.relay} holds an alarm on ${x.peer}: ${x.alarm}`);
          for (const d of relays.directions) {
            out(`${d.from} → ${d.to}: ${d.matched} forwarded and received`);
            for (const id of d.notReceived) out(`  forwarded by ${d.from}, not received by ${d.to}: ${id}`);
            for (const id of d.notForwarded)
              out(`  received by ${d.to}, not recorded as forwarded by ${d.from}: ${id}`);
          }
        }
        if (!o.json) for (const n of nodes) printRecordReport(n);
        const differences =
          (relays?.directions.reduce((n, d) => n + d.notReceived.length + d.notForwarded.length, 0) ?? 0) +
          nodes.reduce((n, r) => n + recordDifferences(r), 0);
        if (differences > 0) {
          throw new EntraideError(
            'RECONCILE_MISMATCH',
            `${differences} envelope(s) are recorded on one side only`,
          );
        }
      }),
    );

  audit
    .command('check <proof-file>')
    .description(
      'verify offline a file written by `audit proof --json`: the head’s signature and every inclusion proof',
    )
    .option('--relay-key <key>', 'the relay’s public key (default: the one pinned in this auditor’s folder)')
    .action((file: string, o: { relayKey?: string }) =>
      run(async () => {
        await loadSodium();
        const value = readJsonFile(file);
        const relay = (value as { head?: { relay?: string } }).head?.relay;
        const key =
          o.relayKey ??
          readAuditor(homeDir(program.opts<GlobalOptions>()), await passphrase(), relay).relayKey;
        const r = checkProofExport(value, fromBase64url(key, 'relay key', 32));
        out(
          `ok: ${r.events.length} event(s) proven in the audit log of ${r.head.relay} (size ${r.head.size}, ${r.head.timestamp})`,
        );
        for (const e of r.events) out(line(e));
      }),
    );

  audit
    .command('proof <envelope-id>')
    .description('an envelope’s events in the audit log, each with its inclusion proof (verified)')
    .option('--relay <url>', 'the relay’s URL (default: the one pinned at keygen)')
    .option('--json', 'the events, the signed head and the proofs, to verify offline later')
    .action((id: string, o: { relay?: string; json?: boolean }) =>
      run(async () => {
        const c = await client(o.relay);
        const p = await c.proof(id);
        if (o.json) return json(p);
        out(`Signed head: size ${p.head.size}, root ${p.head.root}, ${p.head.timestamp}`);
        for (const e of p.events) out(`${line(e.event)}  (proof verified, ${e.proof.length} hashes)`);
      }),
    );
}
