/**
 * A reference Merkle tree written straight from RFC 9162 §2.1, for tests only: the recursive
 * definitions of MTH (§2.1.1), PATH (§2.1.3.1) and PROOF / SUBPROOF (§2.1.4.1), over the data D
 * itself. It hashes with Node's SHA-256, not with shared/merkle/hash.ts, so that it checks the
 * hashing too. Nothing is optimised except a memo of MTH per range, which changes no result.
 *
 * Notation: D[a:b] is the list of entries a (inclusive) to b (exclusive), as in the RFC; a range
 * of D is passed as its two bounds.
 */
import { createHash } from 'node:crypto';

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

const LEAF = Uint8Array.of(0x00);
const NODE = Uint8Array.of(0x01);

/** The largest power of two smaller than n (n > 1): the split point k of the RFC. */
export function splitPoint(n: number): number {
  if (n < 2) throw new Error(`splitPoint needs n > 1, got ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class ReferenceTree {
  readonly #d: readonly Uint8Array[];
  readonly #memo = new Map<string, Uint8Array>();

  /** D: the entries (leaf data, not leaf hashes). */
  constructor(entries: readonly Uint8Array[]) {
    this.#d = entries;
  }

  get size(): number {
    return this.#d.length;
  }

  /** MTH(D[a:b]): SHA-256() if empty, SHA-256(0x00 || d) for one entry, else the split. */
  mth(a: number, b: number): Uint8Array {
    this.#range(a, b);
    const key = `${a}:${b}`;
    const known = this.#memo.get(key);
    if (known) return known;
    const n = b - a;
    let hash: Uint8Array;
    if (n === 0) hash = sha256();
    else if (n === 1) hash = sha256(LEAF, this.#d[a]!);
    else {
      const k = splitPoint(n);
      hash = sha256(NODE, this.mth(a, a + k), this.mth(a + k, b));
    }
    this.#memo.set(key, hash);
    return hash;
  }

  /** PATH(m, D[a:b]), for 0 <= m < b - a. */
  path(m: number, a: number, b: number): Uint8Array[] {
    this.#range(a, b);
    const n = b - a;
    if (!(m >= 0 && m < n)) throw new Error(`PATH(${m}, D[${a}:${b}]) is undefined`);
    if (n === 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...this.path(m, a, a + k), this.mth(a + k, b)];
    return [...this.path(m - k, a + k, b), this.mth(a, a + k)];
  }

  /** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true), for 0 < m <= n. */
  proof(m: number, n: number): Uint8Array[] {
    if (!(m > 0 && m <= n)) throw new Error(`PROOF(${m}, D[0:${n}]) is undefined`);
    return this.subproof(m, 0, n, true);
  }

  /** SUBPROOF(m, D[a:b], flag), for 0 < m <= b - a. */
  subproof(m: number, a: number, b: number, flag: boolean): Uint8Array[] {
    this.#range(a, b);
    const n = b - a;
    if (m === n) return flag ? [] : [this.mth(a, b)];
    const k = splitPoint(n);
    if (m <= k) return [...this.subproof(m, a, a + k, flag), this.mth(a + k, b)];
    return [...this.subproof(m - k, a + k, b, false), this.mth(a, a + k)];
  }

  /**
   * NOT RFC 9162: SUBTREE_PROOF(start, end, D[0:n]) of draft-ietf-plants-merkle-tree-certs, the
   * consistency proof of a subtree [start, end) with the tree of size n, following the draft's
   * recursion as transcribed in transparency-dev/merkle testonly/reference_test.go. Needed only
   * to reproduce the subtreeConsistency rolling digest; for start = 0 and end > 0 it is
   * PROOF(end, D[0:n]) (empty when end = n). Empty when start = end.
   */
  subtreeProof(start: number, end: number, n: number): Uint8Array[] {
    return this.#subtreeProof(0, n, start, end, true);
  }

  #subtreeProof(a: number, b: number, start: number, end: number, haveRoot: boolean): Uint8Array[] {
    const size = b - a;
    if (start >= end || end > size) return [];
    if (start === 0 && end === size) return haveRoot ? [] : [this.mth(a, b)];
    const k = splitPoint(size);
    if (end <= k) return [...this.#subtreeProof(a, a + k, start, end, haveRoot), this.mth(a + k, b)];
    if (k <= start)
      return [...this.#subtreeProof(a + k, b, start - k, end - k, haveRoot), this.mth(a, a + k)];
    // k lies strictly inside [start, end), which for a valid subtree implies start = 0.
    return [...this.#subtreeProof(a + k, b, 0, end - k, false), this.mth(a, a + k)];
  }

  #range(a: number, b: number): void {
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a <= b && b <= this.#d.length)) {
      throw new Error(`D[${a}:${b}] is not a range of D (${this.#d.length} entries)`);
    }
  }
}
