/**
 * Which keys this node trusts for an authority. Nothing comes from the relay's word alone:
 * - the directory answer's events must each be proven included under a signed key-log head, and
 *   be exactly the authority's events in the node's own verified copy of the log (nothing withheld);
 * - the authority's keys are derived from those events by the shared rules (authority-state.ts):
 *   a certificate the master key did not sign, or a key change the right key did not sign, is refused;
 * - the master key must be the one pinned on first use, or follow from it through rotations the
 *   pinned key signed. A changed master key is never accepted silently.
 */
import { fromBase64url } from '../shared/bytes.ts';
import { safetyCode } from '../shared/crypto/safety-code.ts';
import { EntraideError } from '../shared/errors.ts';
import {
  currentMasterKey,
  encryptionTargets,
  replayAuthority,
  type AuthorityState,
  type EncryptionTarget,
  type KeyHistoryItem,
  type NodeKeys,
} from '../shared/keys/authority-state.ts';
import { verifyDirectoryEvents } from '../shared/keys/directory-entry.ts';
import { headRoot } from '../shared/keys/tree-head.ts';
import { sameHash } from '../shared/merkle/hash.ts';
import { DirectoryEntry, type SignedTreeHead } from '../shared/protocol/key-log.ts';
import { check } from '../shared/protocol/validate.ts';
import { parseAuthorityAddress } from '../shared/addresses.ts';
import type { KeyLogMonitor } from './key-log-monitor.ts';
import { relayDidNotAnswer } from './transport/unreachable.ts';
import type { RelayKeyRing } from './relay-keys.ts';
import type { NodeStore } from './store/node-store.ts';

export interface TrustedAuthority {
  authority: string;
  state: AuthorityState;
  /** Every event of the authority, accepted or refused, with the reason. */
  history: KeyHistoryItem[];
  masterKey: Uint8Array;
  safetyCode: string;
  /** The signed head the answer was proven against. */
  head: SignedTreeHead;
  fetchedAt: number;
}

const CACHE_MS = 60_000;
const SYNC_INTERVAL_MS = 1_000;
/** How long a peer relay that did not answer is left alone before it is asked again. */
const PEER_DOWN_MS = 10_000;

/**
 * A refused event that tries to change a key already in use (rather than add something new) means
 * the relay is trying to substitute a key: sending to that authority stops.
 */
export function substitutionAttempt(item: KeyHistoryItem): boolean {
  if (item.accepted) return false;
  return (
    item.type === 'encryption-key-rotated' ||
    item.type === 'master-key-rotated' ||
    item.type === 'authority-enrolled' ||
    (item.type === 'node-certified' && item.code === 'NODE_EXISTS')
  );
}

/** One relay as the node sees it: its key, the node's verified copy of its key log, its directory. */
export interface RelayView {
  domain: string;
  /** The relay's keys, followed across its key rollovers. */
  keys: RelayKeyRing;
  monitor: KeyLogMonitor;
  directory: (authority: string) => Promise<unknown>;
  /** Set while a peer relay does not answer: its log is not asked for again before then. */
  downUntil?: number;
}

export class TrustStore {
  private readonly cache = new Map<string, TrustedAuthority>();
  private readonly views = new Map<string, RelayView>();

  /**
   * `home` is the node's own relay; `remote` builds the view of a peer relay (reached through the
   * home relay, verified against the peer's own key) the first time one of its authorities is used.
   */
  private readonly homeDomain: string;

  constructor(
    private readonly store: NodeStore,
    home: RelayView,
    private readonly remote: (domain: string) => Promise<RelayView>,
  ) {
    this.views.set(home.domain, home);
    this.homeDomain = home.domain;
  }

  private readonly building = new Map<string, Promise<RelayView>>();

  /** One view per relay, built once even when many lookups ask for it at the same time. */
  private async view(domain: string): Promise<RelayView> {
    const v = this.views.get(domain);
    if (v) return v;
    let pending = this.building.get(domain);
    if (!pending) {
      pending = this.remote(domain).then(
        (built) => {
          this.views.set(domain, built);
          this.building.delete(domain);
          return built;
        },
        (err: unknown) => {
          this.building.delete(domain);
          throw err;
        },
      );
      this.building.set(domain, pending);
    }
    return pending;
  }

  /** The view of a relay, built on first use: for checks that start elsewhere than a lookup (head-gossip.ts). */
  relayView(domain: string): Promise<RelayView> {
    return this.view(domain);
  }

  /** Drops cached answers (all, or one authority's) and makes the next use check the logs again. */
  forget(authority?: string): void {
    if (authority) this.cache.delete(authority);
    else this.cache.clear();
    for (const v of this.views.values()) v.monitor.invalidate();
  }

  /**
   * The authority's verified keys; read again when the key log grew, after a minute, or when `fresh`
   * is set. While the home relay does not answer (or with `offline`, once a caller found it so), an
   * authority pinned here before is read from the node's verified copy of the log, so that what is
   * sealed to it waits in the outbox; one never pinned is refused with RELAY_UNREACHABLE.
   */
  async authority(authority: string, fresh = false, offline = false): Promise<TrustedAuthority> {
    const domain = parseAuthorityAddress(authority).domain;
    if (domain !== this.homeDomain) return this.online(authority, fresh);
    if (offline)
      return this.offline(authority, new EntraideError('RELAY_UNREACHABLE', 'the relay did not answer'));
    try {
      return await this.online(authority, fresh);
    } catch (err) {
      if (!relayDidNotAnswer(err)) throw err;
      return this.offline(authority, err);
    }
  }

  /** From the home relay's verified copy, for an authority pinned before; else `cause` stands. */
  private async offline(authority: string, cause: EntraideError): Promise<TrustedAuthority> {
    const relay = await this.view(this.homeDomain);
    await relay.monitor.head(); // loads the stored copy, and whether an alarm stopped trusting it
    relay.monitor.assertConsistent();
    if (relay.monitor.size === 0 || !(await this.store.pin(authority))) {
      throw new EntraideError(
        cause.code,
        `${cause.message}, and this node has not fetched and verified ${authority}’s keys before: nothing was sealed`,
      );
    }
    return this.fromCopy(authority, relay);
  }

  private async online(authority: string, fresh: boolean): Promise<TrustedAuthority> {
    const relay = await this.view(parseAuthorityAddress(authority).domain);
    const monitor = relay.monitor;
    // A peer relay that does not answer: use what this node verified of its log before, so that
    // envelopes for its authorities wait in the outbox instead of being refused.
    const remote = relay.domain !== this.homeDomain;
    if (remote && (relay.downUntil ?? 0) > Date.now() && monitor.size > 0)
      return this.fromCopy(authority, relay);
    // The key log's head says whether anything changed: a cached answer stands while the log has
    // not grown (checked at most once a second), and for a minute at most.
    try {
      await monitor.sync(fresh ? 0 : SYNC_INTERVAL_MS);
    } catch (err) {
      if (!(remote && err instanceof EntraideError && err.code === 'PEER_UNREACHABLE' && monitor.size > 0))
        throw err;
      relay.downUntil = Date.now() + PEER_DOWN_MS;
      return this.fromCopy(authority, relay);
    }
    relay.downUntil = undefined;
    const cached = this.cache.get(authority);
    // The same size is not enough: a copy read again under a key pinned by hand may differ at it.
    if (
      cached &&
      !fresh &&
      cached.head.size === monitor.size &&
      monitor.size > 0 &&
      sameHash(monitor.rootAt(monitor.size), headRoot(cached.head)) &&
      Date.now() - cached.fetchedAt < CACHE_MS
    ) {
      return cached;
    }
    const entry = check(DirectoryEntry, await relay.directory(authority), 'directory entry');
    if (entry.authority !== authority) {
      throw new EntraideError(
        'KEYLOG_INCONSISTENT',
        `the relay answered for ${entry.authority} when asked for ${authority}`,
      );
    }
    await relay.keys.verifyHead(entry.head);
    if (entry.head.size > monitor.size) await monitor.sync();
    try {
      this.checkAgainstCopy(entry, monitor);
    } catch (err) {
      if (!(err instanceof EntraideError)) throw err;
      // A bad proof or a withheld event is the relay misbehaving: keep the evidence, stop trusting it.
      return monitor.inconsistent(err.message, entry.head);
    }
    // Keys come from everything this node verified, not only up to the answer's head: a relay that
    // answers under an older head cannot roll back a revocation or a rotation.
    const { state, history } = replayAuthority(monitor.entriesOf(authority));
    if (!state) {
      throw new EntraideError('UNKNOWN_AUTHORITY', `the key log holds no valid enrolment of ${authority}`);
    }
    return this.trusted(authority, state, history, entry.head);
  }

  /** The authority's keys from the node's verified copy of a peer's log, while that peer is down. */
  private async fromCopy(authority: string, relay: RelayView): Promise<TrustedAuthority> {
    const cached = this.cache.get(authority);
    if (cached) return cached;
    const head = await relay.monitor.head();
    const { state, history } = replayAuthority(relay.monitor.entriesOf(authority));
    if (!state || !head) {
      throw new EntraideError(
        'PEER_UNREACHABLE',
        `relay ${relay.domain} does not answer, and this node has not verified ${authority}’s keys before`,
      );
    }
    return this.trusted(authority, state, history, head);
  }

  /** Checks the master key against the pin, then caches and returns the authority's keys. */
  private async trusted(
    authority: string,
    state: AuthorityState,
    history: KeyHistoryItem[],
    head: SignedTreeHead,
  ): Promise<TrustedAuthority> {
    const current = currentMasterKey(state);
    const masterKey = fromBase64url(current, 'masterKey', 32);
    const code = safetyCode(authority, masterKey);
    await this.checkPin(authority, state, current, code);
    const trusted: TrustedAuthority = {
      authority,
      state,
      history,
      masterKey,
      safetyCode: code,
      head,
      fetchedAt: Date.now(),
    };
    this.cache.set(authority, trusted);
    return trusted;
  }

  /** The answer's events must be in the signed tree, and be all of the authority's events in our copy. */
  private checkAgainstCopy(entry: DirectoryEntry, monitor: KeyLogMonitor): void {
    const size = entry.head.size;
    if (size > monitor.size) {
      throw new EntraideError(
        'KEYLOG_INCONSISTENT',
        `the directory answer is proven against a key log of size ${size}, larger than the relay’s own head`,
      );
    }
    const root = headRoot(entry.head);
    if (!sameHash(monitor.rootAt(size), root)) {
      throw new EntraideError(
        'KEYLOG_INCONSISTENT',
        `the directory answer for ${entry.authority} is proven against a key log of size ${size} that differs from the one this node verified`,
      );
    }
    verifyDirectoryEvents(entry);
    const served = new Set(entry.events.map((e) => e.index));
    const mine = monitor.entriesOf(entry.authority, size);
    const withheld = mine.filter((e) => !served.has(e.index));
    if (withheld.length > 0 || served.size !== mine.length) {
      throw new EntraideError(
        'KEYLOG_INCONSISTENT',
        `the relay withheld ${withheld.length} key event(s) of ${entry.authority} from its directory answer (log entries ${withheld.map((e) => e.index).join(', ')})`,
      );
    }
  }

  private async checkPin(
    authority: string,
    state: AuthorityState,
    current: string,
    code: string,
  ): Promise<void> {
    const pin = await this.store.pin(authority);
    if (!pin) {
      await this.store.savePin({ authority, masterKey: current, safetyCode: code, pinnedAt: new Date() });
      return;
    }
    if (pin.masterKey === current) return;
    if (state.masterKeys.some((k) => k.key === pin.masterKey)) {
      // Rotated by the key we pinned: follow it. The safety code changes; officers compare it again.
      await this.store.updatePin(authority, current, code);
      await this.store.addAlarm({
        raisedAt: new Date(),
        kind: 'master-key-rotated',
        relay: parseAuthorityAddress(authority).domain,
        authority,
        idx: state.masterKeys[0]!.index,
        message: `${authority} rotated its master key (signed by the key pinned here); new safety code ${code}`,
        resolvedAt: null,
      });
      return;
    }
    throw new EntraideError(
      'KEY_CHANGED',
      `the master key of ${authority} in the key log is not the one pinned here and no rotation signed by the pinned key leads to it: pinned safety code ${pin.safetyCode}, now ${code}. Nothing was sent or accepted`,
    );
  }

  /** Nodes to encrypt to; refuses when the relay tried to substitute one of the authority's keys. */
  async recipients(authority: string, fresh = false, offline = false): Promise<EncryptionTarget[]> {
    const t = await this.authority(authority, fresh, offline);
    const attempt = t.history.find(substitutionAttempt);
    if (attempt) {
      throw new EntraideError(
        'KEY_CHANGED',
        `the key log shows a key change for ${authority} that is not trusted — ${attempt.summary} (log entry ${attempt.index}): ${attempt.reason}. Nothing was sent`,
      );
    }
    return encryptionTargets(t.state, new Date());
  }

  /** The keys of a sending node, fetching the directory again once if it is not known yet. */
  async sender(authority: string, node: string): Promise<NodeKeys> {
    let t = await this.authority(authority);
    if (!t.state.nodes.has(node)) t = await this.authority(authority, true);
    const n = t.state.nodes.get(node);
    if (!n) {
      throw new EntraideError(
        'CERTIFICATE_INVALID',
        `${node} has no certificate under the master key of ${authority} in the key log`,
      );
    }
    if (n.revoked) {
      throw new EntraideError('CERTIFICATE_INVALID', `${node} was revoked on ${n.revoked.revokedAt}`);
    }
    return n;
  }
}
