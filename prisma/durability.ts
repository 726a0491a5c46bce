/**
 * Every connection to an entraide database commits durably: journal_mode=WAL and synchronous=FULL,
 * set and then read back, because SQLite may silently keep another mode (an in-memory or read-only
 * database, a file system without shared memory, a journal mode that cannot change just now), and
 * a commit acknowledged under synchronous=NORMAL can be lost with the power. A connection that does
 * not read them back is refused: the relay or the node does not start on it.
 *
 * Both the better-sqlite3 connection of the hot path (openDatabase) and the connection the Prisma
 * adapter opens for itself (DurableBetterSqlite3) go through the same check.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type Database from 'better-sqlite3';
import { EntraideError } from '../shared/errors.ts';

/** What a durable connection reads back. synchronous=FULL is 2. */
export const DURABLE = { journalMode: 'wal', synchronous: 2 } as const;

export const DURABLE_PRAGMAS = 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;';

/** The two values as a connection reports them. */
export interface Durability {
  journalMode: unknown;
  synchronous: unknown;
}

/**
 * Refuses, with STORAGE_NOT_DURABLE, a connection whose journal mode or synchronous level read
 * back differs from WAL and FULL. `what` names the database and the connection for the operator.
 */
export function checkDurability(read: Durability, what: string): void {
  const wrong: string[] = [];
  const mode = typeof read.journalMode === 'string' ? read.journalMode.toLowerCase() : read.journalMode;
  if (mode !== DURABLE.journalMode) wrong.push(`journal_mode is ${String(read.journalMode)}, not wal`);
  if (Number(read.synchronous) !== DURABLE.synchronous)
    wrong.push(`synchronous is ${String(read.synchronous)}, not FULL (2)`);
  if (wrong.length > 0) throw new EntraideError('STORAGE_NOT_DURABLE', `${what}: ${wrong.join('; ')}`);
}

/** Sets WAL and FULL on a better-sqlite3 connection and refuses it unless they read back. */
export function makeDurable(db: Database.Database, what: string): void {
  db.exec(DURABLE_PRAGMAS);
  checkDurability(
    {
      journalMode: db.pragma('journal_mode', { simple: true }),
      synchronous: db.pragma('synchronous', { simple: true }),
    },
    what,
  );
}

type PrismaConnection = Awaited<ReturnType<PrismaBetterSqlite3['connect']>>;

async function readPragma(connection: PrismaConnection, name: string): Promise<unknown> {
  const result = await connection.queryRaw({ sql: `PRAGMA ${name}`, args: [], argTypes: [] });
  return result.rows[0]?.[0];
}

/**
 * The Prisma adapter for better-sqlite3, whose every connection is made durable and checked before
 * Prisma uses it. Prisma wraps an error thrown while connecting in one of its own, so the refusal
 * is also kept in `refusal` for the storage module to throw as it is.
 */
export class DurableBetterSqlite3 extends PrismaBetterSqlite3 {
  refusal: EntraideError | undefined;

  /** `busyTimeoutMs`: how long one statement waits for a lock another connection holds. */
  constructor(
    private readonly file: string,
    busyTimeoutMs: number,
  ) {
    super({ url: `file:${file}`, timeout: busyTimeoutMs });
  }

  override async connect(): Promise<PrismaConnection> {
    const connection = await super.connect();
    try {
      await connection.executeScript(DURABLE_PRAGMAS);
      checkDurability(
        {
          journalMode: await readPragma(connection, 'journal_mode'),
          synchronous: await readPragma(connection, 'synchronous'),
        },
        `database ${this.file} (Prisma connection)`,
      );
    } catch (err) {
      await connection.dispose();
      if (err instanceof EntraideError) this.refusal = err;
      throw err;
    }
    return connection;
  }
}
