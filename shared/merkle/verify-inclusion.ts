/** Verifying an inclusion proof, RFC 9162 §2.1.3.2. */
import { toHex } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import { nodeHash, requireHash, sameHash } from './hash.ts';
import { inclusionPlan, requireCount } from './plan.ts';

/**
 * The root that `proof` gives for `leafHash` at `index` in a tree of `size` leaves.
 * Preconditions: 0 <= index < size (safe integers), a 32-byte leaf hash, 32-byte proof elements,
 * exactly as many as PATH(index, D[0:size]) has. Throws PROOF_INVALID otherwise.
 *
 * The leaf hash must come from data the caller holds (leafHash(data)), and `size` from a signed
 * tree head: the arithmetic alone cannot tell an interior node passed off as a leaf.
 */
export function rootFromInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
): Uint8Array {
  checkInclusionInputs(leafHash, index, size, proof);
  const root = computeRoot(leafHash, index, size, proof);
  return root === leafHash ? root.slice() : root; // a one-leaf tree: never hand back the caller's array
}

/**
 * Checks that `proof` shows `leafHash` at `index` in the tree of `size` leaves whose root is
 * `root` (32 bytes). Returns nothing; throws PROOF_INVALID, with the reason, on any failure.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
): void {
  checkInclusionInputs(leafHash, index, size, proof);
  requireHash('the root', root);
  const computed = computeRoot(leafHash, index, size, proof);
  if (!sameHash(computed, root)) {
    throw new EntraideError(
      'PROOF_INVALID',
      `the inclusion proof for index ${index} gives root ${toHex(computed)}, not the root ${toHex(root)} of the tree of size ${size}`,
      { computed: toHex(computed), expected: toHex(root) },
    );
  }
}

function checkInclusionInputs(leafHash: Uint8Array, index: number, size: number, proof: Uint8Array[]): void {
  requireCount('index', index);
  requireCount('size', size);
  if (index >= size)
    throw new EntraideError('PROOF_INVALID', `index ${index} is outside a tree of size ${size}`);
  requireHash('the leaf hash', leafHash);
  if (!Array.isArray(proof))
    throw new EntraideError('PROOF_INVALID', 'an inclusion proof is a list of hashes');
  proof.forEach((hash, i) => requireHash(`inclusion proof element ${i}`, hash));
  const expected = inclusionPlan(index, size).length;
  if (proof.length !== expected) {
    throw new EntraideError(
      'PROOF_INVALID',
      `an inclusion proof for index ${index} in a tree of size ${size} has ${expected} hashes, got ${proof.length}`,
    );
  }
}

function computeRoot(leafHash: Uint8Array, index: number, size: number, proof: Uint8Array[]): Uint8Array {
  // The steps of RFC 9162 §2.1.3.2, with division for shifts (sizes may exceed 32 bits).
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0)
      throw new EntraideError('PROOF_INVALID', 'the inclusion proof is longer than the path to the root');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new EntraideError('PROOF_INVALID', 'the inclusion proof stops short of the root');
  return r;
}
