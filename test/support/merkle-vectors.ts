/**
 * The one loader for the public RFC 6962 / RFC 9162 Merkle vectors, the project's own copy in
 * test/vectors/merkle (provenance in the README.md there). Hex becomes bytes; unsigned 64-bit sizes and
 * indices (numbers, or decimal strings above 2^53 - 1) become bigint, so no value is silently
 * rounded: the tests decide how to hand them to the number-based API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MERKLE_VECTORS_DIR = resolve(ROOT, 'test/vectors/merkle');

export interface Source {
  repo: string;
  path: string;
  snapshotCommit: string;
  lastChangedIn?: string;
  blob?: string;
  note?: string;
  /** Set for supplementary probes: modified here from the upstream value named, not upstream. */
  derived?: boolean;
}

export interface InclusionProbe {
  id: string;
  desc: string;
  leafIndex: bigint;
  treeSize: bigint;
  /** The leaf hash as given, or leafHash(leafData) when the probe gives the data instead. */
  leafHash?: Uint8Array;
  leafData?: Uint8Array;
  proof: Uint8Array[];
  root: Uint8Array;
  wantErr: boolean;
  /** Where the probe comes from: `source` upstream, or `derivedFrom` for supplementary ones. */
  source: Source;
}

export interface ConsistencyProbe {
  id: string;
  desc: string;
  size1: bigint;
  size2: bigint;
  root1: Uint8Array;
  root2: Uint8Array;
  proof: Uint8Array[];
  wantErr: boolean;
  source: Source;
}

export interface InclusionCase {
  leafIndex: number;
  treeSize: number;
  proof: Uint8Array[];
}

export interface ConsistencyCase {
  size1: number;
  size2: number;
  proof: Uint8Array[];
}

export interface Generation<Case> {
  source: Source;
  cases: Case[];
  crossCheck: { source: Source; note: string; cases: Case[] };
}

export interface TreeVectors {
  description: string;
  sources: Source[];
  hasherKats: (
    | { desc: string; op: 'emptyRoot'; want: Uint8Array }
    | { desc: string; op: 'leaf'; input: Uint8Array; want: Uint8Array }
    | { desc: string; op: 'node'; left: Uint8Array; right: Uint8Array; want: Uint8Array }
  )[];
  leaves: Uint8Array[];
  nodeHashesByLevel: { level: number; hashes: Uint8Array[] }[];
  roots: { size: number; root: Uint8Array }[];
}

export interface AccumulatedVector {
  name: string;
  loops: string;
  line: string;
  proof?: string;
  want: Uint8Array;
  checkedByVerifyMjs?: boolean;
}

export interface SubtreeAccumulated {
  description: string;
  source: Source;
  tree: string;
  validSubtree: string;
  vectors: AccumulatedVector[];
}

export interface MerkleVectors {
  tree: TreeVectors;
  inclusion: { probes: InclusionProbe[]; generation: Generation<InclusionCase> };
  consistency: { probes: ConsistencyProbe[]; generation: Generation<ConsistencyCase> };
  supplementary: { inclusion: InclusionProbe[]; consistency: ConsistencyProbe[] };
  subtreeAccumulated: SubtreeAccumulated;
}

let cached: MerkleVectors | undefined;

/** Reads and converts every vector file once; throws with the expected path if they are missing. */
export function loadMerkleVectors(): MerkleVectors {
  cached ??= {
    tree: readTree(),
    inclusion: readInclusion(),
    consistency: readConsistency(),
    supplementary: readSupplementary(),
    subtreeAccumulated: readAccumulated(),
  };
  return cached;
}

/** "file id (repo path)", the title of a vector test; "derived from" for supplementary probes. */
export function titleOf(probe: { id: string; source: Source }, file: string): string {
  const { repo, path, derived } = probe.source;
  return `${file} ${probe.id} (${derived ? 'derived from ' : ''}${repo} ${path})`;
}

// ---- conversions ------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  const path = join(MERKLE_VECTORS_DIR, file);
  if (!existsSync(path)) {
    throw new Error(
      `Merkle test vector ${file} not found at ${path}: the public RFC 9162 vectors are part of the ` +
        `repository, in test/vectors/merkle (see README.md there); restore them from version control.`,
    );
  }
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  return object(parsed, file);
}

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${where}: not an object`);
  return value as Json;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: not an array`);
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`${where}: not a string`);
  return value;
}

function hex(value: unknown, where: string): Uint8Array {
  const text = string(value, where);
  if (!/^(?:[0-9a-f]{2})*$/.test(text))
    throw new Error(`${where}: not lower-case hex: ${JSON.stringify(text)}`);
  return new Uint8Array(Buffer.from(text, 'hex'));
}

function hexList(value: unknown, where: string): Uint8Array[] {
  return array(value, where).map((h, i) => hex(h, `${where}[${i}]`));
}

/** An unsigned 64-bit value: a JSON number within 2^53 - 1, or a decimal string. */
function u64(value: unknown, where: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^(?:0|[1-9][0-9]*)$/.test(value)) {
    const big = BigInt(value);
    if (big < 2n ** 64n) return big;
  }
  throw new Error(`${where}: not an unsigned 64-bit integer: ${JSON.stringify(value)}`);
}

function smallInt(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${where}: not a small non-negative integer`);
  }
  return value;
}

function bool(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new Error(`${where}: not a boolean`);
  return value;
}

function source(value: unknown, where: string): Source {
  const s = object(value, where);
  return {
    repo: string(s.repo, `${where}.repo`),
    path: string(s.path, `${where}.path`),
    snapshotCommit: string(s.snapshotCommit, `${where}.snapshotCommit`),
    ...(s.lastChangedIn === undefined
      ? {}
      : { lastChangedIn: string(s.lastChangedIn, `${where}.lastChangedIn`) }),
    ...(s.blob === undefined ? {} : { blob: string(s.blob, `${where}.blob`) }),
    ...(s.note === undefined ? {} : { note: string(s.note, `${where}.note`) }),
  };
}

// ---- files ------------------------------------------------------------------------------------

function readTree(): TreeVectors {
  const t = readJson('tree.json');
  return {
    description: string(t.description, 'tree.description'),
    sources: array(t.sources, 'tree.sources').map((s, i) => source(s, `tree.sources[${i}]`)),
    hasherKats: array(t.hasherKats, 'tree.hasherKats').map((k, i) => {
      const w = `tree.hasherKats[${i}]`;
      const kat = object(k, w);
      const desc = string(kat.desc, `${w}.desc`);
      const want = hex(kat.want, `${w}.want`);
      switch (kat.op) {
        case 'emptyRoot':
          return { desc, op: 'emptyRoot' as const, want };
        case 'leaf':
          return { desc, op: 'leaf' as const, input: hex(kat.inputHex, `${w}.inputHex`), want };
        case 'node':
          return {
            desc,
            op: 'node' as const,
            left: hex(kat.leftHex, `${w}.leftHex`),
            right: hex(kat.rightHex, `${w}.rightHex`),
            want,
          };
        default:
          throw new Error(`${w}: unknown op ${String(kat.op)}`);
      }
    }),
    leaves: hexList(t.leaves, 'tree.leaves'),
    nodeHashesByLevel: array(t.nodeHashesByLevel, 'tree.nodeHashesByLevel').map((l, i) => {
      const w = `tree.nodeHashesByLevel[${i}]`;
      const level = object(l, w);
      return { level: smallInt(level.level, `${w}.level`), hashes: hexList(level.hashes, `${w}.hashes`) };
    }),
    roots: array(t.roots, 'tree.roots').map((r, i) => {
      const w = `tree.roots[${i}]`;
      const root = object(r, w);
      return { size: smallInt(root.size, `${w}.size`), root: hex(root.root, `${w}.root`) };
    }),
  };
}

function inclusionProbe(value: unknown, where: string): InclusionProbe {
  const p = object(value, where);
  const probe: InclusionProbe = {
    id: string(p.id, `${where}.id`),
    desc: string(p.desc, `${where}.desc`),
    leafIndex: u64(p.leafIndex, `${where}.leafIndex`),
    treeSize: u64(p.treeSize, `${where}.treeSize`),
    proof: hexList(p.proof, `${where}.proof`),
    root: hex(p.root, `${where}.root`),
    wantErr: bool(p.wantErr, `${where}.wantErr`),
    source: probeSource(p, where),
  };
  if (p.leafHash !== undefined) probe.leafHash = hex(p.leafHash, `${where}.leafHash`);
  if (p.leafData !== undefined) probe.leafData = hex(p.leafData, `${where}.leafData`);
  if ((probe.leafHash === undefined) === (probe.leafData === undefined)) {
    throw new Error(`${where}: needs exactly one of leafHash and leafData`);
  }
  return probe;
}

function consistencyProbe(value: unknown, where: string): ConsistencyProbe {
  const p = object(value, where);
  return {
    id: string(p.id, `${where}.id`),
    desc: string(p.desc, `${where}.desc`),
    size1: u64(p.size1, `${where}.size1`),
    size2: u64(p.size2, `${where}.size2`),
    root1: hex(p.root1, `${where}.root1`),
    root2: hex(p.root2, `${where}.root2`),
    proof: hexList(p.proof, `${where}.proof`),
    wantErr: bool(p.wantErr, `${where}.wantErr`),
    source: probeSource(p, where),
  };
}

/** Upstream `source`, a supplementary probe's `derivedFrom`, or else supplementary.json itself. */
function probeSource(p: Json, where: string): Source {
  if (p.source !== undefined) return source(p.source, `${where}.source`);
  if (p.derivedFrom !== undefined) return { ...source(p.derivedFrom, `${where}.derivedFrom`), derived: true };
  return { repo: 'entraide', path: 'test/vectors/merkle/supplementary.json', snapshotCommit: 'none' };
}

function generation<Case>(
  value: unknown,
  where: string,
  toCase: (c: Json, w: string) => Case,
): Generation<Case> {
  const g = object(value, where);
  const cases = (list: unknown, w: string) =>
    array(list, w).map((c, i) => toCase(object(c, `${w}[${i}]`), `${w}[${i}]`));
  const cross = object(g.crossCheck, `${where}.crossCheck`);
  return {
    source: source(g.source, `${where}.source`),
    cases: cases(g.cases, `${where}.cases`),
    crossCheck: {
      source: source(cross.source, `${where}.crossCheck.source`),
      note: string(cross.note, `${where}.crossCheck.note`),
      cases: cases(cross.cases, `${where}.crossCheck.cases`),
    },
  };
}

function readInclusion(): MerkleVectors['inclusion'] {
  const f = readJson('inclusion.json');
  return {
    probes: array(f.probes, 'inclusion.probes').map((p, i) => inclusionProbe(p, `inclusion.probes[${i}]`)),
    generation: generation(f.generation, 'inclusion.generation', (c, w) => ({
      leafIndex: smallInt(c.leafIndex, `${w}.leafIndex`),
      treeSize: smallInt(c.treeSize, `${w}.treeSize`),
      proof: hexList(c.proof, `${w}.proof`),
    })),
  };
}

function readConsistency(): MerkleVectors['consistency'] {
  const f = readJson('consistency.json');
  return {
    probes: array(f.probes, 'consistency.probes').map((p, i) =>
      consistencyProbe(p, `consistency.probes[${i}]`),
    ),
    generation: generation(f.generation, 'consistency.generation', (c, w) => ({
      size1: smallInt(c.size1, `${w}.size1`),
      size2: smallInt(c.size2, `${w}.size2`),
      proof: hexList(c.proof, `${w}.proof`),
    })),
  };
}

function readSupplementary(): MerkleVectors['supplementary'] {
  const f = readJson('supplementary.json');
  return {
    inclusion: array(f.inclusion, 'supplementary.inclusion').map((p, i) =>
      inclusionProbe(p, `supplementary.inclusion[${i}]`),
    ),
    consistency: array(f.consistency, 'supplementary.consistency').map((p, i) =>
      consistencyProbe(p, `supplementary.consistency[${i}]`),
    ),
  };
}

function readAccumulated(): SubtreeAccumulated {
  const f = readJson('subtree-accumulated.json');
  return {
    description: string(f.description, 'subtree-accumulated.description'),
    source: source(f.source, 'subtree-accumulated.source'),
    tree: string(f.tree, 'subtree-accumulated.tree'),
    validSubtree: string(f.validSubtree, 'subtree-accumulated.validSubtree'),
    vectors: array(f.vectors, 'subtree-accumulated.vectors').map((v, i) => {
      const w = `subtree-accumulated.vectors[${i}]`;
      const vec = object(v, w);
      return {
        name: string(vec.name, `${w}.name`),
        loops: string(vec.loops, `${w}.loops`),
        line: string(vec.line, `${w}.line`),
        ...(vec.proof === undefined ? {} : { proof: string(vec.proof, `${w}.proof`) }),
        want: hex(vec.want, `${w}.want`),
        ...(vec.checkedByVerifyMjs === undefined
          ? {}
          : { checkedByVerifyMjs: bool(vec.checkedByVerifyMjs, `${w}.checkedByVerifyMjs`) }),
      };
    }),
  };
}
