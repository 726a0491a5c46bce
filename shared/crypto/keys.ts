/** Key generation and key identifiers. Seeds come from the caller's randomness. */
import { fromBase64url, toBase64url, utf8 } from '../bytes.ts';
import type { RandomBytes } from './random.ts';
import { sodium } from './sodium.ts';

export interface SigningKeyPair {
  publicKey: Uint8Array; // Ed25519, 32 bytes
  secretKey: Uint8Array; // Ed25519, 64 bytes (seed || public key)
}

export interface EncryptionKeyPair {
  publicKey: Uint8Array; // X25519, 32 bytes
  secretKey: Uint8Array; // X25519, 32 bytes
}

export function signingKeyPairFromSeed(seed: Uint8Array): SigningKeyPair {
  const kp = sodium().crypto_sign_seed_keypair(seed);
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

export function generateSigningKeyPair(random: RandomBytes): SigningKeyPair {
  return signingKeyPairFromSeed(random(32));
}

export function generateEncryptionKeyPair(random: RandomBytes): EncryptionKeyPair {
  const secretKey = random(32);
  return { publicKey: sodium().crypto_scalarmult_base(secretKey), secretKey };
}

/** A short stable identifier of an encryption key: BLAKE2b-128 of a context and the key, base64url. */
export function encryptionKeyId(publicKey: Uint8Array | string): string {
  const pk = typeof publicKey === 'string' ? fromBase64url(publicKey, 'encryptionKey', 32) : publicKey;
  return toBase64url(sodium().crypto_generichash(16, pk, utf8('entraide/v1/enc-key-id')));
}
