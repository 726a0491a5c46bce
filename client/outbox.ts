/**
 * The node's outbox, as an e-mail client keeps one: items sealed and stored for sending that the
 * relay has not accepted yet (the Message rows going out without `acceptedAt`: no second queue to
 * keep in step). They go out by themselves once the relay answers: when the socket connects again,
 * on a timer while the node listens, and when a command that reached the relay closes the node.
 *
 * Exactly once: each item is submitted as it was sealed, under the envelope id fixed then, and the
 * relay keeps one envelope per (sender, id), answering a second submission as a duplicate. So an
 * item submitted and accepted just before a crash, whose acceptance was never written here, is
 * submitted again without arriving twice.
 */
import { EntraideError, isTransient } from '../shared/errors.ts';
import { Envelope, type SubmitResult } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import type { NodeStore } from './store/node-store.ts';
import { relayDidNotAnswer } from './transport/unreachable.ts';

/** While the node listens, the outbox is tried this often (besides each reconnection). */
export const OUTBOX_INTERVAL_MS = 5_000;
/** Items younger than this are left to the send that stored them (it may still be submitting). */
const IN_FLIGHT_MS = 2_000;

export class Outbox {
  private running: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Items the relay refused for good in this process: not submitted again until the node reopens. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly store: NodeStore,
    private readonly submit: (envelope: Envelope) => Promise<SubmitResult>,
  ) {}

  /** How many items wait. */
  get size(): number {
    return this.store.outboxSize();
  }

  /**
   * Submits what waits, oldest first, older than `olderThanMs`; returns how many the relay accepted.
   * A transient failure (the relay does not answer, is busy) stops the round (the rest waits, nothing
   * is lost) and is thrown; an item the relay refuses for good is left where it is and the first such refusal is
   * thrown once the others went out. Concurrent calls share one round.
   */
  resend(olderThanMs = IN_FLIGHT_MS): Promise<number> {
    this.running ??= this.round(olderThanMs).finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(olderThanMs: number): Promise<number> {
    const before = new Date(Date.now() - olderThanMs).toISOString();
    let sent = 0;
    let verdict: EntraideError | undefined;
    for (const item of this.store.unaccepted(before)) {
      if (this.refused.has(item.id)) continue;
      const envelope = check(Envelope, JSON.parse(item.envelope), 'stored envelope');
      if (Date.parse(envelope.sentAt) + envelope.ttl * 1000 <= Date.now()) continue;
      try {
        const result = await this.submit(envelope);
        await this.store.markAccepted(envelope.id, result.acceptedAt);
        sent++;
      } catch (err) {
        // Unreachable, busy, over a quota: the round stops and the rest waits for the next one.
        if (!(err instanceof EntraideError) || isTransient(err.code)) throw err;
        this.refused.add(item.id);
        verdict ??= err;
      }
    }
    if (verdict) throw verdict;
    return sent;
  }

  /** Tries the outbox every OUTBOX_INTERVAL_MS while the node listens; failures go to `onError`. */
  start(onError?: (err: EntraideError) => void): void {
    this.stop();
    this.timer = setInterval(() => {
      if (this.size === 0) return;
      this.resend().catch((err: unknown) => {
        if (err instanceof EntraideError && !relayDidNotAnswer(err)) onError?.(err);
      });
    }, OUTBOX_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Runs each step in turn; a failure is reported and the next step still runs. */
export async function eachReported(
  steps: (() => Promise<unknown>)[],
  onError: (err: EntraideError) => void,
): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      onError(
        err instanceof EntraideError ? err : new EntraideError('INTERNAL', 'could not send queued items'),
      );
    }
  }
}
