/**
 * Peer relays as this node sees them: the key this node pinned for each peer (peer-pins.ts: first
 * use, by hand, or from a verified coordinator's roster; never the home relay's word afresh), the
 * keys the peer's signed rollovers lead to from it, and the node's own verified copy of that peer's
 * key log and directory, read through the home relay.
 */
import { collectDirectory } from '../shared/keys/directory-entry.ts';
import { EntraideError } from '../shared/errors.ts';
import { PeerList } from '../shared/protocol/federation.ts';
import { RelayInfo } from '../shared/protocol/schemas.ts';
import type { NodeConfig } from './home.ts';
import { KeyLogMonitor, type NewAlarm } from './key-log-monitor.ts';
import type { PeerPins } from './peer-pins.ts';
import { RelayKeyRing } from './relay-keys.ts';
import type { NodeStore } from './store/node-store.ts';
import type { PeerRelayKeyRecord } from './store/peer-key-store.ts';
import { Unchecked } from './transport/http.ts';
import type { RelayClient } from './transport/relay-client.ts';
import type { RelayView } from './trust.ts';

/** The home relay's word on a peer: the key it gives, and the peer's own signed answer it passes on. */
export async function peerWord(relay: RelayClient, domain: string, home: string) {
  const { peers } = await relay.get(PeerList, '/v1/peers');
  const peer = peers.find((p) => p.domain === domain);
  if (!peer) {
    throw new EntraideError(
      'UNKNOWN_AUTHORITY',
      `relay ${domain} is not a peer of ${home}: its authorities cannot be reached from here`,
    );
  }
  return {
    served: peer.publicKey,
    info: () => relay.get(RelayInfo, `/v1/relays/${encodeURIComponent(domain)}/relay`),
  };
}

/** The key this node holds for a relay: its own relay's, or a peer's as pinned (pinned now on first use). */
export function relayKeyOf(
  relay: RelayClient,
  pins: PeerPins,
  config: NodeConfig,
): (domain: string) => Promise<string> {
  return async (domain) =>
    domain === config.relay.domain
      ? config.relay.publicKey
      : (await peerKey(relay, pins, config, domain)).publicKey;
}

/** The key pinned for a peer, pinning it now (first use, or a verified roster) if nothing did before. */
export async function peerKey(
  relay: RelayClient,
  pins: PeerPins,
  config: NodeConfig,
  domain: string,
): Promise<PeerRelayKeyRecord> {
  await pins.assertTrusted(domain);
  return pins.resolve(domain, await peerWord(relay, domain, config.relay.domain));
}

/** Builds the view of a peer relay, by domain; UNKNOWN_AUTHORITY when the home relay has no such peer. */
export function peerViews(
  relay: RelayClient,
  store: NodeStore,
  config: NodeConfig,
  raise: (a: NewAlarm) => void,
  pins: PeerPins,
): (domain: string) => Promise<RelayView> {
  return async (domain) => {
    await pins.assertTrusted(domain);
    const word = await peerWord(relay, domain, config.relay.domain);
    let pin = await pins.resolve(domain, word);
    const base = `/v1/relays/${encodeURIComponent(domain)}`;
    // The peer's rollovers (read through the home relay) are verified from the key pinned here.
    const keys = new RelayKeyRing(
      domain,
      pin.publicKey,
      word.info,
      async (_from, to) => {
        pin = await pins.follow(pin, to);
      },
      (err) => pins.refused(domain, err),
    );
    // Once an alarm about the peer's key is open, none of its answers is used.
    const read = async (path: string) => {
      await pins.assertTrusted(domain);
      return relay.get(Unchecked, path);
    };
    return {
      domain,
      keys,
      monitor: new KeyLogMonitor(
        store,
        (path) => read(path.replace(/^\/v1\/keylog\//, `${base}/keylog/`)),
        { relay: domain, relayKeys: keys, authority: config.authority, node: config.node },
        raise,
      ),
      directory: (a) => collectDirectory((q) => read(`${base}/directory/${encodeURIComponent(a)}${q}`)),
    };
  };
}
