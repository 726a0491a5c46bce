/**
 * An append-only Merkle log on disk (RFC 9162), used by the relay's audit log and by each node's
 * own record: one row per entry (its canonical leaf) and one row per perfect subtree hash (level 0
 * = leaf hashes), so that an append writes O(log n) rows at most (two on average) and a proof
 * reads O(log n) rows, without ever loading the tree. The right edge of the tree (the covering
 * subtrees of [0, size)) stays in memory.
 *
 * Appends are synchronous and must run inside the caller's transaction, so that an event and its
 * entry are committed together; `transaction` restores the in-memory edge if it aborts.
 */
import type Database from 'better-sqlite3';
import { fromUtf8 } from '../shared/bytes.ts';
import { emptyRoot, nodeHash } from '../shared/merkle/hash.ts';
import { leafHashOf } from './sha256.ts';
import {
  buildProof,
  consistencyPlan,
  coveringNodes,
  foldRight,
  inclusionPlan,
  type NodeId,
} from '../shared/merkle/plan.ts';

/** The three tables of a log: entries (seq, at, kind, envelopeId, leaf), nodes, signed heads. */
export interface LogTables {
  entries: string;
  nodes: string;
  heads: string;
}

interface EdgeNode {
  level: number;
  hash: Uint8Array;
}

export interface LogEntryRow {
  seq: number;
  leaf: string;
}

export class MerkleLog {
  private readonly s;
  #size: number;
  #edge: EdgeNode[];
  constructor(
    private readonly db: Database.Database,
    t: LogTables,
    private readonly what = t.entries,
  ) {
    this.s = {
      insertEntry: db.prepare(
        `INSERT INTO "${t.entries}" (seq, at, kind, envelopeId, leaf) VALUES (?, ?, ?, ?, ?)`,
      ),
      insertNode: db.prepare(`INSERT INTO "${t.nodes}" (level, idx, hash) VALUES (?, ?, ?)`),
      node: db.prepare<[number, number], { hash: Buffer }>(
        `SELECT hash FROM "${t.nodes}" WHERE level = ? AND idx = ?`,
      ),
      size: db.prepare<[], { n: number | null }>(`SELECT max(seq) + 1 AS n FROM "${t.entries}"`),
      entries: db.prepare<[number, number], LogEntryRow>(
        `SELECT seq, leaf FROM "${t.entries}" WHERE seq >= ? ORDER BY seq LIMIT ?`,
      ),
      byEnvelope: db.prepare<[string], LogEntryRow>(
        `SELECT seq, leaf FROM "${t.entries}" WHERE envelopeId = ? ORDER BY seq`,
      ),
      insertHead: db.prepare(`INSERT OR IGNORE INTO "${t.heads}" (size, head, signedAt) VALUES (?, ?, ?)`),
      latestHead: db.prepare<[], { size: number; head: string }>(
        `SELECT size, head FROM "${t.heads}" ORDER BY size DESC LIMIT 1`,
      ),
      heads: db.prepare<[], { size: number; head: string }>(
        `SELECT size, head FROM "${t.heads}" ORDER BY size`,
      ),
      headsAfter: db.prepare<[number, number], { size: number; head: string }>(
        `SELECT size, head FROM "${t.heads}" WHERE size > ? ORDER BY size LIMIT ?`,
      ),
    };
    this.#size = this.s.size.get()?.n ?? 0;
    // The right edge: the covering perfect subtrees of [0, size), read once.
    this.#edge = coveringNodes(0, this.#size).map((id) => ({ level: id.level, hash: this.node(id) }));
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Appends one entry (its index must be `size`, its leaf the canonical JSON that embeds it);
   * synchronous, inside the caller's transaction. Returns its index.
   */
  appendLeaf(leaf: Uint8Array, meta: { at: string; kind: string; envelopeId: string | null }): number {
    const seq = this.#size;
    this.s.insertEntry.run(seq, meta.at, meta.kind, meta.envelopeId, fromUtf8(leaf));
    let hash = leafHashOf(leaf);
    this.s.insertNode.run(0, seq, hash);
    let level = 0;
    let index = seq;
    // Each completed pair of equal subtrees on the right edge becomes a stored parent.
    while (this.#edge.length > 0 && this.#edge[this.#edge.length - 1]!.level === level) {
      const left = this.#edge.pop()!;
      hash = nodeHash(left.hash, hash);
      level++;
      index = Math.floor(index / 2);
      this.s.insertNode.run(level, index, hash);
    }
    this.#edge.push({ level, hash });
    this.#size = seq + 1;
    return seq;
  }

  /** The in-memory state to restore if the transaction that appended aborts. */
  mark(): { size: number; edge: EdgeNode[] } {
    return { size: this.#size, edge: [...this.#edge] };
  }

  reset(mark: { size: number; edge: EdgeNode[] }): void {
    this.#size = mark.size;
    this.#edge = mark.edge;
  }

  /**
   * Runs `fn` in a transaction; if it aborts, the in-memory edge goes back to where it was. The
   * transaction is IMMEDIATE: it takes the write lock first (or fails at once with BUSY, before any
   * work), rather than read first and find at its first write that another connection wrote since.
   */
  transaction<T>(fn: () => T): T {
    const mark = this.mark();
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      this.reset(mark);
      throw err;
    }
  }

  protected node(id: NodeId): Uint8Array {
    const row = this.s.node.get(id.level, id.index);
    if (!row) throw new Error(`node (${id.level}, ${id.index}) is missing from ${this.what}`);
    return new Uint8Array(row.hash);
  }

  /** The root of the first `size` entries (the current size by default). */
  root(size = this.#size): Uint8Array {
    if (size === 0) return emptyRoot();
    if (size === this.#size) return foldRight(this.#edge.map((e) => e.hash));
    return foldRight(coveringNodes(0, size).map((id) => this.node(id)));
  }

  inclusionProof(index: number, size: number): Uint8Array[] {
    return buildProof(inclusionPlan(index, size), (id) => this.node(id));
  }

  consistencyProof(size1: number, size2: number): Uint8Array[] {
    return buildProof(consistencyPlan(size1, size2), (id) => this.node(id));
  }

  entries(from: number, limit: number): LogEntryRow[] {
    return this.s.entries.all(from, limit);
  }

  entriesFor(envelopeId: string): LogEntryRow[] {
    return this.s.byEnvelope.all(envelopeId);
  }

  saveHead(size: number, head: string, at: Date): void {
    this.s.insertHead.run(size, head, at.toISOString());
  }

  latestHead(): { size: number; head: string } | undefined {
    return this.s.latestHead.get();
  }

  heads(): { size: number; head: string }[] {
    return this.s.heads.all();
  }

  /** At most `limit` heads of sizes above `afterSize`, smallest first: one page. */
  headsAfter(afterSize: number, limit: number): { size: number; head: string }[] {
    return this.s.headsAfter.all(afterSize, limit);
  }
}
