/**
 * Peer relays that rotated their key. When a peer's request or signed head does not verify under the
 * key pinned for it, the peer may have rolled its key over: this relay then asks the peer who it is
 * (GET /v1/relay, at the URL of its row and nowhere else; an unsigned public answer, since the
 * chain proves itself and an answer signed with the new key could not be checked before it is
 * known), verifies the chain of rollovers from the pinned key (shared/keys/relay-key-rollover.ts) and, when the chain leads to the key the peer shows,
 * pins that key in the peer's row. The caller then verifies again; without a valid chain its refusal
 * stands. A peer that answered is asked again only after FOLLOW_INTERVAL_MS, so that requests forged
 * in its name cannot make this relay call it at their pace; one question at a time per peer.
 */
import { EntraideError } from '../../shared/errors.ts';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { relayKeyTimeline, type RelayKeyTimeline } from '../../shared/keys/relay-key-rollover.ts';
import { RelayInfo } from '../../shared/protocol/schemas.ts';
import { check } from '../../shared/protocol/validate.ts';
import type { RelayStore } from '../storage/relay-store.ts';
import { peerUrl, type Peer, type PeerRegistry } from './peers.ts';
import { readCapped } from './read-capped.ts';

const FOLLOW_INTERVAL_MS = 10_000;
const ASK_TIMEOUT_MS = 10_000;
/** Far above an answer with the most rollovers a relay may show. */
const MAX_RELAY_INFO_BYTES = 256 * 1024;

/**
 * The peer's GET /v1/relay: its domain, key and rollovers, checked against the schema only (the
 * caller verifies the rollovers). Like every call to a peer: at its row's URL, no redirect followed,
 * a bounded answer; PEER_UNREACHABLE otherwise.
 */
export async function peerRelayInfo(peer: Peer, signal?: AbortSignal): Promise<RelayInfo> {
  const timeout = AbortSignal.timeout(ASK_TIMEOUT_MS);
  const unusable = (why: string) =>
    new EntraideError('PEER_UNREACHABLE', `peer relay ${peer.domain} ${why} when asked who it is`);
  let text: string | null;
  let status: number;
  try {
    const res = await fetch(new URL('/v1/relay', peerUrl(peer)), {
      headers: { accept: 'application/json' },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: 'manual',
    });
    status = res.status;
    text = await readCapped(res, MAX_RELAY_INFO_BYTES);
  } catch (err) {
    if (err instanceof EntraideError) throw err;
    throw unusable(`does not answer at ${peer.url}`);
  }
  if (status !== 200 || text === null) throw unusable(`answered with HTTP ${status}`);
  try {
    return check(RelayInfo, JSON.parse(text), 'relay identity');
  } catch {
    throw unusable('did not answer like an entraide relay');
  }
}

export interface FollowedPeer {
  /** The peer as pinned now (its new key, when it rotated). */
  peer: Peer;
  /** Every key of the peer, proven from the one pinned before: which one was current when. */
  keys: RelayKeyTimeline;
}

export class PeerKeyFollower {
  private readonly answered = new Map<string, { at: number; result: FollowedPeer | null }>();
  private readonly asking = new Map<string, Promise<FollowedPeer | null>>();

  constructor(
    private readonly store: RelayStore,
    private readonly peers: PeerRegistry,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /**
   * The peer's keys proven from the pinned one, its row updated when it shows a newer key; null when
   * it shows no valid chain from the pinned key (or another domain), or does not answer.
   */
  follow(peer: Peer, signal?: AbortSignal): Promise<FollowedPeer | null> {
    const last = this.answered.get(peer.domain);
    if (last && Date.now() - last.at < FOLLOW_INTERVAL_MS) return Promise.resolve(last.result);
    let pending = this.asking.get(peer.domain);
    if (!pending) {
      pending = this.ask(peer, signal).finally(() => this.asking.delete(peer.domain));
      this.asking.set(peer.domain, pending);
    }
    return pending;
  }

  private async ask(peer: Peer, signal?: AbortSignal): Promise<FollowedPeer | null> {
    let keys: RelayKeyTimeline;
    try {
      const info = await peerRelayInfo(peer, signal);
      if (info.domain !== peer.domain)
        throw new EntraideError('RELAY_MISMATCH', `it says it is ${info.domain}`);
      keys = relayKeyTimeline(peer.domain, peer.publicKey, info.publicKey, info.keyHistory);
    } catch (err) {
      // Not answering is no answer: asked again at the next failure. Anything else is one.
      if (!(err instanceof EntraideError && err.code === 'PEER_UNREACHABLE'))
        this.answered.set(peer.domain, { at: Date.now(), result: null });
      return null;
    }
    let result: FollowedPeer | null = { peer, keys };
    if (keys.current !== peer.publicKey) {
      await this.store.updatePeerKey(peer.domain, peer.publicKey, keys.current);
      await this.peers.load();
      const now = await this.peers.find(peer.domain);
      result = now && now.publicKey === keys.current ? { peer: now, keys } : null;
      if (result)
        this.log(
          `peer relay ${peer.domain} rotated its key, signed by the key pinned for it: now pinned, fingerprint ${relayKeyFingerprint(keys.current)}`,
        );
    }
    this.answered.set(peer.domain, { at: Date.now(), result });
    return result;
  }
}
