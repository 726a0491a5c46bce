/**
 * The first entry of a relay's audit log that is not what the relay signed. A streaming check knows
 * only that the entries after the last head they matched miss the next head's root; this narrows the
 * span to one entry by bisection: for a prefix of m entries, the auditor hashes the root itself and
 * asks the relay for a consistency proof from m to the signed head. The proof verifies exactly when
 * those m entries are the first m entries the relay signed, so the first m for which it cannot be
 * proven names the entry that differs. A relay that answers wrongly can only hide where the
 * difference is, never the difference itself: the check has already failed.
 */
import { EntraideError } from '../../shared/errors.ts';
import { headRoot } from '../../shared/keys/tree-head.ts';
import type { CompactRange } from '../../shared/merkle/compact-range.ts';
import { verifyConsistency } from '../../shared/merkle/verify-consistency.ts';
import type { SignedTreeHead } from '../../shared/protocol/key-log.ts';

/** Leaf hashes kept for the span between two heads at most (32 bytes each: 64 MB). */
export const SPAN_MAX = 2_000_000;

export async function firstDifferingEntry(
  /** The relay's consistency proof between the trees of `from` and `to` entries. */
  consistency: (from: number, to: number) => Promise<Uint8Array[]>,
  mismatch: { head: SignedTreeHead; from: number; range: CompactRange },
  /** The leaf hashes of the entries from `mismatch.from` up to the head's size, in order. */
  span: Uint8Array[],
): Promise<number | null> {
  const { head, from } = mismatch;
  if (span.length !== head.size - from || head.size - from < 1) return null;
  const signed = headRoot(head);
  let lo = from;
  let loRange = mismatch.range;
  let hi = head.size;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const r = loRange.clone();
    for (let i = lo; i < mid; i++) r.append(span[i - from]!);
    let holds: boolean;
    try {
      verifyConsistency(mid, head.size, r.root(), signed, await consistency(mid, head.size));
      holds = true;
    } catch (err) {
      if (!(err instanceof EntraideError) || err.code !== 'PROOF_INVALID') throw err;
      holds = false;
    }
    if (holds) {
      lo = mid;
      loRange = r;
    } else hi = mid;
  }
  return hi - 1;
}
