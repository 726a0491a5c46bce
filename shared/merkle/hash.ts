/**
 * RFC 9162 §2.1 hashing with SHA-256: leaves and interior nodes are hashed under distinct
 * one-byte prefixes (0x00, 0x01) so that an interior node can never pass for a leaf's data.
 */
import { sodium } from '../crypto/sodium.ts';
import { EntraideError } from '../errors.ts';

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** MTH({}) = SHA-256(""), the root of the empty tree. */
export function emptyRoot(): Uint8Array {
  return sodium().crypto_hash_sha256(new Uint8Array(0));
}

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return sodium().crypto_hash_sha256(input);
}

/**
 * SHA-256(0x01 || left || right). It hashes whatever it is given (the RFC known answers use
 * children shorter than 32 bytes); callers that take hashes from outside check their size first.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sodium().crypto_hash_sha256(input);
}

/** Refuses anything but a HASH_SIZE-byte hash; `name` says which one in the message. */
export function requireHash(name: string, hash: Uint8Array): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    const got = hash instanceof Uint8Array ? `${hash.length} bytes` : typeof hash;
    throw new EntraideError('PROOF_INVALID', `${name} must be ${HASH_SIZE} bytes, got ${got}`);
  }
}

/** Byte equality of two hashes (public values: no need for constant time). */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
