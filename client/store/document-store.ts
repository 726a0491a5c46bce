/**
 * The node's table of documents (migration 0010_documents): one row per file an item carried, its
 * manifest entry sealed at rest (sealed-columns.ts), its transfer state clear. Plain better-sqlite3
 * statements, so that the rows of an item join the transaction that stores it.
 */
import type Database from 'better-sqlite3';
import type { FileEntry } from '../../shared/files/manifest.ts';
import type { SealedColumns } from './sealed-columns.ts';

export type DocumentState = 'sealed' | 'uploaded' | 'pending' | 'held' | 'damaged';

export interface DocumentRow {
  messageId: string;
  blob: string;
  position: number;
  direction: 'out' | 'in';
  entry: FileEntry;
  state: DocumentState;
  error: string | null;
  updatedAt: string;
}

type StoredRow = Omit<DocumentRow, 'entry'> & { entry: string };

export class DocumentStore {
  private readonly stmt;

  constructor(
    db: Database.Database,
    private readonly sealer: SealedColumns,
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO "Document" (messageId, blob, position, direction, entry, state, updatedAt)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      of: db.prepare<[string], StoredRow>('SELECT * FROM "Document" WHERE messageId = ? ORDER BY position'),
      byBlob: db.prepare<[string], StoredRow>('SELECT * FROM "Document" WHERE blob = ? ORDER BY messageId'),
      inState: db.prepare<[string, number], StoredRow>(
        'SELECT * FROM "Document" WHERE state = ? ORDER BY updatedAt LIMIT ?',
      ),
      setState: db.prepare('UPDATE "Document" SET state = ?, error = ?, updatedAt = ? WHERE blob = ?'),
      forget: db.prepare('DELETE FROM "Document" WHERE messageId = ?'),
    };
  }

  /** The rows of an item's documents, synchronous (inside the transaction that stores the item). */
  add(
    messageId: string,
    direction: 'out' | 'in',
    files: readonly FileEntry[],
    state: DocumentState,
    at: string,
  ): void {
    files.forEach((f, i) => {
      const rowId = `${messageId}/${f.blob}`;
      this.stmt.insert.run(
        messageId,
        f.blob,
        i,
        direction,
        this.sealer.seal('Document.entry', rowId, JSON.stringify(f)),
        state,
        at,
      );
    });
  }

  of(messageId: string): DocumentRow[] {
    return this.stmt.of.all(messageId).map((r) => this.open(r));
  }

  byBlob(blob: string): DocumentRow[] {
    return this.stmt.byBlob.all(blob).map((r) => this.open(r));
  }

  inState(state: DocumentState, limit = 1000): DocumentRow[] {
    return this.stmt.inState.all(state, limit).map((r) => this.open(r));
  }

  setState(blob: string, state: DocumentState, at: string, error: string | null = null): void {
    this.stmt.setState.run(state, error, at, blob);
  }

  /** Drops an item's rows (an item refused for good and undone: nothing of it stays). */
  forget(messageId: string): void {
    this.stmt.forget.run(messageId);
  }

  private open(r: StoredRow): DocumentRow {
    return {
      ...r,
      entry: JSON.parse(this.sealer.open('Document.entry', `${r.messageId}/${r.blob}`, r.entry)) as FileEntry,
    };
  }
}
