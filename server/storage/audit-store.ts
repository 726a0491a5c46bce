/**
 * The relay's audit log on disk (RFC 9162): one row per entry (its canonical leaf) and one row per
 * perfect subtree hash (`AuditNode`, level 0 = leaf hashes), so that an append writes O(log n)
 * rows at most (two on average) and a proof reads O(log n) rows, without ever loading the tree.
 * The right edge of the tree (the covering subtrees of [0, size)) stays in memory.
 *
 * `append` is synchronous and must run inside the caller's transaction, so that an event and its
 * audit entry are committed together. If that transaction aborts, the caller restores the
 * in-memory edge with `reset(mark())`.
 */
import type Database from 'better-sqlite3';
import { AuditEvent, auditLeaf, type AuditEventKind } from '../../shared/audit/audit-event.ts';
import { fromUtf8 } from '../../shared/bytes.ts';
import { leafHash, nodeHash, emptyRoot } from '../../shared/merkle/hash.ts';
import {
  buildProof,
  consistencyPlan,
  coveringNodes,
  foldRight,
  inclusionPlan,
  type NodeId,
} from '../../shared/merkle/plan.ts';
import { check } from '../../shared/protocol/validate.ts';

/** What a caller says about an event; the store adds the index, the time and the relay. */
export type AuditInput = Omit<AuditEvent, 'v' | 'seq' | 'relay' | 'at' | 'kind'> & {
  kind: AuditEventKind;
  at?: string;
};

interface EdgeNode {
  level: number;
  hash: Uint8Array;
}

export interface AuditEntryRow {
  seq: number;
  leaf: string;
}

export class AuditStore {
  private readonly s;
  #size: number;
  #edge: EdgeNode[];
  #relay = '';

  constructor(private readonly db: Database.Database) {
    this.s = {
      insertEntry: db.prepare(
        'INSERT INTO "AuditEntry" (seq, at, kind, envelopeId, leaf) VALUES (?, ?, ?, ?, ?)',
      ),
      insertNode: db.prepare('INSERT INTO "AuditNode" (level, idx, hash) VALUES (?, ?, ?)'),
      node: db.prepare<[number, number], { hash: Buffer }>(
        'SELECT hash FROM "AuditNode" WHERE level = ? AND idx = ?',
      ),
      size: db.prepare<[], { n: number | null }>('SELECT max(seq) + 1 AS n FROM "AuditEntry"'),
      entries: db.prepare<[number, number], AuditEntryRow>(
        'SELECT seq, leaf FROM "AuditEntry" WHERE seq >= ? ORDER BY seq LIMIT ?',
      ),
      byEnvelope: db.prepare<[string], AuditEntryRow>(
        'SELECT seq, leaf FROM "AuditEntry" WHERE envelopeId = ? ORDER BY seq',
      ),
      insertHead: db.prepare('INSERT OR IGNORE INTO "AuditHead" (size, head, signedAt) VALUES (?, ?, ?)'),
      latestHead: db.prepare<[], { size: number; head: string }>(
        'SELECT size, head FROM "AuditHead" ORDER BY size DESC LIMIT 1',
      ),
      heads: db.prepare<[], { size: number; head: string }>(
        'SELECT size, head FROM "AuditHead" ORDER BY size',
      ),
    };
    this.#size = this.s.size.get()?.n ?? 0;
    // The right edge: the covering perfect subtrees of [0, size), read once.
    this.#edge = coveringNodes(0, this.#size).map((id) => ({ level: id.level, hash: this.node(id) }));
  }

  /** The relay's domain, written into every entry. */
  setRelay(domain: string): void {
    this.#relay = domain;
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one event; synchronous, inside the caller's transaction. Returns its index. */
  append(input: AuditInput, now = new Date()): number {
    const seq = this.#size;
    const event = check(
      AuditEvent,
      { v: 1, seq, relay: this.#relay, ...input, at: input.at ?? now.toISOString() },
      'audit event',
    );
    const leaf = auditLeaf(event);
    this.s.insertEntry.run(seq, event.at, event.kind, event.envelope ?? null, fromUtf8(leaf));
    let hash = leafHash(leaf);
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

  /** Runs `fn` in a transaction; if it aborts, the in-memory edge goes back to where it was. */
  transaction<T>(fn: () => T): T {
    const mark = this.mark();
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      this.reset(mark);
      throw err;
    }
  }

  private node(id: NodeId): Uint8Array {
    const row = this.s.node.get(id.level, id.index);
    if (!row) throw new Error(`audit node (${id.level}, ${id.index}) is missing`);
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

  entries(from: number, limit: number): AuditEntryRow[] {
    return this.s.entries.all(from, limit);
  }

  entriesFor(envelopeId: string): AuditEntryRow[] {
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
}
