/**
 * Load generators shared by every scenario. A scenario supplies `start(i, finish)`: begin
 * message i now and call `finish` exactly once, when the message has been both accepted by the
 * server (the sender's ack) and delivered to its recipient. Latency is measured by the scenario
 * from just before it hands the message to the transport to the recipient's receipt.
 *
 * Both loops are bounded in count and in time: a loop that runs out of time stops starting
 * messages and reports what completed.
 */
import { performance } from 'node:perf_hooks';
import { summarise, type LatencySummary } from './stats.ts';

export type Outcome = { ok: true; latencyMs: number } | { ok: false; reason: string };
export type StartFn = (i: number, finish: (o: Outcome) => void) => void;

/**
 * Wall-clock milliseconds with sub-millisecond precision, comparable between the processes of
 * one machine (each adds its own monotonic clock to the wall-clock time at which it started).
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Tracks messages in flight by key until both halves (accepted, delivered) have been seen.
 * Times are wallNow(), so that a delivery may be timed in another process.
 */
export class InFlight {
  private readonly open = new Map<
    string,
    { t0: number; accepted: boolean; deliveredAt: number | undefined; finish: (o: Outcome) => void }
  >();
  unexpected = 0;

  get size(): number {
    return this.open.size;
  }

  begin(key: string, finish: (o: Outcome) => void): void {
    this.open.set(key, { t0: wallNow(), accepted: false, deliveredAt: undefined, finish });
  }

  accepted(key: string): void {
    const e = this.open.get(key);
    if (!e) return;
    e.accepted = true;
    this.settle(key);
  }

  /** `at`: when the recipient got it, by wallNow() in the recipient's process (default: now, here). */
  delivered(key: string, at = wallNow()): void {
    const e = this.open.get(key);
    if (!e) {
      this.unexpected++;
      return;
    }
    e.deliveredAt ??= at;
    this.settle(key);
  }

  failed(key: string, reason: string): void {
    const e = this.open.get(key);
    if (!e) return;
    this.open.delete(key);
    e.finish({ ok: false, reason });
  }

  /** Fails everything still open (used when a loop runs out of time). */
  abandon(reason: string): void {
    for (const key of [...this.open.keys()]) this.failed(key, reason);
  }

  private settle(key: string): void {
    const e = this.open.get(key)!;
    if (!e.accepted || e.deliveredAt === undefined) return;
    this.open.delete(key);
    e.finish({ ok: true, latencyMs: e.deliveredAt - e.t0 });
  }
}

export interface ClosedLoopResult {
  count: number;
  window: number;
  completed: number;
  failed: number;
  firstFailure?: string;
  elapsedMs: number;
  throughput: number;
  timedOut: boolean;
  /** Latency under saturation (informative: it mostly measures the queue the window builds). */
  latency: LatencySummary;
}

/** Keeps up to `window` messages in flight until `count` have completed, or `timeoutMs` passes. */
export function closedLoop(opts: {
  count: number;
  window: number;
  timeoutMs: number;
  start: StartFn;
}): Promise<ClosedLoopResult> {
  return new Promise((resolve) => {
    const latencies: number[] = [];
    let started = 0;
    let completed = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    let inFlight = 0;
    let done = false;
    const t0 = performance.now();
    const finishAll = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const elapsedMs = performance.now() - t0;
      resolve({
        count: opts.count,
        window: opts.window,
        completed,
        failed,
        ...(firstFailure ? { firstFailure } : {}),
        elapsedMs,
        throughput: (completed / elapsedMs) * 1000,
        timedOut,
        latency: summarise(latencies),
      });
    };
    const timer = setTimeout(() => finishAll(true), opts.timeoutMs);
    const pump = () => {
      while (!done && inFlight < opts.window && started < opts.count) {
        const i = started++;
        inFlight++;
        let settled = false;
        opts.start(i, (o) => {
          if (settled || done) return;
          settled = true;
          inFlight--;
          if (o.ok) {
            completed++;
            latencies.push(o.latencyMs);
          } else {
            failed++;
            firstFailure ??= o.reason;
          }
          if (completed + failed >= opts.count) finishAll(false);
          // Refill on the next turn so that one completion does not start a deep recursion.
          else if (!refillScheduled) {
            refillScheduled = true;
            setImmediate(() => {
              refillScheduled = false;
              pump();
            });
          }
        });
      }
    };
    let refillScheduled = false;
    pump();
  });
}

export interface OpenLoopResult {
  rate: number;
  durationMs: number;
  offered: number;
  completed: number;
  failed: number;
  firstFailure?: string;
  /** Largest delay between a message's scheduled time and its actual start (driver lag). */
  maxStartLagMs: number;
  timedOut: boolean;
  latency: LatencySummary;
}

/** Starts messages at a fixed `rate` for `durationMs`, whatever the answers; then waits for the stragglers. */
export function openLoop(opts: {
  rate: number;
  durationMs: number;
  drainTimeoutMs: number;
  start: StartFn;
}): Promise<OpenLoopResult> {
  return new Promise((resolve) => {
    const total = Math.max(1, Math.round((opts.rate * opts.durationMs) / 1000));
    const latencies: number[] = [];
    let started = 0;
    let completed = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    let maxLag = 0;
    let done = false;
    let drainTimer: NodeJS.Timeout | undefined;
    let tickTimer: NodeJS.Timeout | undefined;
    const t0 = performance.now();
    const finishAll = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(drainTimer);
      clearTimeout(tickTimer);
      resolve({
        rate: opts.rate,
        durationMs: opts.durationMs,
        offered: started,
        completed,
        failed,
        ...(firstFailure ? { firstFailure } : {}),
        maxStartLagMs: maxLag,
        timedOut,
        latency: summarise(latencies),
      });
    };
    const intervalMs = 1000 / opts.rate;
    const tick = () => {
      if (done) return;
      const now = performance.now();
      while (started < total && t0 + started * intervalMs <= now) {
        maxLag = Math.max(maxLag, performance.now() - (t0 + started * intervalMs));
        const i = started++;
        let settled = false;
        opts.start(i, (o) => {
          if (settled || done) return;
          settled = true;
          if (o.ok) {
            completed++;
            latencies.push(o.latencyMs);
          } else {
            failed++;
            firstFailure ??= o.reason;
          }
          if (started >= total && completed + failed >= total) finishAll(false);
        });
      }
      if (started < total) {
        tickTimer = setTimeout(tick, Math.max(0, t0 + started * intervalMs - performance.now()));
      } else {
        drainTimer = setTimeout(() => finishAll(true), opts.drainTimeoutMs);
        if (completed + failed >= total) finishAll(false);
      }
    };
    tick();
  });
}
