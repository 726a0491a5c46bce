/**
 * An auditor's copy of a relay's audit log, for browsing: the entries streamed from the relay page by
 * page into a SQLite file in the auditor's folder (audit-<relay>.sqlite, owner only), indexed by
 * time, kind, envelope, error code and the authorities each entry names, so that a table of 10^6
 * entries filters and jumps to any row at once. It holds metadata only, as the log does. It is a
 * copy, not a proof: `verify` streams the log from the relay again and checks it against the signed
 * heads; the copy only grows from where it ends, and starts again when the relay's log is shorter.
 */
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { AuditorClient } from './auditor.ts';

export interface MirrorFilter {
  /** Milliseconds since the epoch, inclusive. */
  from?: number | undefined;
  to?: number | undefined;
  /** An authority address (ke.ag@relay.example): entries naming it as sender, recipient or node. */
  authority?: string | undefined;
  envelope?: string | undefined;
  kind?: string | undefined;
  /** A refusal's error code (the entry's reason). */
  code?: string | undefined;
}

export interface MirrorPage {
  /** Entries matching the filter in the copy. */
  total: number;
  /** Entries in the copy. */
  size: number;
  offset: number;
  entries: AuditEvent[];
}

/** Rows a page of the table asks for at most. */
export const MIRROR_PAGE_MAX = 500;

const authorityOf = (node: string | undefined) => (node ? node.slice(node.indexOf('/') + 1) : undefined);

export class AuditMirror {
  private constructor(private readonly db: Database.Database) {}

  static open(home: string, domain: string): AuditMirror {
    const file = join(home, `audit-${domain}.sqlite`);
    const fresh = !existsSync(file);
    const db = new Database(file);
    if (fresh) chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    // A copy that can be fetched again: a crash costs a re-download, never a wrong answer.
    db.pragma('synchronous = NORMAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS entry (
        seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,
        envelope TEXT, code TEXT, leaf TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS entry_at ON entry (at);
      CREATE INDEX IF NOT EXISTS entry_kind ON entry (kind, seq);
      CREATE INDEX IF NOT EXISTS entry_envelope ON entry (envelope, seq);
      CREATE INDEX IF NOT EXISTS entry_code ON entry (code, seq);
      CREATE TABLE IF NOT EXISTS party (
        authority TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (authority, seq)) WITHOUT ROWID;`);
    return new AuditMirror(db);
  }

  /** Entries held: the copy holds indexes 0 to size - 1. */
  get size(): number {
    const r = this.db.prepare('SELECT max(seq) AS m FROM entry').get() as { m: number | null };
    return r.m === null ? 0 : r.m + 1;
  }

  /**
   * Brings the copy up to the relay's current head, page by page; `onProgress` hears of each page.
   * A relay whose log is now shorter than the copy (or a copy from another log) starts it over.
   */
  async sync(
    client: AuditorClient,
    onProgress: (held: number, total: number) => void = () => undefined,
    signal?: AbortSignal,
  ): Promise<number> {
    const head = await client.head();
    if (head.size < this.size) this.db.exec('DELETE FROM entry; DELETE FROM party;');
    const insert = this.db.prepare(
      'INSERT OR REPLACE INTO entry (seq, at, kind, envelope, code, leaf) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const party = this.db.prepare('INSERT OR IGNORE INTO party (authority, seq) VALUES (?, ?)');
    const store = this.db.transaction((rows: { index: number; leaf: string }[]) => {
      for (const { index, leaf } of rows) {
        const e = JSON.parse(leaf) as AuditEvent;
        insert.run(index, Date.parse(e.at), e.kind, e.envelope ?? null, e.reason ?? null, leaf);
        const named = new Set([authorityOf(e.sender), authorityOf(e.node), ...(e.recipients ?? [])]);
        for (const a of named) if (a) party.run(a, index);
      }
    });
    let batch: { index: number; leaf: string }[] = [];
    let held = this.size;
    for await (const e of client.entries(held, head.size)) {
      batch.push(e);
      if (batch.length < 5_000) continue;
      if (signal?.aborted) break;
      store(batch);
      held = e.index + 1;
      batch = [];
      onProgress(held, head.size);
    }
    if (batch.length && !signal?.aborted) {
      store(batch);
      held = batch.at(-1)!.index + 1;
    }
    onProgress(held, head.size);
    return head.size;
  }

  /** A page of the entries that match `f`, in log order, from the `offset`-th match. */
  page(f: MirrorFilter, offset: number, limit: number): MirrorPage {
    if (limit > MIRROR_PAGE_MAX)
      throw new EntraideError('SCHEMA_INVALID', `a page holds at most ${MIRROR_PAGE_MAX} entries`);
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined || value === '') return;
      where.push(clause);
      args.push(value);
    };
    add('at >= ?', f.from);
    add('at <= ?', f.to);
    add('kind = ?', f.kind);
    add('envelope = ?', f.envelope);
    add('code = ?', f.code);
    add('seq IN (SELECT seq FROM party WHERE authority = ?)', f.authority);
    const size = this.size;
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // Without a filter the copy is dense: the n-th entry is entry n.
    const total = where.length
      ? (this.db.prepare(`SELECT count(*) AS n FROM entry ${clause}`).get(...args) as { n: number }).n
      : size;
    const rows = (
      where.length
        ? this.db
            .prepare(`SELECT leaf FROM entry ${clause} ORDER BY seq LIMIT ? OFFSET ?`)
            .all(...args, limit, offset)
        : this.db.prepare('SELECT leaf FROM entry WHERE seq >= ? ORDER BY seq LIMIT ?').all(offset, limit)
    ) as { leaf: string }[];
    return { total, size, offset, entries: rows.map((r) => JSON.parse(r.leaf) as AuditEvent) };
  }

  close(): void {
    this.db.close();
  }
}
