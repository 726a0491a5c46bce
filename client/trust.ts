/**
 * Which node keys this node trusts for an authority: directory answers from the relay, checked
 * against the master key pinned on first use. A changed master key is never accepted silently.
 */
import { fromBase64url } from '../shared/bytes.ts';
import { verifyNodeCertificate } from '../shared/crypto/certificates.ts';
import { safetyCode } from '../shared/crypto/safety-code.ts';
import { EntraideError } from '../shared/errors.ts';
import { DirectoryEntry, type NodeCertificate } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import type { NodeStore } from './store/node-store.ts';

export interface TrustedAuthority {
  authority: string;
  masterKey: Uint8Array;
  safetyCode: string;
  /** Certificates that verify under the pinned master key, by node address. */
  nodes: Map<string, NodeCertificate>;
  /** Certificates the relay served that do not verify: never used, reported to the officer. */
  refused: { node: string; reason: string }[];
  fetchedAt: number;
}

const CACHE_MS = 60_000;

export class TrustStore {
  private readonly cache = new Map<string, TrustedAuthority>();

  constructor(
    private readonly store: NodeStore,
    private readonly fetchEntry: (authority: string) => Promise<unknown>,
  ) {}

  /** The authority's trusted nodes; fetched again when older than a minute or when `fresh` is set. */
  async authority(authority: string, fresh = false): Promise<TrustedAuthority> {
    const cached = this.cache.get(authority);
    if (cached && !fresh && Date.now() - cached.fetchedAt < CACHE_MS) return cached;
    const entry = check(DirectoryEntry, await this.fetchEntry(authority), 'directory entry');
    if (entry.authority !== authority) {
      throw new EntraideError(
        'CERTIFICATE_INVALID',
        `the relay answered for ${entry.authority} when asked for ${authority}`,
      );
    }
    const masterKey = fromBase64url(entry.masterKey, 'masterKey', 32);
    const code = safetyCode(authority, masterKey);
    const pin = await this.store.pin(authority);
    if (!pin) {
      await this.store.savePin({
        authority,
        masterKey: entry.masterKey,
        safetyCode: code,
        pinnedAt: new Date(),
      });
    } else if (pin.masterKey !== entry.masterKey) {
      throw new EntraideError(
        'KEY_CHANGED',
        `the master key of ${authority} changed: pinned safety code ${pin.safetyCode}, now ${code}. Nothing was sent or accepted`,
      );
    }
    const nodes = new Map<string, NodeCertificate>();
    const refused: { node: string; reason: string }[] = [];
    const now = new Date();
    for (const cert of entry.nodes) {
      try {
        verifyNodeCertificate(cert, authority, masterKey, now);
        nodes.set(cert.node, cert);
      } catch (err) {
        refused.push({ node: cert.node, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    const trusted = { authority, masterKey, safetyCode: code, nodes, refused, fetchedAt: Date.now() };
    this.cache.set(authority, trusted);
    return trusted;
  }

  /** The certificate of a sending node, fetching the directory again once if it is not known yet. */
  async senderCertificate(authority: string, node: string): Promise<NodeCertificate> {
    let trusted = await this.authority(authority);
    if (!trusted.nodes.has(node)) trusted = await this.authority(authority, true);
    const cert = trusted.nodes.get(node);
    if (!cert)
      throw new EntraideError(
        'CERTIFICATE_INVALID',
        `${node} has no valid certificate under the pinned key of ${authority}`,
      );
    return cert;
  }
}
