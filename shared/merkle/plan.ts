/**
 * Which stored nodes make up a proof (sans-I/O, after transparency-dev/merkle's proof.Nodes).
 *
 * An RFC 9162 tree of any size is built from perfect subtrees aligned on powers of two, so every
 * proof element is either one stored perfect subtree or, for a sibling on the incomplete right
 * edge of the tree, the right fold of several. The planner names them; the caller reads them
 * from wherever it keeps them and `buildProof` folds them. Sizes and indices are JS numbers:
 * safe non-negative integers, so arithmetic here avoids 32-bit bitwise operators.
 */
import { EntraideError } from '../errors.ts';
import { nodeHash, requireHash } from './hash.ts';

/** The perfect subtree over leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  level: number;
  index: number;
}

/** Refuses anything that is not a safe non-negative integer (a size or index of the tree). */
export function requireCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new EntraideError(
      'PROOF_INVALID',
      `${name} must be a safe non-negative integer, got ${String(value)}`,
    );
  }
}

/**
 * PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, as the subtrees making each element, leaf side
 * first. Preconditions: 0 <= index < size.
 */
export function inclusionPlan(index: number, size: number): NodeId[][] {
  requireCount('index', index);
  requireCount('size', size);
  if (index >= size) {
    throw new EntraideError('PROOF_INVALID', `index ${index} is outside a tree of size ${size}`);
  }
  return pathFrom(0, index, size);
}

/**
 * PROOF(size1, D[0:size2]) of RFC 9162 §2.1.4.1. Preconditions: 0 < size1 <= size2; equal sizes
 * give an empty proof.
 */
export function consistencyPlan(size1: number, size2: number): NodeId[][] {
  requireCount('size1', size1);
  requireCount('size2', size2);
  if (size1 > size2) {
    throw new EntraideError(
      'PROOF_INVALID',
      `size1 ${size1} is larger than size2 ${size2}: a log never shrinks`,
    );
  }
  if (size1 === 0) {
    throw new EntraideError('PROOF_INVALID', 'consistency proof from an empty tree is meaningless');
  }
  if (size1 === size2) return [];
  // The last perfect subtree of the first tree ends at size1; proving where it sits in the
  // second tree proves the whole first tree. When it is that tree's root (size1 a power of
  // two) the verifier already holds it as root1, so it is not sent.
  let level = 0;
  while ((size1 / 2 ** level) % 2 === 0) level++;
  const index = size1 / 2 ** level - 1;
  const path = pathFrom(level, index, size2);
  return index === 0 ? path : [[{ level, index }], ...path];
}

/**
 * The siblings met climbing from the perfect subtree (level, index) to the root of a tree of
 * `size` leaves. A right sibling may reach past the right edge: then it is the fold of the
 * perfect subtrees covering what exists of it. A node with no right sibling at all (it is on
 * the right edge) is promoted unchanged, as RFC 9162's split at the largest power of two does.
 */
function pathFrom(level: number, index: number, size: number): NodeId[][] {
  const plan: NodeId[][] = [];
  let [lvl, idx, width] = [level, index, 2 ** level];
  while (!(idx === 0 && width >= size)) {
    if (idx % 2 === 1) {
      plan.push([{ level: lvl, index: idx - 1 }]);
    } else {
      const begin = (idx + 1) * width;
      if (begin < size) plan.push(coveringNodes(begin, Math.min(size, begin + width)));
    }
    [lvl, idx, width] = [lvl + 1, Math.floor(idx / 2), width * 2];
  }
  return plan;
}

/**
 * The perfect subtrees, left to right and largest first, whose right fold is MTH(D[begin:end]).
 * Precondition: begin is 0 or a multiple of a power of two >= end - begin (a range that is a
 * subtree of an RFC 9162 tree, such as a prefix [0, size) or a sibling on the right edge).
 */
export function coveringNodes(begin: number, end: number): NodeId[] {
  requireCount('begin', begin);
  requireCount('end', end);
  if (begin > end) throw new EntraideError('PROOF_INVALID', `range [${begin}, ${end}) ends before it begins`);
  let span = 1;
  while (span < end - begin) span *= 2;
  if (begin % span !== 0) {
    throw new EntraideError(
      'PROOF_INVALID',
      `range [${begin}, ${end}) is not a subtree: ${begin} is not a multiple of ${span}`,
    );
  }
  // One pass down the set bits of end - begin, high to low: O(log n).
  const nodes: NodeId[] = [];
  let level = 0;
  while (2 ** (level + 1) <= end - begin) level++;
  for (let at = begin, width = 2 ** level; at < end; level--, width /= 2) {
    if (end - at >= width) {
      nodes.push({ level, index: at / width });
      at += width;
    }
  }
  return nodes;
}

/**
 * h = last; for i from len-2 down to 0: h = nodeHash(hashes[i], h). This is how RFC 9162's
 * recursive split hashes a run of perfect subtrees of decreasing size. Precondition: at least
 * one hash. One hash is returned as is (not copied).
 */
export function foldRight(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) throw new EntraideError('PROOF_INVALID', 'there is nothing to fold: no hashes');
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}

/** Reads each planned node through `getNode` and folds each entry into one proof element. */
export function buildProof(plan: NodeId[][], getNode: (id: NodeId) => Uint8Array): Uint8Array[] {
  return plan.map((entry) =>
    foldRight(
      entry.map((id) => {
        const hash = getNode(id);
        requireHash(`stored node (level ${id.level}, index ${id.index})`, hash);
        return hash;
      }),
    ),
  );
}
