/**
 * An append-only RFC 9162 tree held in memory: every perfect subtree hash, stored level by level
 * in one growable byte array per level (32 bytes a node, about 64 bytes a leaf in all). Roots of
 * any past size and proofs are read from the stored nodes in O(log n) hashes; nothing is ever
 * recomputed over the whole tree.
 */
import { EntraideError } from '../errors.ts';
import { emptyRoot, HASH_SIZE, nodeHash, requireHash } from './hash.ts';
import {
  buildProof,
  consistencyPlan,
  coveringNodes,
  foldRight,
  inclusionPlan,
  requireCount,
  type NodeId,
} from './plan.ts';

const INITIAL_CAPACITY = 64; // nodes per level before the first growth

export class MerkleTree {
  #size = 0;
  /** #levels[l] holds the #counts[l] complete subtrees of 2^l leaves, 32 bytes each. */
  #levels: Uint8Array[] = [];
  #counts: number[] = [];

  /** A tree of the given leaf hashes (32 bytes each), in order. */
  static fromLeafHashes(hashes: Iterable<Uint8Array>): MerkleTree {
    const tree = new MerkleTree();
    for (const hash of hashes) tree.append(hash);
    return tree;
  }

  get size(): number {
    return this.#size;
  }

  /** Appends a leaf hash (32 bytes) and returns its index; amortised O(1) hashes. */
  append(leafHash: Uint8Array): number {
    requireHash('the leaf hash', leafHash);
    if (this.#size >= Number.MAX_SAFE_INTEGER) {
      throw new EntraideError('PROOF_INVALID', `a tree of size ${this.#size} cannot grow further`);
    }
    const index = this.#size;
    this.#store(0, leafHash);
    // The new leaf completes one perfect subtree per trailing 1 bit of its index.
    for (let level = 0, i = index; i % 2 === 1; level++, i = (i - 1) / 2) {
      this.#store(level + 1, nodeHash(this.#view(level, i - 1), this.#view(level, i)));
    }
    this.#size = index + 1;
    return index;
  }

  /** MTH(D[0:size]) for any size from 0 to the current size. */
  root(size: number = this.#size): Uint8Array {
    this.#requireSize('size', size);
    if (size === 0) return emptyRoot();
    const nodes = coveringNodes(0, size);
    if (nodes.length === 1) return this.node(nodes[0]!);
    return foldRight(nodes.map((id) => this.#view(id.level, id.index)));
  }

  /** A copy of the stored hash of a complete perfect subtree. */
  node(id: NodeId): Uint8Array {
    const { level, index } = id;
    requireCount('level', level);
    requireCount('index', index);
    if (index >= (this.#counts[level] ?? 0)) {
      throw new EntraideError(
        'PROOF_INVALID',
        `node (level ${level}, index ${index}) is not a complete subtree of a tree of size ${this.#size}`,
      );
    }
    const offset = index * HASH_SIZE;
    return this.#levels[level]!.slice(offset, offset + HASH_SIZE);
  }

  /** PATH(index, D[0:size]). Preconditions: 0 <= index < size <= this.size. */
  inclusionProof(index: number, size: number = this.#size): Uint8Array[] {
    this.#requireSize('size', size);
    return buildProof(inclusionPlan(index, size), (id) => this.node(id));
  }

  /** PROOF(size1, D[0:size2]). Preconditions: 0 < size1 <= size2 <= this.size. */
  consistencyProof(size1: number, size2: number = this.#size): Uint8Array[] {
    this.#requireSize('size2', size2);
    return buildProof(consistencyPlan(size1, size2), (id) => this.node(id));
  }

  #requireSize(name: string, size: number): void {
    requireCount(name, size);
    if (size > this.#size) {
      throw new EntraideError(
        'PROOF_INVALID',
        `${name} ${size} is beyond the tree, which has ${this.#size} leaves`,
      );
    }
  }

  #view(level: number, index: number): Uint8Array {
    const offset = index * HASH_SIZE;
    return this.#levels[level]!.subarray(offset, offset + HASH_SIZE);
  }

  #store(level: number, hash: Uint8Array): void {
    if (level === this.#levels.length) {
      this.#levels.push(new Uint8Array(INITIAL_CAPACITY * HASH_SIZE));
      this.#counts.push(0);
    }
    let buffer = this.#levels[level]!;
    const count = this.#counts[level]!;
    if ((count + 1) * HASH_SIZE > buffer.length) {
      const grown = new Uint8Array(buffer.length * 2);
      grown.set(buffer);
      this.#levels[level] = buffer = grown;
    }
    buffer.set(hash, count * HASH_SIZE);
    this.#counts[level] = count + 1;
  }
}
