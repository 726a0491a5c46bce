/**
 * The name a request goes by in a network's statistics: BLAKE2b-256 of the request id, keyed with a
 * key derived from the network id. Both sides of a request (requesting and requested authority)
 * hold its id, so both exports carry the same value and a coordinator counts the request once; the
 * key differs per network, so exports made for two networks cannot be linked record by record.
 * The key is BLAKE2b-256 of the domain-separated network id (context `entraide/v1/stats-request`,
 * a zero byte, the id in UTF-8), so that no other hash in entraide can produce it.
 */
import { toBase64url, utf8 } from '../bytes.ts';
import { CONTEXTS, domainSeparated } from '../crypto/signing.ts';
import { sodium } from '../crypto/sodium.ts';

/** Bytes of the hash and of its key. */
const HASH_BYTES = 32;

/** The per-network key. Precondition: `network` is a network id (shared/meetings/names.ts). */
export function networkStatsKey(network: string): Uint8Array {
  return sodium().crypto_generichash(HASH_BYTES, domainSeparated(CONTEXTS.statsRequest, utf8(network)), null);
}

/** The request's hash in `network`'s statistics, base64url (43 characters). */
export function networkRequestHash(network: string, requestId: string): string {
  return toBase64url(sodium().crypto_generichash(HASH_BYTES, utf8(requestId), networkStatsKey(network)));
}
