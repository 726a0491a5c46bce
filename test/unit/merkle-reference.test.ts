/**
 * Layer 3: the optimised code against the reference implementation written from RFC 9162 §2.1
 * (test/support/merkle-reference.ts, which hashes with Node's SHA-256, not libsodium). For every
 * tree size 1..300, every index and every first size: roots, inclusion proofs and consistency
 * proofs are identical, each proof verifies, and CompactRange agrees with MerkleTree.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { CompactRange } from '../../shared/merkle/compact-range.ts';
import { leafHash, sameHash } from '../../shared/merkle/hash.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import { verifyConsistency } from '../../shared/merkle/verify-consistency.ts';
import { verifyInclusion } from '../../shared/merkle/verify-inclusion.ts';
import { ReferenceTree } from '../support/merkle-reference.ts';

const MAX = 300;
/** Distinct entries of varied lengths (2..42 bytes): the index, then a pattern. */
const D = Array.from({ length: MAX }, (_, i) =>
  Uint8Array.from({ length: 2 + ((i * 7) % 41) }, (_, j) =>
    j === 0 ? i >> 8 : j === 1 ? i & 0xff : i * 31 + j * 17,
  ),
);

const sameList = (a: Uint8Array[], b: Uint8Array[]) =>
  a.length === b.length && a.every((h, i) => sameHash(h, b[i]!));

let ref: ReferenceTree;
let tree: MerkleTree;

beforeAll(async () => {
  await loadSodium();
  ref = new ReferenceTree(D);
  tree = MerkleTree.fromLeafHashes(D.map((d) => leafHash(d)));
});

describe('MerkleTree against the RFC 9162 reference, every size 1..300', () => {
  it('the entries are distinct (so that a wrong proof cannot pass by coincidence)', () => {
    expect(new Set(D.map(toHex)).size).toBe(MAX);
  });

  it('root(size) = MTH(D[0:size]) for every size 0..300, from one tree', () => {
    const wrong: number[] = [];
    for (let n = 0; n <= MAX; n++) if (!sameHash(tree.root(n), ref.mth(0, n))) wrong.push(n);
    expect(wrong).toEqual([]);
  });

  it('inclusionProof(m, n) = PATH(m, D[0:n]) and verifies, for every 0 <= m < n <= 300', () => {
    const wrong: string[] = [];
    let count = 0;
    for (let n = 1; n <= MAX; n++) {
      const root = ref.mth(0, n);
      for (let m = 0; m < n; m++) {
        const proof = tree.inclusionProof(m, n);
        if (!sameList(proof, ref.path(m, 0, n))) wrong.push(`PATH(${m}, D[0:${n}])`);
        verifyInclusion(ref.mth(m, m + 1), m, n, proof, root);
        count++;
      }
    }
    expect(wrong).toEqual([]);
    expect(count).toBe((MAX * (MAX + 1)) / 2);
  });

  it('consistencyProof(m, n) = PROOF(m, D[0:n]) and verifies, for every 0 < m <= n <= 300', () => {
    const wrong: string[] = [];
    let count = 0;
    for (let n = 1; n <= MAX; n++) {
      const root2 = ref.mth(0, n);
      for (let m = 1; m <= n; m++) {
        const proof = tree.consistencyProof(m, n);
        if (!sameList(proof, ref.proof(m, n))) wrong.push(`PROOF(${m}, D[0:${n}])`);
        verifyConsistency(m, n, ref.mth(0, m), root2, proof);
        count++;
      }
    }
    expect(wrong).toEqual([]);
    expect(count).toBe((MAX * (MAX + 1)) / 2);
  });

  it('a tree grown leaf by leaf answers like the full tree read at a historical size', () => {
    const growing = new MerkleTree();
    for (let n = 1; n <= 64; n++) {
      expect(growing.append(leafHash(D[n - 1]!))).toBe(n - 1);
      expect(growing.size).toBe(n);
      expect(toHex(growing.root())).toBe(toHex(tree.root(n)));
      for (let m = 0; m < n; m++)
        expect(sameList(growing.inclusionProof(m), tree.inclusionProof(m, n))).toBe(true);
      for (let m = 1; m <= n; m++)
        expect(sameList(growing.consistencyProof(m), tree.consistencyProof(m, n))).toBe(true);
    }
  });
});

describe('CompactRange against MerkleTree, every size 0..300', () => {
  it('root() equals MerkleTree.root(size) at every size, and holds one hash per set bit', () => {
    const range = CompactRange.empty();
    const wrong: number[] = [];
    for (let n = 0; n <= MAX; n++) {
      if (n > 0) range.append(leafHash(D[n - 1]!));
      expect(range.size).toBe(n);
      expect(range.hashes.length).toBe(n.toString(2).replace(/0/g, '').length);
      if (!sameHash(range.root(), tree.root(n))) wrong.push(n);
    }
    expect(wrong).toEqual([]);
  });

  it('its hashes are the perfect subtrees of [0, size), and from(size, hashes) restores it', () => {
    const range = CompactRange.empty();
    for (let n = 0; n <= MAX; n++) {
      if (n > 0) range.append(leafHash(D[n - 1]!));
      // The set bits of n, high to low, give the subtrees left to right.
      const expected: Uint8Array[] = [];
      let begin = 0;
      for (let width = 2 ** 9; width >= 1; width /= 2) {
        if (Math.floor(n / width) % 2 === 1) {
          expected.push(ref.mth(begin, begin + width));
          begin += width;
        }
      }
      expect(sameList(range.hashes, expected)).toBe(true);
      const restored = CompactRange.from(n, range.hashes);
      expect(toHex(restored.root())).toBe(toHex(range.root()));
    }
  });

  it('a restored or cloned range continues exactly like the original', () => {
    const original = CompactRange.empty();
    for (let n = 0; n < 150; n++) original.append(leafHash(D[n]!));
    const clone = original.clone();
    const restored = CompactRange.from(original.size, original.hashes);
    for (let n = 150; n < MAX; n++) {
      clone.append(leafHash(D[n]!));
      restored.append(leafHash(D[n]!));
    }
    expect(original.size).toBe(150);
    expect(toHex(original.root())).toBe(toHex(tree.root(150)));
    expect(toHex(clone.root())).toBe(toHex(tree.root(MAX)));
    expect(toHex(restored.root())).toBe(toHex(tree.root(MAX)));
  });
});
