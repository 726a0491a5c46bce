/**
 * A directory answer's own proofs: every event it serves is the authority's, and is included in
 * the key log under the root of the answer's head. Whoever checks the answer also checks that head
 * (its signature, and for a node, that it matches the copy of the log the node verified).
 */
import { fromBase64url } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import { verifyInclusion } from '../merkle/verify-inclusion.ts';
import type { DirectoryEntry } from '../protocol/key-log.ts';
import { keyLogLeafHash } from './key-log-leaf.ts';
import { headRoot } from './tree-head.ts';

/** Throws KEYLOG_INCONSISTENT for another authority's event, PROOF_INVALID for a bad proof. */
export function verifyDirectoryEvents(entry: DirectoryEntry): void {
  const root = headRoot(entry.head);
  for (const e of entry.events) {
    if (e.leaf.authority !== entry.authority) {
      throw new EntraideError(
        'KEYLOG_INCONSISTENT',
        `the directory answer for ${entry.authority} includes an event of ${e.leaf.authority}`,
      );
    }
    verifyInclusion(
      keyLogLeafHash(e.leaf),
      e.index,
      entry.head.size,
      e.proof.map((p) => fromBase64url(p, 'proof', 32)),
      root,
    );
  }
}
