/**
 * The SQL migrations (applied by prisma/migrate.ts) must produce exactly the tables, columns,
 * nullability, keys and indexes that the Prisma schemas describe. `prisma migrate` cannot run on
 * this machine, so this test reads the .prisma files with a small reference parser and compares
 * them with what SQLite reports after migrating an empty database.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listMigrations, migrate, type MigrationSet } from '../../prisma/migrate.ts';
import { tempDir } from '../support/fixtures.ts';
import { ROOT } from '../support/processes.ts';

const SQLITE_TYPE: Record<string, string> = {
  String: 'TEXT',
  Int: 'INTEGER',
  BigInt: 'BIGINT',
  Boolean: 'BOOLEAN',
  DateTime: 'DATETIME',
  Float: 'REAL',
  Bytes: 'BLOB',
};

interface Column {
  type: string;
  notnull: boolean;
  pk: boolean;
}
interface Table {
  columns: Record<string, Column>;
  indexes: string[]; // "unique:a,b" or "index:a,b"
}

/** Reads models from a .prisma file: scalar fields, ids, @@unique and @@index. */
function prismaTables(file: string): Record<string, Table> {
  const text = readFileSync(file, 'utf8');
  const tables: Record<string, Table> = {};
  for (const m of text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const columns: Record<string, Column> = {};
    const indexes: string[] = [];
    const primary: string[] = [];
    for (const raw of m[2]!.split('\n')) {
      const line = raw.replace(/\/\/.*$/, '').trim();
      if (!line) continue;
      const compositeId = /^@@id\(\[([^\]]+)\]/.exec(line);
      if (compositeId) {
        for (const name of compositeId[1]!.split(',').map((s) => s.trim())) primary.push(name);
        continue;
      }
      const block = /^@@(unique|index)\(\[([^\]]+)\]/.exec(line);
      if (block) {
        indexes.push(
          `${block[1] === 'unique' ? 'unique' : 'index'}:${block[2]!
            .split(',')
            .map((s) => s.trim())
            .join(',')}`,
        );
        continue;
      }
      const field = /^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
      if (!field || !(field[2]! in SQLITE_TYPE) || field[3]) continue; // relations and lists are not columns
      const attrs = field[5]!;
      columns[field[1]!] = { type: SQLITE_TYPE[field[2]!]!, notnull: !field[4], pk: attrs.includes('@id') };
      if (attrs.includes('@unique')) indexes.push(`unique:${field[1]!}`);
    }
    for (const name of primary) if (columns[name]) columns[name].pk = true;
    tables[m[1]!] = { columns, indexes: indexes.sort() };
  }
  return tables;
}

function sqliteTables(db: Database.Database): Record<string, Table> {
  const names = (
    db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_%' ESCAPE '\\'`,
      )
      .all() as { name: string }[]
  ).map((r) => r.name);
  const tables: Record<string, Table> = {};
  for (const name of names) {
    const columns: Record<string, Column> = {};
    for (const c of db.prepare(`PRAGMA table_info("${name}")`).all() as {
      name: string;
      type: string;
      notnull: number;
      pk: number;
    }[]) {
      columns[c.name] = { type: c.type, notnull: c.notnull === 1 || c.pk > 0, pk: c.pk > 0 };
    }
    const indexes: string[] = [];
    for (const i of db.prepare(`PRAGMA index_list("${name}")`).all() as {
      name: string;
      unique: number;
      origin: string;
    }[]) {
      if (i.origin === 'pk') continue;
      const cols = (db.prepare(`PRAGMA index_info("${i.name}")`).all() as { name: string }[]).map(
        (c) => c.name,
      );
      indexes.push(`${i.unique ? 'unique' : 'index'}:${cols.join(',')}`);
    }
    tables[name] = { columns, indexes: indexes.sort() };
  }
  return tables;
}

describe.each<MigrationSet>(['relay', 'node'])('%s database', (set) => {
  it('the applied migrations match the Prisma schema', () => {
    const db = new Database(join(tempDir(), `${set}.db`));
    try {
      expect(migrate(db, set)).toEqual(listMigrations(set).map((m) => m.name));
      const expected = prismaTables(join(ROOT, 'prisma', `${set}.prisma`));
      expect(Object.keys(expected).length).toBeGreaterThan(0);
      expect(sqliteTables(db)).toEqual(expected);
    } finally {
      db.close();
    }
  });

  it('applies each migration once and refuses an edited one', () => {
    const db = new Database(join(tempDir(), `${set}.db`));
    try {
      migrate(db, set);
      expect(migrate(db, set)).toEqual([]);
      db.prepare(`UPDATE "_entraide_migrations" SET checksum = 'edited' WHERE name = ?`).run(
        listMigrations(set)[0]!.name,
      );
      expect(() => migrate(db, set)).toThrow(/changed after it was applied/);
    } finally {
      db.close();
    }
  });
});
