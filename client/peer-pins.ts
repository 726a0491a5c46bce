/**
 * Peer relay keys as this node pins them, never taken afresh from the home relay (DESIGN: Keys,
 * Self-monitoring). A peer's key comes from one of three sources:
 * - `hand`: an officer typed it (`entraide relay pin`), from the peer's operator by another channel;
 * - `roster:<network id>`: a version-2 network roster lists it, signed by a coordinator whose safety
 *   code this authority verified (a coordinator known through the home relay alone proves nothing);
 * - `first-use`: the key the home relay gave for the peer the first time it was used.
 * Later, the pinned key is used; the home relay's word is only compared with it. Another key is
 * followed only through rollovers the pinned key signed (shared/keys/relay-key-rollover.ts); any
 * other difference, or two sources that disagree, raises an alarm and nothing from that peer is
 * trusted (PEER_KEY_CHANGED) until an officer pins its key by hand. A hand pin of another key than the
 * one pinned drops the node's copy of the peer's key log, which that key vouched for (`pinByHand`).
 */
import { relayKeyFingerprint } from '../shared/crypto/relay-key.ts';
import { EntraideError } from '../shared/errors.ts';
import { relayKeyTimeline } from '../shared/keys/relay-key-rollover.ts';
import type { RelayInfo } from '../shared/protocol/schemas.ts';
import type { NewAlarm } from './key-log-monitor.ts';
import type { AlarmKind } from './store/records.ts';
import type { NodeStore } from './store/node-store.ts';
import type { DroppedLogCopy, PeerRelayKeyRecord } from './store/peer-key-store.ts';

/** Alarms that stop trust in a peer until an officer pins its key by hand. */
export const PEER_KEY_ALARMS = ['peer-key-changed', 'peer-key-conflict'] as const;

/** A relay key a roster lists, from a coordinator whose safety code this authority verified. */
export interface RosterRelayClaim {
  network: string;
  version: number;
  key: string;
  receivedAt: Date;
}

/** What a peer view needs to decide: the home relay's word, and the peer's own signed rollovers. */
export interface PeerWord {
  /** The key the home relay gives for the peer now (GET /v1/peers). */
  served: string;
  /** The peer's own answer to GET /v1/relay, passed on by the home relay (read only when needed). */
  info: () => Promise<RelayInfo>;
}

const fp = relayKeyFingerprint;

export class PeerPins {
  constructor(
    private readonly store: NodeStore,
    private readonly homeDomain: string,
    private readonly rosterClaims: (domain: string) => Promise<RosterRelayClaim[]>,
    private readonly raise: (a: NewAlarm) => void = () => undefined,
  ) {}

  /** Throws PEER_KEY_CHANGED while an alarm about the peer's key is open. */
  async assertTrusted(domain: string): Promise<void> {
    for (const kind of PEER_KEY_ALARMS) {
      const [open] = await this.store.peerKeys.openAlarms(kind, domain);
      if (open) {
        throw new EntraideError(
          'PEER_KEY_CHANGED',
          `nothing from relay ${domain} is trusted until an officer pins its key by hand: ${open.message}`,
        );
      }
    }
  }

  /**
   * The key to hold relay `domain` to: the one pinned (pinning it now if no source did before),
   * after checking the sources agree and the home relay's word leads to it. Raises an alarm and
   * throws PEER_KEY_CHANGED otherwise.
   */
  async resolve(domain: string, word: PeerWord): Promise<PeerRelayKeyRecord> {
    await this.assertTrusted(domain);
    let info: RelayInfo | undefined;
    const peerInfo = async () => (info ??= await word.info());
    let pin = await this.store.peerKeys.get(domain);
    const claims = await this.rosterClaims(domain);

    // Rosters of verified coordinators must agree with each other and with what is pinned.
    for (const claim of claims) {
      const against = pin ?? null;
      if (against && !(await this.sameChain(domain, claim.key, against.publicKey, peerInfo))) {
        // A hand pin made after the roster arrived is the officer's informed choice.
        if (against.source === 'hand' && against.pinnedAt >= claim.receivedAt) continue;
        await this.refuse(
          'peer-key-conflict',
          domain,
          `network ${claim.network} (roster v${claim.version}, signed by a verified coordinator) gives relay ${domain} the key with fingerprint ${fp(claim.key)}, but the key pinned here (${against.source}) has fingerprint ${fp(against.publicKey)}`,
        );
      }
      if (!pin) {
        pin = await this.save(domain, claim.key, `roster:${claim.network}`, [
          this.notice(
            'peer-key-pinned',
            domain,
            `relay ${domain}’s key pinned from the roster of network ${claim.network} (v${claim.version}, signed by a verified coordinator): fingerprint ${fp(claim.key)}`,
          ),
        ]);
      } else if (pin.source === 'first-use') {
        // A verified roster confirms what was pinned on first use: it becomes the pin's source.
        pin = await this.save(domain, pin.publicKey, `roster:${claim.network}`, [], pin);
      }
    }

    if (!pin) {
      pin = await this.save(domain, word.served, 'first-use', [
        this.notice(
          'peer-key-pinned',
          domain,
          `relay ${domain}’s key pinned on first use, as relay ${this.homeDomain} gave it: fingerprint ${fp(word.served)}. Compare it with ${domain}’s operator by another channel, or pin it by hand: entraide relay pin ${domain} KEY`,
        ),
      ]);
    }
    if (word.served === pin.publicKey) return pin;

    // The home relay gives another key: followed only through rollovers the pinned key signed.
    const shown = await peerInfo();
    try {
      if (shown.domain !== domain || shown.publicKey !== word.served)
        throw new EntraideError('RELAY_MISMATCH', `relay ${domain}’s own answer shows another key`);
      relayKeyTimeline(domain, pin.publicKey, word.served, shown.keyHistory);
    } catch (err) {
      if (!(err instanceof EntraideError)) throw err;
      return this.refuse(
        'peer-key-changed',
        domain,
        `relay ${this.homeDomain} gives relay ${domain} the key with fingerprint ${fp(word.served)}, not the one pinned here (${pin.source}, fingerprint ${fp(pin.publicKey)}), and no rollover signed by the pinned key leads to it`,
      );
    }
    return this.follow(pin, word.served);
  }

  /**
   * Records a rollover the pinned key signed (checked by the caller): the new key is pinned, and the
   * copy of the peer's key log is kept (the rollover vouches for it). `held` may be one a view read
   * before a hand pin replaced it: the pin stored now is the one followed.
   */
  async follow(held: PeerRelayKeyRecord, to: string): Promise<PeerRelayKeyRecord> {
    const pin = (await this.store.peerKeys.get(held.domain)) ?? held;
    if (pin.publicKey === to) return pin;
    return this.save(
      pin.domain,
      to,
      pin.source,
      [
        this.notice(
          'peer-key-rotated',
          pin.domain,
          `relay ${pin.domain} rotated its key, signed by the key pinned here (fingerprint ${fp(pin.publicKey)}): now pinned, fingerprint ${fp(to)}`,
        ),
      ],
      pin,
    );
  }

  /**
   * The peer's answers were not signed by the key pinned for it (or its own answer shows a key no
   * rollover leads to): alarm, stop trusting it (PEER_KEY_CHANGED from now on), and throw `err`.
   */
  async refused(domain: string, err: EntraideError): Promise<never> {
    const pin = await this.store.peerKeys.get(domain);
    return this.refuse(
      'peer-key-changed',
      domain,
      `relay ${domain}’s answers, passed on by relay ${this.homeDomain}, do not verify under the key pinned here${pin ? ` (${pin.source}, fingerprint ${fp(pin.publicKey)})` : ''}: ${err.message} [${err.code}]`,
      err,
    );
  }

  /**
   * An officer pins a peer's key by hand; the open alarms about that peer are resolved. The node's
   * copy of the peer's key log was verified under the key pinned before: unless that is the key now
   * pinned, the copy is dropped with the pin's change (one transaction, with a notice), so that the
   * next sync reads the whole log again under the new key. Master keys pinned from the old copy stay
   * pinned: one the log read again does not show raises an alarm then (key-log-monitor.ts).
   * Returns the pin, the alarms resolved, and the copy dropped (null if none was).
   */
  async pinByHand(
    domain: string,
    key: string,
  ): Promise<{ pin: PeerRelayKeyRecord; resolved: number; dropped: DroppedLogCopy | null }> {
    if (domain === this.homeDomain) {
      throw new EntraideError(
        'USAGE',
        `${domain} is this node’s own relay: its key comes with the invitation, not from a pin`,
      );
    }
    const before = await this.store.peerKeys.get(domain);
    const pin = this.record(domain, key, 'hand');
    // A copy held with no pin (or under another key) proves nothing under this one.
    const notices: NewAlarm[] = [];
    const drop =
      before?.publicKey === key
        ? undefined
        : (copy: DroppedLogCopy) => {
            const held = before
              ? ` replaces the key pinned before (${before.source}, fingerprint ${fp(before.publicKey)}): this node’s copy of ${domain}’s key log, verified under that key`
              : `: this node’s copy of ${domain}’s key log, held with no key pinned for ${domain}`;
            notices.push(
              this.notice(
                'peer-key-log-dropped',
                domain,
                `relay ${domain}’s key pinned by hand (fingerprint ${fp(key)})${held} (${copy.entries} ${copy.entries === 1 ? 'entry' : 'entries'}, head of size ${copy.size}), was dropped and will be read again from the start under the new key`,
              ),
            );
            return notices;
          };
    const dropped = await this.store.peerKeys.save(pin, [], drop);
    for (const n of notices) this.raise(n);
    let resolved = 0;
    for (const kind of PEER_KEY_ALARMS) resolved += await this.store.resolveAlarms(kind, domain, new Date());
    return { pin, resolved, dropped };
  }

  list(): Promise<PeerRelayKeyRecord[]> {
    return this.store.peerKeys.list();
  }

  /** True when `a` and `b` are the same key, or keys of one chain of rollovers the peer signed. */
  private async sameChain(
    domain: string,
    a: string,
    b: string,
    info: () => Promise<RelayInfo>,
  ): Promise<boolean> {
    if (a === b) return true;
    const shown = await info();
    const history = shown.keyHistory ?? [];
    if (history.length === 0 || shown.domain !== domain) return false;
    try {
      const keys = relayKeyTimeline(domain, history[0]!.previousKey, shown.publicKey, history).keys;
      return keys.some((k) => k.key === a) && keys.some((k) => k.key === b);
    } catch {
      return false;
    }
  }

  private notice(kind: AlarmKind, relay: string, message: string): NewAlarm {
    return { raisedAt: new Date(), kind, relay, authority: null, idx: null, message, resolvedAt: null };
  }

  /** Raises the alarm that stops trust in the peer; throws `err`, or PEER_KEY_CHANGED. */
  private async refuse(
    kind: (typeof PEER_KEY_ALARMS)[number],
    domain: string,
    message: string,
    err?: EntraideError,
  ): Promise<never> {
    const alarm = this.notice(
      kind,
      domain,
      `${message}. Nothing from relay ${domain} is trusted until an officer compares its key with its operator by another channel and pins it: entraide relay pin ${domain} KEY`,
    );
    if (await this.store.addAlarm(alarm)) this.raise(alarm);
    throw err ?? new EntraideError('PEER_KEY_CHANGED', message);
  }

  private async save(
    domain: string,
    key: string,
    source: string,
    notices: NewAlarm[],
    before?: PeerRelayKeyRecord,
  ): Promise<PeerRelayKeyRecord> {
    const record = this.record(domain, key, source, before);
    await this.store.peerKeys.save(record, notices);
    for (const n of notices) this.raise(n);
    return record;
  }

  /** The pin of `key` from `source`; one that keeps `before`'s source keeps when and what it first pinned. */
  private record(
    domain: string,
    key: string,
    source: string,
    before?: PeerRelayKeyRecord,
  ): PeerRelayKeyRecord {
    const now = new Date();
    const keep = before && before.source === source;
    return {
      domain,
      publicKey: key,
      pinnedKey: keep ? before.pinnedKey : key,
      fingerprint: fp(key),
      source,
      pinnedAt: keep ? before.pinnedAt : now,
      verifiedAt: source === 'first-use' ? null : now,
    };
  }
}
