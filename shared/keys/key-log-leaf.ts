/** Key-log leaves: their canonical bytes and Merkle leaf hash. */
import { toBase64url } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { sodium } from '../crypto/sodium.ts';
import { leafHash } from '../merkle/hash.ts';
import type { KeyEvent, KeyLogLeaf } from '../protocol/key-log.ts';
import { eventAuthority } from './authority-state.ts';

export function makeLeaf(event: KeyEvent, loggedAt: Date): KeyLogLeaf {
  return { v: 1, authority: eventAuthority(event), loggedAt: loggedAt.toISOString(), event };
}

export function leafBytes(leaf: KeyLogLeaf): Uint8Array {
  return canonicalBytes(leaf);
}

export function keyLogLeafHash(leaf: KeyLogLeaf): Uint8Array {
  return leafHash(leafBytes(leaf));
}

/** A stable identifier of an event's content (not of when it was logged), for deduplication. */
export function keyEventHash(event: KeyEvent): string {
  return toBase64url(sodium().crypto_hash_sha256(canonicalBytes(event)));
}
