/**
 * Pushes committed envelopes to the nodes that are online and records each node's
 * acknowledgement. At-least-once: an envelope stays pending until its node acknowledges it
 * (the node stores it first), and whatever is pending is pushed again after a reconnect.
 */
import type { Socket } from 'socket.io';
import type { ErrorBody } from '../../shared/errors.ts';
import type { ServerToNodeEvents, NodeToServerEvents } from '../../shared/protocol/events.ts';
import type { Envelope } from '../../shared/protocol/schemas.ts';
import type { RelayStore } from '../storage/relay-store.ts';
import { envelopeKey } from '../storage/waiting.ts';

export type NodeSocket = Socket<
  NodeToServerEvents,
  ServerToNodeEvents,
  Record<string, never>,
  { node: string }
>;

/** Envelopes per catch-up page; a page is also bounded in bytes (limits.pages.catchUpBytes). */
const PAGE = 200;

class NodeChannel {
  /** Envelopes pushed and not yet acknowledged, by key (sender and id: two senders may use one id). */
  private readonly inflight = new Set<string>();
  private catchingUp = false;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly node: string,
    readonly socket: NodeSocket,
    private readonly hub: DeliveryHub,
  ) {}

  /** Pushes one envelope unless it is already on its way; resolves when acknowledged (true) or not (false). */
  push(envelope: Envelope): Promise<boolean> {
    const key = envelopeKey(envelope.from, envelope.id);
    if (this.inflight.has(key) || !this.socket.connected) return Promise.resolve(false);
    this.inflight.add(key);
    return new Promise((resolve) => {
      this.socket
        .timeout(this.hub.ackTimeoutMs)
        .emit('envelope', envelope, (err: Error | null, answer?: { ok: true } | ErrorBody) => {
          if (err || !answer || !('ok' in answer)) {
            this.inflight.delete(key);
            this.scheduleRetry();
            resolve(false);
            return;
          }
          this.hub.store.markDelivered(envelope.id, this.node, this.hub.now(), envelope.from).then(
            () => {
              this.inflight.delete(key);
              resolve(true);
            },
            () => {
              this.inflight.delete(key);
              this.scheduleRetry();
              resolve(false);
            },
          );
        });
    });
  }

  /**
   * Pushes everything pending for this node, page by page (each bounded in count and bytes, and
   * acknowledged before the next is read), then tells the node it is drained.
   */
  async catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.again = true;
      return;
    }
    this.catchingUp = true;
    try {
      do {
        this.again = false;
        let after = 0;
        for (;;) {
          if (!this.socket.connected) return;
          const page = this.hub.store.pendingPage(this.node, after, PAGE, this.hub.catchUpBytes);
          const pushes = page.envelopes
            .filter((p) => p.body !== null)
            .map((p) => this.push(JSON.parse(p.body) as Envelope));
          await Promise.all(pushes);
          if (!page.more) break;
          after = page.envelopes[page.envelopes.length - 1]!.seq;
        }
      } while (this.again);
      if (this.socket.connected)
        this.socket.emit('inbox:drained', { pending: this.hub.store.countPending(this.node) });
    } finally {
      this.catchingUp = false;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || !this.socket.connected) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.catchUp();
    }, this.hub.retryDelayMs);
    this.retryTimer.unref();
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}

export class DeliveryHub {
  private readonly channels = new Map<string, Set<NodeChannel>>();

  constructor(
    readonly store: RelayStore,
    readonly now: () => Date,
    readonly ackTimeoutMs = 30_000,
    readonly retryDelayMs = 5_000,
    /** Bytes of envelopes in one catch-up page (limits.pages.catchUpBytes). */
    readonly catchUpBytes = 8 * 1024 * 1024,
  ) {}

  attach(socket: NodeSocket): void {
    const node = socket.data.node;
    const channel = new NodeChannel(node, socket, this);
    let set = this.channels.get(node);
    if (!set) this.channels.set(node, (set = new Set()));
    set.add(channel);
    socket.on('disconnect', () => {
      channel.close();
      set.delete(channel);
      if (set.size === 0) this.channels.delete(node);
    });
    void channel.catchUp();
  }

  /** Closes every socket of a node (after its revocation), telling it why. */
  disconnect(node: string, reason: ErrorBody): void {
    for (const channel of this.channels.get(node) ?? []) {
      channel.socket.emit('session:closing', reason);
      channel.socket.disconnect(true);
    }
  }

  /** After a commit: push to each recipient node's open sockets. */
  notify(envelope: Envelope, nodes: string[]): void {
    for (const node of nodes) {
      const set = this.channels.get(node);
      if (!set) continue;
      for (const channel of set) void channel.push(envelope);
    }
  }
}
