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
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  private nextAllowedAt = 0;

  /**
   * `write` runs synchronously inside one transaction and returns one result per item, in order;
   * an Error in place of a result fails that item alone. A throw fails the whole batch.
   */
  constructor(
    private readonly write: (items: T[]) => (R | Error)[],
    private readonly maxBatch = 500,
    private readonly lazyMs = 50,
  ) {}

  submit(item: T, options: { lazy?: boolean } = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    let results: (R | Error)[];
    const started = performance.now();
    try {
      results = this.write(batch.map((b) => b.item));
      const ended = performance.now();
      this.nextAllowedAt = ended + (ended - started);
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    batch.forEach((b, i) => {
      const r = results[i]!;
      if (r instanceof Error) b.reject(r);
      else b.resolve(r);
    });
  }
}
