/**
 * Opens an entraide SQLite database the way both the relay and the node need it: WAL, durable
 * commits (synchronous=FULL: a commit survives power loss before it is acknowledged), foreign
 * keys on, a busy timeout so the Prisma connection and the fast-path connection can share the file,
 * migrations applied.
 */
import Database from 'better-sqlite3';
import { migrate, type MigrationSet } from './migrate.ts';

export const BUSY_TIMEOUT_MS = 10_000;

export function openDatabase(file: string, set: MigrationSet): Database.Database {
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Bounded checkpoints keep the WAL from growing without making every commit pay for one.
  db.pragma('wal_autocheckpoint = 1000');
  migrate(db, set);
  return db;
}
