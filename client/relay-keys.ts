/**
 * The keys of a relay as this node holds them: the key pinned for it, and the rollovers the relay
 * signed that lead from that key to the one it shows now (shared/keys/relay-key-rollover.ts).
 * - Before each login the node asks its relay who it is (GET /v1/relay): another key is followed
 *   only through a valid chain from the pinned key (node.json then names the new key, and a notice
 *   is recorded with the alarms); without one the node stops with RELAY_MISMATCH before it signs
 *   anything for that relay.
 * - A signed head is checked against the key that was current at its timestamp; a head that does
 *   not verify makes the node ask the relay for its rollovers once, then check it again.
 */
import { relayKeyFingerprint } from '../shared/crypto/relay-key.ts';
import { EntraideError } from '../shared/errors.ts';
import {
  relayKeyTimeline,
  singleKeyTimeline,
  type RelayKeyTimeline,
} from '../shared/keys/relay-key-rollover.ts';
import { verifyTreeHead } from '../shared/keys/tree-head.ts';
import type { SignedTreeHead } from '../shared/protocol/key-log.ts';
import { RelayInfo } from '../shared/protocol/schemas.ts';
import { readConfig, writeConfig, type NodeConfig } from './home.ts';
import { Session } from './session.ts';
import type { AlarmRecord, NodeStore } from './store/node-store.ts';
import type { RelayHttp } from './transport/http.ts';

export class RelayKeyRing {
  private timeline: RelayKeyTimeline;

  /**
   * @param ask the relay's answer to GET /v1/relay, checked against its schema.
   * @param onFollow called once the relay proved a new key by a chain from the pinned one.
   * @param onRefused called (instead of throwing) when a head does not verify even after asking the
   *   relay for its rollovers, or the relay shows a key no chain leads to; it throws in its turn
   *   (a peer relay's view raises an alarm there: peer-pins.ts).
   */
  constructor(
    readonly domain: string,
    private pinned: string,
    private readonly ask: () => Promise<RelayInfo>,
    private readonly onFollow: (from: string, to: string) => Promise<void> = async () => undefined,
    private readonly onRefused?: (err: EntraideError) => Promise<never>,
  ) {
    this.timeline = singleKeyTimeline(domain, pinned);
  }

  /**
   * Holds the relay to `key` from now on, forgetting the keys followed from the one pinned before: an
   * officer pinned another key by hand (peer-pins.ts), and the copy of the log was dropped with it.
   */
  repin(key: string): void {
    if (key === this.pinned) return;
    this.pinned = key;
    this.timeline = singleKeyTimeline(this.domain, key);
  }

  /** The relay's keys as last proven. */
  get keys(): RelayKeyTimeline {
    return this.timeline;
  }

  /**
   * Asks the relay who it is and holds it to the pinned key, or to a key that a chain of rollovers
   * from the pinned key leads to, which is then followed. RELAY_MISMATCH otherwise.
   */
  async refresh(): Promise<void> {
    const info = await this.ask();
    if (info.domain !== this.domain)
      throw new EntraideError('RELAY_MISMATCH', `the relay answers as ${info.domain}, not ${this.domain}`);
    const timeline = relayKeyTimeline(this.domain, this.pinned, info.publicKey, info.keyHistory);
    const before = this.pinned;
    this.timeline = timeline;
    if (timeline.current === before) return;
    this.pinned = timeline.current;
    await this.onFollow(before, timeline.current);
  }

  /** Checks a signed head of the relay's key log; asks the relay for its rollovers once when it fails. */
  async verifyHead(head: SignedTreeHead): Promise<void> {
    try {
      verifyTreeHead(head, { log: 'key', relay: this.domain, relayKey: this.timeline });
      return;
    } catch (err) {
      if (!(err instanceof EntraideError) || err.code !== 'PROOF_INVALID') throw err;
    }
    try {
      await this.refresh();
      verifyTreeHead(head, { log: 'key', relay: this.domain, relayKey: this.timeline });
    } catch (err) {
      const refused =
        err instanceof EntraideError && (err.code === 'PROOF_INVALID' || err.code === 'RELAY_MISMATCH');
      if (refused && this.onRefused) await this.onRefused(err);
      throw err;
    }
  }
}

/**
 * The node's link to its own relay: the relay's keys, and a session whose every login first holds
 * the relay to them. A rollover followed is written to node.json (and to `config`, which the open
 * node reads) and recorded as a notice among the alarms, passed to `raise`.
 */
export function homeRelayLink(
  home: string,
  config: NodeConfig,
  http: RelayHttp,
  store: NodeStore,
  identitySecretKey: Uint8Array,
  raise: (a: Omit<AlarmRecord, 'id'>) => void,
): { keys: RelayKeyRing; session: Session } {
  const domain = config.relay.domain;
  const keys = new RelayKeyRing(
    domain,
    config.relay.publicKey,
    () => http.request(RelayInfo, 'GET', '/v1/relay'),
    async (from, to) => {
      const onDisk = readConfig(home);
      writeConfig(home, { ...onDisk, relay: { ...onDisk.relay, publicKey: to } });
      config.relay.publicKey = to;
      const notice = {
        raisedAt: new Date(),
        kind: 'relay-key-rotated' as const,
        relay: domain,
        authority: null,
        idx: null,
        message: `relay ${domain} rotated its key, signed by the key pinned here (fingerprint ${relayKeyFingerprint(from)}): now pinned, fingerprint ${relayKeyFingerprint(to)}`,
        resolvedAt: null,
      };
      if (await store.addAlarm(notice)) raise(notice);
    },
  );
  const session = new Session(http, domain, config.node, identitySecretKey, () => keys.refresh());
  return { keys, session };
}
