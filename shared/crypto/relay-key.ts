/**
 * The relay's public key as people pass it on: in full (43 base64url characters, as `relay info`
 * prints it) or as its fingerprint, base64url(SHA-256(the 32 key bytes)), also 43 characters, which
 * anyone can recompute with standard tools. A node or an auditor never trusts the key a relay shows
 * at first contact over the network: it must match what the invitation or `--relay-key` names.
 */
import { fromBase64url, toBase64url } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import { sodium } from './sodium.ts';

const KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;

/** The fingerprint of a relay key given in base64url. Precondition: libsodium is loaded. */
export function relayKeyFingerprint(publicKey: string): string {
  return toBase64url(sodium().crypto_hash_sha256(fromBase64url(publicKey, 'relay key', 32)));
}

/** `value` if it can name a relay key (the key or its fingerprint); USAGE naming `what` otherwise. */
export function checkRelayKeyText(value: string, what: string): string {
  if (!KEY_TEXT.test(value))
    throw new EntraideError(
      'USAGE',
      `${what} must be the relay’s public key or its fingerprint (43 characters A-Z a-z 0-9 _ -)`,
    );
  return value;
}

/**
 * Throws RELAY_KEY_MISMATCH unless `shown` (the key the relay at `url` answered with) is `expected`
 * or has `expected` as its fingerprint. Precondition: libsodium is loaded.
 */
export function checkRelayKey(shown: string, expected: string, url: string): void {
  if (shown === expected || relayKeyFingerprint(shown) === expected) return;
  throw new EntraideError(
    'RELAY_KEY_MISMATCH',
    `the relay at ${url} shows the key with fingerprint ${relayKeyFingerprint(shown)}, not the one expected (${expected})`,
  );
}
