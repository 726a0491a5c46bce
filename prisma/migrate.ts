/**
 * Applies the hand-written SQL migrations under prisma/migrations/<set>/ in name order, each in
 * its own transaction, and records what it applied (name and SHA-256 of the SQL) in
 * `_entraide_migrations`. A recorded migration whose file changed afterwards stops start-up:
 * a database must never drift silently from the schema the code expects.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

export type MigrationSet = 'relay' | 'node';

function migrationsRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From source (prisma/) and from the build (dist/prisma/).
  for (const candidate of [join(here, 'migrations'), join(here, '..', '..', 'prisma', 'migrations')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`SQL migrations not found next to ${here}`);
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function listMigrations(set: MigrationSet): Migration[] {
  const dir = join(migrationsRoot(), set);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Applies what is missing; returns the names applied now. */
export function migrate(
  db: Database.Database,
  set: MigrationSet,
  now: () => Date = () => new Date(),
): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS "_entraide_migrations" (
    "name" TEXT NOT NULL PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`);
  const applied = new Map<string, string>(
    (
      db.prepare('SELECT name, checksum FROM "_entraide_migrations"').all() as {
        name: string;
        checksum: string;
      }[]
    ).map((r) => [r.name, r.checksum]),
  );
  const done: string[] = [];
  for (const m of listMigrations(set)) {
    const recorded = applied.get(m.name);
    if (recorded !== undefined) {
      if (recorded !== m.checksum) {
        throw new Error(`migration ${set}/${m.name} was changed after it was applied to this database`);
      }
      continue;
    }
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO "_entraide_migrations" (name, checksum, appliedAt) VALUES (?, ?, ?)').run(
        m.name,
        m.checksum,
        now().toISOString(),
      );
    })();
    done.push(m.name);
  }
  return done;
}
