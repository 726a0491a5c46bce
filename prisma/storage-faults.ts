/**
 * Storage faults: the SQLite errors that say nothing about the request and everything about the
 * database just now — another writer holds the lock (BUSY, LOCKED), the disk is full (FULL), the
 * disk failed (IOERR). They are answered 503 STORAGE_UNAVAILABLE with Retry-After, never 500.
 *
 * They arrive in three shapes: better-sqlite3's SqliteError (`code: 'SQLITE_BUSY_SNAPSHOT'`), the
 * Prisma adapter's DriverAdapterError (`cause.originalCode`, or `cause.kind: 'SocketTimeout'` for
 * BUSY), and Prisma's PrismaClientKnownRequestError wrapping the latter (`meta.driverAdapterError`,
 * code P1008 for BUSY, P2039 for the others). Recognised by their fields, never by message text.
 */
import { EntraideError } from '../shared/errors.ts';

export type StorageFault = 'busy' | 'full' | 'io';

/** SQLite's primary result codes (the low byte of an extended code) that are storage faults. */
const PRIMARY: Record<number, StorageFault> = { 5: 'busy', 6: 'busy', 13: 'full', 10: 'io', 15: 'busy' };

/** Extended code names, by prefix: SQLITE_BUSY_SNAPSHOT is a BUSY, SQLITE_IOERR_WRITE an IOERR. */
const BY_NAME: [prefix: string, fault: StorageFault][] = [
  ['SQLITE_BUSY', 'busy'],
  ['SQLITE_LOCKED', 'busy'],
  // WAL's lock protocol lost a race with another connection: SQLite says to retry.
  ['SQLITE_PROTOCOL', 'busy'],
  ['SQLITE_FULL', 'full'],
  ['SQLITE_IOERR', 'io'],
];

function faultOfCode(code: string): StorageFault | undefined {
  for (const [prefix, fault] of BY_NAME) if (code === prefix || code.startsWith(`${prefix}_`)) return fault;
  // better-sqlite3 names the codes it does not know UNKNOWN_SQLITE_ERROR_<extended code>.
  const unknown = /^UNKNOWN_SQLITE_ERROR_(\d+)$/.exec(code);
  return unknown ? PRIMARY[Number(unknown[1]) & 0xff] : undefined;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** The storage fault `err` stands for, or undefined when it is anything else. */
export function storageFaultOf(err: unknown, depth = 0): StorageFault | undefined {
  if (depth > 4 || typeof err !== 'object' || err === null) return undefined;
  const code = field(err, 'code');
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return faultOfCode(code);
  if (typeof code === 'string' && code.startsWith('UNKNOWN_SQLITE_ERROR_')) return faultOfCode(code);
  // The Prisma adapter's DriverAdapterError: the driver's code, or BUSY mapped to SocketTimeout.
  if (field(err, 'name') === 'DriverAdapterError') {
    const cause = field(err, 'cause');
    const original = field(cause, 'originalCode');
    if (typeof original === 'string') return faultOfCode(original);
    return field(cause, 'kind') === 'SocketTimeout' ? 'busy' : undefined;
  }
  // Prisma's known request error keeps the adapter's error in meta.
  const wrapped = field(field(err, 'meta'), 'driverAdapterError');
  if (wrapped !== undefined) return storageFaultOf(wrapped, depth + 1);
  if (code === 'P1008') return 'busy'; // "Operations timed out": only the adapter's BUSY gives it
  return storageFaultOf(field(err, 'cause'), depth + 1);
}

/** Seconds after which a retry may succeed, by fault: a lock passes quickly, a full disk does not. */
export const RETRY_AFTER_SECONDS: Record<StorageFault, number> = { busy: 2, full: 30, io: 10 };

const MESSAGES: Record<StorageFault, string> = {
  busy: 'the storage is busy (another writer holds it); nothing was stored',
  full: 'the storage is full; nothing was stored',
  io: 'the storage could not be read or written; nothing was stored',
};

/**
 * The wire error for a storage fault: 503 STORAGE_UNAVAILABLE with Retry-After. The message names
 * the kind of fault only, never SQL or a file; the original error stays in `cause` for the logs.
 */
export function storageUnavailable(fault: StorageFault, cause?: unknown): EntraideError {
  const err = new EntraideError('STORAGE_UNAVAILABLE', MESSAGES[fault], {
    retryAfter: RETRY_AFTER_SECONDS[fault],
  });
  if (cause !== undefined) err.cause = cause;
  return err;
}

/** `err` as STORAGE_UNAVAILABLE when it is a storage fault, unchanged otherwise. */
export function asStorageError(err: unknown): unknown {
  if (err instanceof EntraideError) return err;
  const fault = storageFaultOf(err);
  return fault ? storageUnavailable(fault, err) : err;
}

/**
 * How long a write waits for a lock held elsewhere: never on the event loop (the busy timeout of a
 * serving connection is a few tens of ms), but again and again after growing pauses, for
 * `budgetMs` in all; then it is answered 503.
 */
export const BUSY_RETRY = { budgetMs: 1_500, firstDelayMs: 10, maxDelayMs: 200 } as const;

/** The pause before retry number `attempt` (0 for the first retry): doubling, capped. */
export function busyRetryDelay(attempt: number): number {
  return Math.min(BUSY_RETRY.maxDelayMs, BUSY_RETRY.firstDelayMs * 2 ** Math.min(attempt, 16));
}

/**
 * Runs `attempt` until it succeeds, fails with something else than a busy database, or the retry
 * budget is spent; then it throws the last error. Each attempt must be whole (a transaction begun
 * and ended inside it), so that running it again is safe.
 */
export async function retryWhileBusy<T>(attempt: () => Promise<T>): Promise<T> {
  const giveUpAt = performance.now() + BUSY_RETRY.budgetMs;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (storageFaultOf(err) !== 'busy') throw err;
      const delay = busyRetryDelay(n);
      if (performance.now() + delay > giveUpAt) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
