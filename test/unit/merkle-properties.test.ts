/**
 * Layer 4: properties over random trees (fast-check). Every proof MerkleTree builds verifies, and
 * every systematic corruption of a valid case is refused with PROOF_INVALID: a flipped bit in any
 * proof element, in the leaf hash or in either root; a wrong index; a wrong size (with the root
 * of that size, as a signed tree head binds them); a dropped or an added element; a hash cut to
 * 31 bytes. Entries start with their index, so no two leaves are equal and no corruption can
 * pass by a coincidence of equal leaves.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { CompactRange } from '../../shared/merkle/compact-range.ts';
import { HASH_SIZE, leafHash } from '../../shared/merkle/hash.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import { verifyConsistency } from '../../shared/merkle/verify-consistency.ts';
import { rootFromInclusion, verifyInclusion } from '../../shared/merkle/verify-inclusion.ts';
import { codeOf } from './fixtures.ts';

beforeAll(async () => {
  await loadSodium();
});

/** Entries of a random tree of 1..160 leaves: a 2-byte index, then 0..24 random bytes. */
const entries = fc
  .array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 160 })
  .map((tails) => tails.map((tail, i) => Uint8Array.of(i >> 8, i & 0xff, ...tail)));

/** A random tree, a size of it (1..tree size), and a fraction to pick positions with. */
const treeCase = fc.record({ entries, pick: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) });

const at = (fraction: number, n: number) => Math.floor(fraction * n); // 0..n-1

function flipBit(hash: Uint8Array, bit: number): Uint8Array {
  const copy = hash.slice();
  copy[Math.floor(bit / 8) % copy.length]! ^= 1 << (bit % 8);
  return copy;
}

const refused = (fn: () => void) => expect(codeOf(fn)).toBe('PROOF_INVALID');

describe('inclusion proofs of random trees', () => {
  const inclusionCase = fc
    .record({
      entries,
      sizeAt: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      indexAt: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      otherAt: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      bit: fc.nat({ max: HASH_SIZE * 8 - 1 }),
    })
    .map(({ entries: d, sizeAt, indexAt, otherAt, bit }) => {
      const tree = MerkleTree.fromLeafHashes(d.map((e) => leafHash(e)));
      const size = 1 + at(sizeAt, tree.size);
      const index = at(indexAt, size);
      return { tree, size, index, leaf: leafHash(d[index]!), otherAt, bit };
    });

  it('verify, and give back the root of their size', () => {
    fc.assert(
      fc.property(inclusionCase, ({ tree, size, index, leaf }) => {
        const proof = tree.inclusionProof(index, size);
        verifyInclusion(leaf, index, size, proof, tree.root(size));
        expect(rootFromInclusion(leaf, index, size, proof)).toEqual(tree.root(size));
      }),
    );
  });

  it('are refused with a bit flipped in any element, in the leaf hash or in the root', () => {
    fc.assert(
      fc.property(inclusionCase, ({ tree, size, index, leaf, otherAt, bit }) => {
        const proof = tree.inclusionProof(index, size);
        const root = tree.root(size);
        if (proof.length > 0) {
          const i = at(otherAt, proof.length);
          refused(() => verifyInclusion(leaf, index, size, proof.with(i, flipBit(proof[i]!, bit)), root));
        }
        refused(() => verifyInclusion(flipBit(leaf, bit), index, size, proof, root));
        refused(() => verifyInclusion(leaf, index, size, proof, flipBit(root, bit)));
      }),
    );
  });

  it('are refused for another index, or another size with that size’s root', () => {
    fc.assert(
      fc.property(inclusionCase, ({ tree, size, index, leaf, otherAt }) => {
        const proof = tree.inclusionProof(index, size);
        if (size > 1) {
          const other = (index + 1 + at(otherAt, size - 1)) % size; // any index but `index`
          refused(() => verifyInclusion(leaf, other, size, proof, tree.root(size)));
        }
        if (tree.size > 1) {
          let otherSize = 1 + at(otherAt, tree.size);
          if (otherSize === size) otherSize = size === tree.size ? size - 1 : size + 1;
          refused(() => verifyInclusion(leaf, index, otherSize, proof, tree.root(otherSize)));
        }
      }),
    );
  });

  it('are refused with an element dropped or added, or a hash cut to 31 bytes', () => {
    fc.assert(
      fc.property(inclusionCase, ({ tree, size, index, leaf, otherAt }) => {
        const proof = tree.inclusionProof(index, size);
        const root = tree.root(size);
        const i = at(otherAt, proof.length + 1); // a position from 0 to proof.length
        if (proof.length > 0) {
          const j = Math.min(i, proof.length - 1);
          refused(() => verifyInclusion(leaf, index, size, proof.toSpliced(j, 1), root));
          refused(() => verifyInclusion(leaf, index, size, proof.with(j, proof[j]!.subarray(0, 31)), root));
        }
        refused(() => verifyInclusion(leaf, index, size, proof.toSpliced(i, 0, root), root));
        refused(() => verifyInclusion(leaf.subarray(0, 31), index, size, proof, root));
        refused(() => verifyInclusion(leaf, index, size, proof, root.subarray(0, 31)));
      }),
    );
  });
});

describe('consistency proofs of random trees', () => {
  const consistencyCase = fc
    .record({
      entries,
      size1At: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      size2At: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      otherAt: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      bit: fc.nat({ max: HASH_SIZE * 8 - 1 }),
    })
    .map(({ entries: d, size1At, size2At, otherAt, bit }) => {
      const tree = MerkleTree.fromLeafHashes(d.map((e) => leafHash(e)));
      const size2 = 1 + at(size2At, tree.size);
      const size1 = 1 + at(size1At, size2);
      return { tree, size1, size2, otherAt, bit };
    });

  it('verify', () => {
    fc.assert(
      fc.property(consistencyCase, ({ tree, size1, size2 }) => {
        verifyConsistency(
          size1,
          size2,
          tree.root(size1),
          tree.root(size2),
          tree.consistencyProof(size1, size2),
        );
      }),
    );
  });

  it('are refused with a bit flipped in any element or in either root', () => {
    fc.assert(
      fc.property(consistencyCase, ({ tree, size1, size2, otherAt, bit }) => {
        const proof = tree.consistencyProof(size1, size2);
        const [root1, root2] = [tree.root(size1), tree.root(size2)];
        if (proof.length > 0) {
          const i = at(otherAt, proof.length);
          refused(() =>
            verifyConsistency(size1, size2, root1, root2, proof.with(i, flipBit(proof[i]!, bit))),
          );
        }
        refused(() => verifyConsistency(size1, size2, flipBit(root1, bit), root2, proof));
        refused(() => verifyConsistency(size1, size2, root1, flipBit(root2, bit), proof));
      }),
    );
  });

  it('are refused for another size1 or size2, each with that size’s root', () => {
    fc.assert(
      fc.property(consistencyCase, ({ tree, size1, size2, otherAt }) => {
        const proof = tree.consistencyProof(size1, size2);
        const [root1, root2] = [tree.root(size1), tree.root(size2)];
        if (size2 > 1) {
          const other1 = 1 + ((size1 + at(otherAt, size2 - 1)) % size2); // 1..size2, not size1
          refused(() => verifyConsistency(other1, size2, tree.root(other1), root2, proof));
        }
        if (tree.size > size1) {
          let other2 = size1 + at(otherAt, tree.size - size1 + 1); // size1..tree.size
          if (other2 === size2) other2 = size2 === tree.size ? size2 - 1 : size2 + 1;
          refused(() => verifyConsistency(size1, other2, root1, tree.root(other2), proof));
        }
      }),
    );
  });

  it('are refused with an element dropped or added, or a hash cut to 31 bytes', () => {
    fc.assert(
      fc.property(consistencyCase, ({ tree, size1, size2, otherAt }) => {
        const proof = tree.consistencyProof(size1, size2);
        const [root1, root2] = [tree.root(size1), tree.root(size2)];
        const i = at(otherAt, proof.length + 1);
        if (proof.length > 0) {
          const j = Math.min(i, proof.length - 1);
          refused(() => verifyConsistency(size1, size2, root1, root2, proof.toSpliced(j, 1)));
          refused(() =>
            verifyConsistency(size1, size2, root1, root2, proof.with(j, proof[j]!.subarray(0, 31))),
          );
        }
        refused(() => verifyConsistency(size1, size2, root1, root2, proof.toSpliced(i, 0, root2)));
        if (size1 < size2) {
          refused(() => verifyConsistency(size1, size2, root1.subarray(0, 31), root2, proof));
          refused(() => verifyConsistency(size1, size2, root1, root2.subarray(0, 31), proof));
        }
      }),
    );
  });
});

describe('CompactRange over random trees', () => {
  it('agrees with MerkleTree after any number of appends, and after a save and restore', () => {
    fc.assert(
      fc.property(treeCase, ({ entries: d, pick }) => {
        const tree = MerkleTree.fromLeafHashes(d.map((e) => leafHash(e)));
        const cut = at(pick, d.length + 1);
        const first = CompactRange.empty();
        for (const e of d.slice(0, cut)) first.append(leafHash(e));
        expect(first.root()).toEqual(tree.root(cut));
        const resumed = CompactRange.from(first.size, first.hashes);
        for (const e of d.slice(cut)) resumed.append(leafHash(e));
        expect(resumed.size).toBe(tree.size);
        expect(resumed.root()).toEqual(tree.root());
      }),
    );
  });
});
