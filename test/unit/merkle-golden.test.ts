/**
 * Layer 1: golden constants of the RFC 9162 SHA-256 reference tree (tree.json: transparency-dev/merkle
 * testonly/constants.go and rfc6962/rfc6962_test.go, cross-checked with google/certificate-transparency).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { CompactRange } from '../../shared/merkle/compact-range.ts';
import { emptyRoot, HASH_SIZE, leafHash, nodeHash } from '../../shared/merkle/hash.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import { ReferenceTree } from '../support/merkle-reference.ts';
import { loadMerkleVectors } from '../support/merkle-vectors.ts';

const { tree: golden } = loadMerkleVectors();
const SOURCES = golden.sources.map((s) => `${s.repo} ${s.path}`).join('; ');

beforeAll(async () => {
  await loadSodium();
});

describe(`hasher known answers (tree.json: ${SOURCES})`, () => {
  it(`HASH_SIZE is ${HASH_SIZE}`, () => {
    expect(HASH_SIZE).toBe(32);
  });

  it.each(golden.hasherKats)('$op: $desc', (kat) => {
    const got =
      kat.op === 'emptyRoot'
        ? emptyRoot()
        : kat.op === 'leaf'
          ? leafHash(kat.input)
          : nodeHash(kat.left, kat.right);
    expect(toHex(got)).toBe(toHex(kat.want));
  });
});

describe(`the 8-leaf reference tree (tree.json: ${SOURCES})`, () => {
  const tree = () => MerkleTree.fromLeafHashes(golden.leaves.map((d) => leafHash(d)));

  it('has 8 leaves, every complete-subtree level, and roots for sizes 0..8', () => {
    expect(golden.leaves).toHaveLength(8);
    expect(golden.nodeHashesByLevel.map((l) => [l.level, l.hashes.length])).toEqual([
      [0, 8],
      [1, 4],
      [2, 2],
      [3, 1],
    ]);
    expect(golden.roots.map((r) => r.size)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each(golden.nodeHashesByLevel)(
    'MerkleTree.node gives every level-$level subtree hash',
    ({ level, hashes }) => {
      const t = tree();
      hashes.forEach((want, index) => expect(toHex(t.node({ level, index }))).toBe(toHex(want)));
    },
  );

  it.each(golden.roots)(
    'root of size $size: MerkleTree (now and historical), CompactRange, reference',
    ({ size, root }) => {
      const want = toHex(root);
      const prefix = MerkleTree.fromLeafHashes(golden.leaves.slice(0, size).map((d) => leafHash(d)));
      expect(toHex(prefix.root())).toBe(want);
      expect(toHex(tree().root(size))).toBe(want);
      const range = CompactRange.empty();
      for (const d of golden.leaves.slice(0, size)) range.append(leafHash(d));
      expect(toHex(range.root())).toBe(want);
      expect(toHex(new ReferenceTree(golden.leaves).mth(0, size))).toBe(want);
    },
  );

  it('the reference implementation gives every complete-subtree hash', () => {
    const ref = new ReferenceTree(golden.leaves);
    for (const { level, hashes } of golden.nodeHashesByLevel) {
      hashes.forEach((want, index) => {
        const width = 2 ** level;
        expect(toHex(ref.mth(index * width, (index + 1) * width))).toBe(toHex(want));
      });
    }
  });
});
