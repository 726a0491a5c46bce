/**
 * The authority node SDK: opens a node's home folder and sends, receives and reads messages.
 * The protocol work is in shared/, storage in store/, transport in transport/; this class wires them.
 */
import { io, type Socket } from 'socket.io-client';
import { parseAuthorityAddress, parseNodeAddress } from '../shared/addresses.ts';
import { fromBase64url, fromUtf8 } from '../shared/bytes.ts';
import { canonicalBytes } from '../shared/canonical.ts';
import { certificateIdentityKey, certificateEncryptionKey } from '../shared/crypto/certificates.ts';
import { openEnvelope, sealEnvelope, verifyEnvelopeSignature } from '../shared/crypto/envelope.ts';
import { encryptionKeyId } from '../shared/crypto/keys.ts';
import { safetyCode } from '../shared/crypto/safety-code.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EntraideError, errorFromBody, type ErrorBody, type ErrorCode } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';
import { MessageContent } from '../shared/protocol/content.ts';
import type { NodeToServerEvents, ServerToNodeEvents } from '../shared/protocol/events.ts';
import {
  Envelope,
  type DeliveryState,
  type DirectoryEntry,
  type SubmitResult,
} from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import { UUID_PATTERN, uuidv7 } from '../shared/uuid.ts';
import { lockFolder, type FolderLock } from '../prisma/folder-lock.ts';
import { homePaths, readConfig, type NodeConfig } from './home.ts';
import { readKeystore, type KeyMaterial } from './keystore.ts';
import { random } from './random.ts';
import { Session } from './session.ts';
import { NodeStore, type RejectionRecord, type StoredMessage } from './store/node-store.ts';
import { RelayHttp } from './transport/http.ts';
import { TrustStore } from './trust.ts';

export interface SendOptions {
  to: string[];
  subject: string;
  body: string;
  language?: string;
  ttl?: number;
}

export type ReceiveOutcome =
  | { kind: 'message'; message: StoredMessage; duplicate: boolean }
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
]);

const UUID_RE = new RegExp(`^${UUID_PATTERN}$`);

type NodeSocket = Socket<ServerToNodeEvents, NodeToServerEvents>;

export class AuthorityNode {
  readonly config: NodeConfig;
  readonly store: NodeStore;
  private readonly keys: KeyMaterial;
  private readonly identitySecret: Uint8Array;
  private readonly encryptionKeys: Map<string, { publicKey: Uint8Array; secretKey: Uint8Array }>;
  private readonly http: RelayHttp;
  private readonly session: Session;
  readonly trust: TrustStore;
  private socket: NodeSocket | undefined;

  private constructor(
    config: NodeConfig,
    keys: KeyMaterial,
    store: NodeStore,
    private readonly lock: FolderLock,
  ) {
    this.config = config;
    this.keys = keys;
    this.store = store;
    this.identitySecret = fromBase64url(keys.identitySecretKey, 'identitySecretKey', 64);
    this.encryptionKeys = new Map(
      keys.encryptionKeys.map((k) => {
        const publicKey = fromBase64url(k.publicKey, 'encryption key', 32);
        return [
          encryptionKeyId(publicKey),
          { publicKey, secretKey: fromBase64url(k.secretKey, 'encryption key', 32) },
        ];
      }),
    );
    this.http = new RelayHttp(config.relayUrl);
    this.session = new Session(this.http, config.relay.domain, config.node, this.identitySecret);
    this.trust = new TrustStore(store, (a) => this.fetchDirectory(a));
  }

  /** Opens the node in `home`: takes the folder's lock, unlocks the keystore, opens the database. */
  static async open(home: string, passphrase: string): Promise<AuthorityNode> {
    await loadSodium();
    const config = readConfig(home);
    const paths = homePaths(home);
    const lock = lockFolder(paths.lock, 'HOME_LOCKED', `node folder ${home}`);
    let store: NodeStore | undefined;
    try {
      const keys = readKeystore(paths.keystore, passphrase);
      store = NodeStore.open(paths.db);
      const node = new AuthorityNode(config, keys, store, lock);
      if (!(await store.pin(config.authority))) {
        const mk = fromBase64url(keys.masterPublicKey, 'masterPublicKey', 32);
        await store.savePin({
          authority: config.authority,
          masterKey: keys.masterPublicKey,
          safetyCode: safetyCode(config.authority, mk),
          pinnedAt: new Date(),
        });
      }
      return node;
    } catch (err) {
      await store?.close().catch(() => undefined);
      lock.release();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.socket?.disconnect();
    this.socket = undefined;
    await this.store.close();
    this.lock.release();
  }

  get address(): string {
    return this.config.node;
  }

  get authority(): string {
    return this.config.authority;
  }

  private async authed<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
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

  private fetchDirectory(authority: string): Promise<DirectoryEntry> {
    return this.authed<DirectoryEntry>('GET', `/v1/directory/${encodeURIComponent(authority)}`);
  }

  // ---- sending ------------------------------------------------------------------------

  /** Seals a message to every trusted node of each recipient authority and of this authority, submits it, stores it. */
  async send(opts: SendOptions): Promise<{ id: string; acceptedAt: string; recipients: string[] }> {
    const to = [...new Set(opts.to)];
    if (to.length === 0) throw new EntraideError('USAGE', 'name at least one recipient authority with --to');
    for (const a of to) parseAuthorityAddress(a);
    const content = check(
      MessageContent,
      {
        type: 'message',
        subject: opts.subject,
        body: opts.body,
        ...(opts.language ? { language: opts.language } : {}),
      },
      'message',
    );
    const bytes = canonicalBytes(content);
    if (bytes.length > LIMITS.maxContentBytes) {
      throw new EntraideError(
        'PAYLOAD_TOO_LARGE',
        `the message is ${bytes.length} bytes; the limit is ${LIMITS.maxContentBytes}`,
      );
    }
    const recipients: { node: string; encryptionKey: Uint8Array }[] = [];
    for (const authority of new Set([...to, this.authority])) {
      const trusted = await this.trust.authority(authority);
      for (const cert of trusted.nodes.values()) {
        if (cert.node === this.address) continue;
        recipients.push({ node: cert.node, encryptionKey: certificateEncryptionKey(cert) });
      }
      if (
        authority !== this.authority &&
        ![...trusted.nodes.keys()].some((n) => parseNodeAddress(n).authority === authority)
      ) {
        throw new EntraideError(
          'UNKNOWN_RECIPIENT',
          `${authority} has no node with a valid certificate: nothing was sent`,
        );
      }
    }
    const sentAt = new Date();
    const envelope = sealEnvelope(
      {
        id: uuidv7(sentAt.getTime(), random(10)),
        from: this.address,
        to,
        sentAt,
        ttl: opts.ttl ?? LIMITS.defaultTtlSeconds,
        recipients,
        content: bytes,
      },
      this.identitySecret,
      random,
    );
    // Stored before submission: a crash after the relay accepted it still leaves our own record.
    await this.store.saveMessage({
      id: envelope.id,
      direction: 'out',
      sender: this.address,
      recipients: to,
      subject: content.subject,
      body: content.body,
      language: content.language ?? null,
      sentAt: envelope.sentAt,
      receivedAt: null,
      acceptedAt: null,
      envelope: JSON.stringify(envelope),
    });
    const result = await this.submit(envelope);
    // Written with the next commit; close() flushes it. A failure here changes nothing the relay holds.
    this.store.markAccepted(envelope.id, result.acceptedAt).catch(() => undefined);
    return { id: envelope.id, acceptedAt: result.acceptedAt, recipients: recipients.map((r) => r.node) };
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
      if (existing && existing.id === env.id) return { kind: 'message', message: existing, duplicate: true };
      const sender = parseNodeAddress(env.from);
      const cert = await this.trust.senderCertificate(sender.authority, env.from);
      if (!verifyEnvelopeSignature(env, certificateIdentityKey(cert))) {
        throw new EntraideError('BAD_SIGNATURE', `envelope ${env.id} is not signed by ${env.from}`);
      }
      const plain = openEnvelope(env, { node: this.address, encryptionKeys: this.encryptionKeys });
      let content: MessageContent;
      try {
        content = check(MessageContent, JSON.parse(fromUtf8(plain)), 'content');
      } catch {
        throw new EntraideError('CONTENT_INVALID', `envelope ${env.id} does not contain a valid message`);
      }
      const message: StoredMessage = {
        id: env.id,
        direction: 'in',
        sender: env.from,
        recipients: env.to,
        subject: content.subject,
        body: content.body,
        language: content.language ?? null,
        sentAt: env.sentAt,
        receivedAt,
        readAt: null,
        acceptedAt: null,
      };
      const fresh = await this.store.saveMessage({ ...message, envelope: JSON.stringify(env) });
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
    const outcomes: ReceiveOutcome[] = [];
    for (let round = 0; round < 1000; round++) {
      const page = await this.authed<{ envelopes: unknown[]; more: boolean }>('GET', '/v1/inbox?limit=200');
      if (page.envelopes.length === 0) break;
      const ids: string[] = [];
      for (const env of page.envelopes) {
        const outcome = await this.receive(env);
        outcomes.push(outcome);
        ids.push(outcome.kind === 'message' ? outcome.message.id : outcome.rejection.envelopeId);
      }
      // An envelope without a valid id cannot be acknowledged (and the relay never stores one).
      const ackable = [...new Set(ids)].filter((i) => UUID_RE.test(i));
      if (ackable.length > 0) await this.authed('POST', '/v1/inbox/ack', { ids: ackable });
      else break;
      if (!page.more) break;
    }
    return outcomes;
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
    socket.on('session:closing', () => this.session.invalidate());
    socket.on('connect', () => handlers.onConnect?.());
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
        socket.disconnect();
        this.socket = undefined;
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
      handlers.onError?.(errorFromBody(err.data));
      reconnectSoon(2_000);
    });
  }

  stopListening(): void {
    this.socket?.disconnect();
    this.socket = undefined;
  }

  // ---- reading and keys ---------------------------------------------------------------

  inbox(limit = 200): StoredMessage[] {
    return this.store.list('in', limit);
  }

  sent(limit = 200): StoredMessage[] {
    return this.store.list('out', limit);
  }

  read(id: string): StoredMessage {
    const m = this.store.message(id);
    if (!m) throw new EntraideError('MESSAGE_NOT_FOUND', `no message ${id} on this node`);
    if (m.direction === 'in' && !m.readAt) {
      m.readAt = new Date().toISOString();
      this.store.markRead(m.id, m.readAt);
    }
    return m;
  }

  /** The safety code of this authority, or of a counterpart (pinned on first use). */
  async fingerprint(
    authority?: string,
  ): Promise<{ authority: string; safetyCode: string; pinnedAt: string | null }> {
    const target = authority ?? this.authority;
    parseAuthorityAddress(target);
    let pin = await this.store.pin(target);
    if (!pin) {
      await this.trust.authority(target);
      pin = await this.store.pin(target);
    }
    return { authority: target, safetyCode: pin!.safetyCode, pinnedAt: pin!.pinnedAt.toISOString() };
  }
}
