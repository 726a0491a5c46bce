/**
 * Key-log heads gossiped between nodes (DESIGN: Keys, Self-monitoring). Every item a node sends,
 * receipts included, carries inside its signed content the latest heads it verified of the key logs
 * that matter to the recipient: its own relay's and each recipient authority's relay's. The
 * recipient holds each one against its own verified copy of that relay's log (KeyLogMonitor.witness)
 * and, when the two cannot both be true, raises KEYLOG_SPLIT_VIEW and stops trusting the relay
 * until an officer resolves it. Gossip never decides whether an item is accepted: a head this node
 * cannot use is ignored, and one that is not the relay's is noted among the alarms.
 */
import { parseAuthorityAddress } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import { Gossip, MAX_GOSSIP_HEADS } from '../shared/protocol/gossip.ts';
import { SignedTreeHead } from '../shared/protocol/key-log.ts';
import { check, isValid } from '../shared/protocol/validate.ts';
import type { HeadSource, KeyLogMonitor, NewAlarm } from './key-log-monitor.ts';
import type { NodeStore } from './store/node-store.ts';
import type { TrustStore } from './trust.ts';

/** A notice (it stops nothing): gossip that carried something other than a head the relay signed. */
export const GOSSIP_INVALID = 'gossip-head-invalid';

export class HeadGossip {
  /**
   * @param home this node's copy of its own relay's key log.
   * @param relays the views of peer relays (with this node's copies of their logs).
   * @param beforeStop runs once a split view is found, before the node stops trusting the relay:
   *   sends the receipts it owes. They hold no secret and carry this node's own heads, so the other
   *   side sees the split too.
   */
  constructor(
    private readonly home: KeyLogMonitor,
    private readonly store: NodeStore,
    private readonly relays: Pick<TrustStore, 'relayView'>,
    private readonly beforeStop: () => Promise<unknown>,
    private readonly raise: (a: NewAlarm) => void,
  ) {}

  /** This node's verified copy of a relay's key log: its own relay's, or a peer's (peer-view.ts). */
  private async monitorOf(domain: string): Promise<KeyLogMonitor> {
    return domain === this.home.relay ? this.home : (await this.relays.relayView(domain)).monitor;
  }

  /**
   * The heads to send with content for the authorities `to`: the last one this node verified of
   * its own relay's log and of each recipient relay's log it holds a copy of (at most
   * MAX_GOSSIP_HEADS, own relay first).
   */
  async outgoing(to: readonly string[]): Promise<Gossip> {
    const relays = new Set([this.home.relay, ...to.map((a) => parseAuthorityAddress(a).domain)]);
    const heads: SignedTreeHead[] = [];
    for (const relay of [...relays].slice(0, MAX_GOSSIP_HEADS)) {
      const row = await this.store.keyLogHead(relay);
      const head: unknown = row ? JSON.parse(row.head) : null;
      // What this node verified and stored; anything else is left out rather than fail the send.
      if (isValid(SignedTreeHead, head)) heads.push(head);
    }
    return { heads };
  }

  /**
   * Checks the heads that came with an item this node stored. Never throws: a split view becomes
   * an alarm, a head that is not its relay's a notice, anything that cannot be checked now is left.
   */
  async incoming(gossip: unknown, source: HeadSource): Promise<void> {
    let heads: SignedTreeHead[];
    try {
      heads = check(Gossip, gossip, 'gossip').heads;
    } catch (err) {
      await this.note(source, null, err);
      return;
    }
    for (const head of heads) {
      try {
        await this.witness(head, source);
      } catch {
        // An unreachable relay, a log distrusted already...: this head is left unchecked; later
        // items bring newer ones.
      }
    }
  }

  private async witness(head: SignedTreeHead, source: HeadSource): Promise<void> {
    if (head.log !== 'key') {
      const err = new EntraideError(
        'SCHEMA_INVALID',
        `a head of the ${head.log} log, where key-log heads belong`,
      );
      return this.note(source, head, err);
    }
    // Only relays this node verified a log of: a head alone is no reason to start trusting a relay.
    if (head.relay !== this.home.relay && !(await this.store.keyLogHead(head.relay))) return;
    const monitor = await this.monitorOf(head.relay);
    const found = await monitor.witness(head);
    // A head the relay did not sign is the sender's doing (it signed the content): noted, ignored.
    if (found.verdict === 'not-signed')
      return this.note(source, head, new EntraideError('PROOF_INVALID', found.why));
    if (found.verdict === 'agrees') return;
    await this.beforeStop().catch(() => undefined);
    await monitor.splitView(found, source);
  }

  private async note(source: HeadSource, head: SignedTreeHead | null, err: unknown): Promise<void> {
    const what = err instanceof EntraideError ? `${err.message} [${err.code}]` : 'unreadable';
    const alarm: NewAlarm = {
      raisedAt: new Date(),
      kind: GOSSIP_INVALID,
      relay: head?.relay ?? null,
      authority: null,
      idx: head?.size ?? null,
      message: `${source.sender} gossiped ${head ? `a key-log head of ${head.relay} (size ${head.size})` : 'key-log heads'} in envelope ${source.envelopeId} that this node ignored: ${what}`,
      resolvedAt: null,
    };
    try {
      if (await this.store.addAlarm(alarm)) this.raise(alarm);
    } catch {
      // A notice that could not be stored changes nothing the node trusts.
    }
  }
}
