/**
 * Group commit: items queued while the event loop turns are written in one durable transaction
 * (one fsync), and only then is each caller answered. A commit has a fixed cost (an fsync: from
 * ~0.3 ms up to several ms on virtual disks) while a row inside a shared transaction costs ~10 µs,
 * so batching is what lets the relay acknowledge thousands of envelopes per second without
 * acknowledging anything it has not committed.
 *
 * Pacing: after a commit that took d ms, the next one waits until d ms have passed (the loop
 * serves sockets meanwhile and the batch grows), so commits take at most about half of the time
 * under load. When traffic is light the gap is already longer than d and a batch is written on
 * the next turn of the loop, without added latency.
 *
 * Lazy items (`{ lazy: true }`) are writes whose loss in a crash is harmless — a delivery
 * acknowledgement (the envelope is delivered again and deduplicated), the time the relay accepted
 * a sent message. They do not cause a commit of their own: they ride with the next one, or are
 * written after `lazyMs` when nothing else comes.
 *
 * Retries (`retry`): a batch whose transaction fails because another connection holds the lock
 * is not answered yet: it is written again after a growing pause (a timer, never a wait on the event
 * loop), together with whatever was queued meanwhile, until each of its items has waited
 * `retry.budgetMs` since its first failure; then those items get the error. A retried batch is the
 * whole transaction again, so nothing is answered that was not committed, and every item of a
 * batch that fails for good is answered with the error.
 */
export interface CommitRetry {
  /** Whether a failure of the whole batch may pass (a busy database). */
  when: (err: unknown) => boolean;
  /** How long an item may wait for a successful commit after its first failure. */
  budgetMs: number;
  /** The pause before retry number `attempt` (0 first). */
  delayMs: (attempt: number) => number;
}

interface Queued<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  /** Set at the item's first failed commit: past it, the item gets the error. */
  giveUpAt?: number;
}

export class GroupCommit<T, R> {
  private queue: Queued<T, R>[] = [];
  private scheduled = false;
  /** Pending while a failed batch waits to be written again; submissions then only queue. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retries = 0;
  private lastFailure: unknown;
  private lazyTimer: NodeJS.Timeout | undefined;
  private nextAllowedAt = 0;

  /**
   * `write` runs synchronously inside one transaction and returns one result per item, in order;
   * an Error in place of a result fails that item alone. A throw fails the whole batch.
   */
  private readonly maxBatch: number;
  private readonly lazyMs: number;
  private readonly retry: CommitRetry | undefined;

  constructor(
    private readonly write: (items: T[]) => (R | Error)[],
    options: { maxBatch?: number; lazyMs?: number; retry?: CommitRetry } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.lazyMs = options.lazyMs ?? 50;
    this.retry = options.retry;
  }

  submit(item: T, options: { lazy?: boolean } = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.retryTimer) return; // the retry writes it
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (options.lazy) {
        this.lazyTimer ??= setTimeout(() => this.flush(), this.lazyMs);
      } else if (!this.scheduled) {
        this.scheduled = true;
        const wait = this.nextAllowedAt - performance.now();
        if (wait > 0.05) setTimeout(() => this.flush(), wait);
        else setImmediate(() => this.flush());
      }
    });
  }

  flush(): void {
    this.scheduled = false;
    if (this.lazyTimer) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    let results: (R | Error)[];
    const started = performance.now();
    try {
      results = this.write(batch.map((b) => b.item));
      const ended = performance.now();
      this.nextAllowedAt = ended + (ended - started);
      this.retries = 0;
    } catch (err) {
      this.failed(batch, err);
      return;
    }
    batch.forEach((b, i) => {
      const r = results[i]!;
      if (r instanceof Error) b.reject(r);
      else b.resolve(r);
    });
  }

  /** The whole batch failed: retry what may still wait, answer the rest with the error. */
  private failed(batch: Queued<T, R>[], err: unknown): void {
    const now = performance.now();
    const keep: Queued<T, R>[] = [];
    const retry = this.retry?.when(err) ? this.retry : undefined;
    for (const b of batch) {
      if (retry) b.giveUpAt ??= now + retry.budgetMs;
      if (retry && b.giveUpAt !== undefined && now < b.giveUpAt) keep.push(b);
      else b.reject(err);
    }
    if (!retry || keep.length === 0) return;
    this.lastFailure = err;
    this.queue = keep.concat(this.queue);
    this.retryTimer = setTimeout(() => this.flush(), retry.delayMs(this.retries++));
  }

  /**
   * Writes what is queued once more and answers, with the last failure, whatever still waits for
   * a retry: for closing, after which nothing is written.
   */
  close(): void {
    this.flush();
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const left = this.queue;
    this.queue = [];
    for (const b of left) b.reject(this.lastFailure);
  }
}
