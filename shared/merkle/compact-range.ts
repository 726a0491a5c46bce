/**
 * The right edge of a log in O(log n) space: the hashes of the perfect subtrees that cover
 * leaves [0, size), largest (leftmost) first, one per set bit of size. Enough to append leaves
 * and compute the root, so a node can check that the entries it downloads extend the tree it
 * stored to a signed head, or stream through a long log without keeping it.
 */
import { EntraideError } from '../errors.ts';
import { emptyRoot, nodeHash, requireHash } from './hash.ts';
import { coveringNodes, foldRight, requireCount } from './plan.ts';

export class CompactRange {
  #size: number;
  #hashes: Uint8Array[];

  private constructor(size: number, hashes: Uint8Array[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  /** The range of the empty tree. */
  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /**
   * Restores a range from its size and `hashes` as given by the getter: as many 32-byte hashes
   * as size has set bits (the perfect subtrees of [0, size), left to right). The hashes are copied.
   */
  static from(size: number, hashes: Uint8Array[]): CompactRange {
    requireCount('size', size);
    if (!Array.isArray(hashes))
      throw new EntraideError('PROOF_INVALID', 'a compact range is a list of hashes');
    const expected = coveringNodes(0, size).length;
    if (hashes.length !== expected) {
      throw new EntraideError(
        'PROOF_INVALID',
        `a compact range of size ${size} has ${expected} hashes (one per set bit), got ${hashes.length}`,
      );
    }
    hashes.forEach((hash, i) => requireHash(`compact range hash ${i}`, hash));
    return new CompactRange(
      size,
      hashes.map((hash) => hash.slice()),
    );
  }

  get size(): number {
    return this.#size;
  }

  /** Copies of the hashes, left to right, for persistence; `from(size, hashes)` restores them. */
  get hashes(): Uint8Array[] {
    return this.#hashes.map((hash) => hash.slice());
  }

  /** Appends one leaf hash (32 bytes): one hash per completed subtree, amortised O(1). */
  append(leafHash: Uint8Array): void {
    requireHash('the leaf hash', leafHash);
    if (this.#size >= Number.MAX_SAFE_INTEGER) {
      throw new EntraideError('PROOF_INVALID', `a tree of size ${this.#size} cannot grow further`);
    }
    // Each trailing 1 bit of size is a perfect subtree that the new leaf completes into a larger one.
    let hash: Uint8Array = leafHash.slice();
    for (let s = this.#size; s % 2 === 1; s = (s - 1) / 2) hash = nodeHash(this.#hashes.pop()!, hash);
    this.#hashes.push(hash);
    this.#size++;
  }

  /** MTH(D[0:size]): emptyRoot() for the empty tree. */
  root(): Uint8Array {
    if (this.#size === 0) return emptyRoot();
    return this.#hashes.length === 1 ? this.#hashes[0]!.slice() : foldRight(this.#hashes);
  }

  /** An independent copy (the hashes are never changed in place, so they are shared). */
  clone(): CompactRange {
    return new CompactRange(this.#size, [...this.#hashes]);
  }
}
