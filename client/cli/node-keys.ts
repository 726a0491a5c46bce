/**
 * Officers' commands for the authority's nodes:
 *   entraide node join | ticket | pending | approve | reject | list | revoke
 */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { completeJoin, requestToJoin } from '../join.ts';
import { approveJoin, listNodes, revoke } from '../key-manager.ts';
import { AuthorityNode } from '../node.ts';
import { issueJoinTicket, pendingJoins, rejectJoin } from '../join-tickets.ts';
import { parseAuthorityAddress, parseNodeAddress } from '../../shared/addresses.ts';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { homeDir, json, out, passphrase, shortTime, withNode, type GlobalOptions } from './io.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

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

export function nodeKeyCommands(program: Command, run: Run): void {
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
}
