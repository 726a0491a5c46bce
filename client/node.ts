/**
 * The authority node SDK: opens a node's home folder and sends, receives and reads messages.
 * The protocol work is in shared/, storage in store/, transport in transport/; this class wires them.
 */
import { io, type Socket } from 'socket.io-client';
import { parseAuthorityAddress, parseNodeAddress } from '../shared/addresses.ts';
import { fromBase64url, fromUtf8 } from '../shared/bytes.ts';
import { canonicalBytes } from '../shared/canonical.ts';
import { openEnvelope, sealEnvelope, verifyEnvelopeSignature } from '../shared/crypto/envelope.ts';
import { encryptionKeyId } from '../shared/crypto/keys.ts';
import { safetyCode } from '../shared/crypto/safety-code.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EntraideError, errorFromBody, type ErrorBody, type ErrorCode } from '../shared/errors.ts';
import { keyEventHash } from '../shared/keys/key-log-leaf.ts';
import { signNodeRecordHead, type NodeRecordHead } from '../shared/audit/node-record.ts';
import type { KeyEvent, KeyEventResult } from '../shared/protocol/key-log.ts';
import { LIMITS } from '../shared/limits.ts';
import { Content, MessageContent } from '../shared/protocol/content.ts';
import { Handling, handlingProblem, mayRead } from '../shared/requests/handling.ts';
import type { NodeToServerEvents, ServerToNodeEvents } from '../shared/protocol/events.ts';
import { Envelope, type DeliveryState, type SubmitResult } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import { PeerList } from '../shared/protocol/federation.ts';
import { UUID_PATTERN, uuidv7 } from '../shared/uuid.ts';
import { lockFolder, type FolderLock } from '../prisma/folder-lock.ts';
import { homePaths, readConfig, type NodeConfig } from './home.ts';
import { ciphertextHash } from '../shared/receipts/receipt.ts';
import { Keystore, type KeyMaterial } from './keystore.ts';
import { MeetingDesk } from './meetings.ts';
import { NetworkDesk } from './networks.ts';
import { KeyLogMonitor, type NewAlarm } from './key-log-monitor.ts';
import { ensureFreshKeys } from './key-manager.ts';
import { random } from './random.ts';
import { Session } from './session.ts';
import { NodeStore, type MessageKind, type RejectionRecord, type StoredMessage } from './store/node-store.ts';
import { ReceiptDesk } from './receipts.ts';
import { RequestDesk } from './requests.ts';
import { RelayHttp } from './transport/http.ts';
import { TrustStore, type RelayView } from './trust.ts';

export interface SendOptions {
  to: string[];
  subject: string;
  body: string;
  language?: string;
  ttl?: number;
  /** The request the message belongs to. */
  request?: string;
  handling?: Handling;
}

export interface SendResult {
  id: string;
  acceptedAt: string;
  recipients: string[];
  sentAt: string;
  /** SHA-256 of the envelope's ciphertext, as the relay's audit log and receipts name it. */
  ciphertextHash: string;
}

/** What `dispatch` seals, sends and records. */
export interface Dispatch {
  to: string[];
  content: Content;
  /** How the item is listed in the node's own record. */
  record: {
    kind: MessageKind;
    subject: string;
    body: string;
    language: string | null;
    requestId: string | null;
    handling: Handling | null;
  };
  /** Seal for only these nodes of `authority` (a handling code with visibility "named"). */
  restrict?: { authority: string; nodes: string[] } | undefined;
  /** Also seal for this authority's other nodes (default true). */
  ownNodes?: boolean;
  /** Keep the item in the node's database (default true; receipts are tracked elsewhere). */
  store?: boolean;
  ttl?: number | undefined;
  /** Runs in the transaction that stores the item, before it is submitted. */
  then?: (envelope: { id: string; sentAt: string }) => void;
}

/** Failures after which the relay may still accept the stored item when it is submitted again. */
export const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'RELAY_UNREACHABLE',
  'PEER_UNREACHABLE',
  'INTERNAL',
  'TOKEN_EXPIRED',
  'TOKEN_INVALID',
]);

export type ReceiveOutcome =
  | { kind: 'message'; message: StoredMessage; duplicate: boolean }
  /** Receipts for what this authority sent: stored as evidence, not listed as messages. */
  | { kind: 'receipts'; envelopeId: string; count: number; duplicate: boolean }
  | { kind: 'rejected'; rejection: RejectionRecord };

/** Verification failures that no retry can cure: the envelope is recorded as rejected and acknowledged. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SCHEMA_INVALID',
  'BAD_SIGNATURE',
  'CERTIFICATE_INVALID',
  'KEY_CHANGED',
  'NOT_A_RECIPIENT',
  'DECRYPT_FAILED',
  'KEY_COMMITMENT_MISMATCH',
  'CONTENT_INVALID',
  'UNKNOWN_AUTHORITY',
  'ADDRESS_INVALID',
  'NOT_A_COUNTERPART',
  'NOT_COORDINATOR',
  'ROSTER_STALE',
  'ROSTER_FORK',
  'ROSTER_INVALID',
  'WORKING_HOURS_INVALID',
  'MEETING_INVALID',
  'MEETING_STALE_SEQUENCE',
  'MEETING_NOT_ORGANIZER',
  'MEETING_NOT_INVITED',
  'MEETING_CANCELLED',
]);

const UUID_RE = new RegExp(`^${UUID_PATTERN}$`);
const SEND_SYNC_INTERVAL_MS = 250;
/** The relay's refusals of a rotated key (kept as an alarm; sending goes on with the current key). */
const ROTATION_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KEY_EVENT_INVALID',
  'BAD_SIGNATURE',
  'CERTIFICATE_INVALID',
  'SCHEMA_INVALID',
]);
const WATCH_INTERVAL_MS = 5 * 60_000;

type NodeSocket = Socket<ServerToNodeEvents, NodeToServerEvents>;

export class AuthorityNode {
  readonly config: NodeConfig;
  readonly store: NodeStore;
  readonly keystore: Keystore;
  private readonly identitySecret: Uint8Array;
  private encryptionKeys = new Map<string, { publicKey: Uint8Array; secretKey: Uint8Array }>();
  readonly http: RelayHttp;
  private readonly session: Session;
  readonly monitor: KeyLogMonitor;
  readonly trust: TrustStore;
  private socket: NodeSocket | undefined;
  /** Requests for cooperation: drafting, sending, status updates, statistics. */
  readonly requests: RequestDesk;
  /** Network rosters and declared working hours. */
  readonly networks: NetworkDesk;
  /** Meeting invitations, updates, cancellations and replies. */
  readonly meetings: MeetingDesk;
  /** Delivery and read receipts: issued for what arrives, kept as evidence for what was sent. */
  readonly receipts: ReceiptDesk;
  private readonly alarmListeners = new Set<(a: NewAlarm) => void>();

  private constructor(
    readonly home: string,
    config: NodeConfig,
    keystore: Keystore,
    store: NodeStore,
    private readonly lock: FolderLock,
  ) {
    this.config = config;
    this.keystore = keystore;
    this.store = store;
    this.identitySecret = fromBase64url(keystore.keys.identitySecretKey, 'identitySecretKey', 64);
    this.loadEncryptionKeys();
    this.http = new RelayHttp(config.relayUrl);
    this.session = new Session(this.http, config.relay.domain, config.node, this.identitySecret);
    const relayKey = fromBase64url(config.relay.publicKey, 'relay.publicKey', 32);
    this.monitor = new KeyLogMonitor(
      store,
      (path) => this.authed('GET', path),
      { relay: config.relay.domain, relayKey, authority: config.authority, node: config.node },
      (a) => this.alarmListeners.forEach((l) => l(a)),
    );
    this.trust = new TrustStore(
      store,
      {
        domain: config.relay.domain,
        publicKey: relayKey,
        monitor: this.monitor,
        directory: (a) => this.authed('GET', `/v1/directory/${encodeURIComponent(a)}`),
      },
      (domain) => this.peerView(domain),
    );
    this.receipts = new ReceiptDesk(this);
    this.requests = new RequestDesk(this);
    this.networks = new NetworkDesk(this);
    this.meetings = new MeetingDesk(this);
  }

  /**
   * A peer relay as this node sees it: the key its own relay's operator pinned for it, and the node's
   * own verified copy of the peer's key log, read through the home relay.
   */
  private async peerView(domain: string): Promise<RelayView> {
    const { peers } = check(PeerList, await this.authed<unknown>('GET', '/v1/peers'), 'peer list');
    const peer = peers.find((p) => p.domain === domain);
    if (!peer) {
      throw new EntraideError(
        'UNKNOWN_AUTHORITY',
        `relay ${domain} is not a peer of ${this.config.relay.domain}: its authorities cannot be reached from here`,
      );
    }
    const publicKey = fromBase64url(peer.publicKey, 'peer key', 32);
    const base = `/v1/relays/${encodeURIComponent(domain)}`;
    return {
      domain,
      publicKey,
      monitor: new KeyLogMonitor(
        this.store,
        (path) => this.authed('GET', path.replace(/^\/v1\/keylog\//, `${base}/keylog/`)),
        { relay: domain, relayKey: publicKey, authority: this.config.authority, node: this.config.node },
        (a) => this.alarmListeners.forEach((l) => l(a)),
      ),
      directory: (a) => this.authed('GET', `${base}/directory/${encodeURIComponent(a)}`),
    };
  }

  /** The private encryption keys this node still holds (purged ones are gone), by key id. */
  loadEncryptionKeys(): void {
    this.encryptionKeys = new Map(
      this.keystore.keys.encryptionKeys
        .filter((k) => k.secretKey !== null)
        .map((k) => {
          const publicKey = fromBase64url(k.publicKey, 'encryption key', 32);
          return [
            encryptionKeyId(publicKey),
            { publicKey, secretKey: fromBase64url(k.secretKey!, 'encryption key', 32) },
          ];
        }),
    );
  }

  get keys(): KeyMaterial {
    return this.keystore.keys;
  }

  get identitySecretKey(): Uint8Array {
    return this.identitySecret;
  }

  /** Alarms raised while this node checks the key log (forged events, inconsistent logs...). */
  onAlarm(listener: (a: NewAlarm) => void): () => void {
    this.alarmListeners.add(listener);
    return () => this.alarmListeners.delete(listener);
  }

  /** Opens the node in `home`: takes the folder's lock, unlocks the keystore, opens the database. */
  static async open(home: string, passphrase: string): Promise<AuthorityNode> {
    await loadSodium();
    const config = readConfig(home);
    const paths = homePaths(home);
    const lock = lockFolder(paths.lock, 'HOME_LOCKED', `node folder ${home}`);
    let store: NodeStore | undefined;
    let keystore: Keystore | undefined;
    try {
      keystore = Keystore.open(paths.keystore, passphrase);
      store = NodeStore.open(paths.db);
      store.record.setNode(config.node);
      const node = new AuthorityNode(home, config, keystore, store, lock);
      const master = keystore.keys.masterPublicKey;
      if (master && !(await store.pin(config.authority))) {
        await store.savePin({
          authority: config.authority,
          masterKey: master,
          safetyCode: safetyCode(config.authority, fromBase64url(master, 'masterPublicKey', 32)),
          pinnedAt: new Date(),
        });
      }
      return node;
    } catch (err) {
      keystore?.close();
      await store?.close().catch(() => undefined);
      lock.release();
      throw err;
    }
  }

  /** True once the authority approved this node (always, for a node created by `init`). */
  get approved(): boolean {
    return this.keystore.keys.certificate !== '';
  }

  private checkingApproval = false;

  /** Lets a joining node log in and read the key log to find out whether it was approved. */
  async whileCheckingApproval<T>(fn: () => Promise<T>): Promise<T> {
    this.checkingApproval = true;
    try {
      return await fn();
    } finally {
      this.checkingApproval = false;
    }
  }

  /** Logs a key event this node made; it is remembered first, so that self-monitoring knows it. */
  async publish(event: KeyEvent): Promise<KeyEventResult> {
    await this.store.markPublished(keyEventHash(event), new Date());
    const result = await this.http.request<KeyEventResult>('POST', '/v1/keylog/events', event);
    this.trust.forget();
    return result;
  }

  /**
   * A head of the node's own record, signed by its identity key: a new one when entries came since,
   * or when `fresh` (an export says what the record held at the time of export).
   */
  recordHead(fresh = false): NodeRecordHead {
    const record = this.store.record;
    const latest = record.latestHead();
    if (!fresh && latest && latest.size === record.size) return JSON.parse(latest.head) as NodeRecordHead;
    const head = signNodeRecordHead(
      { node: this.address, size: record.size, root: record.root(), timestamp: new Date() },
      this.identitySecret,
    );
    record.saveHead(head.size, JSON.stringify(head), new Date());
    return head;
  }

  async close(): Promise<void> {
    this.stopListening();
    this.receipts.stop();
    try {
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

  async authed<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (!this.approved && !this.checkingApproval) {
      throw new EntraideError(
        'NOT_APPROVED',
        `${this.address} waits for approval by its authority${this.config.joinCode ? ` (join code ${this.config.joinCode})` : ''}`,
      );
    }
    try {
      return await this.http.request<T>(method, path, body, await this.session.current());
    } catch (err) {
      if (err instanceof EntraideError && (err.code === 'TOKEN_EXPIRED' || err.code === 'TOKEN_INVALID')) {
        this.session.invalidate();
        return this.http.request<T>(method, path, body, await this.session.current());
      }
      throw err;
    }
  }

  // ---- sending ------------------------------------------------------------------------

  /** Seals a message to every trusted node of each recipient authority and of this authority, submits it, stores it. */
  /**
   * Publishes keys a crash left pending and rotates the encryption key when it is due. A refusal is
   * kept as an alarm rather than stopping the officer's work; an unreachable relay stops it anyway.
   */
  async keepKeysFresh(): Promise<void> {
    try {
      const rotated = await ensureFreshKeys(this);
      if (rotated) this.trust.forget(this.authority);
    } catch (err) {
      // Only the relay refusing the new key is kept as an alarm; anything else (unreachable relay,
      // untrusted key log, revoked node) stops the work that asked, with its own error.
      if (!(err instanceof EntraideError) || !ROTATION_REFUSALS.has(err.code)) throw err;
      const alarm = {
        raisedAt: new Date(),
        kind: 'rotation-failed',
        relay: this.config.relay.domain,
        authority: this.authority,
        idx: null,
        message: `the encryption key of ${this.address} could not be rotated: ${err.message} [${err.code}]`,
        resolvedAt: null,
      };
      if (await this.store.addAlarm(alarm)) this.alarmListeners.forEach((l) => l(alarm));
    }
  }

  /** Seals a message to every trusted node of each recipient authority and of this authority, submits it, stores it. */
  async send(opts: SendOptions): Promise<SendResult> {
    const handling = opts.handling ?? null;
    if (handling) {
      const problem = handlingProblem(check(Handling, handling, 'handling'));
      if (problem) throw new EntraideError('SCHEMA_INVALID', `handling: ${problem}`);
    }
    if (opts.request) this.requests.mustExist(opts.request);
    const content = check(
      MessageContent,
      {
        type: 'message',
        subject: opts.subject,
        body: opts.body,
        ...(opts.language ? { language: opts.language } : {}),
        ...(opts.request ? { request: opts.request } : {}),
        ...(handling ? { handling } : {}),
      },
      'message',
    );
    const restrictTo = handling?.visibility === 'named' ? handling.nodes! : undefined;
    return this.dispatch({
      to: opts.to,
      content,
      record: {
        kind: 'message',
        subject: content.subject,
        body: content.body,
        language: content.language ?? null,
        requestId: opts.request ?? null,
        handling,
      },
      restrict:
        restrictTo && opts.to.length === 1 ? { authority: opts.to[0]!, nodes: restrictTo } : undefined,
      ttl: opts.ttl,
    });
  }

  /**
   * Seals any content for the recipient authorities' trusted nodes (and this authority's other
   * nodes), stores it before submission (a crash after the relay accepted it still leaves our own
   * record), submits it. A failure that a later attempt may cure leaves the item stored; it is
   * submitted again by `resendPending`.
   */
  async dispatch(d: Dispatch): Promise<SendResult> {
    await this.keepKeysFresh();
    const to = [...new Set(d.to)];
    if (to.length === 0) throw new EntraideError('USAGE', 'name at least one recipient authority with --to');
    for (const a of to) parseAuthorityAddress(a);
    const bytes = canonicalBytes(d.content);
    if (bytes.length > LIMITS.maxContentBytes) {
      throw new EntraideError(
        'PAYLOAD_TOO_LARGE',
        `the ${d.record.kind} is ${bytes.length} bytes; the limit is ${LIMITS.maxContentBytes}`,
      );
    }
    // Sends check the key log's head (at most four times a second, shared by concurrent sends), so
    // that a node approved or revoked a moment ago counts.
    await this.monitor.sync(SEND_SYNC_INTERVAL_MS);
    const recipients = await this.recipientsFor(to, false, d.restrict, d.ownNodes ?? true);
    const sentAt = new Date();
    const sealInput = {
      id: uuidv7(sentAt.getTime(), random(10)),
      from: this.address,
      to,
      sentAt,
      ttl: d.ttl ?? LIMITS.defaultTtlSeconds,
      recipients,
      content: bytes,
    };
    let envelope = sealEnvelope(sealInput, this.identitySecret, random);
    const store = d.store ?? true;
    if (store) {
      await this.store.saveMessage(
        {
          id: envelope.id,
          direction: 'out',
          sender: this.address,
          recipients: to,
          subject: d.record.subject,
          body: d.record.body,
          language: d.record.language,
          sentAt: envelope.sentAt,
          receivedAt: null,
          acceptedAt: null,
          envelope: JSON.stringify(envelope),
          kind: d.record.kind,
          requestId: d.record.requestId,
          handling: d.record.handling ? JSON.stringify(d.record.handling) : null,
          content: d.record.kind === 'message' ? null : fromUtf8(bytes),
        },
        d.then ? () => d.then!(envelope) : undefined,
      );
    }
    let result: SubmitResult;
    try {
      result = await this.submit(envelope);
    } catch (err) {
      // A node revoked or added since the directory was read: read it again and seal once more.
      if (!(err instanceof EntraideError && err.code === 'UNKNOWN_RECIPIENT')) throw err;
      const again = await this.recipientsFor(to, true, d.restrict, d.ownNodes ?? true);
      envelope = sealEnvelope({ ...sealInput, recipients: again }, this.identitySecret, random);
      if (store) await this.store.replaceEnvelope(envelope.id, JSON.stringify(envelope));
      result = await this.submit(envelope);
      recipients.splice(0, recipients.length, ...again);
    }
    // Written with the next commit; close() flushes it. A failure here changes nothing the relay holds.
    if (store) this.store.markAccepted(envelope.id, result.acceptedAt).catch(() => undefined);
    return {
      id: envelope.id,
      acceptedAt: result.acceptedAt,
      recipients: recipients.map((r) => r.node),
      sentAt: envelope.sentAt,
      ciphertextHash: ciphertextHash(envelope.ciphertext),
    };
  }

  /**
   * Submits again what this node stored for sending but the relay never accepted (the relay was
   * down, or the node crashed in between). The relay deduplicates by envelope id.
   */
  async resendPending(olderThanMs = 2_000): Promise<number> {
    const before = new Date(Date.now() - olderThanMs).toISOString();
    let sent = 0;
    for (const item of this.store.unaccepted(before)) {
      const envelope = check(Envelope, JSON.parse(item.envelope), 'stored envelope');
      if (Date.parse(envelope.sentAt) + envelope.ttl * 1000 <= Date.now()) continue;
      const result = await this.submit(envelope);
      await this.store.markAccepted(envelope.id, result.acceptedAt);
      sent++;
    }
    return sent;
  }

  /** Every node to encrypt to: each recipient authority's trusted nodes, and this authority's other nodes. */
  private async recipientsFor(
    to: string[],
    fresh = false,
    restrict?: { authority: string; nodes: string[] },
    ownNodes = true,
  ): Promise<{ node: string; encryptionKey: Uint8Array }[]> {
    const recipients: { node: string; encryptionKey: Uint8Array }[] = [];
    for (const authority of new Set(ownNodes ? [...to, this.authority] : to)) {
      let targets = await this.trust.recipients(authority, fresh);
      if (restrict && restrict.authority === authority) {
        const all = targets;
        targets = targets.filter((t) => restrict.nodes.includes(parseNodeAddress(t.node).nodeName));
        if (authority !== this.authority && targets.length === 0) {
          throw new EntraideError(
            'UNKNOWN_RECIPIENT',
            `none of the nodes named in the handling code (${restrict.nodes.join(', ')}) is a node of ${authority}; its nodes are ${all.map((t) => parseNodeAddress(t.node).nodeName).join(', ') || 'none'}: nothing was sent`,
          );
        }
      }
      for (const t of targets) {
        if (t.node === this.address) continue;
        recipients.push({ node: t.node, encryptionKey: fromBase64url(t.encryptionKey, 'encryptionKey', 32) });
      }
      if (authority !== this.authority && targets.length === 0) {
        throw new EntraideError(
          'UNKNOWN_RECIPIENT',
          `${authority} has no node with a valid certificate and a current encryption key: nothing was sent`,
        );
      }
    }
    return recipients;
  }

  /** Submits over the open socket when there is one, else over HTTP. */
  async submit(envelope: Envelope): Promise<SubmitResult> {
    const socket = this.socket;
    if (socket?.connected) {
      const answer = (await socket.timeout(30_000).emitWithAck('envelope:submit', envelope)) as
        SubmitResult | ErrorBody;
      if ('error' in answer) throw errorFromBody(answer);
      return answer;
    }
    return this.authed<SubmitResult>('POST', '/v1/envelopes', envelope);
  }

  async deliveryState(id: string): Promise<DeliveryState> {
    return this.authed<DeliveryState>('GET', `/v1/envelopes/${encodeURIComponent(id)}`);
  }

  // ---- receiving ----------------------------------------------------------------------

  /**
   * Verifies, opens and stores one envelope. Permanent failures are stored as rejections (and
   * so acknowledged); transient ones (relay unreachable) throw, and the relay delivers again.
   */
  async receive(raw: unknown): Promise<ReceiveOutcome> {
    const receivedAt = new Date().toISOString();
    const id =
      typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id
        : 'unknown';
    const from =
      typeof raw === 'object' && raw !== null && typeof (raw as { from?: unknown }).from === 'string'
        ? (raw as { from: string }).from
        : 'unknown';
    try {
      const env = check(Envelope, raw, 'envelope');
      const existing = this.store.message(env.id);
      if (existing && existing.id === env.id) {
        return existing.kind === 'receipts'
          ? { kind: 'receipts', envelopeId: env.id, count: 0, duplicate: true }
          : { kind: 'message', message: existing, duplicate: true };
      }
      const sender = parseNodeAddress(env.from);
      const senderKeys = await this.trust.sender(sender.authority, env.from);
      if (!verifyEnvelopeSignature(env, fromBase64url(senderKeys.identityKey, 'identityKey', 32))) {
        throw new EntraideError('BAD_SIGNATURE', `envelope ${env.id} is not signed by ${env.from}`);
      }
      const plain = openEnvelope(env, { node: this.address, encryptionKeys: this.encryptionKeys });
      let content: Content;
      try {
        content = check(Content, JSON.parse(fromUtf8(plain)), 'content');
      } catch {
        throw new EntraideError(
          'CONTENT_INVALID',
          `envelope ${env.id} does not contain a valid entraide item`,
        );
      }
      const accepted =
        content.type === 'message'
          ? {
              record: {
                kind: 'message' as const,
                subject: content.subject,
                body: content.body,
                language: content.language ?? null,
                requestId: content.request ?? null,
                handling: content.handling ? JSON.stringify(content.handling) : null,
                content: null,
              },
            }
          : content.type === 'receipts'
            ? this.receipts.accept(env, content, senderKeys.identityKey)
            : content.type === 'network-roster'
              ? this.networks.accept(env, content, senderKeys.identityKey)
              : content.type === 'working-hours'
                ? this.networks.acceptHours(env, content)
                : content.type === 'meeting' || content.type === 'meeting-rsvp'
                  ? this.meetings.accept(env, content, senderKeys.identityKey)
                  : this.requests.accept(env, content, senderKeys.identityKey, receivedAt);
      const message: StoredMessage = {
        id: env.id,
        direction: 'in',
        sender: env.from,
        recipients: env.to,
        subject: accepted.record.subject,
        body: accepted.record.body,
        language: accepted.record.language,
        sentAt: env.sentAt,
        receivedAt,
        readAt: null,
        acceptedAt: null,
        kind: accepted.record.kind,
        requestId: accepted.record.requestId,
        handling: accepted.record.handling,
      };
      // Everything but receipts is acknowledged with a signed delivery receipt to its sender's
      // authority, written in the same transaction as the item (and sent soon after).
      const receipt = content.type !== 'receipts' && sender.authority !== this.authority;
      const then = 'then' in accepted ? accepted.then : undefined;
      const fresh = await this.store.saveMessage(
        { ...message, envelope: JSON.stringify(env), content: accepted.record.content },
        () => {
          then?.();
          if (receipt) this.receipts.issue('delivered', env, receivedAt);
        },
      );
      if (fresh && receipt) this.receipts.soon();
      if (content.type === 'receipts') {
        return { kind: 'receipts', envelopeId: env.id, count: content.receipts.length, duplicate: !fresh };
      }
      return { kind: 'message', message, duplicate: !fresh };
    } catch (err) {
      if (err instanceof EntraideError && PERMANENT.has(err.code)) {
        const rejection = { envelopeId: id, sender: from, code: err.code, reason: err.message, receivedAt };
        this.store.saveRejection(rejection);
        return { kind: 'rejected', rejection };
      }
      throw err;
    }
  }

  /** Fetches everything waiting on the relay, stores it, acknowledges it; returns what arrived now. */
  async fetchInbox(): Promise<ReceiveOutcome[]> {
    await this.keepKeysFresh();
    const outcomes: ReceiveOutcome[] = [];
    for (let round = 0; round < 1000; round++) {
      const page = await this.authed<{ envelopes: unknown[]; more: boolean }>('GET', '/v1/inbox?limit=200');
      if (page.envelopes.length === 0) break;
      const ids: string[] = [];
      for (const env of page.envelopes) {
        const outcome = await this.receive(env);
        if (outcome.kind !== 'receipts') outcomes.push(outcome);
        ids.push(
          outcome.kind === 'message'
            ? outcome.message.id
            : outcome.kind === 'receipts'
              ? outcome.envelopeId
              : outcome.rejection.envelopeId,
        );
      }
      // An envelope without a valid id cannot be acknowledged (and the relay never stores one).
      const ackable = [...new Set(ids)].filter((i) => UUID_RE.test(i));
      if (ackable.length > 0) await this.authed('POST', '/v1/inbox/ack', { ids: ackable });
      else break;
      if (!page.more) break;
    }
    await this.sendQueued();
    return outcomes;
  }

  /**
   * Sends what waits on this node: items the relay has not accepted yet, and receipts. A failure
   * leaves them queued for the next attempt; it is reported, not thrown.
   */
  async sendQueued(onError?: (err: EntraideError) => void): Promise<void> {
    this.receipts.stop();
    for (const step of [
      () => this.resendPending(),
      () => this.receipts.flush(),
      () => this.networks.sendHours(),
    ]) {
      try {
        await step();
      } catch (err) {
        const e =
          err instanceof EntraideError ? err : new EntraideError('INTERNAL', 'could not send queued items');
        (onError ?? this.receipts.onError)?.(e);
      }
    }
  }

  /**
   * Stays connected over socket.io; each pushed envelope is stored before it is acknowledged.
   * Reconnects with a fresh token after the relay closes an expired session.
   */
  async listen(
    handlers: {
      onReceive?: (o: ReceiveOutcome) => void;
      onDrained?: (pending: number) => void;
      onError?: (err: EntraideError) => void;
      onConnect?: () => void;
      onDisconnect?: (reason: string) => void;
    } = {},
  ): Promise<void> {
    if (this.socket) return;
    await this.keepKeysFresh();
    const socket: NodeSocket = io(this.config.relayUrl, {
      auth: (cb) => {
        this.session.current().then(
          (token) => cb({ token }),
          (err: unknown) => {
            handlers.onError?.(
              err instanceof EntraideError ? err : new EntraideError('RELAY_UNREACHABLE', 'login failed'),
            );
            cb({});
          },
        );
      },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.socket = socket;
    this.watchKeys(handlers.onError);
    socket.on('envelope', (envelope, ack) => {
      this.receive(envelope).then(
        (o) => {
          ack({ ok: true });
          handlers.onReceive?.(o);
        },
        (err: unknown) => {
          const e =
            err instanceof EntraideError
              ? err
              : new EntraideError('INTERNAL', 'could not store the envelope');
          ack(e.toJSON());
          handlers.onError?.(e);
        },
      );
    });
    socket.on('inbox:drained', (info) => handlers.onDrained?.(info.pending));
    socket.on('session:closing', (info) => {
      this.session.invalidate();
      const e = errorFromBody(info);
      if (e.code === 'NODE_REVOKED') handlers.onError?.(e);
    });
    this.receipts.onError = handlers.onError;
    socket.on('connect', () => {
      handlers.onConnect?.();
      void this.sendQueued();
    });
    // socket.io reconnects by itself after network failures, but not when the relay closed the socket
    // (it does so when the session token expires) nor after a refused handshake: log in again, retry.
    let retry: NodeJS.Timeout | undefined;
    const reconnectSoon = (delayMs: number) => {
      this.session.invalidate();
      if (retry || this.socket !== socket) return;
      retry = setTimeout(() => {
        retry = undefined;
        if (this.socket === socket && !socket.connected) socket.connect();
      }, delayMs);
      retry.unref();
    };
    socket.on('disconnect', (reason) => {
      handlers.onDisconnect?.(reason);
      if (reason === 'io server disconnect') reconnectSoon(250);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { data?: unknown }) => {
        const e = err.data
          ? errorFromBody(err.data)
          : new EntraideError('RELAY_UNREACHABLE', `cannot reach the relay at ${this.config.relayUrl}`);
        socket.off('connect', onConnect);
        socket.off('connect_error', onError);
        this.stopListening();
        reject(e);
      };
      const onConnect = () => {
        socket.off('connect_error', onError);
        resolve();
      };
      socket.once('connect', onConnect);
      socket.on('connect_error', onError);
    });
    socket.on('connect_error', (err: Error & { data?: unknown }) => {
      if (!err.data) return; // a network failure: socket.io retries by itself
      const e = errorFromBody(err.data);
      handlers.onError?.(e);
      if (e.code === 'NODE_REVOKED') {
        // A revoked node stays revoked: stop trying.
        socket.disconnect();
        if (this.socket === socket) this.socket = undefined;
        return;
      }
      reconnectSoon(2_000);
    });
  }

  stopListening(): void {
    this.socket?.disconnect();
    this.socket = undefined;
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
  }

  private watchTimer: NodeJS.Timeout | undefined;

  /** While listening: check the key log and the age of the encryption key every few minutes. */
  private watchKeys(onError?: (err: EntraideError) => void): void {
    this.watchTimer = setInterval(() => {
      this.monitor
        .sync()
        .then(() => this.keepKeysFresh())
        .catch((err: unknown) => {
          if (err instanceof EntraideError && err.code !== 'RELAY_UNREACHABLE') onError?.(err);
        });
    }, WATCH_INTERVAL_MS);
    this.watchTimer.unref();
  }

  // ---- reading and keys ---------------------------------------------------------------

  inbox(limit = 200): StoredMessage[] {
    return this.store.list('in', limit);
  }

  sent(limit = 200): StoredMessage[] {
    return this.store.list('out', limit);
  }

  /**
   * Shows one item; the first opening of a received one sends a read receipt. An item whose
   * handling code names other nodes is shown only with an override reason, which is logged.
   */
  read(id: string, opts: { override?: string | undefined } = {}): StoredMessage {
    const m = this.store.message(id);
    if (!m) throw new EntraideError('MESSAGE_NOT_FOUND', `no message ${id} on this node`);
    if (m.direction === 'in' && m.handling) {
      const handling = JSON.parse(m.handling) as Handling;
      if (!mayRead(handling, parseNodeAddress(this.address).nodeName)) {
        if (!opts.override) {
          throw new EntraideError(
            'HANDLING_RESTRICTED',
            `${m.kind} ${m.id} is for ${handling.nodes!.join(', ')} only`,
          );
        }
        this.store.requests.addOverride({
          at: new Date().toISOString(),
          item: m.id,
          action: 'read',
          reason: opts.override,
          node: this.address,
        });
      }
    }
    if (m.direction === 'in' && !m.readAt) {
      m.readAt = new Date().toISOString();
      this.store.markRead(m.id, m.readAt);
      this.receipts.read(m.id);
    }
    return m;
  }

  /**
   * The safety code of this authority, or of a counterpart, from the key log (pinned on first use).
   * Offline, the pinned code is shown.
   */
  async fingerprint(authority?: string): Promise<{
    authority: string;
    safetyCode: string;
    pinnedAt: string | null;
    verifiedAt: string | null;
  }> {
    const target = authority ?? this.authority;
    parseAuthorityAddress(target);
    try {
      await this.trust.authority(target);
    } catch (err) {
      const offline =
        err instanceof EntraideError && (err.code === 'RELAY_UNREACHABLE' || err.code === 'NOT_APPROVED');
      if (!offline || !(await this.store.pin(target))) throw err;
    }
    const pin = (await this.store.pin(target))!;
    return {
      authority: target,
      safetyCode: pin.safetyCode,
      pinnedAt: pin.pinnedAt.toISOString(),
      verifiedAt: pin.verifiedAt?.toISOString() ?? null,
    };
  }
}
