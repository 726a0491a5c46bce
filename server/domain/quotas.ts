/**
 * Storage quotas (DESIGN.md, "At the edge"): what may wait on the relay, per sending node and per
 * recipient authority, in envelopes and in bytes. Past a quota a new envelope is refused with 429
 * QUOTA_EXCEEDED and a Retry-After, and nothing of it is stored.
 *
 * The ledger lives in memory so that the check costs a few map lookups on the envelope path: it is
 * loaded from the database once at start (pending deliveries and outbox rows, storage/waiting.ts)
 * and then follows every commit that changes what waits (the store reports each change after its
 * commit). An envelope that passed the check and waits for its group commit is counted too (a
 * reservation, released once the commit is answered), so that a burst that lands in one batch
 * cannot overshoot: for that instant a committed envelope counts twice, which refuses early,
 * never late.
 *
 * What counts:
 * - for its sender, an envelope while a delivery to one of the relay's nodes is pending or its
 *   outbox row to some peer relay is (a remote sender's envelope counts here too, under its node);
 * - for a recipient authority, an envelope while a delivery to one of that authority's nodes here
 *   is pending (authorities homed on a peer are counted by their own relay).
 * Memory: one small record per waiting envelope (its sender, size, the nodes it still waits for).
 */
import { EntraideError } from '../../shared/errors.ts';
import type { RelayLimits } from '../limits.ts';
import type { WaitingChange, WaitingRow } from '../storage/waiting.ts';

/** What a refused sender is told to wait before it tries again. */
export const QUOTA_RETRY_AFTER_SECONDS = 60;

export interface Tally {
  envelopes: number;
  bytes: number;
}

/** One envelope waiting on the relay. */
interface Waiting {
  sender: string;
  size: number;
  /** The local nodes whose delivery is still pending. */
  nodes: string[];
  /** How many of its outbox rows are still pending. */
  peers: number;
}

/** An envelope about to be committed, as the quota check sees it. */
export interface QuotaRequest {
  /** The envelope's key: its sender and id (storage/waiting.ts). */
  key: string;
  sender: string;
  size: number;
  /** The local nodes it will wait for. */
  nodes: readonly string[];
  /** How many peer relays it will wait for. */
  peers: number;
}

/** The authority part of a node address (`desk1/sn.moj@relay.example` → `sn.moj@relay.example`). */
function authorityOf(node: string): string {
  return node.slice(node.indexOf('/') + 1);
}

function authoritiesOf(nodes: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    const a = authorityOf(n);
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

const nothing = (): void => undefined;

export class QuotaLedger {
  private readonly waiting = new Map<string, Waiting>();
  private readonly senders = new Map<string, Tally>();
  private readonly recipients = new Map<string, Tally>();

  constructor(private readonly quota: RelayLimits['quota']) {}

  /** A ledger holding `rows`: every pending delivery and outbox row, with its envelope. */
  static load(quota: RelayLimits['quota'], rows: Iterable<WaitingRow>): QuotaLedger {
    const ledger = new QuotaLedger(quota);
    for (const r of rows) {
      let w = ledger.waiting.get(r.key);
      if (!w) ledger.waiting.set(r.key, (w = { sender: r.sender, size: r.size, nodes: [], peers: 0 }));
      if (r.node === null) w.peers++;
      else if (!w.nodes.includes(r.node)) w.nodes.push(r.node);
    }
    for (const w of ledger.waiting.values()) ledger.count(w.sender, authoritiesOf(w.nodes), w.size, 1);
    return ledger;
  }

  /**
   * Checks that `r` fits in its sender's quota and in those of its recipient authorities, and
   * counts it until the returned function is called (once its commit is answered, whatever the
   * answer). Throws QUOTA_EXCEEDED, with a Retry-After, when it does not fit. An envelope that
   * waits for nobody, or that already waits here (a second copy stores nothing), is not checked.
   */
  reserve(r: QuotaRequest): () => void {
    if ((r.nodes.length === 0 && r.peers === 0) || this.waiting.has(r.key)) return nothing;
    const authorities = authoritiesOf(r.nodes);
    const q = this.quota;
    this.guard(`sent by ${r.sender}`, this.senders.get(r.sender), r.size, q.senderEnvelopes, q.senderBytes);
    for (const a of authorities) {
      this.guard(`for ${a}`, this.recipients.get(a), r.size, q.recipientEnvelopes, q.recipientBytes);
    }
    this.count(r.sender, authorities, r.size, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.count(r.sender, authorities, r.size, -1);
    };
  }

  /** Follows what a commit changed (reported by the store after the commit). */
  apply(changes: readonly WaitingChange[]): void {
    for (const c of changes) {
      switch (c.kind) {
        case 'accepted':
          if ((c.nodes.length === 0 && c.peers === 0) || this.waiting.has(c.key)) break;
          this.waiting.set(c.key, { sender: c.sender, size: c.size, nodes: [...c.nodes], peers: c.peers });
          this.count(c.sender, authoritiesOf(c.nodes), c.size, 1);
          break;
        case 'delivery-ended': {
          const w = this.waiting.get(c.key);
          const at = w ? w.nodes.indexOf(c.node) : -1;
          if (!w || at < 0) break;
          w.nodes.splice(at, 1);
          const authority = authorityOf(c.node);
          if (!w.nodes.some((n) => authorityOf(n) === authority))
            this.add(this.recipients, authority, w.size, -1);
          this.endIfDone(c.key, w);
          break;
        }
        case 'forward-ended': {
          const w = this.waiting.get(c.key);
          if (!w || w.peers === 0) break;
          w.peers--;
          this.endIfDone(c.key, w);
          break;
        }
        case 'expired': {
          const w = this.waiting.get(c.key);
          if (!w) break;
          for (const a of authoritiesOf(w.nodes)) this.add(this.recipients, a, w.size, -1);
          w.nodes = [];
          w.peers = 0;
          this.endIfDone(c.key, w);
          break;
        }
      }
    }
  }

  /** What waits for `node` as a sender (reservations included). */
  sender(node: string): Tally {
    return { ...(this.senders.get(node) ?? { envelopes: 0, bytes: 0 }) };
  }

  /** What waits for `authority` as a recipient (reservations included). */
  recipient(authority: string): Tally {
    return { ...(this.recipients.get(authority) ?? { envelopes: 0, bytes: 0 }) };
  }

  /** How many envelopes wait (committed ones only). */
  get size(): number {
    return this.waiting.size;
  }

  private guard(
    whose: string,
    t: Tally | undefined,
    size: number,
    maxEnvelopes: number,
    maxBytes: number,
  ): void {
    const envelopes = t?.envelopes ?? 0;
    const bytes = t?.bytes ?? 0;
    if (envelopes + 1 <= maxEnvelopes && bytes + size <= maxBytes) return;
    const over =
      envelopes + 1 > maxEnvelopes
        ? `its quota of ${maxEnvelopes} envelopes`
        : `its quota of ${maxBytes} bytes`;
    throw new EntraideError(
      'QUOTA_EXCEEDED',
      `${envelopes} envelopes (${bytes} bytes) ${whose} already wait on this relay; one more of ${size} bytes would pass ${over}`,
      { retryAfter: QUOTA_RETRY_AFTER_SECONDS },
    );
  }

  private endIfDone(key: string, w: Waiting): void {
    if (w.nodes.length > 0 || w.peers > 0) return;
    this.waiting.delete(key);
    this.add(this.senders, w.sender, w.size, -1);
  }

  private count(sender: string, authorities: readonly string[], size: number, sign: 1 | -1): void {
    this.add(this.senders, sender, size, sign);
    for (const a of authorities) this.add(this.recipients, a, size, sign);
  }

  private add(tallies: Map<string, Tally>, key: string, size: number, sign: 1 | -1): void {
    const t = tallies.get(key);
    if (!t) {
      if (sign > 0) tallies.set(key, { envelopes: 1, bytes: size });
      return;
    }
    t.envelopes += sign;
    t.bytes += sign * size;
    if (t.envelopes <= 0) tallies.delete(key);
  }
}
