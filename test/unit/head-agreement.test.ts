/**
 * The split-view check of a gossiped key-log head against a verified copy (shared/keys/head-agreement.ts):
 * every way a head can agree, and every way two views of a log cannot both be true, with
 * systematic corruptions of the consistency proof.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { headAgreement, type LogCopy } from '../../shared/keys/head-agreement.ts';
import { leafHash } from '../../shared/merkle/hash.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import type { TreeHeadBody } from '../../shared/protocol/key-log.ts';

beforeAll(async () => {
  await loadSodium();
});

const leaves = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${tag}-${i}`)));

function copyOf(tree: MerkleTree): LogCopy {
  return { size: tree.size, rootAt: (n) => tree.root(n) };
}

function headOf(tree: MerkleTree, size = tree.size): TreeHeadBody {
  return {
    v: 1,
    log: 'key',
    relay: 'relay.test',
    size,
    root: toBase64url(tree.root(size)),
    timestamp: '2026-01-01T00:00:00Z',
  };
}

const real = MerkleTree.fromLeafHashes(leaves('real', 11));
/** The same first 7 entries, then others: what a relay might show someone else. */
const other = MerkleTree.fromLeafHashes([...leaves('real', 7), ...leaves('other', 4)]);

describe('a gossiped head against the verified copy', () => {
  it('agrees with an empty copy (nothing to compare), the same log, and any prefix of it', () => {
    expect(headAgreement(copyOf(new MerkleTree()), headOf(real))).toEqual({ verdict: 'agrees' });
    for (let size = 1; size <= real.size; size++)
      expect(headAgreement(copyOf(real), headOf(real, size))).toEqual({ verdict: 'agrees' });
  });

  it('finds two logs of the same size, or a smaller head that is no prefix, a split view', () => {
    expect(headAgreement(copyOf(real), headOf(other))).toEqual({
      verdict: 'split',
      why: 'two different logs of size 11',
    });
    expect(headAgreement(copyOf(real), headOf(other, 9))).toEqual({
      verdict: 'split',
      why: 'the log of size 9 is not a prefix of the one of size 11 this node verified',
    });
    // Where the two still share their first entries, they agree.
    expect(headAgreement(copyOf(real), headOf(other, 7))).toEqual({ verdict: 'agrees' });
  });

  it('asks for a proof for a larger head, and agrees only when it proves an extension', () => {
    const older = MerkleTree.fromLeafHashes(leaves('real', 5));
    expect(headAgreement(copyOf(older), headOf(real))).toEqual({ verdict: 'needs-proof', from: 5, to: 11 });
    expect(headAgreement(copyOf(older), headOf(real), real.consistencyProof(5, 11))).toEqual({
      verdict: 'agrees',
    });
    // The forked log cannot be proven from the copy, with its own proof or the real one.
    const forked = MerkleTree.fromLeafHashes([...leaves('real', 4), ...leaves('other', 7)]);
    for (const proof of [forked.consistencyProof(5, 11), real.consistencyProof(5, 11)]) {
      const found = headAgreement(copyOf(older), headOf(forked), proof);
      expect(found.verdict).toBe('split');
      expect(found).toMatchObject({
        why: expect.stringContaining('the log of size 11 does not extend the one of size 5'),
      });
    }
  });

  it('refuses every corruption of a valid proof', () => {
    const older = MerkleTree.fromLeafHashes(leaves('real', 6));
    const proof = real.consistencyProof(6, 11);
    const corruptions: Uint8Array[][] = [
      [],
      proof.slice(1),
      proof.slice(0, -1),
      [...proof, proof[0]!],
      [...proof].reverse(),
      ...proof.map((_, i) =>
        proof.map((h, j) => (i === j ? Uint8Array.from(h, (b, k) => (k === 0 ? b ^ 1 : b)) : h)),
      ),
    ];
    for (const bad of corruptions)
      expect(headAgreement(copyOf(older), headOf(real), bad).verdict, `proof ${bad.length}`).toBe('split');
  });
});
