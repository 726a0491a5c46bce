/**
 * The keys of senders homed on a peer relay, so that this relay checks every forwarded envelope's
 * signature at its edge, as it does for its own nodes. The peer's directory answer is checked like a
 * node checks one: the head signed by the peer's pinned key, every event proven included under it,
 * the keys derived by the shared rules (a certificate the authority's master key did not sign, or a
 * revoked node, is never used). Answers are cached per authority until the peer's log grows.
 */
import { fromBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { replayAuthority, type AuthorityState } from '../../shared/keys/authority-state.ts';
import { verifyDirectoryEvents, collectDirectory } from '../../shared/keys/directory-entry.ts';
import { verifyTreeHead } from '../../shared/keys/tree-head.ts';
import type { PeerClient } from './peer-client.ts';
import type { Peer } from './peers.ts';
import { temporarily } from '../domain/forward-refusal.ts';

const CACHE_MS = 60_000;

export class RemoteKeys {
  private readonly cache = new Map<string, { state: AuthorityState; at: number }>();
  private readonly inflight = new Map<string, Promise<AuthorityState>>();

  constructor(private readonly client: PeerClient) {}

  private async fetch(peer: Peer, authority: string): Promise<AuthorityState> {
    const entry = await collectDirectory(
      (query) =>
        this.client.request<unknown>(
          peer,
          'GET',
          `/v1/federation/directory/${encodeURIComponent(authority)}${query}`,
        ),
      'directory answer',
    );
    // The same checks, and the same codes, as a node applies to its own relay's answer (client/trust.ts).
    if (entry.authority !== authority) {
      throw new EntraideError(
        'KEYLOG_INCONSISTENT',
        `${peer.domain} answered for ${entry.authority} when asked for ${authority}`,
      );
    }
    verifyTreeHead(entry.head, { log: 'key', relay: peer.domain, relayKey: peer.keyBytes });
    verifyDirectoryEvents(entry);
    const { state } = replayAuthority(entry.events);
    if (!state)
      throw new EntraideError(
        'UNKNOWN_SENDER',
        `${authority} has no valid enrolment in ${peer.domain}’s key log`,
      );
    this.cache.set(authority, { state, at: Date.now() });
    return state;
  }

  private state(peer: Peer, authority: string, fresh: boolean): Promise<AuthorityState> {
    const cached = this.cache.get(authority);
    if (cached && !fresh && Date.now() - cached.at < CACHE_MS) return Promise.resolve(cached.state);
    let p = this.inflight.get(authority);
    if (!p) {
      p = this.fetch(peer, authority).finally(() => this.inflight.delete(authority));
      this.inflight.set(authority, p);
    }
    return p;
  }

  /**
   * The authority's keys as the peer's key log proves them. Only a proven answer is a verdict (no
   * valid enrolment: UNKNOWN_SENDER); failing to read or check it (the peer unreachable, a token or
   * clock refused, an answer that does not verify) says nothing of the envelope waiting on it, and
   * is thrown as temporary (forward-refusal.ts): the peer forwards it again later.
   */
  private async verified(peer: Peer, authority: string, fresh: boolean): Promise<AuthorityState> {
    try {
      return await this.state(peer, authority, fresh);
    } catch (err) {
      if (err instanceof EntraideError && err.code === 'UNKNOWN_SENDER') throw err;
      throw temporarily(err);
    }
  }

  /** The identity key of a sending node homed on `peer`; reads the peer's directory again once if unknown. */
  async identityKey(peer: Peer, authority: string, node: string): Promise<Uint8Array> {
    let state = await this.verified(peer, authority, false);
    if (!state.nodes.has(node)) state = await this.verified(peer, authority, true);
    const n = state.nodes.get(node);
    if (!n)
      throw new EntraideError('UNKNOWN_SENDER', `${node} has no certificate in ${peer.domain}’s key log`);
    if (n.revoked) throw new EntraideError('UNKNOWN_SENDER', `${node} was revoked on ${n.revoked.revokedAt}`);
    return fromBase64url(n.identityKey, 'identityKey', 32);
  }
}
