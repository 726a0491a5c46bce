/** Verifying a consistency proof, RFC 9162 §2.1.4.2. */
import { toHex } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import { nodeHash, requireHash, sameHash } from './hash.ts';
import { consistencyPlan, requireCount } from './plan.ts';

/**
 * Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
 * with root `root1`: the log was only appended to. Returns nothing; throws PROOF_INVALID, with
 * the reason, on any failure.
 *
 * Preconditions (outside the RFC, as transparency-dev/merkle): 0 < size1 <= size2, safe
 * integers. A proof from the empty tree is refused even for 0 -> 0: it proves nothing. For
 * size1 == size2 only an empty proof and identical roots are accepted (the roots are then
 * compared as bytes, whatever their length, as the upstream vectors expect). Otherwise both
 * roots and every proof element are 32 bytes, and the proof has exactly the RFC's length.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: Uint8Array[],
): void {
  requireCount('size1', size1);
  requireCount('size2', size2);
  if (size1 > size2) {
    throw new EntraideError(
      'PROOF_INVALID',
      `size1 ${size1} is larger than size2 ${size2}: a log never shrinks`,
    );
  }
  if (size1 === 0)
    throw new EntraideError('PROOF_INVALID', 'consistency proof from an empty tree is meaningless');
  if (!Array.isArray(proof))
    throw new EntraideError('PROOF_INVALID', 'a consistency proof is a list of hashes');
  if (size1 === size2) {
    if (proof.length !== 0) {
      throw new EntraideError(
        'PROOF_INVALID',
        `a consistency proof between two trees of size ${size1} is empty, got ${proof.length} hashes`,
      );
    }
    if (!sameHash(root1, root2)) {
      throw new EntraideError('PROOF_INVALID', `two trees of the same size ${size1} have different roots`, {
        root1: toHex(root1),
        root2: toHex(root2),
      });
    }
    return;
  }
  requireHash('root1', root1);
  requireHash('root2', root2);
  proof.forEach((hash, i) => requireHash(`consistency proof element ${i}`, hash));
  const expected = consistencyPlan(size1, size2).length;
  if (proof.length !== expected) {
    throw new EntraideError(
      'PROOF_INVALID',
      `a consistency proof from size ${size1} to size ${size2} has ${expected} hashes, got ${proof.length}`,
    );
  }

  // The steps of RFC 9162 §2.1.4.2, with division for shifts (sizes may exceed 32 bits).
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0)
      throw new EntraideError('PROOF_INVALID', 'the consistency proof is longer than the path to the root');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new EntraideError('PROOF_INVALID', 'the consistency proof stops short of the root');
  // Step 7 compares both roots: a verifier that skips root1 accepts a forged history.
  if (!sameHash(fr, root1)) {
    throw new EntraideError(
      'PROOF_INVALID',
      `the consistency proof gives root ${toHex(fr)} for size ${size1}, not the expected ${toHex(root1)}`,
      { computed: toHex(fr), expected: toHex(root1) },
    );
  }
  if (!sameHash(sr, root2)) {
    throw new EntraideError(
      'PROOF_INVALID',
      `the consistency proof gives root ${toHex(sr)} for size ${size2}, not the expected ${toHex(root2)}`,
      { computed: toHex(sr), expected: toHex(root2) },
    );
  }
}

function isPowerOfTwo(n: number): boolean {
  if (n <= 0) return false;
  let m = n;
  while (m % 2 === 0) m /= 2;
  return m === 1;
}
