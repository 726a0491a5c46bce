/**
 * Opens an entraide SQLite database the way both the relay and the node need it: WAL, durable
 * commits (synchronous=FULL: a commit survives power loss before it is acknowledged), both read
 * back (prisma/durability.ts), foreign keys on, a busy timeout so the Prisma connection and the
 * fast-path connection can share the file, migrations applied.
 */
import Database from 'better-sqlite3';
import { makeDurable } from './durability.ts';
import { migrate, type MigrationSet } from './migrate.ts';

/** How long a statement waits for a lock when blocking the event loop does not matter (the node, opening, migrations). */
export const BUSY_TIMEOUT_MS = 10_000;

/**
 * How long a statement of a serving relay waits for a lock: SQLite's busy wait blocks the event loop,
 * so a write that finds the lock taken gives up after this and is retried later, off the loop
 * (prisma/storage-faults.ts retryWhileBusy, the group commit's retries).
 */
export const SERVING_BUSY_TIMEOUT_MS = 25;

export interface OpenOptions {
  /** The busy timeout once the database is open and migrated (default BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
}

/** Opens, checks and migrates `file`; throws STORAGE_NOT_DURABLE when WAL or FULL does not read back. */
export function openDatabase(file: string, set: MigrationSet, options: OpenOptions = {}): Database.Database {
  // Opening and migrating may wait for another process as long as it takes: nothing is served yet.
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    makeDurable(db, `database ${file}`);
    db.pragma('foreign_keys = ON');
    // Bounded checkpoints keep the WAL from growing without making every commit pay for one.
    db.pragma('wal_autocheckpoint = 1000');
    migrate(db, set);
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? BUSY_TIMEOUT_MS))}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
