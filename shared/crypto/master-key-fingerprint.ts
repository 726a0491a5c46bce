/**
 * The fingerprint of an authority master key (AMK) that a v2 envelope names for each recipient
 * authority: BLAKE2b-128 keyed by a fixed context over the 32-byte key, base64url (22 characters).
 *
 * Why this shape: the recipient compares it with the fingerprint of its own authority's key, so
 * the only attack is a relay finding another key with the same fingerprint as one it does not
 * choose — a second preimage, 2^128 work. Collisions (2^64) would need the relay to pick both
 * keys, which it cannot. BLAKE2b keyed by a context, as encryption key ids are, keeps the value
 * apart from every other hash of the same key (safety codes, key ids) and needs nothing but
 * libsodium. It is short because it rides in every envelope header, once per recipient authority.
 */
import { fromBase64url, toBase64url, utf8 } from '../bytes.ts';
import { sodium } from './sodium.ts';

const CONTEXT = utf8('entraide/v1/master-key-fingerprint');

/** Precondition: `masterKey` is a 32-byte Ed25519 public key (raw or base64url). */
export function masterKeyFingerprint(masterKey: Uint8Array | string): string {
  const key = typeof masterKey === 'string' ? fromBase64url(masterKey, 'masterKey', 32) : masterKey;
  if (key.length !== 32) throw new RangeError(`a master key is 32 bytes, not ${key.length}`);
  return toBase64url(sodium().crypto_generichash(16, key, CONTEXT));
}
