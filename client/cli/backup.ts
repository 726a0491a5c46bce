/**
 * The node's whole record in one file, and back:
 *   entraide backup --out FILE      keys, node.json, the database and the documents, sealed
 *   entraide restore --from FILE    into a new, empty node folder (--home)
 */
import type { Command } from 'commander';
import { backupNode, restoreNode } from '../node-backup.ts';
import { AuthorityNode } from '../node.ts';
import {
  homeDir,
  json,
  out,
  passphrase,
  restoringPassphrases,
  tellNotices,
  type GlobalOptions,
} from './io.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

export function backupCommands(program: Command, run: Run): void {
  program
    .command('backup')
    .description(
      'write this node’s whole record (keys, configuration, messages, requests, receipts, documents) to one file sealed under the passphrase',
    )
    .requiredOption('--out <file>', 'the backup file to create')
    .option('--json', 'machine-readable output')
    .action((o: { out: string; json?: boolean }) =>
      run(async () => {
        const secret = await passphrase();
        const node = await AuthorityNode.open(homeDir(program.opts<GlobalOptions>()), secret);
        tellNotices(node);
        try {
          const r = backupNode(node, o.out, secret);
          if (o.json) return json({ ...r, file: o.out });
          out(
            `Backup of ${r.node} written to ${o.out}: ${r.files} file(s), ${r.bytes} bytes${r.hasMasterKey ? ', with the authority master key' : ''}.`,
          );
          out('Keep it offline; anyone with the file and the passphrase holds this node’s keys and record.');
        } finally {
          await node.close();
        }
      }),
    );

  program
    .command('restore')
    .description('put a node back from an `entraide backup` file into a new, empty folder (--home)')
    .requiredOption('--from <file>', 'the file `entraide backup` wrote')
    .action((o: { from: string }) =>
      run(async () => {
        const home = homeDir(program.opts<GlobalOptions>());
        const r = await restoreNode({ home, file: o.from, ...(await restoringPassphrases()) });
        out(`Restored ${r.config.node} of ${r.config.authority} in ${home}, as it was at ${r.createdAt}.`);
      }),
    );
}
