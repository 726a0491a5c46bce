/**
 * Tree-head gossip between peer relays. Every so often each relay:
 * 1. fetches each peer's signed key-log head, checks the peer's signature and a consistency proof
 *    from the last head it verified, and keeps the new one;
 * 2. shows the peer the head of the peer's own log it verified, so that the peer learns whether
 *    someone holds a head signed with its key that its log never had (a fork shown to others).
 * The same is done for each peer's audit log (heads and consistency proofs only, never entries):
 * auditors read the heads a relay kept of its peers' audit logs (GET /v1/audit/peers) and hold each
 * peer to them.
 * A head that does not verify under the pinned key may come from a peer that rotated its key: the
 * peer's chain of rollovers decides (peer-key-follow.ts).
 * Any inconsistency is kept as an alarm on the peer, visible in `entraide relay peers` and to nodes
 * (GET /v1/peers). A relay that shows different histories to different parties is caught once the
 * parties compare notes; relays compare notes here.
 */
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { headRoot, verifyTreeHead } from '../../shared/keys/tree-head.ts';
import { verifyConsistency } from '../../shared/merkle/verify-consistency.ts';
import { HeadsSeen, HeadsSeenResult } from '../../shared/protocol/federation.ts';
import { ConsistencyProof, SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { check } from '../../shared/protocol/validate.ts';
import type { KeyLog } from '../domain/key-log.ts';
import type { RelayStore } from '../storage/relay-store.ts';
import type { PeerClient } from './peer-client.ts';
import type { PeerKeyFollower } from './peer-key-follow.ts';
import type { Peer, PeerRegistry } from './peers.ts';

/** The logs each relay gossips about: where to read them from a peer, and where to keep their heads. */
interface GossipedLog {
  log: 'key' | 'audit';
  name: string;
  path: string;
  kept: (peer: Peer) => string | null;
  keep: (store: RelayStore, peer: Peer, head: string, at: Date) => Promise<void>;
}

const LOGS: GossipedLog[] = [
  {
    log: 'key',
    name: 'key log',
    path: 'keylog',
    kept: (p) => p.keyLogHead,
    keep: (store, p, head, at) => store.peerKeyLog(p.domain, head, null, at),
  },
  {
    log: 'audit',
    name: 'audit log',
    path: 'audit',
    kept: (p) => p.auditHead,
    keep: (store, p, head) => store.peerAuditHead(p.domain, head),
  },
];

export class Gossip {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Aborts the requests of the rounds in flight when gossip closes. */
  private readonly closing = new AbortController();
  /** The rounds running now, awaited by `close()` so that none writes after it resolved. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly domain: string,
    private readonly store: RelayStore,
    private readonly peers: PeerRegistry,
    private readonly client: PeerClient,
    private readonly keyLog: KeyLog,
    private readonly now: () => Date,
    private readonly follower?: PeerKeyFollower,
  ) {}

  start(intervalMs = 30_000): void {
    // A round still running when the next is due (a slow peer) is not doubled.
    this.timer = setInterval(() => {
      if (this.running.size === 0) void this.round();
    }, intervalMs);
    this.timer.unref();
  }

  /** Starts no more rounds, aborts the requests in flight and resolves once every round has stopped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.closing.abort();
    await Promise.allSettled(this.running);
  }

  /** One round with every peer; returns what each check found (null when consistent). */
  round(): Promise<Map<string, string | null>> {
    if (this.closed) return Promise.resolve(new Map());
    const run = this.checkAll();
    this.running.add(run);
    void run.catch(() => undefined).finally(() => this.running.delete(run));
    return run;
  }

  private async checkAll(): Promise<Map<string, string | null>> {
    await this.peers.load();
    const found = new Map<string, string | null>();
    for (const peer of this.peers.all()) {
      if (this.closed) break;
      found.set(
        peer.domain,
        await this.check(peer).catch((err: unknown) =>
          err instanceof EntraideError && err.code === 'PEER_UNREACHABLE'
            ? null
            : String(err instanceof Error ? err.message : err),
        ),
      );
    }
    return found;
  }

  private async alarm(peer: Peer, message: string, evidence: SignedTreeHead[] = []): Promise<string> {
    await this.store.peerKeyLog(peer.domain, null, message, this.now());
    // Show the peer the heads in question too (best effort): if its key signed a fork, it learns it.
    if (evidence.length > 0) {
      await this.client
        .request<unknown>(
          peer,
          'POST',
          '/v1/federation/heads',
          { heads: evidence },
          undefined,
          this.closing.signal,
        )
        .catch(() => undefined);
    }
    return message;
  }

  /** Verifies the peer's latest heads against the last ones kept, then tells the peer what we saw. */
  async check(peer: Peer): Promise<string | null> {
    const seen: SignedTreeHead[] = [];
    for (const log of LOGS) {
      const r = await this.checkLog(peer, log);
      if (typeof r === 'string') return r;
      seen.push(r);
    }
    // Tell the peer which heads of its logs we hold: it checks that its own logs have them.
    const answer = check(
      HeadsSeenResult,
      await this.client.request<unknown>(
        peer,
        'POST',
        '/v1/federation/heads',
        { heads: seen },
        undefined,
        this.closing.signal,
      ),
      'gossip answer',
    );
    await this.store.peerResult(peer.domain, this.now(), null);
    return answer.consistent
      ? null
      : this.alarm(peer, `${peer.domain} says: ${answer.reason ?? 'inconsistent'}`);
  }

  /**
   * One of the peer's logs: its latest head, its signature under the pinned key, and consistency
   * with the head kept from the last round. Returns the newest head held, or the alarm's message.
   */
  private async checkLog(peer: Peer, log: GossipedLog): Promise<SignedTreeHead | string> {
    const head = check(
      SignedTreeHead,
      await this.client.request<unknown>(
        peer,
        'GET',
        `/v1/federation/${log.path}/head`,
        undefined,
        undefined,
        this.closing.signal,
      ),
      'tree head',
    );
    try {
      verifyTreeHead(head, { log: log.log, relay: peer.domain, relayKey: peer.keyBytes });
    } catch (err) {
      // Perhaps signed with a key the peer rotated to: only its chain from the pinned key decides.
      const followed = await this.follower?.follow(peer, this.closing.signal);
      try {
        if (!followed) throw err;
        verifyTreeHead(head, { log: log.log, relay: peer.domain, relayKey: followed.keys });
      } catch (e) {
        return this.alarm(
          peer,
          `a ${log.name} head not signed by ${peer.domain}’s pinned key: ${(e as Error).message}`,
        );
      }
    }
    const kept = log.kept(peer);
    const stored = kept ? check(SignedTreeHead, JSON.parse(kept), 'stored head') : null;
    if (stored) {
      const [older, newer] = stored.size <= head.size ? [stored, head] : [head, stored];
      if (older.size === newer.size && older.root !== newer.root) {
        return this.alarm(
          peer,
          `${peer.domain} signed two different ${log.name}s of size ${older.size}: a fork`,
          [older, newer],
        );
      }
      if (older.size > 0 && older.size < newer.size) {
        const proof = check(
          ConsistencyProof,
          await this.client.request<unknown>(
            peer,
            'GET',
            `/v1/federation/${log.path}/consistency?from=${older.size}&to=${newer.size}`,
            undefined,
            undefined,
            this.closing.signal,
          ),
          'consistency proof',
        );
        try {
          verifyConsistency(
            older.size,
            newer.size,
            headRoot(older),
            headRoot(newer),
            proof.proof.map((p) => fromBase64url(p, 'proof', 32)),
          );
        } catch {
          return this.alarm(
            peer,
            `${peer.domain}’s ${log.name} of size ${newer.size} does not extend the one of size ${older.size} seen before: rewritten or forked`,
            [older, newer],
          );
        }
      }
    }
    if (!stored || head.size > stored.size)
      await log.keep(this.store, peer, JSON.stringify(head), this.now());
    return !stored || head.size >= stored.size ? head : stored;
  }

  /**
   * A peer shows heads of our key log and audit log it holds. Each must be one our log had: same root at that size.
   * A head signed with our key that our log never had means our key signed a fork shown to others.
   */
  async received(from: Peer, heads: HeadsSeen['heads']): Promise<HeadsSeenResult> {
    for (const head of heads) {
      if (head.relay !== this.domain) continue;
      const log =
        head.log === 'key'
          ? { name: 'key log', size: this.keyLog.size, rootAt: (n: number) => this.keyLog.rootAt(n) }
          : {
              name: 'audit log',
              size: this.store.audit.size,
              rootAt: (n: number) => this.store.audit.root(n),
            };
      let reason: string | null = null;
      if (head.size > log.size) {
        reason = `a head of size ${head.size}, beyond our ${log.name} (size ${log.size})`;
      } else if (toBase64url(log.rootAt(head.size)) !== head.root) {
        reason = `a head of size ${head.size} whose root our ${log.name} never had`;
      }
      if (reason) {
        const message = `${from.domain} holds ${reason}, signed ${head.timestamp} with our key: our ${log.name} was forked, or our key is compromised`;
        await this.store.peerKeyLog(from.domain, null, message, this.now());
        return { consistent: false, reason: `${this.domain} never had ${reason}` };
      }
    }
    return { consistent: true };
  }
}
