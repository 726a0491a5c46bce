/**
 * Streaming verification of a whole log, in bounded memory: the entries go through a compact range
 * (O(log n) hashes) in index order, and every signed tree head met on the way must be signed by the
 * relay and have exactly the root of the entries before it. Heads of the same size with different
 * roots (a split view) and entries out of order are caught. The verifier keeps no entry, so a log
 * of 10^6 entries verifies in a few megabytes.
 */
import { fromBase64url, toBase64url } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import type { RelayKeyTimeline } from '../keys/relay-key-rollover.ts';
import { verifyTreeHead } from '../keys/tree-head.ts';
import { CompactRange } from '../merkle/compact-range.ts';
import { sameHash } from '../merkle/hash.ts';
import type { SignedTreeHead } from '../protocol/key-log.ts';

export interface LogProblem {
  /** The first index at which the log stops matching what was signed (or the head's size). */
  index: number;
  message: string;
}

/** What the verifier needs of a head: its size and root; the caller's check proves who signed it. */
export interface Head {
  size: number;
  root: string;
}

export class LogVerifier<H extends Head = SignedTreeHead> {
  readonly #range = CompactRange.empty();
  /** Heads still ahead of the entries, by size; several heads of one size must agree. */
  readonly #heads = new Map<number, H[]>();
  /** Throws unless the head is signed by the log's owner, for this log. */
  readonly #checkHead: (head: H) => void;
  #checkedHeads = 0;
  #problem: LogProblem | null = null;

  /**
   * A relay's log (its tree heads signed by the relay key, or by the key of its timeline current at
   * each head's timestamp), or any log with its own head check.
   */
  constructor(
    expected:
      { log: 'audit' | 'key'; relay: string; relayKey: Uint8Array | RelayKeyTimeline } | ((head: H) => void),
  ) {
    this.#checkHead =
      typeof expected === 'function'
        ? expected
        : (head: H) => verifyTreeHead(head as unknown as SignedTreeHead, expected);
  }

  get size(): number {
    return this.#range.size;
  }

  get checkedHeads(): number {
    return this.#checkedHeads;
  }

  /** The first problem found, or null while everything checks. */
  get problem(): LogProblem | null {
    return this.#problem;
  }

  /** Adds a signed head to check when the entries reach its size; a bad signature fails at once. */
  addHead(head: H): void {
    if (this.#problem) return;
    try {
      this.#checkHead(head);
    } catch (err) {
      this.fail(head.size, err instanceof EntraideError ? err.message : 'a tree head does not verify');
      return;
    }
    if (head.size < this.#range.size) {
      this.fail(
        head.size,
        `the head of size ${head.size} came after entry ${this.#range.size - 1}: give heads first`,
      );
      return;
    }
    const same = this.#heads.get(head.size) ?? [];
    const other = same.find((h) => h.root !== head.root);
    if (other) {
      this.fail(
        head.size,
        `two heads of size ${head.size} have different roots (${other.root} and ${head.root}): a split view`,
      );
      return;
    }
    same.push(head);
    this.#heads.set(head.size, same);
    if (head.size === 0) this.checkHeadsAt(0);
  }

  /** Adds the next entry's leaf hash; `index` must be the next index. */
  addLeafHash(index: number, hash: Uint8Array): void {
    if (this.#problem) return;
    if (index !== this.#range.size) {
      this.fail(this.#range.size, `entry ${index} came where entry ${this.#range.size} was expected`);
      return;
    }
    this.#range.append(hash);
    this.checkHeadsAt(this.#range.size);
  }

  /** Ends the stream: every head must have been reached. */
  finish(): LogProblem | null {
    if (!this.#problem) {
      const beyond = [...this.#heads.keys()].filter((s) => s > this.#range.size).sort((a, b) => a - b);
      if (beyond.length > 0) {
        this.fail(
          this.#matchedSize,
          `a head was signed for size ${beyond[0]}, but the log ends after ${this.#range.size} entries: its tail was cut off, or entries are missing after index ${this.#matchedSize}`,
        );
      }
    }
    return this.#problem;
  }

  private checkHeadsAt(size: number): void {
    const heads = this.#heads.get(size);
    if (!heads) return;
    const root = this.#range.root();
    for (const h of heads) {
      if (!sameHash(fromBase64url(h.root, 'head root', 32), root)) {
        // Everything up to the last matching head is proven; the bad entry is at or after it.
        this.fail(
          this.#matchedSize,
          `the entries ${this.#matchedSize}..${size - 1} do not lead to the root signed for size ${size} (they hash to ${toBase64url(root)}, the head says ${h.root})`,
        );
        this.#failedHead ??= h;
        return;
      }
      this.#checkedHeads++;
    }
    this.#matchedSize = size;
    this.#matchedRange = this.#range.clone();
    this.#heads.delete(size);
  }

  /** The compact range of the entries up to the last head they matched (O(log n) hashes). */
  #matchedRange = CompactRange.empty();
  #failedHead: H | null = null;

  /**
   * When the entries after the last matched head missed the next head's root: that head, and the
   * range at the last match, from which a caller can find the first entry that differs.
   */
  get mismatch(): { head: H; from: number; range: CompactRange } | null {
    return this.#failedHead
      ? { head: this.#failedHead, from: this.#matchedSize, range: this.#matchedRange.clone() }
      : null;
  }

  /** The size of the last head the entries matched: every entry before it is proven. */
  #matchedSize = 0;

  get provenSize(): number {
    return this.#matchedSize;
  }

  private fail(index: number, message: string): void {
    this.#problem ??= { index, message };
  }
}
