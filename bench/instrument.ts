/**
 * Timing around the storage steps, from outside the product code: wraps a better-sqlite3
 * connection's `transaction()` so that every outermost transaction (its statements and its
 * COMMIT, i.e. the fsync) is timed in wall-clock and CPU time, and classified by what it writes.
 * better-sqlite3 is synchronous: the wall time of a commit is time the event loop is blocked.
 */
import type Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';

export interface CommitKindStats {
  commits: number;
  wallMs: number;
  /** NaN when only wall time was taken (process.cpuUsage costs ~30 µs a call here: too much per message). */
  cpuMs: number;
  maxWallMs: number;
  /** Commits that held the event loop longer than 5 ms and 20 ms (checkpoints, slow flushes). */
  over5ms: number;
  over20ms: number;
}

export class CommitStats {
  private kinds = new Map<string, CommitKindStats>();
  /** Items handed to the store (envelopes accepted, deliveries marked, messages saved, …). */
  private items = new Map<string, number>();
  private markWall = performance.now();

  add(kind: string, wallMs: number, cpuMs: number): void {
    let k = this.kinds.get(kind);
    if (!k)
      this.kinds.set(kind, (k = { commits: 0, wallMs: 0, cpuMs: 0, maxWallMs: 0, over5ms: 0, over20ms: 0 }));
    k.commits++;
    k.wallMs += wallMs;
    k.cpuMs += cpuMs;
    k.maxWallMs = Math.max(k.maxWallMs, wallMs);
    if (wallMs > 5) k.over5ms++;
    if (wallMs > 20) k.over20ms++;
  }

  item(kind: string, n = 1): void {
    this.items.set(kind, (this.items.get(kind) ?? 0) + n);
  }

  /** Totals since the previous snapshot; resets. */
  snapshot(): {
    periodMs: number;
    kinds: Record<
      string,
      Omit<CommitKindStats, 'cpuMs'> & { cpuMs: number | null; offCpuMs: number | null; blockedShare: number }
    >;
    items: Record<string, number>;
  } {
    const periodMs = performance.now() - this.markWall;
    const kinds = Object.fromEntries(
      [...this.kinds.entries()].map(([name, k]) => [
        name,
        {
          ...k,
          cpuMs: Number.isNaN(k.cpuMs) ? null : k.cpuMs,
          offCpuMs: Number.isNaN(k.cpuMs) ? null : Math.max(0, k.wallMs - k.cpuMs),
          blockedShare: k.wallMs / periodMs,
        },
      ]),
    );
    const items = Object.fromEntries(this.items);
    this.kinds = new Map();
    this.items = new Map();
    this.markWall = performance.now();
    return { periodMs, kinds, items };
  }
}

type TxFn = Parameters<Database.Database['transaction']>[0];

/** Names a transaction by the statements its function runs (compiled source of the product). */
function classify(fn: TxFn): string {
  const src = fn.toString();
  if (src.includes('insertOne')) return 'accept';
  if (src.includes('markDelivered')) return 'delivered';
  if (src.includes('stmt.insert')) return 'save';
  if (src.includes('expire')) return 'expire';
  // Federation: the outbox recording a batch the peer answered, delivery reports sent, reports received.
  if (src.includes('outboxForwarded')) return 'forward';
  if (src.includes('reportSent')) return 'reports';
  if (src.includes('remoteDelivered')) return 'remote-delivered';
  return 'other';
}

export function instrumentTransactions(db: Database.Database, stats: CommitStats): void {
  const original = db.transaction.bind(db);
  let depth = 0;
  const patched = <F extends TxFn>(fn: F): Database.Transaction<F> => {
    const tx = original(fn);
    const kind = classify(fn);
    const timed = (...args: Parameters<typeof tx>): ReturnType<F> => {
      if (depth > 0) return tx(...args);
      depth++;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      try {
        return tx(...args);
      } finally {
        const c = process.cpuUsage(c0);
        stats.add(kind, performance.now() - t0, (c.user + c.system) / 1000);
        depth--;
      }
    };
    return Object.assign(timed, {
      default: tx.default,
      deferred: tx.deferred,
      immediate: tx.immediate,
      exclusive: tx.exclusive,
    });
  };
  db.transaction = patched;
}

/** Times every call of a synchronous method (e.g. an autocommit UPDATE) as a commit of `kind`; wall time only. */
export function instrumentSyncMethod<T extends object, K extends keyof T>(
  obj: T,
  name: K,
  kind: string,
  stats: CommitStats,
): void {
  const original = obj[name];
  if (typeof original !== 'function') throw new Error(`${String(name)} is not a method`);
  const fn = original as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]): unknown => {
    const t0 = performance.now();
    try {
      return fn.apply(obj, args);
    } finally {
      stats.add(kind, performance.now() - t0, Number.NaN);
    }
  };
  obj[name] = wrapped as T[K];
}

/**
 * Counts the items handed to a method (how many envelopes a batch carried): one a call, or
 * `size(args)` when one call carries several.
 */
export function countCalls<T extends object, K extends keyof T>(
  obj: T,
  name: K,
  kind: string,
  stats: CommitStats,
  size: (args: unknown[]) => number = () => 1,
): void {
  const original = obj[name];
  if (typeof original !== 'function') throw new Error(`${String(name)} is not a method`);
  const fn = original as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]): unknown => {
    stats.item(kind, size(args));
    return fn.apply(obj, args);
  };
  obj[name] = wrapped as T[K];
}
