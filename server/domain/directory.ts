/**
 * The relay's routing view of who is enrolled: an in-memory index of nodes (identity key,
 * authority, active or not) kept in step with the database, so that the envelope path never
 * queries it. What nodes trust comes from the key log (key-log.ts), not from here.
 */
import { fromBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { NodeRecord, RelayStore } from '../storage/relay-store.ts';

export interface KnownNode {
  address: string;
  authority: string;
  identityKey: Uint8Array;
  active: boolean;
}

export class Directory {
  private readonly nodes = new Map<string, KnownNode>();
  private readonly byAuthority = new Map<string, Set<string>>();

  constructor(private readonly store: RelayStore) {}

  async load(): Promise<void> {
    for (const n of await this.store.listNodes()) this.add(n);
  }

  add(n: Pick<NodeRecord, 'address' | 'authority' | 'identityKey' | 'revokedAt'>): void {
    this.nodes.set(n.address, {
      address: n.address,
      authority: n.authority,
      identityKey: fromBase64url(n.identityKey, 'identityKey', 32),
      active: n.revokedAt === null,
    });
    let set = this.byAuthority.get(n.authority);
    if (!set) this.byAuthority.set(n.authority, (set = new Set()));
    set.add(n.address);
  }

  node(address: string): KnownNode | undefined {
    return this.nodes.get(address);
  }

  activeNode(address: string): KnownNode | undefined {
    const n = this.nodes.get(address);
    return n && n.active ? n : undefined;
  }

  /**
   * The active node behind a session or login, or the refusal to give: NODE_REVOKED for a revoked
   * node (so that it stops retrying), `unknown` otherwise.
   */
  requireActive(address: string, unknown: () => EntraideError): KnownNode {
    const n = this.nodes.get(address);
    if (!n) throw unknown();
    if (!n.active) throw new EntraideError('NODE_REVOKED', `${address} was revoked by its authority`);
    return n;
  }

  hasAuthority(address: string): boolean {
    return this.byAuthority.has(address);
  }

  /** Marks a node revoked: it can no longer log in, send or receive. */
  revoke(address: string): void {
    const n = this.nodes.get(address);
    if (n) n.active = false;
  }
}
