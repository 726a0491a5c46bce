/**
 * The peer relays the operator configured (`entraide relay peer add`, through admin.ts). The operator's commands write
 * the database while the relay runs, so the registry reads it again every few seconds, and at once
 * when a request names a peer it does not know yet.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { fromBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { checkServiceUrl } from '../../shared/protocol/service-url.ts';
import type { PeerRecord, RelayStore } from '../storage/relay-store.ts';

export interface Peer extends PeerRecord {
  key: KeyObject;
  keyBytes: Uint8Array;
}

const REFRESH_MS = 2_000;

/**
 * Where to reach `peer`: its row's URL, as the one rule for relay URLs allows it. A row stored with
 * plain http:// to another machine (added before that was refused) stays a peer, whose own requests
 * still verify against its key, but is never contacted: INSECURE_URL, which the outbox records as
 * the peer's last error (`entraide relay peers`) until its operator adds it again with https://.
 */
export function peerUrl(peer: { domain: string; url: string }): string {
  return checkServiceUrl(peer.url, `the URL of peer relay ${peer.domain}`, 'RELAY_DATA_CORRUPT').href;
}

export class PeerRegistry {
  private peers = new Map<string, Peer>();
  private loadedAt = 0;

  constructor(private readonly store: RelayStore) {}

  async load(): Promise<void> {
    const next = new Map<string, Peer>();
    for (const p of await this.store.listPeers()) {
      next.set(p.domain, {
        ...p,
        keyBytes: fromBase64url(p.publicKey, 'peer key', 32),
        key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: p.publicKey }, format: 'jwk' }),
      });
    }
    this.peers = next;
    this.loadedAt = Date.now();
  }

  private async fresh(): Promise<void> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.load();
  }

  /** The peer, reading the configuration again if it is not known (yet). */
  async find(domain: string): Promise<Peer | undefined> {
    await this.fresh();
    if (!this.peers.has(domain)) await this.load();
    return this.peers.get(domain);
  }

  async require(domain: string): Promise<Peer> {
    const p = await this.find(domain);
    if (!p) throw new EntraideError('UNKNOWN_PEER', `${domain} is not a peer of this relay`);
    return p;
  }

  /** Known peers now (no database read): for the hot path, refreshed in the background. */
  cached(domain: string): Peer | undefined {
    if (Date.now() - this.loadedAt > REFRESH_MS) void this.load().catch(() => undefined);
    return this.peers.get(domain);
  }

  all(): Peer[] {
    return [...this.peers.values()];
  }
}
