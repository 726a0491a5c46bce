/**
 * Preconditions and their messages (each refusal is PROOF_INVALID with a precise reason), the
 * plans' shape, arithmetic beyond 32 bits up to 2^53 - 1, and what the arithmetic cannot check.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { ERROR_CODES } from '../../shared/errors.ts';
import { CompactRange } from '../../shared/merkle/compact-range.ts';
import { emptyRoot, leafHash, nodeHash } from '../../shared/merkle/hash.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import {
  buildProof,
  consistencyPlan,
  coveringNodes,
  foldRight,
  inclusionPlan,
  type NodeId,
} from '../../shared/merkle/plan.ts';
import { verifyConsistency } from '../../shared/merkle/verify-consistency.ts';
import { rootFromInclusion, verifyInclusion } from '../../shared/merkle/verify-inclusion.ts';
import { entraideErrorOf } from './fixtures.ts';

beforeAll(async () => {
  await loadSodium();
});

function refusal(fn: () => unknown): string {
  const err = entraideErrorOf(fn);
  expect(err.code).toBe('PROOF_INVALID');
  return err.message;
}

const h = (byte: number) => new Uint8Array(32).fill(byte);
const MAX = Number.MAX_SAFE_INTEGER;

describe('PROOF_INVALID', () => {
  it('is a 422 whose hint tells the node to keep the evidence', () => {
    expect(ERROR_CODES.PROOF_INVALID.status).toBe(422);
    expect(ERROR_CODES.PROOF_INVALID.hint).toMatch(/Keep the evidence and tell the relay operator/);
  });
});

describe('plans', () => {
  it.each([-1, 1.5, NaN, Infinity, 2 ** 53, Number(2n ** 64n - 1n)])(
    'refuse %s as an index or a size',
    (bad) => {
      expect(refusal(() => inclusionPlan(bad, 10))).toBe(
        `index must be a safe non-negative integer, got ${bad}`,
      );
      expect(refusal(() => inclusionPlan(0, bad))).toBe(
        `size must be a safe non-negative integer, got ${bad}`,
      );
      expect(refusal(() => consistencyPlan(bad, 10))).toBe(
        `size1 must be a safe non-negative integer, got ${bad}`,
      );
      expect(refusal(() => consistencyPlan(1, bad))).toBe(
        `size2 must be a safe non-negative integer, got ${bad}`,
      );
    },
  );

  it('refuse an index outside the tree, a shrinking log and a proof from the empty tree', () => {
    expect(refusal(() => inclusionPlan(5, 5))).toBe('index 5 is outside a tree of size 5');
    expect(refusal(() => inclusionPlan(0, 0))).toBe('index 0 is outside a tree of size 0');
    expect(refusal(() => consistencyPlan(4, 3))).toBe('size1 4 is larger than size2 3: a log never shrinks');
    expect(refusal(() => consistencyPlan(0, 3))).toBe('consistency proof from an empty tree is meaningless');
    expect(refusal(() => consistencyPlan(0, 0))).toBe('consistency proof from an empty tree is meaningless');
  });

  it('name the subtrees of each element: one stored node, or several on the right edge', () => {
    // Size 7: leaf 1's path is leaf 0, node [2, 4), then [4, 7) = fold of [4, 6) and leaf 6.
    expect(inclusionPlan(1, 7)).toEqual([
      [{ level: 0, index: 0 }],
      [{ level: 1, index: 1 }],
      [
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
    ]);
    expect(inclusionPlan(6, 7)).toEqual([[{ level: 1, index: 2 }], [{ level: 2, index: 0 }]]);
    expect(inclusionPlan(0, 1)).toEqual([]);
    // 6 -> 8: [4, 6) (not root1), then [6, 8), then [0, 4).
    expect(consistencyPlan(6, 8)).toEqual([
      [{ level: 1, index: 2 }],
      [{ level: 1, index: 3 }],
      [{ level: 2, index: 0 }],
    ]);
    // 4 -> 7: root1 is [0, 4) itself and is not sent; [4, 7) is a fold.
    expect(consistencyPlan(4, 7)).toEqual([
      [
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
    ]);
    expect(consistencyPlan(5, 5)).toEqual([]);
  });

  it('coveringNodes splits a subtree range into perfect subtrees, largest first, and refuses others', () => {
    expect(coveringNodes(0, 0)).toEqual([]);
    expect(coveringNodes(0, 13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(coveringNodes(8, 11)).toEqual([
      { level: 1, index: 4 },
      { level: 0, index: 10 },
    ]);
    expect(refusal(() => coveringNodes(6, 9))).toBe(
      'range [6, 9) is not a subtree: 6 is not a multiple of 4',
    );
    expect(refusal(() => coveringNodes(3, 2))).toBe('range [3, 2) ends before it begins');
  });

  it('foldRight hashes right to left; buildProof checks what storage returns', () => {
    const [a, b, c] = [h(1), h(2), h(3)];
    expect(foldRight([a])).toBe(a);
    expect(toHex(foldRight([a, b, c]))).toBe(toHex(nodeHash(a, nodeHash(b, c))));
    expect(refusal(() => foldRight([]))).toBe('there is nothing to fold: no hashes');
    const plan: NodeId[][] = [
      [{ level: 0, index: 0 }],
      [
        { level: 1, index: 1 },
        { level: 0, index: 4 },
      ],
    ];
    const got = buildProof(plan, (id) => h(id.level * 10 + id.index));
    expect(got.map(toHex)).toEqual([toHex(h(0)), toHex(nodeHash(h(11), h(4)))]);
    expect(refusal(() => buildProof(plan, () => new Uint8Array(31)))).toBe(
      'stored node (level 0, index 0) must be 32 bytes, got 31 bytes',
    );
  });
});

describe('verifyInclusion preconditions', () => {
  const tree = MerkleTree.fromLeafHashes([]);
  beforeAll(() => {
    for (let i = 0; i < 5; i++) tree.append(leafHash(Uint8Array.of(i)));
  });

  it('refuses with a message naming the fault', () => {
    const leaf = () => tree.node({ level: 0, index: 1 });
    const proof = () => tree.inclusionProof(1, 5);
    const root = () => tree.root(5);
    verifyInclusion(leaf(), 1, 5, proof(), root());
    expect(refusal(() => verifyInclusion(leaf(), 5, 5, proof(), root()))).toBe(
      'index 5 is outside a tree of size 5',
    );
    expect(refusal(() => verifyInclusion(leaf(), -1, 5, proof(), root()))).toBe(
      'index must be a safe non-negative integer, got -1',
    );
    expect(refusal(() => verifyInclusion(new Uint8Array(33), 1, 5, proof(), root()))).toBe(
      'the leaf hash must be 32 bytes, got 33 bytes',
    );
    expect(refusal(() => verifyInclusion(leaf(), 1, 5, proof(), new Uint8Array(0)))).toBe(
      'the root must be 32 bytes, got 0 bytes',
    );
    expect(
      refusal(() => verifyInclusion(leaf(), 1, 5, [proof()[0]!, new Uint8Array(31), proof()[2]!], root())),
    ).toBe('inclusion proof element 1 must be 32 bytes, got 31 bytes');
    expect(refusal(() => verifyInclusion(leaf(), 1, 5, proof().slice(1), root()))).toBe(
      'an inclusion proof for index 1 in a tree of size 5 has 3 hashes, got 2',
    );
    const wrongRoot = tree.root(4);
    expect(refusal(() => verifyInclusion(leaf(), 1, 5, proof(), wrongRoot))).toBe(
      `the inclusion proof for index 1 gives root ${toHex(root())}, not the root ${toHex(wrongRoot)} of the tree of size 5`,
    );
    expect(entraideErrorOf(() => verifyInclusion(leaf(), 1, 5, proof(), wrongRoot)).details).toEqual({
      computed: toHex(root()),
      expected: toHex(wrongRoot),
    });
  });

  it('rootFromInclusion never hands back the caller’s own array', () => {
    const leaf = h(7);
    const root = rootFromInclusion(leaf, 0, 1, []);
    expect(root).toEqual(leaf);
    expect(root).not.toBe(leaf);
  });

  it('cannot tell which size a root belongs to: sizes must come from a signed tree head', () => {
    // PATH(0, D[0:3]) = [leaf 1, leaf 2] is also a well-formed PATH(0, D[0:4]) (leaf 2 standing
    // for [2, 4)), and the RFC arithmetic then rebuilds the root of size 3.
    verifyInclusion(tree.node({ level: 0, index: 0 }), 0, 4, tree.inclusionProof(0, 3), tree.root(3));
    // Against the root of size 4, as a signed head would bind it, the proof is refused.
    refusal(() =>
      verifyInclusion(tree.node({ level: 0, index: 0 }), 0, 4, tree.inclusionProof(0, 3), tree.root(4)),
    );
  });
});

describe('verifyConsistency preconditions', () => {
  const tree = new MerkleTree();
  beforeAll(() => {
    for (let i = 0; i < 8; i++) tree.append(leafHash(Uint8Array.of(i)));
  });

  it('refuses with a message naming the fault', () => {
    const [r3, r8] = [tree.root(3), tree.root(8)];
    const proof = () => tree.consistencyProof(3, 8);
    verifyConsistency(3, 8, r3, r8, proof());
    expect(refusal(() => verifyConsistency(9, 8, r3, r8, proof()))).toBe(
      'size1 9 is larger than size2 8: a log never shrinks',
    );
    expect(refusal(() => verifyConsistency(0, 8, r3, r8, proof()))).toBe(
      'consistency proof from an empty tree is meaningless',
    );
    expect(refusal(() => verifyConsistency(0, 0, emptyRoot(), emptyRoot(), []))).toBe(
      'consistency proof from an empty tree is meaningless',
    );
    expect(refusal(() => verifyConsistency(3, 3, r3, r3, [r3]))).toBe(
      'a consistency proof between two trees of size 3 is empty, got 1 hashes',
    );
    expect(refusal(() => verifyConsistency(3, 3, r3, r8, []))).toBe(
      'two trees of the same size 3 have different roots',
    );
    expect(refusal(() => verifyConsistency(3, 8, r3.subarray(1), r8, proof()))).toBe(
      'root1 must be 32 bytes, got 31 bytes',
    );
    expect(refusal(() => verifyConsistency(3, 8, r3, new Uint8Array(64), proof()))).toBe(
      'root2 must be 32 bytes, got 64 bytes',
    );
    expect(refusal(() => verifyConsistency(3, 8, r3, r8, [...proof(), new Uint8Array(1)]))).toBe(
      'consistency proof element 4 must be 32 bytes, got 1 bytes',
    );
    expect(refusal(() => verifyConsistency(3, 8, r3, r8, proof().slice(0, 3)))).toBe(
      'a consistency proof from size 3 to size 8 has 4 hashes, got 3',
    );
    const wrong1 = tree.root(2);
    expect(refusal(() => verifyConsistency(3, 8, wrong1, r8, proof()))).toBe(
      `the consistency proof gives root ${toHex(r3)} for size 3, not the expected ${toHex(wrong1)}`,
    );
    const wrong2 = tree.root(7);
    expect(refusal(() => verifyConsistency(3, 8, r3, wrong2, proof()))).toBe(
      `the consistency proof gives root ${toHex(r8)} for size 8, not the expected ${toHex(wrong2)}`,
    );
  });

  it('accepts equal sizes with an empty proof and identical roots', () => {
    verifyConsistency(8, 8, tree.root(8), tree.root(8), []);
  });
});

describe('CompactRange and MerkleTree preconditions', () => {
  it('CompactRange.from wants one 32-byte hash per set bit of the size', () => {
    expect(refusal(() => CompactRange.from(5, [h(1)]))).toBe(
      'a compact range of size 5 has 2 hashes (one per set bit), got 1',
    );
    expect(refusal(() => CompactRange.from(2, [new Uint8Array(31)]))).toBe(
      'compact range hash 0 must be 32 bytes, got 31 bytes',
    );
    expect(refusal(() => CompactRange.from(-1, []))).toBe('size must be a safe non-negative integer, got -1');
    expect(CompactRange.from(0, []).root()).toEqual(emptyRoot());
    expect(CompactRange.empty().hashes).toEqual([]);
  });

  it('CompactRange copies in and out: changing a saved hash changes nothing', () => {
    const range = CompactRange.empty();
    range.append(h(1));
    const before = toHex(range.root());
    range.hashes[0]![0] = 0xff;
    const given = [h(9)];
    const restored = CompactRange.from(1, given);
    given[0]![0] = 0;
    expect(toHex(range.root())).toBe(before);
    expect(toHex(restored.root())).toBe(toHex(h(9)));
    expect(refusal(() => range.append(new Uint8Array(0)))).toBe(
      'the leaf hash must be 32 bytes, got 0 bytes',
    );
  });

  it('MerkleTree refuses sizes beyond it, incomplete nodes and malformed leaves', () => {
    const tree = MerkleTree.fromLeafHashes([h(1), h(2), h(3)]);
    expect(tree.size).toBe(3);
    expect(tree.root(0)).toEqual(emptyRoot());
    expect(refusal(() => tree.root(4))).toBe('size 4 is beyond the tree, which has 3 leaves');
    expect(refusal(() => tree.inclusionProof(0, 4))).toBe('size 4 is beyond the tree, which has 3 leaves');
    expect(refusal(() => tree.inclusionProof(3))).toBe('index 3 is outside a tree of size 3');
    expect(refusal(() => tree.consistencyProof(1, 4))).toBe('size2 4 is beyond the tree, which has 3 leaves');
    expect(refusal(() => tree.consistencyProof(0))).toBe(
      'consistency proof from an empty tree is meaningless',
    );
    expect(refusal(() => tree.node({ level: 1, index: 1 }))).toBe(
      'node (level 1, index 1) is not a complete subtree of a tree of size 3',
    );
    expect(refusal(() => tree.node({ level: 5, index: 0 }))).toBe(
      'node (level 5, index 0) is not a complete subtree of a tree of size 3',
    );
    expect(refusal(() => tree.append(new Uint8Array(31)))).toBe(
      'the leaf hash must be 32 bytes, got 31 bytes',
    );
    const node = tree.node({ level: 1, index: 0 });
    node[0]! ^= 1;
    expect(tree.node({ level: 1, index: 0 })).toEqual(nodeHash(h(1), h(2)));
  });

  it('MerkleTree grows its level arrays past their first capacity', () => {
    const tree = new MerkleTree();
    for (let i = 0; i < 1000; i++) tree.append(leafHash(Uint8Array.of(i >> 8, i & 0xff)));
    const range = CompactRange.empty();
    for (let i = 0; i < 1000; i++) range.append(tree.node({ level: 0, index: i }));
    expect(toHex(tree.root())).toBe(toHex(range.root()));
    expect(tree.node({ level: 9, index: 0 })).toEqual(tree.root(512));
  });
});

describe('sizes beyond 32 bits, up to 2^53 - 1', () => {
  // In a tree whose leaves are all equal, every perfect subtree of level l has the same hash
  // u[l], so proofs for any size can be built without storing the tree.
  const u: Uint8Array[] = [];
  const uniformRoot = (size: number) => foldRight(coveringNodes(0, size).map((id) => u[id.level]!));
  const uniformProof = (plan: NodeId[][]) => buildProof(plan, (id) => u[id.level]!);
  beforeAll(() => {
    u.push(leafHash(new Uint8Array(0)));
    for (let l = 1; l <= 53; l++) u.push(nodeHash(u[l - 1]!, u[l - 1]!));
  });

  it.each([
    [MAX - 1, MAX],
    [0, MAX],
    [2 ** 32, 2 ** 32 + 1],
    [2 ** 40 + 12345, 2 ** 41 + 3],
    [2 ** 52, 2 ** 52 + 2 ** 31],
  ])('an inclusion proof of index %d in a tree of size %d verifies', (index, size) => {
    const plan = inclusionPlan(index, size);
    expect(plan.length).toBeLessThanOrEqual(53);
    verifyInclusion(u[0]!, index, size, uniformProof(plan), uniformRoot(size));
  });

  it.each([
    [1, MAX],
    [MAX - 1, MAX],
    [2 ** 32 - 1, 2 ** 32 + 7],
    [2 ** 44 + 2 ** 20, 2 ** 52 + 1],
    [2 ** 52, MAX],
  ])('a consistency proof from size %d to size %d verifies', (size1, size2) => {
    const proof = uniformProof(consistencyPlan(size1, size2));
    verifyConsistency(size1, size2, uniformRoot(size1), uniformRoot(size2), proof);
    refusal(() => verifyConsistency(size1, size2, uniformRoot(size1), uniformRoot(size2), proof.slice(1)));
  });

  it('a compact range restores at size 2^53 - 1 (53 hashes) and refuses to grow past it', () => {
    const range = CompactRange.from(MAX, u.slice(0, 53).reverse());
    expect(toHex(range.root())).toBe(toHex(uniformRoot(MAX)));
    expect(refusal(() => range.append(u[0]!))).toBe(`a tree of size ${MAX} cannot grow further`);
  });
});
