/**
 * The relay's view of who is enrolled: an in-memory index of nodes (identity key, authority,
 * active or not) kept in step with the database, so that the envelope path never queries it.
 */
import { fromBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { DirectoryEntry, NodeCertificate } from '../../shared/protocol/schemas.ts';
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

  hasAuthority(address: string): boolean {
    return this.byAuthority.has(address);
  }

  /** The published entry: master key and the certificates of active nodes. */
  async entry(authority: string): Promise<DirectoryEntry> {
    const rec = await this.store.findAuthority(authority);
    if (!rec) throw new EntraideError('UNKNOWN_AUTHORITY', `${authority} is not enrolled on this relay`);
    return {
      authority: rec.address,
      masterKey: rec.masterKey,
      enrolledAt: rec.enrolledAt.toISOString(),
      nodes: rec.nodes
        .filter((n) => n.revokedAt === null)
        .map((n) => JSON.parse(n.certificate) as NodeCertificate),
    };
  }
}
