/** The officer's commands on an authority node: init, send, inbox, sent, read, status, listen, fingerprint. */
import type { Command } from 'commander';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { EntraideError } from '../../shared/errors.ts';
import { isInvitation, parseInvitation, type InvitationParts } from '../../shared/protocol/invitation.ts';
import { initNode } from '../init.ts';

import { AuthorityNode } from '../node.ts';
import { deskOf, homeDir, json, out, passphrase, shortTime, withNode, type GlobalOptions } from './io.ts';
import { downloadCommand, inboxCommand, readCommand, sendCommand, sentCommand } from './fast-commands.ts';
import { outcomeLine } from './format-messages.ts';
import { requestLine } from './format-requests.ts';
import { compareAdvice } from './unverified.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

/**
 * Where `init` enrols and which relay key it expects: the invitation's (its URL may be overridden
 * with --relay), or, for a bare code, --relay and --relay-key, both required.
 */
function enrolmentTarget(o: { invite: string; relay?: string; relayKey?: string }): InvitationParts {
  if (isInvitation(o.invite)) {
    const invitation = parseInvitation(o.invite);
    if (o.relayKey !== undefined)
      throw new EntraideError('USAGE', 'the invitation already names the relay’s key: leave --relay-key out');
    return { ...invitation, relayUrl: o.relay ?? invitation.relayUrl };
  }
  if (o.relay === undefined || o.relayKey === undefined)
    throw new EntraideError(
      'USAGE',
      `--invite is a bare code: give the whole invitation string that \`entraide relay invite\` printed (entraide:…), or the relay’s URL with --relay and its key with --relay-key (the fingerprint \`entraide relay info\` prints, from the relay operator by another channel than the code)`,
    );
  return { relayUrl: o.relay, relayKey: o.relayKey, code: o.invite.trim() };
}

export function nodeCommands(program: Command, run: Run): void {
  program
    .command('init')
    .description('create this node: keys, enrolment with the invitation from the relay operator')
    .requiredOption(
      '--invite <invitation>',
      'the invitation from `entraide relay invite` (entraide:<code>.<key fingerprint>@<relay URL>), or a bare code with --relay and --relay-key',
    )
    .option('--relay <url>', 'the relay’s URL (default: the invitation’s), e.g. https://relay.example')
    .option(
      '--relay-key <key>',
      'with a bare code: the relay’s public key or its fingerprint, from the relay operator',
    )
    .requiredOption('--authority <authority-id>', 'this authority’s id, e.g. sn.moj')
    .requiredOption('--node <name>', 'this node’s name, e.g. desk1')
    .action((o: { relay?: string; relayKey?: string; invite: string; authority: string; node: string }) =>
      run(async () => {
        const home = homeDir(program.opts<GlobalOptions>());
        const target = enrolmentTarget(o);
        const secret = await passphrase(true);
        const config = await initNode({
          home,
          relayUrl: target.relayUrl,
          relayKey: target.relayKey,
          invite: target.code,
          authorityId: o.authority,
          nodeName: o.node,
          passphrase: secret,
        });
        const node = await AuthorityNode.open(home, secret);
        const fp = await node.fingerprint().finally(() => node.close());
        out(`Node ${config.node} is enrolled on ${config.relay.domain}.`);
        out(
          `Relay:             ${config.relayUrl} (key fingerprint ${relayKeyFingerprint(config.relay.publicKey)})`,
        );
        out(`Authority address: ${config.authority}`);
        out(`Safety code:       ${fp.safetyCode}`);
        out('Counterparts compare this code with you out of band (telephone, in person).');
      }),
    );

  // Answered by the node's service while it runs (fast-commands.ts, shared with the served path).
  const desk = () => deskOf(program);
  sendCommand(program, run, desk);
  inboxCommand(program, run, desk);
  sentCommand(program, run, desk);
  readCommand(program, run, desk);
  downloadCommand(program, run, desk);

  program
    .command('status <id>')
    .description('delivery state of a message this authority sent, per recipient node')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          // An id prefix is resolved among this node's messages; a full id may also be one that
          // another node of this authority sent, so the relay is asked.
          const local = node.store.message(id);
          const full = local?.id ?? id;
          if (!local && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
            throw new EntraideError(
              'MESSAGE_NOT_FOUND',
              `no message ${id} on this node; give the full envelope id`,
            );
          }
          const s = await node.deliveryState(full);
          if (o.json) return json(s);
          out(`${s.id}  accepted ${shortTime(s.acceptedAt)}, expires ${shortTime(s.expiresAt)}`);
          for (const d of s.deliveries)
            out(`  ${d.state.padEnd(9)} ${d.node}${d.deliveredAt ? `  ${shortTime(d.deliveredAt)}` : ''}`);
          for (const f of s.forwards) {
            const when = f.forwardedAt ? `  ${shortTime(f.forwardedAt)}` : '';
            const why = f.state !== 'forwarded' && f.lastError ? `  (${f.lastError})` : '';
            out(`  ${f.state.padEnd(9)} relay ${f.peer}${when}${why}`);
          }
          for (const c of s.conflicts ?? [])
            out(
              `  ALARM     ${c.otherSender} sent another envelope under this id (met at ${c.relay}, ${shortTime(c.detectedAt)}); both are kept and delivered`,
            );
        }),
      ),
    );

  program
    .command('listen')
    .description('stay connected and print each message as it arrives (Ctrl-C to stop)')
    .option('--json', 'one JSON object per line')
    .action((o: { json?: boolean }) =>
      run(async () => {
        const home = homeDir(program.opts<GlobalOptions>());
        const node = await AuthorityNode.open(home, await passphrase());
        const emit = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n');
        // What the key log shows while listening (a forged event, a node made elsewhere...).
        node.onAlarm((a) =>
          o.json
            ? emit({ event: 'alarm', kind: a.kind, authority: a.authority, index: a.idx, message: a.message })
            : process.stderr.write(`key log ${a.kind}: ${a.message}\n`),
        );
        // Requests that need attention (overdue, due soon, silent counterparts): once the inbox is up
        // to date, then every hour (ENTRAIDE_REMINDER_MS).
        let reminded = false;
        const remind = () => {
          for (const r of node.requests.reminders()) {
            if (o.json) emit({ event: 'reminder', request: r });
            else out(`reminder: ${requestLine(r)}`);
          }
          // Meetings within the next day, each once (and again if it moves).
          for (const m of node.meetings.dueReminders()) {
            if (o.json) emit({ event: 'reminder', meeting: m });
            else
              out(
                `reminder: meeting ${m.uid.slice(0, 8)} "${m.title}" at ${m.local.start} (${m.local.tz}), ${m.conference.url}`,
              );
          }
        };
        const reminders = setInterval(remind, Number(process.env.ENTRAIDE_REMINDER_MS) || 3_600_000);
        reminders.unref();
        await node.listen({
          onReceive: (r) =>
            o.json
              ? emit(
                  r.kind === 'message'
                    ? { event: 'message', message: r.message, duplicate: r.duplicate }
                    : r.kind === 'receipts'
                      ? { event: 'receipts', envelope: r.envelopeId, count: r.count }
                      : { event: 'rejected', ...r.rejection },
                )
              : out(outcomeLine(r)),
          onDrained: (pending) => {
            if (o.json) emit({ event: 'drained', pending });
            else out(`listening as ${node.address} (inbox up to date)`);
            if (!reminded) remind();
            reminded = true;
          },
          onError: (e) => process.stderr.write(`entraide: ${e.message} [${e.code}]\n`),
          onDisconnect: (reason) => {
            if (reason === 'io client disconnect') return; // our own shutdown
            if (o.json) emit({ event: 'disconnected', reason });
            else process.stderr.write(`disconnected (${reason}); reconnecting…\n`);
          },
        });
        await new Promise<void>((resolveStop) => {
          const stop = () => resolveStop();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        clearInterval(reminders);
        await node.close();
      }),
    );

  program
    .command('fingerprint [authority-address]')
    .description('the safety code of this authority, or of a counterpart (pinned on first use)')
    .option('--json', 'machine-readable output')
    .action((authority: string | undefined, o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const fp = await node.fingerprint(authority);
          if (o.json) return json(fp);
          const own = !authority || fp.authority === node.authority;
          out(`${fp.authority}${own || fp.verifiedAt ? '' : ' (unverified)'}`);
          out(`  ${fp.safetyCode}`);
          if (!own) {
            out(
              fp.verifiedAt
                ? `  verified ${shortTime(fp.verifiedAt)}`
                : `  ${compareAdvice(fp.authority, fp.safetyCode)}`,
            );
          }
        }),
      ),
    );

  program
    .command('whoami')
    .description('this node’s address, authority, relay and the relay key’s fingerprint')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const fp = await node.fingerprint();
          const info = {
            node: node.address,
            authority: node.authority,
            relay: node.config.relayUrl,
            relayDomain: node.config.relay.domain,
            relayKeyFingerprint: relayKeyFingerprint(node.config.relay.publicKey),
            safetyCode: fp.safetyCode,
          };
          if (o.json) return json(info);
          out(`node:        ${info.node}`);
          out(`authority:   ${info.authority}`);
          out(`relay:       ${info.relay} (${info.relayDomain})`);
          out(`relay key:   ${info.relayKeyFingerprint} (fingerprint: \`node join --relay-key\` takes it)`);
          out(`safety code: ${info.safetyCode}`);
        }),
      ),
    );
}
