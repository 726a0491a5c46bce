/**
 * Officers' commands for the authority's nodes and keys:
 *   entraide node join | ticket | pending | approve | reject | list | revoke
 *   entraide keys rotate | purge | export | import | verify | history | check
 */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { completeJoin, requestToJoin } from '../join.ts';
import {
  approveJoin,
  keyHistory,
  listNodes,
  purgeKeys,
  revoke,
  rotateEncryptionKey,
  rotateMaster,
  rotationDays,
  verifySafetyCode,
} from '../key-manager.ts';
import { AuthorityNode } from '../node.ts';
import { issueJoinTicket, pendingJoins, rejectJoin } from '../join-tickets.ts';
import { parseAuthorityAddress, parseNodeAddress } from '../../shared/addresses.ts';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { exportKeys, importKeys } from '../restore.ts';
import { homeDir, json, out, passphrase, shortTime, withNode, type GlobalOptions } from './io.ts';
import { readConfig, writeConfig } from '../home.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

function parseDate(text: string, option: string): Date {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms))
    throw new EntraideError('USAGE', `${option} must be a date such as 2026-01-31, not "${text}"`);
  return new Date(ms);
}

async function waitForApproval(node: AuthorityNode, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await completeJoin(node)).safetyCode;
    } catch (err) {
      if (!(err instanceof EntraideError && err.code === 'NOT_APPROVED') || Date.now() > end) throw err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function keyCommands(program: Command, run: Run): void {
  const nodes = program
    .command('node')
    .description('the nodes of this authority: join, approve, list, revoke');

  nodes
    .command('join')
    .description('create a new node of an enrolled authority; prints the join code to have it approved')
    .requiredOption('--relay <url>', 'the relay’s URL, e.g. https://relay.example')
    .option(
      '--relay-key <key>',
      'the relay key’s fingerprint, as `entraide whoami` prints it on a node of the authority (required)',
    )
    .requiredOption('--authority <authority-id>', 'the authority’s id, e.g. sn.moj')
    .requiredOption('--node <name>', 'this node’s name, e.g. desk2')
    .option(
      '--ticket <ticket>',
      'the join ticket an officer of the authority gave you (`entraide node ticket` on one of its nodes; required)',
    )
    .option('--no-wait', 'print the code and exit instead of waiting for the approval')
    .option('--wait-minutes <n>', 'how long to wait for the approval', '30')
    .action(
      (o: {
        relay: string;
        relayKey?: string;
        authority: string;
        node: string;
        ticket?: string;
        wait: boolean;
        waitMinutes: string;
      }) =>
        run(async () => {
          const home = homeDir(program.opts<GlobalOptions>());
          // A join has no invitation: the relay's key comes from the authority, by another channel.
          if (o.relayKey === undefined)
            throw new EntraideError(
              'USAGE',
              'give --relay-key: the relay key’s fingerprint, which `entraide whoami` prints on a node of this authority (or the relay operator’s `entraide relay info`); read it from there, not from the relay',
            );
          // Without a ticket from the authority the relay keeps no join request.
          if (o.ticket === undefined)
            throw new EntraideError(
              'USAGE',
              'give --ticket: an officer of the authority runs `entraide node ticket --for <node name>` on one of its nodes and gives you the ticket (it works once, for a day)',
            );
          const secret = await passphrase(true);
          const joined = await requestToJoin({
            home,
            relayUrl: o.relay,
            relayKey: o.relayKey,
            authorityId: o.authority,
            nodeName: o.node,
            ticket: o.ticket,
            passphrase: secret,
          });
          out(`Join code for ${joined.config.node}:`);
          out('');
          out(`    ${joined.code}`);
          out('');
          out(`An officer whose node holds the master key runs: entraide node approve ${joined.code}`);
          out(`The code expires ${shortTime(joined.expiresAt)}.`);
          if (!o.wait) return;
          out('Waiting for the approval (Ctrl-C to stop; any later command completes it)…');
          const node = await AuthorityNode.open(home, secret);
          try {
            const code = await waitForApproval(node, (Number(o.waitMinutes) || 30) * 60_000);
            out(`Approved. ${node.address} is ready.`);
            out(`Safety code of ${node.authority}: ${code}`);
            out('Compare it with the officer who approved this node.');
          } finally {
            await node.close();
          }
        }),
    );

  nodes
    .command('ticket')
    .description('a join ticket for a new node of this authority (works once, for a day)')
    .option('--for <node-name>', 'only for the node of this name, e.g. desk2')
    .option('--json', 'machine-readable output')
    .action((o: { for?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const t = await issueJoinTicket(node, o.for);
          const relayUrl = node.config.relayUrl;
          const relayKey = relayKeyFingerprint(node.config.relay.publicKey);
          if (o.json) return json({ ...t, relayUrl, relayKeyFingerprint: relayKey });
          const authorityId = parseAuthorityAddress(t.authority).authorityId;
          const name = t.node ? parseNodeAddress(t.node).nodeName : '<node-name>';
          out(
            `Join ticket for ${t.node ?? `a new node of ${t.authority}`}, valid until ${shortTime(t.expiresAt)}:`,
          );
          out('');
          out(`    ${t.ticket}`);
          out('');
          out('Give it to the officer of the new node, by a channel you trust. They run:');
          out(
            `  entraide node join --relay ${relayUrl} --relay-key ${relayKey} --authority ${authorityId} --node ${name} --ticket ${t.ticket}`,
          );
        }),
      ),
    );

  nodes
    .command('pending')
    .description('the join requests waiting for this authority’s approval')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const joins = await pendingJoins(node);
          if (o.json) return json(joins);
          if (joins.length === 0) return out('No join request waits.');
          for (const j of joins)
            out(`${j.code}  ${j.node}  since ${shortTime(j.createdAt)}, until ${shortTime(j.expiresAt)}`);
          out(
            'Approve with `entraide node approve <code>` once the new node’s officer read you the same code, or refuse with `entraide node reject <code>`.',
          );
        }),
      ),
    );

  nodes
    .command('reject <join-code>')
    .description('reject a join request waiting for this authority')
    .action((code: string) =>
      run(() =>
        withNode(program, async (node) => {
          out(`Rejected join request ${await rejectJoin(node, code)}.`);
        }),
      ),
    );

  nodes
    .command('approve <join-code...>')
    .description('certify a joining node with the authority master key (the code as shown, spaces allowed)')
    .option('--json', 'machine-readable output')
    .action((code: string[], o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await approveJoin(node, code.join(' '));
          if (o.json) return json(r);
          out(`${r.node} is certified (key log entry ${r.index}); it can now log in.`);
        }),
      ),
    );

  nodes
    .command('list')
    .description('this authority’s nodes, as the key log proves them')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const list = await listNodes(node);
          if (o.json) return json(list);
          for (const n of list) {
            const mark = n.thisNode ? '*' : ' ';
            // The key first, so that columns line up; a revocation's date and reason end the line.
            const state =
              n.state === 'revoked'
                ? `REVOKED ${shortTime(n.revokedAt)}${n.revokeReason ? ` (${n.revokeReason})` : ''}`
                : 'active';
            out(
              `${mark} ${n.node.padEnd(40)} key ${n.encryptionKeyId} until ${shortTime(n.encryptionKeyNotAfter)}  ${state}`,
            );
          }
          out('(* = this node)');
        }),
      ),
    );

  nodes
    .command('revoke <node>')
    .description('revoke a node of this authority (its name or full address) with the master key')
    .option('--reason <text>', 'why, e.g. "laptop lost"', '')
    .option('--json', 'machine-readable output')
    .action((target: string, o: { reason: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await revoke(node, target, o.reason);
          if (o.json) return json(r);
          out(
            `${r.node} is revoked (key log entry ${r.index}): it can no longer log in, and nothing more is encrypted to it.`,
          );
        }),
      ),
    );

  const keys = program.command('keys').description('this node’s keys, backups, and counterparts’ keys');

  keys
    .command('rotate')
    .description('make and publish a new encryption key now (or, with --master, a new authority master key)')
    .option('--master', 'rotate the authority master key (the old key signs the new one)')
    .option('--every <days>', 'set the automatic rotation period, in days (default 30), without rotating now')
    .option('--json', 'machine-readable output')
    .action((o: { master?: boolean; every?: string; json?: boolean }) =>
      run(async () => {
        if (o.every !== undefined) {
          const days = Number(o.every);
          if (!Number.isInteger(days) || days < 1 || days > 200) {
            throw new EntraideError('USAGE', '--every takes a whole number of days between 1 and 200');
          }
          const home = homeDir(program.opts<GlobalOptions>());
          const config = { ...readConfig(home), keyRotationDays: days };
          writeConfig(home, config);
          if (o.json) return json({ keyRotationDays: days });
          out(`This node rotates its encryption key every ${days} days.`);
          return;
        }
        await withNode(program, async (node) => {
          if (o.master) {
            const r = await rotateMaster(node);
            if (o.json) return json(r);
            out(`The master key of ${node.authority} was rotated; the old key signed the new one.`);
            out(`New safety code: ${r.safetyCode}`);
            out('Counterparts follow the rotation by themselves; tell them the new code to compare.');
            return;
          }
          const r = await rotateEncryptionKey(node);
          if (o.json) return json({ ...r, rotationDays: rotationDays(node) });
          out(
            `New encryption key ${r.keyId} for ${r.node}, valid until ${shortTime(r.notAfter)} (key log entry ${r.index}).`,
          );
          out('Older keys stay in the keystore to open stored mail; `entraide keys purge` destroys them.');
        });
      }),
    );

  keys
    .command('purge')
    .description('destroy the private encryption keys replaced before a date (the current key stays)')
    .requiredOption('--before <date>', 'e.g. 2026-01-31')
    .option('--json', 'machine-readable output')
    .action((o: { before: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = purgeKeys(node, parseDate(o.before, '--before'));
          if (o.json) return json(r);
          out(`${r.purged.length} key(s) destroyed; ${r.kept} kept.`);
        }),
      ),
    );

  keys
    .command('export')
    .description('write the master key and this node’s keys to a file encrypted under the passphrase')
    .requiredOption('--out <file>', 'the backup file to create')
    .action((o: { out: string }) =>
      run(async () => {
        const secret = await passphrase();
        const node = await AuthorityNode.open(homeDir(program.opts<GlobalOptions>()), secret);
        try {
          exportKeys(node, o.out, secret);
          out(
            `Backup written to ${o.out}${node.keys.masterSecretKey ? ' (with the authority master key)' : ''}.`,
          );
          out('Keep it offline; anyone with the file and the passphrase holds these keys.');
        } finally {
          await node.close();
        }
      }),
    );

  keys
    .command('import <file>')
    .description('restore a backup into a new node folder (--home)')
    .option(
      '--as-node <name>',
      'certify a new node of this name with the backup’s master key (the old node was lost)',
    )
    .action((file: string, o: { asNode?: string }) =>
      run(async () => {
        const home = homeDir(program.opts<GlobalOptions>());
        const r = await importKeys({ home, file, passphrase: await passphrase(), asNode: o.asNode });
        out(`Restored ${r.config.node} of ${r.config.authority} in ${home}.`);
        if (r.restored === 'new-node') {
          out(`If ${r.from} was lost, revoke it now: entraide node revoke ${r.from.split('/')[0]}`);
        }
      }),
    );

  keys
    .command('verify <authority-address> <code...>')
    .description('mark a counterpart verified after comparing its safety code out of band')
    .option('--json', 'machine-readable output')
    .action((authority: string, code: string[], o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await verifySafetyCode(node, authority, code.join(' '));
          if (o.json) return json(r);
          out(`${authority} is verified: the safety code matches.`);
        }),
      ),
    );

  keys
    .command('history <authority-address>')
    .description('every key event of an authority, each proven in the signed key log')
    .option('--json', 'machine-readable output')
    .action((authority: string, o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const h = await keyHistory(node, authority);
          if (o.json) return json(h);
          out(`${h.authority}  safety code ${h.safetyCode}${h.verifiedAt ? '  (verified)' : ''}`);
          out(
            `key log: size ${h.head.size}, signed ${shortTime(h.head.timestamp)}; every entry below is proven included`,
          );
          for (const e of h.events) {
            const flag = e.accepted ? 'ok     ' : 'REFUSED';
            out(`  #${String(e.index).padEnd(5)} ${shortTime(e.loggedAt)}  ${flag}  ${e.summary}`);
            if (!e.accepted) out(`          ${e.reason} [${e.code}]`);
          }
        }),
      ),
    );

  keys
    .command('check')
    .description('check the relay’s key log against what this node verified before, and list alarms')
    .option('--resolve', 'after the relay operator explained an inconsistency: trust the relay’s log again')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean; resolve?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          if (o.resolve) {
            const n = await node.monitor.resolve();
            if (!o.json) out(`${n} inconsistency alarm(s) marked resolved; checking the log again…`);
          }
          let error: EntraideError | undefined;
          try {
            await node.monitor.sync();
          } catch (err) {
            // Only the log's own faults are a finding here; anything else (unreachable, revoked) is an error.
            if (
              !(err instanceof EntraideError) ||
              !['KEYLOG_INCONSISTENT', 'PROOF_INVALID'].includes(err.code)
            ) {
              throw err;
            }
            error = err;
          }
          const head = await node.monitor.head();
          const alarms = await node.store.alarms();
          if (o.json) {
            return json({
              consistent: !error,
              error: error ? { code: error.code, message: error.message } : null,
              head,
              alarms,
            });
          }
          if (head) out(`key log verified up to size ${head.size} (signed ${shortTime(head.timestamp)})`);
          if (error) out(`NOT CONSISTENT: ${error.message} [${error.code}]`);
          if (alarms.length === 0) out('no alarms');
          for (const a of alarms) {
            const state = a.resolvedAt ? ` (resolved ${shortTime(a.resolvedAt.toISOString())})` : '';
            out(`  ${shortTime(a.raisedAt.toISOString())}  ${a.kind.padEnd(18)} ${a.message}${state}`);
          }
          if (error) process.exitCode = 1;
        }),
      ),
    );
}
