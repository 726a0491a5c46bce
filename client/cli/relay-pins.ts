/**
 * `entraide relay pin` and `entraide relay pins`: on an authority node (--home), the keys of peer
 * relays as this node pinned them (client/peer-pins.ts). An officer pins a peer's key by hand from
 * what the peer's operator gave by another channel; that overrides a key pinned on first use.
 */
import type { Command } from 'commander';
import { checkRelayKeyText, relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { EntraideError } from '../../shared/errors.ts';
import { PEER_KEY_ALARMS } from '../peer-pins.ts';
import { peerKey, peerWord } from '../peer-view.ts';
import { json, out, shortTime, withNode } from './io.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

export function relayPinCommands(relay: Command, program: Command, run: Run): void {
  relay
    .command('pin <domain> [key]')
    .description(
      'on a node (--home): pin a peer relay’s key by hand, as its operator gave it by another channel (`entraide relay info` prints it); a fingerprint pins the key the home relay offers only if it matches',
    )
    .option('--fingerprint <fp>', 'the peer key’s fingerprint instead of the key itself')
    .option('--json', 'machine-readable output')
    .action((domain: string, key: string | undefined, o: { fingerprint?: string; json?: boolean }) =>
      run(async () => {
        if ((key === undefined) === (o.fingerprint === undefined))
          throw new EntraideError(
            'USAGE',
            'give the peer relay’s key, or its fingerprint with --fingerprint',
          );
        const given = checkRelayKeyText(key ?? o.fingerprint!, key ? 'KEY' : '--fingerprint');
        await withNode(program, async (node) => {
          const word = await peerWord(node.relay, domain, node.config.relay.domain);
          const offered = relayKeyFingerprint(word.served);
          // A fingerprint is as long as a key: one that names the offered key is taken as such.
          let pinned = given;
          if (o.fingerprint !== undefined || given === offered) {
            if (given !== offered) {
              throw new EntraideError(
                'RELAY_KEY_MISMATCH',
                `relay ${node.config.relay.domain} offers for ${domain} the key with fingerprint ${offered}, not ${given}: nothing was pinned. Ask ${domain}’s operator for the full key and pin it: entraide relay pin ${domain} KEY`,
              );
            }
            pinned = word.served;
          }
          const { pin, resolved, dropped } = await node.peerPins.pinByHand(domain, pinned);
          // The home relay's word is held to the new pin at once: a difference is an alarm.
          let alarm: EntraideError | undefined;
          try {
            await peerKey(node.relay, node.peerPins, node.config, domain);
          } catch (err) {
            if (!(err instanceof EntraideError) || err.code !== 'PEER_KEY_CHANGED') throw err;
            alarm = err;
            process.exitCode = 1;
          }
          if (o.json)
            return json({
              ...pin,
              resolvedAlarms: resolved,
              droppedLogCopy: dropped,
              alarm: alarm ? alarm.message : null,
            });
          out(`${domain}: key pinned by hand, fingerprint ${pin.fingerprint}`);
          if (resolved > 0) out(`${resolved} alarm(s) about ${domain}’s key marked resolved.`);
          if (dropped)
            out(
              `The copy of ${domain}’s key log held under the previous key (${dropped.entries} ${dropped.entries === 1 ? 'entry' : 'entries'}) was dropped: it will be read again from the start under the key pinned now.`,
            );
          if (alarm) process.stderr.write(`entraide: ALARM ${alarm.message} [${alarm.code}]\n`);
        });
      }),
    );

  relay
    .command('pins')
    .description(
      'on a node (--home): the peer relay keys this node pinned, with their source and fingerprint',
    )
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const pins = await node.peerPins.list();
          const alarms = (await node.store.alarms()).filter(
            (a) => !a.resolvedAt && (PEER_KEY_ALARMS as readonly string[]).includes(a.kind),
          );
          if (o.json) return json({ pins, alarms });
          if (pins.length === 0) out('no peer relay keys pinned yet');
          for (const p of pins) {
            const source = p.source === 'first-use' ? 'first use (as the home relay gave it)' : p.source;
            out(
              `${p.domain.padEnd(30)} ${p.fingerprint}  ${source}, pinned ${shortTime(p.pinnedAt.toISOString())}`,
            );
          }
          for (const a of alarms) out(`ALARM ${a.relay}: ${a.message}`);
        }),
      ),
    );
}
