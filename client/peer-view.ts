/**
 * Peer relays as this node sees them: the key its own relay's operator pinned for each peer (and the
 * keys the peer's signed rollovers lead to from it), and the node's own verified copy of that peer's
 * key log and directory, read through the home relay.
 */
import { collectDirectory } from '../shared/keys/directory-entry.ts';
import { EntraideError } from '../shared/errors.ts';
import { PeerList } from '../shared/protocol/federation.ts';
import { RelayInfo } from '../shared/protocol/schemas.ts';
import type { NodeConfig } from './home.ts';
import { KeyLogMonitor, type NewAlarm } from './key-log-monitor.ts';
import { RelayKeyRing } from './relay-keys.ts';
import type { NodeStore } from './store/node-store.ts';
import { Unchecked } from './transport/http.ts';
import type { RelayClient } from './transport/relay-client.ts';
import type { RelayView } from './trust.ts';

/** Builds the view of a peer relay, by domain; UNKNOWN_AUTHORITY when the home relay has no such peer. */
export function peerViews(
  relay: RelayClient,
  store: NodeStore,
  config: NodeConfig,
  raise: (a: NewAlarm) => void,
): (domain: string) => Promise<RelayView> {
  return async (domain) => {
    const { peers } = await relay.get(PeerList, '/v1/peers');
    const peer = peers.find((p) => p.domain === domain);
    if (!peer) {
      throw new EntraideError(
        'UNKNOWN_AUTHORITY',
        `relay ${domain} is not a peer of ${config.relay.domain}: its authorities cannot be reached from here`,
      );
    }
    const base = `/v1/relays/${encodeURIComponent(domain)}`;
    // The peer's rollovers (read through the home relay) are verified from the key pinned for it there.
    const keys = new RelayKeyRing(domain, peer.publicKey, () => relay.get(RelayInfo, `${base}/relay`));
    return {
      domain,
      keys,
      monitor: new KeyLogMonitor(
        store,
        (path) => relay.get(Unchecked, path.replace(/^\/v1\/keylog\//, `${base}/keylog/`)),
        { relay: domain, relayKeys: keys, authority: config.authority, node: config.node },
        raise,
      ),
      directory: (a) =>
        collectDirectory((q) => relay.get(Unchecked, `${base}/directory/${encodeURIComponent(a)}${q}`)),
    };
  };
}
