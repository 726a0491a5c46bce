/**
 * Whether a tree head that another party saw can belong to the same append-only log as the copy
 * held here (the split-view check of gossiped key-log heads). Pure: the caller supplies its copy's
 * roots and, when this says one is needed, a consistency proof it fetched (RFC 9162 §2.1.4).
 */
import { fromBase64url } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import { sameHash } from '../merkle/hash.ts';
import { verifyConsistency } from '../merkle/verify-consistency.ts';
import type { TreeHeadBody } from '../protocol/key-log.ts';

/** The verified copy: its size, and its root at any size up to that. */
export interface LogCopy {
  size: number;
  rootAt(size: number): Uint8Array;
}

export type Agreement =
  | { verdict: 'agrees' }
  /** The other head is larger than the copy: a consistency proof `from` -> `to` decides. */
  | { verdict: 'needs-proof'; from: number; to: number }
  | { verdict: 'split'; why: string };

/**
 * A head no larger than the copy must have the copy's root at its size; a larger one must be
 * proven to extend the copy (`proof`, from `copy.size` to the head's size). An empty copy holds
 * nothing to compare with: it agrees with everything.
 */
export function headAgreement(copy: LogCopy, theirs: TreeHeadBody, proof?: readonly Uint8Array[]): Agreement {
  const known = copy.size;
  if (known === 0) return { verdict: 'agrees' };
  const root = fromBase64url(theirs.root, 'head.root', 32);
  if (theirs.size <= known) {
    if (sameHash(copy.rootAt(theirs.size), root)) return { verdict: 'agrees' };
    return {
      verdict: 'split',
      why:
        theirs.size === known
          ? `two different logs of size ${known}`
          : `the log of size ${theirs.size} is not a prefix of the one of size ${known} this node verified`,
    };
  }
  if (!proof) return { verdict: 'needs-proof', from: known, to: theirs.size };
  try {
    verifyConsistency(known, theirs.size, copy.rootAt(known), root, [...proof]);
    return { verdict: 'agrees' };
  } catch (err) {
    if (!(err instanceof EntraideError)) throw err;
    return {
      verdict: 'split',
      why: `the log of size ${theirs.size} does not extend the one of size ${known} this node verified (${err.message})`,
    };
  }
}
