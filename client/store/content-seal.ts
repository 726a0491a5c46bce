/**
 * Brings a node's database under its database key when it opens: a database from before content
 * was sealed (no ContentSeal row) has its content columns sealed in place, every row and the mark
 * in one transaction, so that it is either all clear or all sealed; a sealed database is checked
 * against the key at once (its `keyCheck`), so that a keystore that does not belong to this
 * node.db is refused before anything is read or written.
 */
import type Database from 'better-sqlite3';
import { EntraideError } from '../../shared/errors.ts';
import { SealedColumns, type SealedColumn } from './sealed-columns.ts';

const VERSION = 1;
const KEY_CHECK = 'entraide node database content, sealed v1';

/** Each table with sealed columns: the SQL expression of the row id its values are bound to. */
const TABLES: { table: string; rowId: string; columns: string[] }[] = [
  { table: 'Message', rowId: 'id', columns: ['subject', 'body', 'content'] },
  { table: 'Request', rowId: 'id', columns: ['title', 'content'] },
  { table: 'StatusUpdate', rowId: 'hash', columns: ['signed'] },
  { table: 'Meeting', rowId: 'uid', columns: ['state'] },
  { table: 'Roster', rowId: `network || '/' || version`, columns: ['signed'] },
  { table: 'HandlingOverride', rowId: 'CAST(id AS TEXT)', columns: ['reason'] },
];

/** The row id a roster version's values are bound to (the same as TABLES says). */
export function rosterRowId(network: string, version: number): string {
  return `${network}/${version}`;
}

/**
 * Checks the key against a sealed database, or seals a clear one in place; returns the number of
 * values sealed now. STORE_CORRUPT when the key does not open the database's key check.
 */
export function sealContent(db: Database.Database, sealer: SealedColumns, now = new Date()): number {
  const mark = db
    .prepare<[number], { keyCheck: string }>('SELECT keyCheck FROM "ContentSeal" WHERE version = ?')
    .get(VERSION);
  if (mark) {
    try {
      sealer.open('ContentSeal.keyCheck', String(VERSION), mark.keyCheck);
    } catch {
      throw new EntraideError(
        'STORE_CORRUPT',
        'node.db: the database key of this node’s keystore does not open its content (the keystore and node.db do not belong together, or ContentSeal was damaged)',
      );
    }
    return 0;
  }
  return db.transaction(() => {
    let sealed = 0;
    for (const { table, rowId, columns } of TABLES) {
      const rows = db
        .prepare<[], Record<string, string | null> & { _rowid: number; _id: string }>(
          `SELECT rowid AS _rowid, ${rowId} AS _id, ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}"`,
        )
        .all();
      const update = db.prepare(
        `UPDATE "${table}" SET ${columns.map((c) => `"${c}" = ?`).join(', ')} WHERE rowid = ?`,
      );
      for (const row of rows) {
        const values = columns.map((c) => {
          const clear = row[c] ?? null;
          if (clear === null) return null;
          sealed++;
          return sealer.seal(`${table}.${c}` as SealedColumn, row._id, clear);
        });
        update.run(...values, row._rowid);
      }
    }
    db.prepare('INSERT INTO "ContentSeal" (version, keyCheck, sealedAt) VALUES (?, ?, ?)').run(
      VERSION,
      sealer.seal('ContentSeal.keyCheck', String(VERSION), KEY_CHECK),
      now.toISOString(),
    );
    return sealed;
  })();
}
