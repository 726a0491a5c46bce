/**
 * Layer 2 (continued): the rolling SHA-256 digests of subtree-accumulated.json, from the "Subtree
 * Test Vectors" appendix of draft-ietf-plants-merkle-tree-certs as reproduced in
 * transparency-dev/merkle testonly/vectors_test.go, over a 130-leaf tree (leaf i = the byte i).
 *
 * Loops follow the file: every bound is inclusive ("end in 0..130, start in 0..end"), and a range
 * is valid iff start <= end and (start == 0 or start == end or start is a multiple of the
 * smallest power of two >= end - start); empty ranges are valid and hash to SHA-256("").
 *
 * What is tested, and by what:
 * - subtreeHash, subtreeInclusion: the reference implementation reproduces both digests, and so
 *   does our MerkleTree for EVERY line: MTH(D[start:end]) and PATH(index - start, D[start:end])
 *   are plain RFC 9162 values of the tree over D[start:], read at its historical size end - start.
 * - subtreeConsistency: the reference reproduces the digest, using the draft's SUBTREE_PROOF for
 *   start > 0 (not RFC 9162). Our MerkleTree builds every start = 0 line, which is RFC 9162
 *   PROOF(end, D[0:n]), except [0, 0) whose proof the draft defines as empty and which our API
 *   refuses (a proof from the empty tree is meaningless); the start > 0 lines come from the
 *   reference, so that digest checks MerkleTree only on its start = 0 part.
 * - subtreeCovering is NOT tested: it checks the draft's FindSubtrees, which has no RFC 9162
 *   counterpart and nothing in shared/merkle.
 */
import { createHash, type Hash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { leafHash } from '../../shared/merkle/hash.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import { ReferenceTree } from '../support/merkle-reference.ts';
import { loadMerkleVectors, type AccumulatedVector } from '../support/merkle-vectors.ts';

const accumulated = loadMerkleVectors().subtreeAccumulated;
const SOURCE = `subtree-accumulated.json (${accumulated.source.repo} ${accumulated.source.path})`;
const N = 130;
const D = Array.from({ length: N }, (_, i) => Uint8Array.of(i));

function vector(name: string): AccumulatedVector {
  const v = accumulated.vectors.find((x) => x.name === name);
  if (!v) throw new Error(`subtree-accumulated.json has no vector ${name}`);
  return v;
}

function isValid(start: number, end: number): boolean {
  if (start > end) return false;
  if (start === 0 || start === end) return true;
  let ceil = 1;
  while (ceil < end - start) ceil *= 2;
  return start % ceil === 0;
}

/** Every valid [start, end) in the file's order: end ascending, then start ascending. */
function* validRanges(maxEnd: number): Generator<[number, number]> {
  for (let end = 0; end <= maxEnd; end++) {
    for (let start = 0; start <= end; start++) if (isValid(start, end)) yield [start, end];
  }
}

const proofLine = (prefix: string, proof: Uint8Array[]) =>
  `${prefix}${proof.map((h) => ` ${toHex(h)}`).join('')}\n`;
const digestOf = (h: Hash) => h.digest('hex');

let ref: ReferenceTree;
/** trees[start] holds D[start:N], so that MTH(D[start:end]) is its root at size end - start. */
let trees: MerkleTree[];

beforeAll(async () => {
  await loadSodium();
  ref = new ReferenceTree(D);
  trees = Array.from({ length: N + 1 }, (_, start) =>
    MerkleTree.fromLeafHashes(D.slice(start).map((d) => leafHash(d))),
  );
});

describe(SOURCE, () => {
  it('describes the tree and the validity rule this test implements', () => {
    expect(accumulated.tree).toBe('D has 130 leaves; leaf i is the single byte i (0x00, 0x01, ..., 0x81).');
    expect(accumulated.validSubtree).toContain('start == 0 or start == end');
    expect(accumulated.vectors.map((v) => v.name)).toEqual([
      'subtreeHash',
      'subtreeInclusion',
      'subtreeConsistency',
      'subtreeCovering',
    ]);
  });

  it('subtreeHash: the reference and MerkleTree reproduce the rolling digest', () => {
    const fromRef = createHash('sha256');
    const fromTree = createHash('sha256');
    for (const [start, end] of validRanges(N)) {
      fromRef.update(`[${start}, ${end}) ${toHex(ref.mth(start, end))}\n`);
      fromTree.update(`[${start}, ${end}) ${toHex(trees[start]!.root(end - start))}\n`);
    }
    const want = toHex(vector('subtreeHash').want);
    expect(digestOf(fromRef)).toBe(want);
    expect(digestOf(fromTree)).toBe(want);
  });

  it('subtreeInclusion: the reference and MerkleTree reproduce the rolling digest', () => {
    const fromRef = createHash('sha256');
    const fromTree = createHash('sha256');
    for (const [start, end] of validRanges(N)) {
      for (let index = start; index < end; index++) {
        const prefix = `${index} [${start}, ${end})`;
        fromRef.update(proofLine(prefix, ref.path(index - start, start, end)));
        fromTree.update(proofLine(prefix, trees[start]!.inclusionProof(index - start, end - start)));
      }
    }
    const want = toHex(vector('subtreeInclusion').want);
    expect(digestOf(fromRef)).toBe(want);
    expect(digestOf(fromTree)).toBe(want);
  });

  it('subtreeConsistency: the reference reproduces the digest; MerkleTree its start = 0 lines', () => {
    const fromRef = createHash('sha256');
    const mixed = createHash('sha256');
    let ours = 0;
    const differences: string[] = [];
    for (let n = 0; n <= N; n++) {
      for (const [start, end] of validRanges(n)) {
        const prefix = `[${start}, ${end}) ${n}`;
        const reference = ref.subtreeProof(start, end, n);
        fromRef.update(proofLine(prefix, reference));
        if (start === 0 && end > 0) {
          const proof = trees[0]!.consistencyProof(end, n);
          if (proofLine(prefix, proof) !== proofLine(prefix, reference)) differences.push(prefix);
          mixed.update(proofLine(prefix, proof));
          ours++;
        } else {
          mixed.update(proofLine(prefix, reference));
        }
      }
    }
    expect(differences).toEqual([]);
    const want = toHex(vector('subtreeConsistency').want);
    expect(digestOf(fromRef)).toBe(want);
    expect(digestOf(mixed)).toBe(want);
    expect(ours).toBe((N * (N + 1)) / 2); // every 0 < end <= n <= 130
  });
});
