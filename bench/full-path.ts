/**
 * Scenarios (a) and (d): the full path through the real SDK. Each node is created with initNode and
 * opened with AuthorityNode.open in its own temp folder; every node listens (so that senders
 * submit over their socket, as the SDK does when one is open). Sender i sends to recipient i.
 * A message is complete when send() has resolved (accepted after the relay's commit) and the
 * recipient's onReceive has fired for it (verified, decrypted, stored, acknowledged).
 *
 * In reality each node is a process on its own machine. Here the recipient nodes run in a child
 * process (nodes-process.ts), which reports each received envelope with its receipt time
 * (wall clock, see load.ts), and the sender nodes run in this process (`senders: 'driver'`, the
 * default), or in a second child (`'child'`, BENCH_SENDERS=child): then this process only
 * generates the load and keeps the books.
 *
 * The senders and the recipients are enrolled on the relays that `open` is given: the same one in
 * (a); in (d) two federated relays, so that every message crosses from the senders' relay to the
 * recipients' through the outbox (the senders address the recipients' full authority addresses,
 * which name their home relay, and their nodes resolve them through their own relay).
 *
 * Before any load, each sender resolves its recipient's keys and each recipient its sender's, one
 * node after the other (`resolveCounterparts`). The SDK does this on the first send or receipt
 * anyway; doing it first keeps the measurement to the steady state, and steps around a product race
 * (client/trust.ts, TrustStore.view): a node whose first concurrent sends (or receipts) involve an
 * authority on a peer relay builds one view of that relay for each, each syncing the peer's key log
 * into the same store; all but one fail with a unique-constraint error on keyLogEntry (relay, idx)
 * (a receipt then fails as INTERNAL "could not store the envelope"), and a sender can stay unable
 * to send to that relay until it is reopened. BENCH_RESOLVE=0 skips this step, to see it.
 */
import { join } from 'node:path';
import { initNode } from '../client/init.ts';
import { AuthorityNode } from '../client/node.ts';
import { BenchChild } from './child.ts';
import { CommitStats, countCalls, instrumentSyncMethod, instrumentTransactions } from './instrument.ts';
import { InFlight, wallNow, type StartFn } from './load.ts';
import { BODY_1KIB } from './wire.ts';

export const PASSPHRASE = 'bench passphrase, not a secret';

export type SenderPlacement = 'driver' | 'child';

/** Enrols one node with its invitation, opens it, and times its storage commits into `commits`. */
export async function openBenchNode(
  root: string,
  relayUrl: string,
  authorityId: string,
  invite: string,
  commits: CommitStats,
): Promise<AuthorityNode> {
  const home = join(root, `node-${authorityId}`);
  await initNode({ home, relayUrl, invite, authorityId, nodeName: 'desk1', passphrase: PASSPHRASE });
  const node = await AuthorityNode.open(home, PASSPHRASE);
  instrumentTransactions(node.store.db, commits);
  instrumentSyncMethod(node.store, 'markAccepted', 'markAccepted', commits);
  countCalls(node.store, 'saveMessage', 'save', commits);
  return node;
}

type NodesReady = { role: string; pid: number };
type OpenedNodes = { nodes: { authority: string; address: string }[] };

/** The difference between a child's clock and ours, from the quickest of a few round trips. */
export interface ClockCheck {
  offsetMs: number;
  /** The round trip of that sample: the offset is known to ± half of it. */
  roundTripMs: number;
}

async function checkClock(child: BenchChild<unknown>): Promise<ClockCheck> {
  let best: ClockCheck | undefined;
  for (let i = 0; i < 20; i++) {
    const t1 = wallNow();
    const { now } = await child.command<{ now: number }>({ cmd: 'clock' });
    const t2 = wallNow();
    if (!best || t2 - t1 < best.roundTripMs) best = { offsetMs: now - (t1 + t2) / 2, roundTripMs: t2 - t1 };
  }
  return best!;
}

export class FullPath {
  readonly flight = new InFlight();
  errors: string[] = [];
  /** Clock offsets of the node processes against this one (they should be a few µs). */
  readonly clocks: Record<string, ClockCheck> = {};
  /** Envelope ids returned by send() and reported by the recipients: each must arrive exactly once. */
  private readonly sentIds = new Set<string>();
  private readonly deliveredIds = new Set<string>();
  private duplicateIds = 0;
  private pendingSends: [string, number, string][] = [];
  /** Set when a node process exited before close(): every message then fails at once. */
  private dead: string | undefined;
  private closing = false;
  private sendFlushScheduled = false;

  private constructor(
    readonly placement: SenderPlacement,
    /** Commits of the nodes' own databases in this process (the senders, when they run here). */
    readonly commits: CommitStats,
    /** The recipient nodes' process. */
    readonly recipients: BenchChild<NodesReady>,
    readonly recipientAuthorities: string[],
    readonly senderAuthorities: string[],
    /** Sender nodes in this process (placement 'driver'), or their process (placement 'child'). */
    readonly localSenders: AuthorityNode[],
    readonly senderChild: BenchChild<NodesReady> | undefined,
    private readonly children: Set<BenchChild<unknown>>,
  ) {}

  /** The node processes other than this one, by role. */
  get nodeProcesses(): { role: 'recipients' | 'senders'; child: BenchChild<unknown> }[] {
    return [
      { role: 'recipients', child: this.recipients },
      ...(this.senderChild ? [{ role: 'senders' as const, child: this.senderChild }] : []),
    ];
  }

  /**
   * Enrols n sender and n recipient authorities (one node each), on the relays `relays` names, and
   * connects them all. `invitations` holds each authority's invitation from its own relay. The child
   * processes are added to `children` (so that the caller can kill them after a failure) and
   * removed again by close().
   */
  static async open(
    relays: { senders: string; recipients: string },
    invitations: Record<string, string>,
    n: number,
    root: string,
    placement: SenderPlacement,
    children: Set<BenchChild<unknown>>,
  ): Promise<FullPath> {
    const commits = new CommitStats();
    const started: BenchChild<NodesReady>[] = [];
    const opened: AuthorityNode[] = [];
    const startNodes = async (role: 'recipients' | 'senders', ids: string[], relayUrl: string) => {
      const child = await BenchChild.start<NodesReady>(`${role} (nodes)`, {
        entry: 'nodes-process.js',
        args: [role],
      });
      started.push(child);
      children.add(child);
      const pick = Object.fromEntries(ids.map((id) => [id, invitations[id]]));
      const r = await child.command<OpenedNodes>(
        { cmd: 'open', relayUrl, root, ids, invitations: pick },
        120_000,
      );
      return { child, authorities: r.nodes.map((x) => x.authority) };
    };
    try {
      const recipientIds = Array.from({ length: n }, (_, i) => recipientId(i));
      const senderIds = Array.from({ length: n }, (_, i) => senderId(i));
      const rcpt = await startNodes('recipients', recipientIds, relays.recipients);
      let senderChild: BenchChild<NodesReady> | undefined;
      let senderAuthorities: string[];
      if (placement === 'child') {
        const started = await startNodes('senders', senderIds, relays.senders);
        senderChild = started.child;
        senderAuthorities = started.authorities;
      } else {
        for (const id of senderIds) {
          const invite = invitations[id];
          if (!invite) throw new Error(`no invitation for ${id}`);
          opened.push(await openBenchNode(root, relays.senders, id, invite, commits));
        }
        senderAuthorities = opened.map((node) => node.authority);
      }
      const fp = new FullPath(
        placement,
        commits,
        rcpt.child,
        rcpt.authorities,
        senderAuthorities,
        opened,
        senderChild,
        children,
      );
      for (const sender of opened)
        await sender.listen({ onError: (e) => fp.note(`sender ${sender.address}: ${e.code} ${e.message}`) });
      fp.wire();
      if (process.env.BENCH_RESOLVE !== '0') await fp.resolveCounterparts();
      for (const { role, child } of fp.nodeProcesses) fp.clocks[role] = await checkClock(child);
      return fp;
    } catch (err) {
      for (const node of opened) await node.close().catch(() => undefined);
      for (const child of started) {
        await child.stop(5_000).catch(() => child.kill());
        children.delete(child);
      }
      throw err;
    }
  }

  /** Sender i resolves (verifies and pins) the keys of recipient i and recipient i those of sender i, one node after the other. */
  private async resolveCounterparts(): Promise<void> {
    const toRecipients = this.recipientAuthorities.map((to, i): [number, string] => [i, to]);
    if (this.senderChild) await this.senderChild.command({ cmd: 'resolve', pairs: toRecipients }, 60_000);
    else for (const [i, to] of toRecipients) await this.localSenders[i]!.trust.authority(to);
    const toSenders = this.senderAuthorities.map((from, i): [number, string] => [i, from]);
    await this.recipients.command({ cmd: 'resolve', pairs: toSenders }, 60_000);
  }

  /** Listens to the node processes' events and exits. */
  private wire(): void {
    for (const { role, child } of this.nodeProcesses) {
      child.onExit(() => {
        if (this.closing) return;
        this.dead ??= `the ${role} process exited`;
        this.note(this.dead);
        this.flight.abandon(this.dead);
      });
    }
    this.recipients.on('delivered', (data) => {
      for (const [key, id, at] of data as [string, string, number][]) {
        if (this.deliveredIds.has(id)) this.duplicateIds++;
        else this.deliveredIds.add(id);
        this.flight.delivered(key, at);
      }
    });
    this.senderChild?.on('accepted', (data) => {
      for (const [key, id] of data as [string, string][]) {
        this.sentIds.add(id);
        this.flight.accepted(key);
      }
    });
    this.senderChild?.on('failed', (data) => {
      for (const [key, reason] of data as [string, string][]) this.flight.failed(key, reason);
    });
  }

  note(msg: string): void {
    if (this.errors.length < 20) this.errors.push(msg);
  }

  /** Message i: sender i mod n sends a 1 KiB body to recipient i mod n; the subject is the key. */
  starter(tag: string): StartFn {
    return (i, finish) => {
      const s = i % this.recipientAuthorities.length;
      const key = `${tag} ${i}`;
      const to = this.recipientAuthorities[s]!;
      if (this.dead) {
        finish({ ok: false, reason: this.dead });
        return;
      }
      this.flight.begin(key, finish);
      if (this.senderChild) {
        this.queueSend([key, s, to]);
        return;
      }
      this.localSenders[s]!.send({ to: [to], subject: key, body: BODY_1KIB }).then(
        (r) => {
          this.sentIds.add(r.id);
          this.flight.accepted(key);
        },
        (err: unknown) =>
          this.flight.failed(key, `send failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    };
  }

  /** Sends to the sender process go in one event per turn of the event loop. */
  private queueSend(item: [string, number, string]): void {
    this.pendingSends.push(item);
    if (this.sendFlushScheduled) return;
    this.sendFlushScheduled = true;
    setImmediate(() => {
      this.sendFlushScheduled = false;
      const batch = this.pendingSends;
      this.pendingSends = [];
      try {
        this.senderChild!.emit('send', batch);
      } catch (err) {
        for (const [key] of batch) this.flight.failed(key, String(err));
      }
    });
  }

  /**
   * Exactly once: every envelope id that send() returned was delivered, none twice, none unknown.
   * Call after the node processes' `counts` (which flushes their pending events).
   */
  deliveryCheck(): { sent: number; delivered: number; duplicates: number; deliveredNotSent: number } {
    let deliveredNotSent = 0;
    for (const id of this.deliveredIds) if (!this.sentIds.has(id)) deliveredNotSent++;
    return {
      sent: this.sentIds.size,
      delivered: this.deliveredIds.size,
      duplicates: this.duplicateIds,
      deliveredNotSent,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const node of this.localSenders) await node.close().catch(() => undefined);
    for (const { child } of this.nodeProcesses) {
      await child.stop().catch(() => child.kill());
      this.children.delete(child);
    }
  }
}

export function senderId(i: number): string {
  return `s${i}.bench`;
}

export function recipientId(i: number): string {
  return `r${i}.bench`;
}
