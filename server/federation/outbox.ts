/**
 * The durable outbox: envelopes for a peer relay wait in the database (written in the same
 * transaction as the envelope) until the peer accepts them. Per peer, items go in acceptance order,
 * in batches; a failure retries from the first pending item after an exponential backoff with
 * jitter, capped, so that each sender's order is kept. The peer deduplicates by sender and envelope
 * id, so sending a batch again after a crash or a lost answer is harmless.
 * A batch is bounded in count and in bytes (limits.pages.federationBatchBytes, and never more than
 * a peer takes in one request); only its envelopes' bodies are read.
 * The peer answers for each envelope: accepted, a duplicate, or refused with a code. A refusal the
 * peer marks `transient` (over a quota there, dated ahead of its clock), or whose code is transient
 * (isTransient, for peers that do not mark it), is not a verdict: that envelope alone is tried again after its own backoff, while the envelopes behind it go on (one
 * recipient over its quota on the peer does not hold up the link); any other refusal is final.
 * An accepted envelope may come with id conflicts (other senders' envelopes the peer holds under
 * its id): they are recorded with the outcome, for the operator and the sender.
 * The deferral is kept in memory: after a restart a deferred envelope is tried again at once.
 * `close()` aborts the requests in flight and waits for the drains that made them: a batch whose
 * request was aborted is left as it is in the database (not counted as an attempt) and goes after a
 * restart, and nothing is written once `close()` has resolved.
 */
import { EntraideError, isErrorCode, isTransient } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import type { ForwardingOutcome, RelayStore } from '../storage/relay-store.ts';
import type { PeerClient } from './peer-client.ts';
import type { PeerRegistry } from './peers.ts';
import { BlobForwarder } from './blob-forward.ts';
import type { BlobDesk } from '../domain/blobs.ts';
import {
  DeliveryReportsResult,
  ForwardResults,
  type ForwardResult,
} from '../../shared/protocol/federation.ts';
import type { Static } from '@sinclair/typebox';
import { check } from '../../shared/protocol/validate.ts';

export interface OutboxOptions {
  batch?: number;
  /** Bytes of envelopes in one batch (limits.pages.federationBatchBytes); capped at what a peer takes. */
  batchBytes?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How often peers with due items are looked for, besides the kicks after each accept. */
  pollMs?: number;
  /** How long one request to a peer may take. */
  timeoutMs?: number;
}

export class Outbox {
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private poller: NodeJS.Timeout | undefined;
  private closed = false;
  /** Aborts the requests in flight when the outbox closes. */
  private readonly closing = new AbortController();
  /** The drains running now, awaited by `close()`. */
  private readonly running = new Set<Promise<void>>();
  private readonly batch: number;
  private readonly batchBytes: number;
  /** Per peer: outbox items refused for now by the peer, and when each may go again (ms). */
  private readonly deferred = new Map<string, Map<number, number>>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly store: RelayStore,
    private readonly peers: PeerRegistry,
    private readonly client: PeerClient,
    private readonly now: () => Date,
    private readonly log: { warn: (obj: unknown, msg: string) => void },
    private readonly opts: OutboxOptions = {},
  ) {
    this.batch = opts.batch ?? 100;
    // A peer takes a batch of at most one envelope's size and a margin (routes/federation.ts).
    this.batchBytes = Math.min(opts.batchBytes ?? LIMITS.maxRequestBytes, LIMITS.maxRequestBytes);
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  private readonly timeoutMs: number;
  /** Sends the documents an envelope names before the envelope (blob-forward.ts). */
  private blobs: BlobForwarder | undefined;

  /** Documents go first: each envelope's blobs are forwarded whole before it is. */
  forwardBlobsWith(desk: BlobDesk): void {
    this.blobs = new BlobForwarder(this.store, desk, this.client, this.now, this.timeoutMs);
  }

  start(): void {
    const due = () => new Set([...this.store.outboxCounts().keys(), ...this.store.reportPeers()]);
    this.poller = setInterval(() => due().forEach((peer) => this.kick(peer)), this.opts.pollMs ?? 1_000);
    this.poller.unref();
    due().forEach((peer) => this.kick(peer));
  }

  /** Starts nothing more, aborts the requests in flight and resolves once every drain has stopped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.closing.abort();
    await Promise.all(this.running);
  }

  /** Something new waits for `peer`: send it now unless a drain is running (then it picks it up). */
  kick(peer: string): void {
    if (this.closed) return;
    if (this.busy.has(peer)) {
      this.again.add(peer);
      return;
    }
    this.busy.add(peer);
    const run = this.drain(peer)
      .catch((err: unknown) => this.log.warn({ err, peer }, 'outbox drain failed'))
      .finally(() => {
        this.running.delete(run);
        this.busy.delete(peer);
        if (this.again.delete(peer)) this.kick(peer);
      });
    this.running.add(run);
  }

  private readonly failing = new Set<string>();
  private readonly notedAt = new Map<string, number>();

  /**
   * Records that the peer answered: at once after a failure, otherwise at most every few seconds,
   * so that a busy link does not pay a database write per batch for it.
   */
  private async noteSuccess(peer: string, at: Date): Promise<void> {
    const last = this.notedAt.get(peer) ?? 0;
    if (!this.failing.has(peer) && at.getTime() - last < 5_000) return;
    this.failing.delete(peer);
    this.notedAt.set(peer, at.getTime());
    await this.store.peerResult(peer, at, null);
  }

  /** Exponential backoff with jitter (50–100 % of the step), capped. */
  delay(attempts: number): number {
    const step = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempts, 20));
    return Math.round(step * (0.5 + Math.random() / 2));
  }

  private schedule(peer: string, at: number): void {
    if (this.closed || this.timers.has(peer)) return;
    const t = setTimeout(
      () => {
        this.timers.delete(peer);
        this.kick(peer);
      },
      Math.max(0, at - this.now().getTime()),
    );
    t.unref();
    this.timers.set(peer, t);
  }

  /** Items of `peer` refused for now: true while `seq` must wait. */
  private deferredNow(peer: string): ((seq: number) => boolean) | undefined {
    const waiting = this.deferred.get(peer);
    if (!waiting || waiting.size === 0) return undefined;
    const now = this.now().getTime();
    return (seq) => (waiting.get(seq) ?? 0) > now;
  }

  /**
   * When the first item refused for now may go again, or undefined when none waits; forgets the
   * deferrals that are over (their items went, or were not pending any more).
   */
  private nextDeferral(peer: string): number | undefined {
    const waiting = this.deferred.get(peer);
    if (!waiting) return undefined;
    const now = this.now().getTime();
    let next: number | undefined;
    for (const [seq, at] of waiting) {
      if (at <= now) waiting.delete(seq);
      else next = Math.min(next ?? at, at);
    }
    if (waiting.size === 0) this.deferred.delete(peer);
    return next;
  }

  private defer(peer: string, item: { seq: number; attempts: number }, at: Date): void {
    let waiting = this.deferred.get(peer);
    if (!waiting) this.deferred.set(peer, (waiting = new Map()));
    waiting.set(item.seq, at.getTime() + this.delay(item.attempts));
  }

  private async drain(peer: string): Promise<void> {
    for (let round = 0; round < 10_000 && !this.closed; round++) {
      const items = this.store.outboxBatch(peer, this.batch, this.batchBytes, this.deferredNow(peer));
      if (items.length === 0) {
        const next = this.nextDeferral(peer);
        if (next !== undefined) {
          this.schedule(peer, next);
          return;
        }
        return this.drainReports(peer);
      }
      const first = items[0]!;
      const due = Date.parse(first.nextAttemptAt);
      if (due > this.now().getTime()) {
        this.schedule(peer, due);
        return;
      }
      // The store bounded the batch in count and bytes; bodies already gone (expired) are not sent.
      let sendable = items.filter((i) => i.body !== null);
      if (sendable.length === 0) {
        // Only envelopes past their time to live (their ciphertext is gone): nothing to forward.
        this.store.recordForwarding(
          items.map((i) => ({
            seq: i.seq,
            ok: false,
            retry: false,
            reason: 'expired before it could be forwarded',
          })),
          this.now(),
          () => this.now(),
        );
        continue;
      }
      const target = await this.peers.find(peer);
      let failure: string | undefined;
      if (!target) {
        failure = `${peer} is no longer a peer of this relay`;
      } else {
        // Documents before the envelopes that name them: the batch stops before the first envelope
        // whose blobs the peer lacks; when that envelope is first, its blobs go now.
        const lacking = this.blobs
          ? sendable.findIndex((i) => this.blobs!.missing(i.body!, peer).length > 0)
          : -1;
        if (lacking === 0) {
          try {
            for (const id of this.blobs!.missing(sendable[0]!.body!, peer))
              await this.blobs!.forward(target, id, this.closing.signal);
            await this.noteSuccess(peer, this.now());
            continue;
          } catch (err) {
            if (this.closed) return;
            failure = failureOf(err);
          }
        }
        if (lacking > 0) sendable = sendable.slice(0, lacking);
      }
      if (target && failure === undefined) {
        try {
          const answer = check(
            ForwardResults,
            await this.client.request<unknown>(
              target,
              'POST',
              '/v1/federation/envelopes',
              { envelopes: sendable.map((i) => JSON.parse(i.body!) as unknown) },
              this.timeoutMs,
              this.closing.signal,
            ),
            'peer answer',
          );
          const results = matchResults(sendable, answer.results);
          const at = this.now();
          this.store.recordForwarding(
            sendable.map((i, k): ForwardingOutcome => {
              const r = results[k];
              if (!r) {
                this.defer(peer, i, at);
                return { seq: i.seq, ok: false, deferred: true, reason: 'the peer did not answer for it' };
              }
              if (r.status !== 'refused')
                return { seq: i.seq, ok: true, ...(r.conflicts ? { conflicts: r.conflicts } : {}) };
              const reason = r.error ? `${r.error.code}: ${r.error.message}` : 'refused';
              // A transient refusal (over a quota, a clock behind ours) is not a verdict: tried again later.
              if (
                r.error &&
                (r.error.transient === true || (isErrorCode(r.error.code) && isTransient(r.error.code)))
              ) {
                this.defer(peer, i, at);
                return { seq: i.seq, ok: false, deferred: true, reason };
              }
              return { seq: i.seq, ok: false, retry: false, reason };
            }),
            at,
            (attempts) => new Date(at.getTime() + this.delay(attempts)),
          );
          await this.noteSuccess(peer, at);
          continue;
        } catch (err) {
          // Aborted by close(): not the peer's failure; the batch stays due as it was.
          if (this.closed) return;
          failure = failureOf(err);
        }
      }
      const at = this.now();
      const next = new Date(at.getTime() + this.delay(first.attempts));
      this.store.recordForwarding(
        items.map((i) => ({
          seq: i.seq,
          ok: false,
          retry: true,
          reason: failure ?? 'the peer did not answer',
        })),
        at,
        () => next,
      );
      this.failing.add(peer);
      await this.store.peerResult(peer, at, failure ?? null);
      this.schedule(peer, next.getTime());
      return;
    }
  }

  /** Delivery reports for the peer's senders, after its envelopes; retried like them. */
  private async drainReports(peer: string): Promise<void> {
    for (let round = 0; round < 1_000 && !this.closed; round++) {
      const items = this.store.reportsDue(peer, 500);
      if (items.length === 0) return;
      const due = Date.parse(items[0]!.nextAttemptAt);
      if (due > this.now().getTime()) {
        this.schedule(peer, due);
        return;
      }
      const target = await this.peers.find(peer);
      try {
        if (!target) throw new EntraideError('UNKNOWN_PEER', `${peer} is no longer a peer of this relay`);
        check(
          DeliveryReportsResult,
          await this.client.request<unknown>(
            target,
            'POST',
            '/v1/federation/deliveries',
            {
              reports: items.map((i) => ({
                envelopeId: i.envelopeId,
                ...(i.sender ? { from: i.sender } : {}),
                node: i.node,
                deliveredAt: i.deliveredAt,
              })),
            },
            this.timeoutMs,
            this.closing.signal,
          ),
          'peer answer',
        );
        this.store.recordReports(
          items.map((i) => i.seq),
          [],
          this.now(),
        );
      } catch (err) {
        if (this.closed) return;
        const next = new Date(this.now().getTime() + this.delay(items[0]!.attempts));
        this.store.recordReports(
          [],
          items.map((i) => i.seq),
          next,
        );
        this.log.warn(
          { peer, err: err instanceof Error ? err.message : String(err) },
          'delivery reports not sent',
        );
        this.schedule(peer, next.getTime());
        return;
      }
    }
  }
}

/** What a failed request to a peer says, for the outbox row and the operator. */
function failureOf(err: unknown): string {
  return err instanceof EntraideError
    ? `${err.message} [${err.code}]`
    : 'the peer’s answer could not be read';
}

/**
 * The peer's result for each item sent, in the items' order: the peer answers in the order it was
 * sent, one result each; an answer out of that order is read by id, each result used once (two
 * senders' envelopes may share an id in one batch). Undefined where the peer said nothing.
 */
export function matchResults(
  items: readonly { envelopeId: string }[],
  results: readonly Static<typeof ForwardResult>[],
): (Static<typeof ForwardResult> | undefined)[] {
  if (results.length === items.length && results.every((r, k) => r.id === items[k]!.envelopeId))
    return [...results];
  const unused = [...results];
  return items.map((i) => {
    const at = unused.findIndex((r) => r.id === i.envelopeId);
    return at < 0 ? undefined : unused.splice(at, 1)[0];
  });
}
