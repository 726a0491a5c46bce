/**
 * Receiving: how an incoming envelope is verified, opened and stored. The envelope's signature is
 * checked against the sender's key as this node verified it in the key log, then it is opened, its
 * content checked against the schema, and handed to the acceptor of its content type (one per
 * type, in `Acceptors`), which says what to store. Storing, the acceptor's own writes and the
 * delivery receipt share one transaction. Verdicts on the envelope are stored as rejections (and
 * so acknowledged); transient failures throw, and the relay delivers again.
 */
import { parseNodeAddress } from '../shared/addresses.ts';
import { fromBase64url, fromUtf8 } from '../shared/bytes.ts';
import { openEnvelope, verifyEnvelopeSignature } from '../shared/crypto/envelope.ts';
import { EntraideError, isTransient } from '../shared/errors.ts';
import { Content, type MessageContent } from '../shared/protocol/content.ts';
import { AckResult, Envelope, InboxPageUnchecked } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import type { ReceiptKind } from '../shared/receipts/receipt.ts';
import { UUID_PATTERN } from '../shared/uuid.ts';
import type { AcceptedRecord } from './node-port.ts';
import type { NodeStore, RejectionRecord, StoredMessage } from './store/node-store.ts';
import type { RelayClient } from './transport/relay-client.ts';
import type { TrustStore } from './trust.ts';

export type ReceiveOutcome =
  | { kind: 'message'; message: StoredMessage; duplicate: boolean }
  /** Receipts for what this authority sent: stored as evidence, not listed as messages. */
  | { kind: 'receipts'; envelopeId: string; count: number; duplicate: boolean }
  | { kind: 'rejected'; rejection: RejectionRecord };

type ContentOf<T extends Content['type']> = Extract<Content, { type: T }>;

/** Checks one content type that arrived and says what to store; throws a verdict to reject it. */
export type Acceptor<C extends Content> = (
  env: Envelope,
  content: C,
  senderIdentityKey: string,
  receivedAt: string,
) => AcceptedRecord;

/** One acceptor for every content type the node reads. */
export type Acceptors = { [T in Content['type']]: Acceptor<ContentOf<T>> };

/** A plain message is stored as it is. */
export const acceptMessage: Acceptor<MessageContent> = (_env, content) => ({
  record: {
    kind: 'message',
    subject: content.subject,
    body: content.body,
    language: content.language ?? null,
    requestId: content.request ?? null,
    handling: content.handling ? JSON.stringify(content.handling) : null,
    content: null,
  },
});

/** The desks that accept what arrives, each for its own content types. */
export interface AcceptingDesks {
  receipts: { accept: Acceptor<ContentOf<'receipts'>> };
  requests: { accept: Acceptor<ContentOf<'request'> | ContentOf<'status'> | ContentOf<'supplement'>> };
  networks: {
    accept: Acceptor<ContentOf<'network-roster'>>;
    acceptHours: Acceptor<ContentOf<'working-hours'>>;
  };
  meetings: { accept: Acceptor<ContentOf<'meeting'> | ContentOf<'meeting-rsvp'>> };
}

/** The table of acceptors, by content type. */
export function acceptorsOf(d: AcceptingDesks): Acceptors {
  const requests: Acceptor<ContentOf<'request' | 'status' | 'supplement'>> = (...a) =>
    d.requests.accept(...a);
  const meetings: Acceptor<ContentOf<'meeting' | 'meeting-rsvp'>> = (...a) => d.meetings.accept(...a);
  return {
    message: acceptMessage,
    receipts: (...a) => d.receipts.accept(...a),
    request: requests,
    status: requests,
    supplement: requests,
    'network-roster': (...a) => d.networks.accept(...a),
    'working-hours': (...a) => d.networks.acceptHours(...a),
    meeting: meetings,
    'meeting-rsvp': meetings,
  };
}

export interface InboundDeps {
  address: string;
  authority: string;
  store: NodeStore;
  trust: TrustStore;
  relay: RelayClient;
  /** The private encryption keys this node still holds, by key id. */
  encryptionKeys: () => Map<string, { publicKey: Uint8Array; secretKey: Uint8Array }>;
  acceptors: Acceptors;
  receipts: {
    /** Signs and queues a receipt; synchronous, inside the storing transaction. */
    issue(kind: ReceiptKind, env: Envelope, at: string): void;
    /** Sends queued receipts shortly. */
    soon(): void;
  };
  /** Runs before an inbox fetch (keys published and rotated when due). */
  beforeFetch: () => Promise<void>;
  /** Runs after an inbox fetch: what waits on this node goes out. */
  afterFetch: () => Promise<void>;
}

const UUID_RE = new RegExp(`^${UUID_PATTERN}$`);
/** Pages read in one fetch at most; the rest waits for the next fetch. */
const MAX_PAGES = 1000;

export class Inbound {
  constructor(private readonly deps: InboundDeps) {}

  /**
   * Verifies, opens and stores one envelope. Verdicts are stored as rejections (and so
   * acknowledged); transient failures (relay unreachable...) throw, and the relay delivers again.
   */
  async receive(raw: unknown): Promise<ReceiveOutcome> {
    const receivedAt = new Date().toISOString();
    try {
      const env = check(Envelope, raw, 'envelope');
      const existing = this.deps.store.message(env.id);
      if (existing && existing.id === env.id) {
        return existing.kind === 'receipts'
          ? { kind: 'receipts', envelopeId: env.id, count: 0, duplicate: true }
          : { kind: 'message', message: existing, duplicate: true };
      }
      return await this.verifyAndStore(env, receivedAt);
    } catch (err) {
      if (!(err instanceof EntraideError) || isTransient(err.code)) throw err;
      const rejection = {
        envelopeId: stringField(raw, 'id'),
        sender: stringField(raw, 'from'),
        code: err.code,
        reason: err.message,
        receivedAt,
      };
      this.deps.store.saveRejection(rejection);
      return { kind: 'rejected', rejection };
    }
  }

  private async verifyAndStore(env: Envelope, receivedAt: string): Promise<ReceiveOutcome> {
    const { store, receipts } = this.deps;
    const sender = parseNodeAddress(env.from);
    const senderKeys = await this.deps.trust.sender(sender.authority, env.from);
    if (!verifyEnvelopeSignature(env, fromBase64url(senderKeys.identityKey, 'identityKey', 32))) {
      throw new EntraideError('BAD_SIGNATURE', `envelope ${env.id} is not signed by ${env.from}`);
    }
    const content = this.open(env);
    const acceptor = this.deps.acceptors[content.type] as Acceptor<Content>;
    const accepted = acceptor(env, content, senderKeys.identityKey, receivedAt);
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
    const receipt = content.type !== 'receipts' && sender.authority !== this.deps.authority;
    const fresh = await store.saveMessage(
      { ...message, envelope: JSON.stringify(env), content: accepted.record.content },
      () => {
        accepted.then?.();
        if (receipt) receipts.issue('delivered', env, receivedAt);
      },
    );
    if (fresh && receipt) receipts.soon();
    if (content.type === 'receipts') {
      return { kind: 'receipts', envelopeId: env.id, count: content.receipts.length, duplicate: !fresh };
    }
    return { kind: 'message', message, duplicate: !fresh };
  }

  /** Opens an envelope addressed to this node and checks its content against the schema. */
  private open(env: Envelope): Content {
    const plain = openEnvelope(env, { node: this.deps.address, encryptionKeys: this.deps.encryptionKeys() });
    try {
      return check(Content, JSON.parse(fromUtf8(plain)), 'content');
    } catch {
      throw new EntraideError('CONTENT_INVALID', `envelope ${env.id} does not contain a valid entraide item`);
    }
  }

  /** Fetches everything waiting on the relay, stores it, acknowledges it; returns what arrived now. */
  async fetchInbox(): Promise<ReceiveOutcome[]> {
    await this.deps.beforeFetch();
    const { relay } = this.deps;
    const outcomes: ReceiveOutcome[] = [];
    for (let round = 0; round < MAX_PAGES; round++) {
      const page = await relay.get(InboxPageUnchecked, '/v1/inbox?limit=200');
      if (page.envelopes.length === 0) break;
      const ids: string[] = [];
      for (const env of page.envelopes) {
        const outcome = await this.receive(env);
        if (outcome.kind !== 'receipts') outcomes.push(outcome);
        ids.push(envelopeIdOf(outcome));
      }
      // An envelope without a valid id cannot be acknowledged (and the relay never stores one).
      const ackable = [...new Set(ids)].filter((i) => UUID_RE.test(i));
      if (ackable.length === 0) break;
      await relay.post(AckResult, '/v1/inbox/ack', { ids: ackable });
      if (!page.more) break;
    }
    await this.deps.afterFetch();
    return outcomes;
  }
}

function envelopeIdOf(outcome: ReceiveOutcome): string {
  if (outcome.kind === 'message') return outcome.message.id;
  if (outcome.kind === 'receipts') return outcome.envelopeId;
  return outcome.rejection.envelopeId;
}

/** A string field of something that failed its schema, for the rejection record ('unknown' otherwise). */
function stringField(raw: unknown, field: 'id' | 'from'): string {
  const value = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? value : 'unknown';
}
