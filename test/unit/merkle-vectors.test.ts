/**
 * Layer 2: the language-neutral JSON probes of transparency-dev/merkle (inclusion.json,
 * consistency.json), their expected generated proofs, and the supplementary must-fail cases.
 * Each test is titled with the probe id and the file it comes from upstream.
 *
 * Sizes and indices are unsigned 64-bit in the vectors (bigint here) and JS numbers in the API:
 * a value above 2^53 - 1 is handed over as the nearest double, which the API refuses as not a
 * safe integer (the one such probe, "leafIdx sub @1" = 2^64 - 1, expects a refusal anyway).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { leafHash } from '../../shared/merkle/hash.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import { verifyConsistency } from '../../shared/merkle/verify-consistency.ts';
import { verifyInclusion } from '../../shared/merkle/verify-inclusion.ts';
import { ReferenceTree } from '../support/merkle-reference.ts';
import {
  loadMerkleVectors,
  titleOf,
  type ConsistencyProbe,
  type InclusionProbe,
} from '../support/merkle-vectors.ts';
import { entraideErrorOf } from './fixtures.ts';

const vectors = loadMerkleVectors();

beforeAll(async () => {
  await loadSodium();
});

const hexes = (list: Uint8Array[]) => list.map(toHex);

function checkInclusion(probe: InclusionProbe): void {
  const run = () =>
    verifyInclusion(
      probe.leafHash ?? leafHash(probe.leafData!),
      Number(probe.leafIndex),
      Number(probe.treeSize),
      probe.proof,
      probe.root,
    );
  if (probe.wantErr) {
    const err = entraideErrorOf(run);
    expect(err.code).toBe('PROOF_INVALID');
    expect(err.message.length).toBeGreaterThan(0);
  } else {
    expect(run).not.toThrow();
  }
}

function checkConsistency(probe: ConsistencyProbe): void {
  const run = () =>
    verifyConsistency(Number(probe.size1), Number(probe.size2), probe.root1, probe.root2, probe.proof);
  if (probe.wantErr) expect(entraideErrorOf(run).code).toBe('PROOF_INVALID');
  else expect(run).not.toThrow();
}

describe('inclusion.json probes (RFC 9162 §2.1.3.2)', () => {
  it('holds the expected number of probes', () => {
    expect(vectors.inclusion.probes.length).toBe(98);
    expect(vectors.inclusion.probes.filter((p) => !p.wantErr).length).toBe(6);
  });
  for (const probe of vectors.inclusion.probes) {
    it(`${titleOf(probe, 'inclusion.json')}: ${probe.wantErr ? 'refused' : 'accepted'}`, () =>
      checkInclusion(probe));
  }
  it('the probe with index 2^64 - 1 is refused as not a safe integer', () => {
    const huge = vectors.inclusion.probes.filter((p) => p.leafIndex > BigInt(Number.MAX_SAFE_INTEGER));
    expect(huge.map((p) => p.id)).toEqual(['0/leafIdx-sub-@1', '1/leafIdx-sub-@1']);
    for (const p of huge) {
      const err = entraideErrorOf(() =>
        verifyInclusion(p.leafHash!, Number(p.leafIndex), Number(p.treeSize), p.proof, p.root),
      );
      expect(err.code).toBe('PROOF_INVALID');
      expect(err.message).toMatch(/^index must be a safe non-negative integer, got 18446744073709552000$/);
    }
  });
});

describe('consistency.json probes (RFC 9162 §2.1.4.2)', () => {
  it('holds the expected number of probes', () => {
    expect(vectors.consistency.probes.length).toBe(98);
    expect(vectors.consistency.probes.filter((p) => !p.wantErr).length).toBe(6);
  });
  for (const probe of vectors.consistency.probes) {
    it(`${titleOf(probe, 'consistency.json')}: ${probe.wantErr ? 'refused' : 'accepted'}`, () =>
      checkConsistency(probe));
  }
});

describe('supplementary.json probes (derived from upstream values)', () => {
  for (const probe of vectors.supplementary.inclusion) {
    it(`${titleOf(probe, 'supplementary.json')}: ${probe.wantErr ? 'refused' : 'accepted (must-pass)'}`, () =>
      checkInclusion(probe));
  }
  for (const probe of vectors.supplementary.consistency) {
    it(`${titleOf(probe, 'supplementary.json')}: ${probe.wantErr ? 'refused' : 'accepted'}`, () => {
      checkConsistency(probe);
      // Every one of these has the right proof for root2 and a wrong 32-byte root1: it must be
      // refused for root1, the RFC's step 7 that a careless verifier skips.
      expect(entraideErrorOf(() => checkConsistencyRaw(probe)).message).toMatch(
        new RegExp(
          `^the consistency proof gives root [0-9a-f]{64} for size ${probe.size1}, not the expected`,
        ),
      );
    });
  }
  it('the interior-node-as-leaf-hash case passes: leaf hashes must come from data the caller holds', () => {
    const mustPass = vectors.supplementary.inclusion.filter((p) => !p.wantErr);
    expect(mustPass.map((p) => p.id)).toEqual(['domain-separation/interior-node-as-leaf-hash']);
  });
});

function checkConsistencyRaw(probe: ConsistencyProbe): void {
  verifyConsistency(Number(probe.size1), Number(probe.size2), probe.root1, probe.root2, probe.proof);
}

describe('proof generation on the 8-leaf tree (tree.json leaves)', () => {
  const leaves = vectors.tree.leaves;
  const tree = () => MerkleTree.fromLeafHashes(leaves.map((d) => leafHash(d)));
  const ref = new ReferenceTree(leaves);
  const inc = vectors.inclusion.generation;
  const con = vectors.consistency.generation;

  const inclusionCases = [
    ...inc.cases.map((c) => ({ ...c, from: `${inc.source.repo} ${inc.source.path}` })),
    ...inc.crossCheck.cases.map((c) => ({
      ...c,
      from: `${inc.crossCheck.source.repo} ${inc.crossCheck.source.path}`,
    })),
  ];
  it.each(inclusionCases)('inclusion.json PATH($leafIndex, D[0:$treeSize]) ($from)', (c) => {
    expect(hexes(tree().inclusionProof(c.leafIndex, c.treeSize))).toEqual(hexes(c.proof));
    expect(hexes(ref.path(c.leafIndex, 0, c.treeSize))).toEqual(hexes(c.proof));
  });

  const consistencyCases = [
    ...con.cases.map((c) => ({ ...c, from: `${con.source.repo} ${con.source.path}` })),
    ...con.crossCheck.cases.map((c) => ({
      ...c,
      from: `${con.crossCheck.source.repo} ${con.crossCheck.source.path}`,
    })),
  ];
  it.each(consistencyCases)('consistency.json PROOF($size1, D[0:$size2]) ($from)', (c) => {
    expect(hexes(tree().consistencyProof(c.size1, c.size2))).toEqual(hexes(c.proof));
    expect(hexes(ref.proof(c.size1, c.size2))).toEqual(hexes(c.proof));
  });

  it('every accepted probe on the 8-leaf tree is exactly the proof MerkleTree builds', () => {
    const root = (size: number) => toHex(tree().root(size));
    for (const p of vectors.inclusion.probes.filter((q) => !q.wantErr && /^\d\//.test(q.id))) {
      const [index, size] = [Number(p.leafIndex), Number(p.treeSize)];
      expect(hexes(tree().inclusionProof(index, size)), p.id).toEqual(hexes(p.proof));
      expect(root(size), p.id).toBe(toHex(p.root));
    }
    for (const p of vectors.consistency.probes.filter((q) => !q.wantErr && /^\d\//.test(q.id))) {
      const [size1, size2] = [Number(p.size1), Number(p.size2)];
      expect(hexes(tree().consistencyProof(size1, size2)), p.id).toEqual(hexes(p.proof));
      expect([root(size1), root(size2)], p.id).toEqual([toHex(p.root1), toHex(p.root2)]);
    }
  });
});
