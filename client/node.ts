/**
 * The authority node: opens a node's home folder and wires its parts. Sending is in outbound.ts,
 * receiving in inbound.ts (one acceptor per content type), the relay link in transport/, each desk
 * (requests, receipts, networks, meetings, keys) in its own module behind node-port.ts.
 */
import { collectDirectory } from '../shared/keys/directory-entry.ts';
import { fromBase64url } from '../shared/bytes.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EntraideError } from '../shared/errors.ts';
import { keyEventHash } from '../shared/keys/key-log-leaf.ts';
import type { NodeRecordHead } from '../shared/audit/node-record.ts';
import type { AuthorityProfile } from '../shared/protocol/profile.ts';
import { KeyEventResult, type KeyEvent } from '../shared/protocol/key-log.ts';
import {
  DeliveryState,
  SubmitResult,
  type Envelope,
  type EnvelopeFormat,
} from '../shared/protocol/schemas.ts';
import { lockFolder, type FolderLock } from '../prisma/folder-lock.ts';
import { homePaths, readConfig, secureHome, type NodeConfig } from './home.ts';
import type { Inbound, ReceiveOutcome } from './inbound.ts';
import { KeyLogMonitor, type NewAlarm } from './key-log-monitor.ts';
import { fingerprint, type Fingerprint } from './key-manager.ts';
import { KeyUpkeep } from './key-upkeep.ts';
import { databaseKeyOf, Keystore, type KeyMaterial } from './keystore.ts';
import { encryptionKeysOf } from './encryption-keys.ts';
import { MeetingDesk } from './meetings.ts';
import { ConsultationDesk } from './consultations.ts';
import { documentDeskOf, type DocumentDesk } from './documents/desk.ts';
import { NetworkDesk } from './networks.ts';
import type { Dispatch, KeyPort, SendOptions, SendResult } from './node-port.ts';
import { exchangeOf } from './node-exchange.ts';
import type { Outbound } from './outbound.ts';
import { eachReported, Outbox } from './outbox.ts';
import { nodeFormats } from './formats.ts';
import { Counterparts } from './counterparts.ts';
import { PeerPins } from './peer-pins.ts';
import { peerViews, relayKeyOf } from './peer-view.ts';
import { readItem } from './reading.ts';
import { recordHead } from './record.ts';
import { ReceiptDesk } from './receipts.ts';
import { homeRelayLink } from './relay-keys.ts';
import { RequestDesk } from './requests.ts';
import { NodeStore, type StoredMessage } from './store/node-store.ts';
import { RelayHttp, Unchecked } from './transport/http.ts';
import { RelayClient } from './transport/relay-client.ts';
import { RelaySocket, type SocketHandlers } from './transport/socket.ts';
import { TrustStore } from './trust.ts';

export type { Dispatch, SendOptions, SendResult } from './node-port.ts';
export type { ReceiveOutcome } from './inbound.ts';

export interface NodeOptions {
  /** The envelope formats this node writes, reads and publishes (default: ENTRAIDE_FORMATS, else all). */
  formats?: readonly EnvelopeFormat[];
}

export class AuthorityNode implements KeyPort {
  readonly identitySecretKey: Uint8Array;
  private encryptionKeys: ReturnType<typeof encryptionKeysOf> = new Map();
  /** Requests in this node's name, each answer checked against its schema. */
  readonly relay: RelayClient;
  readonly monitor: KeyLogMonitor;
  readonly trust: TrustStore;
  /** The keys this node pinned for peer relays (first use, by hand, or from a verified roster). */
  readonly peerPins: PeerPins;
  /** Counterparts whose safety code was never verified (the CLI asks before sending to them). */
  readonly counterparts: Counterparts;
  /** Requests for cooperation: drafting, sending, status updates, statistics. */
  readonly requests: RequestDesk;
  /** Network rosters and declared working hours. */
  readonly networks: NetworkDesk;
  /** Meeting invitations, updates, cancellations and replies. */
  readonly meetings: MeetingDesk;
  readonly consultations: ConsultationDesk;
  /** Delivery and read receipts: issued for what arrives, kept as evidence for what was sent. */
  readonly receipts: ReceiptDesk;
  /** Documents: sealed, uploaded and downloaded (resumable), kept encrypted, exported on demand. */
  readonly documents: DocumentDesk;
  /** What opening set right or asks of the officer: modes made owner-only, a short passphrase. */
  notices: readonly string[] = [];
  private readonly socket: RelaySocket;
  private readonly outbound: Outbound;
  /** Sealed items the relay has not accepted yet; they go out by themselves (outbox.ts). */
  readonly outbox: Outbox;
  private readonly inbound: Inbound;
  private readonly upkeep: KeyUpkeep;
  private readonly alarmListeners = new Set<(a: NewAlarm) => void>();
  private checkingApproval = false;
  /** The envelope formats this node writes, reads and publishes with its keys. */
  readonly formats: readonly EnvelopeFormat[];

  private constructor(
    readonly home: string,
    readonly config: NodeConfig,
    readonly keystore: Keystore,
    readonly store: NodeStore,
    private readonly lock: FolderLock,
    options: NodeOptions = {},
  ) {
    this.formats = nodeFormats(options.formats);
    this.identitySecretKey = fromBase64url(keystore.keys.identitySecretKey, 'identitySecretKey', 64);
    this.loadEncryptionKeys();
    const http = new RelayHttp(config.relayUrl);
    const raise = (a: NewAlarm) => this.alarmListeners.forEach((l) => l(a));
    const { keys, session } = homeRelayLink(home, config, http, store, this.identitySecretKey, raise);
    this.relay = new RelayClient(http, session, () => this.mayAct());
    this.monitor = new KeyLogMonitor(
      store,
      (path) => this.relay.get(Unchecked, path),
      { relay: config.relay.domain, relayKeys: keys, authority: config.authority, node: config.node },
      raise,
    );
    this.peerPins = new PeerPins(store, config.relay.domain, (d) => this.networks.relayClaims(d), raise);
    this.trust = new TrustStore(
      store,
      {
        domain: config.relay.domain,
        keys,
        monitor: this.monitor,
        directory: (a) =>
          collectDirectory((q) => this.relay.get(Unchecked, `/v1/directory/${encodeURIComponent(a)}${q}`)),
      },
      peerViews(this.relay, store, config, raise, this.peerPins),
    );
    this.upkeep = new KeyUpkeep(this, this.monitor, raise);
    this.socket = new RelaySocket(config.relayUrl, this.relay);
    // Desks reach each other through what their constructors are given, never through the node.
    this.receipts = new ReceiptDesk(this, (requestId) => this.requests.rederive(requestId));
    this.requests = new RequestDesk(this, this.receipts);
    this.networks = new NetworkDesk(this, relayKeyOf(this.relay, this.peerPins, config));
    this.counterparts = new Counterparts(this.trust, store, config.authority);
    this.meetings = new MeetingDesk(this, this.networks, this.requests);
    this.consultations = new ConsultationDesk(this);
    this.documents = documentDeskOf(store, homePaths(home).documents, this.relay, this.receipts);
    const exchange = exchangeOf(this, http, () => this.encryptionKeys, raise);
    this.outbound = exchange.outbound;
    this.inbound = exchange.inbound;
    this.outbox = new Outbox(store, (envelope) => this.submit(envelope));
  }

  /** Opens the node in `home`: takes the folder's lock, unlocks the keystore, opens the database. */
  static async open(home: string, passphrase: string, options: NodeOptions = {}): Promise<AuthorityNode> {
    await loadSodium();
    const config = readConfig(home);
    const paths = homePaths(home);
    const lock = lockFolder(paths.lock, 'HOME_LOCKED', `node folder ${home}`);
    let store: NodeStore | undefined;
    let keystore: Keystore | undefined;
    try {
      const fixed = secureHome(home); // before SQLite makes -wal and -shm with node.db's mode
      keystore = Keystore.open(paths.keystore, passphrase);
      store = NodeStore.open(paths.db, databaseKeyOf(keystore.keys));
      await store.connect();
      store.record.setNode(config.node);
      const node = new AuthorityNode(home, config, keystore, store, lock, options);
      node.notices = [...fixed, ...keystore.notices];
      await store.pinOwnMaster(config.authority, keystore.keys.masterPublicKey);
      return node;
    } catch (err) {
      keystore?.close();
      await store?.close().catch(() => undefined);
      lock.release();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.stopListening();
    this.receipts.stop();
    try {
      this.store.flush(); // acceptances first, so that only what truly waits is sent below
      // A command that reached the relay sends what the outbox holds; a failure leaves it there.
      if (this.relay.http.answered && this.outbox.size > 0) await this.outbox.resend(0).catch(() => 0);
      this.store.flush();
      this.recordHead();
    } catch {
      // The record stays as it is; the next opening signs its head.
    }
    await this.store.close();
    this.keystore.close();
    this.lock.release();
  }

  get address(): string {
    return this.config.node;
  }

  get authority(): string {
    return this.config.authority;
  }

  get keys(): KeyMaterial {
    return this.keystore.keys;
  }

  get identityPublicKey(): string {
    return this.keystore.keys.identityPublicKey;
  }

  /** True once the authority approved this node (always, for a node created by `init`). */
  get approved(): boolean {
    return this.keystore.keys.certificate !== '';
  }

  /** The private encryption keys this node still holds (purged ones are gone), by key id. */
  loadEncryptionKeys(): void {
    this.encryptionKeys = encryptionKeysOf(this.keystore.keys);
  }

  /** Alarms raised while this node checks the key log (forged events, inconsistent logs...). */
  onAlarm(listener: (a: NewAlarm) => void): () => void {
    this.alarmListeners.add(listener);
    return () => this.alarmListeners.delete(listener);
  }

  /** Lets a joining node log in and read the key log to find out whether it was approved. */
  async whileCheckingApproval<T>(fn: () => Promise<T>): Promise<T> {
    this.checkingApproval = true;
    try {
      return await fn();
    } finally {
      this.checkingApproval = false;
    }
  }

  private mayAct(): void {
    if (this.approved || this.checkingApproval) return;
    const code = this.config.joinCode ? ` (join code ${this.config.joinCode})` : '';
    throw new EntraideError('NOT_APPROVED', `${this.address} waits for approval by its authority${code}`);
  }

  /** Logs a key event this node made; it is remembered first, so that self-monitoring knows it. */
  async publish(event: KeyEvent): Promise<KeyEventResult> {
    await this.store.markPublished(keyEventHash(event), new Date());
    const result = await this.relay.http.request(KeyEventResult, 'POST', '/v1/keylog/events', event);
    this.trust.forget();
    return result;
  }

  /** A signed head of the node's own record (see record.ts). */
  recordHead(fresh = false): NodeRecordHead {
    return recordHead(this, fresh);
  }

  /** Publishes keys a crash left pending and rotates the encryption key when it is due. */
  keepKeysFresh(): Promise<void> {
    return this.upkeep.keepFresh();
  }

  // ---- sending (outbound.ts) ----------------------------------------------------------------

  async profileOf(authority: string): Promise<AuthorityProfile | undefined> {
    return (await this.trust.authority(authority)).state.profile?.profile;
  }

  send(opts: SendOptions): Promise<SendResult> {
    return this.outbound.send(opts);
  }

  dispatch(d: Dispatch): Promise<SendResult> {
    return this.outbound.dispatch(d);
  }

  resendPending(olderThanMs?: number): Promise<number> {
    return this.outbox.resend(olderThanMs);
  }

  /** Uploads the documents an envelope names, then submits it over the open socket if any, else HTTP. */
  async submit(envelope: Envelope): Promise<SubmitResult> {
    if (envelope.v === 3) await this.documents.ensureUploaded(envelope.blobs);
    if (this.socket.connected) return this.socket.submit(envelope);
    return this.relay.post(SubmitResult, '/v1/envelopes', envelope);
  }

  deliveryState(id: string): Promise<DeliveryState> {
    return this.relay.get(DeliveryState, `/v1/envelopes/${encodeURIComponent(id)}`);
  }

  /**
   * Sends what waits on this node: items the relay has not accepted yet, receipts, declared hours.
   * A failure leaves them queued for the next attempt; it is reported, not thrown.
   */
  sendQueued(onError?: (err: EntraideError) => void): Promise<void> {
    this.receipts.stop();
    const steps = [() => this.resendPending(), () => this.receipts.flush(), () => this.networks.sendHours()];
    return eachReported(steps, (e) => (onError ?? this.receipts.onError)?.(e));
  }

  // ---- receiving (inbound.ts) ---------------------------------------------------------------

  receive(raw: unknown): Promise<ReceiveOutcome> {
    return this.inbound.receive(raw);
  }

  fetchInbox(): Promise<ReceiveOutcome[]> {
    return this.inbound.fetchInbox();
  }

  /** Stays connected over socket.io; each pushed envelope is stored before it is acknowledged. */
  async listen(
    handlers: Omit<SocketHandlers<ReceiveOutcome>, 'onEnvelope' | 'onStored'> & {
      onReceive?: (o: ReceiveOutcome) => void;
    } = {},
  ): Promise<void> {
    if (this.socket.open) return;
    await this.upkeep.keepFreshUnlessUnreachable();
    this.upkeep.watch(handlers.onError);
    this.outbox.start(handlers.onError);
    this.receipts.onError = handlers.onError;
    await this.socket.connect({
      ...handlers,
      onEnvelope: (raw) => this.inbound.receive(raw),
      onStored: handlers.onReceive,
      onConnect: () => {
        handlers.onConnect?.();
        void this.sendQueued();
      },
    });
  }

  stopListening(): void {
    this.socket.close();
    this.upkeep.stop();
    this.outbox.stop();
  }

  // ---- reading ------------------------------------------------------------------------------

  inbox(limit = 200): StoredMessage[] {
    return this.store.list('in', limit);
  }

  sent(limit = 200): StoredMessage[] {
    return this.store.list('out', limit);
  }

  /** Shows one item; see reading.ts for handling codes and read receipts. */
  read(id: string, opts: { override?: string | undefined } = {}): StoredMessage {
    return readItem({ store: this.store, address: this.address, receipts: this.receipts }, id, opts);
  }

  /** The safety code of this authority, or of a counterpart (see key-manager.ts). */
  fingerprint(authority?: string): Promise<Fingerprint> {
    return fingerprint(this, authority);
  }
}
