/**
 * Officers' commands for this node's keys (the `node` commands are in node-keys.ts):
 *   entraide keys rotate | purge | export | import | passphrase | verify | history | check
 */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import {
  keyHistory,
  purgeKeys,
  rotateEncryptionKey,
  rotateMaster,
  rotationDays,
  verifySafetyCode,
} from '../key-manager.ts';
import { AuthorityNode } from '../node.ts';
import { exportKeys, importKeys } from '../restore.ts';
import {
  homeDir,
  json,
  newPassphrase,
  out,
  passphrase,
  restoringPassphrases,
  shortTime,
  tellNotices,
  withNode,
  type GlobalOptions,
} from './io.ts';
import { readConfig, writeConfig } from '../home.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

function parseDate(text: string, option: string): Date {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms))
    throw new EntraideError('USAGE', `${option} must be a date such as 2026-01-31, not "${text}"`);
  return new Date(ms);
}

export function keyCommands(program: Command, run: Run): void {
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
        tellNotices(node);
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
        const r = await importKeys({ home, file, ...(await restoringPassphrases()), asNode: o.asNode });
        out(`Restored ${r.config.node} of ${r.config.authority} in ${home}.`);
        if (r.restored === 'new-node') {
          out(`If ${r.from} was lost, revoke it now: entraide node revoke ${r.from.split('/')[0]}`);
        }
      }),
    );

  keys
    .command('passphrase')
    .description(
      'seal this node’s keys under a new passphrase (ENTRAIDE_NEW_PASSPHRASE, or asked twice; at least 12 characters)',
    )
    .action(() =>
      run(async () => {
        const node = await AuthorityNode.open(homeDir(program.opts<GlobalOptions>()), await passphrase());
        try {
          node.keystore.changePassphrase(await newPassphrase('choose the node’s new passphrase'));
          out('The node’s keys are sealed under the new passphrase; the old one no longer opens them.');
          out('Key backups made before keep the passphrase they were made with.');
        } finally {
          await node.close();
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
    .option(
      '--resolve',
      'after the relay operator explained an inconsistency or a split view: trust the relay’s log again',
    )
    .option('--relay <domain>', 'a peer relay’s key log, as this node verified it (default: its own relay’s)')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean; resolve?: boolean; relay?: string }) =>
      run(() =>
        withNode(program, async (node) => {
          const monitor =
            o.relay && o.relay !== node.config.relay.domain
              ? (await node.trust.relayView(o.relay)).monitor
              : node.monitor;
          if (o.resolve) {
            const n = await monitor.resolve();
            if (!o.json) out(`${n} inconsistency alarm(s) marked resolved; checking the log again…`);
          }
          let error: EntraideError | undefined;
          try {
            await monitor.sync();
          } catch (err) {
            // Only the log's own faults are a finding here; anything else (unreachable, revoked) is an error.
            if (
              !(err instanceof EntraideError) ||
              !['KEYLOG_INCONSISTENT', 'KEYLOG_SPLIT_VIEW', 'PROOF_INVALID'].includes(err.code)
            ) {
              throw err;
            }
            error = err;
          }
          const head = await monitor.head();
          const alarms = await node.store.alarms();
          if (o.json) {
            return json({
              consistent: !error,
              error: error ? { code: error.code, message: error.message } : null,
              head,
              alarms,
              // Both signed heads of each split view caught, and the node whose content carried the other.
              splitViews: await node.store.splitViews(),
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
