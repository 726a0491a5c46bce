/**
 * Receiving: how an incoming envelope is verified, opened and stored. The envelope's signature is
 * checked against the sender's key as this node verified it in the key log, then it is opened, its
 * content checked against the schema, and handed to the acceptor of its content type (one per
 * type, in `Acceptors`), which says what to store. Storing, the acceptor's own writes and the
 * delivery receipt share one transaction. Verdicts on the envelope are stored as rejections (and
 * so acknowledged); transient failures throw, and the relay delivers again.
 */
import { parseAuthorityAddress, parseNodeAddress } from '../shared/addresses.ts';
import { fromBase64url, fromUtf8 } from '../shared/bytes.ts';
import { openEnvelope, verifyEnvelopeSignature } from '../shared/crypto/envelope.ts';
import { masterKeyFingerprint } from '../shared/crypto/master-key-fingerprint.ts';
import { EntraideError, isTransient } from '../shared/errors.ts';
import { Content, filesOf, type MessageContent } from '../shared/protocol/content.ts';
import { manifestProblem } from '../shared/files/manifest.ts';
import {
  AckResult,
  envelopeFormatOf,
  envelopeSchemaOf,
  InboxPageUnchecked,
  type Envelope,
} from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import type { ReceiptKind } from '../shared/receipts/receipt.ts';
import { LIMITS } from '../shared/limits.ts';
import { UUID_PATTERN, uuidv7 } from '../shared/uuid.ts';
import { createHash } from 'node:crypto';
import type { DocumentDesk } from './documents/desk.ts';
import type { NewAlarm } from './key-log-monitor.ts';
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
  consultations: { accept: Acceptor<ContentOf<'consultation'> | ContentOf<'consultation-comment'>> };
}

/** The table of acceptors, by content type. */
export function acceptorsOf(d: AcceptingDesks): Acceptors {
  const requests: Acceptor<ContentOf<'request' | 'status' | 'supplement'>> = (...a) =>
    d.requests.accept(...a);
  const meetings: Acceptor<ContentOf<'meeting' | 'meeting-rsvp'>> = (...a) => d.meetings.accept(...a);
  const consultations: Acceptor<ContentOf<'consultation' | 'consultation-comment'>> = (...a) =>
    d.consultations.accept(...a);
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
    consultation: consultations,
    'consultation-comment': consultations,
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
  /** The envelope formats this node reads; an envelope in another is refused (FORMAT_UNSUPPORTED). */
  formats: readonly number[];
  /** Tells the officer at once of an alarm this module stored. */
  raise?: (alarm: NewAlarm) => void;
  /** Records the documents an item carries (in the transaction that stores it). */
  documents: Pick<DocumentDesk, 'record'>;
  /** After an item is stored (not a duplicate): an immediate request wakes the on-call person. */
  onStored?: (message: StoredMessage, content: Content) => Promise<void>;
  /** Key-log heads a sender gossiped (format 2 and later), after the envelope is stored. */
  onGossip?: (gossip: unknown, from: { envelopeId: string; sender: string }) => Promise<void> | void;
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
      this.formatMustBeRead(raw);
      const env = check(envelopeSchemaOf(raw), raw, 'envelope');
      const localId = this.localIdOf(env);
      const existing = this.deps.store.message(localId);
      if (existing && existing.id === localId) {
        return existing.kind === 'receipts'
          ? { kind: 'receipts', envelopeId: env.id, count: 0, duplicate: true }
          : { kind: 'message', message: existing, duplicate: true };
      }
      return await this.verifyAndStore(env, receivedAt, localId);
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

  /**
   * The id this node keeps an envelope under: its own, unless another sender's item already holds
   * it here (a co-recipient squatting the id of an envelope it received, or a collision); then one
   * derived from the sender and the id (`keptIdOf`), so that both are kept and neither hides the
   * other. The node record and the relay still know it by the envelope's id.
   */
  private localIdOf(env: Envelope): string {
    const held = this.deps.store.message(env.id);
    if (!held || held.id !== env.id || held.sender === env.from) return env.id;
    return keptIdOf(env.from, env.id);
  }

  private async verifyAndStore(env: Envelope, receivedAt: string, localId: string): Promise<ReceiveOutcome> {
    const { store, receipts } = this.deps;
    const sender = parseNodeAddress(env.from);
    this.mustBeForUs(env, sender.authority, Date.parse(receivedAt));
    const senderKeys = await this.deps.trust.sender(sender.authority, env.from);
    if (!verifyEnvelopeSignature(env, fromBase64url(senderKeys.identityKey, 'identityKey', 32))) {
      throw new EntraideError('BAD_SIGNATURE', `envelope ${env.id} is not signed by ${env.from}`);
    }
    // Before opening, so that the alarm stands whatever becomes of the envelope.
    await this.checkOurMasterKey(env);
    const { content, gossip } = this.open(env);
    const files = filesOf(content);
    const blobs = env.v === 3 ? env.blobs : [];
    if (files.length !== blobs.length || files.some((f, i) => f.blob !== blobs[i])) {
      throw new EntraideError(
        'CONTENT_INVALID',
        `envelope ${env.id} lists other documents (${blobs.join(', ') || 'none'}) than its content names (${files.map((f) => f.blob).join(', ') || 'none'})`,
      );
    }
    const problem = manifestProblem(files);
    if (problem) throw new EntraideError('CONTENT_INVALID', `envelope ${env.id}: ${problem}`);
    const acceptor = this.deps.acceptors[content.type] as Acceptor<Content>;
    const accepted = acceptor(env, content, senderKeys.identityKey, receivedAt);
    const message: StoredMessage = {
      id: localId,
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
      state: null,
    };
    // Everything but receipts is acknowledged with a signed delivery receipt to its sender's
    // authority, written in the same transaction as the item (and sent soon after).
    const receipt = content.type !== 'receipts' && sender.authority !== this.deps.authority;
    const fresh = await store.saveMessage(
      { ...message, envelope: JSON.stringify(env), content: accepted.record.content },
      () => {
        accepted.then?.();
        this.deps.documents.record(localId, 'in', files);
        if (receipt) receipts.issue('delivered', env, receivedAt);
      },
    );
    if (fresh && receipt) receipts.soon();
    if (fresh && this.deps.onStored) await this.deps.onStored(message, content);
    // Hook for key-log head gossip (item 2): its checks raise their own alarms, never a rejection.
    if (fresh && gossip !== undefined && this.deps.onGossip) {
      try {
        await this.deps.onGossip(gossip, { envelopeId: env.id, sender: env.from });
      } catch {
        // The envelope is stored and stays so; what the gossip shows is the gossip module's to report.
      }
    }
    if (content.type === 'receipts') {
      return { kind: 'receipts', envelopeId: env.id, count: content.receipts.length, duplicate: !fresh };
    }
    return { kind: 'message', message, duplicate: !fresh };
  }

  /** An envelope in a format this node does not read is refused before anything else is read of it. */
  private formatMustBeRead(raw: unknown): void {
    const v = envelopeFormatOf(raw);
    if (typeof v === 'number' && !this.deps.formats.includes(v)) {
      throw new EntraideError(
        'FORMAT_UNSUPPORTED',
        `envelope ${stringField(raw, 'id')} from ${stringField(raw, 'from')} is in format ${v}; this node reads format ${this.deps.formats.join(', ')}`,
      );
    }
  }

  /**
   * Only what names this node's authority among its recipients (or comes from one of its own
   * nodes, which copy their authority's other nodes) and is within its time to live is read.
   */
  private mustBeForUs(env: Envelope, senderAuthority: string, now: number): void {
    const own = this.deps.authority;
    if (senderAuthority !== own && !env.to.includes(own)) {
      throw new EntraideError(
        'NOT_ADDRESSED',
        `envelope ${env.id} from ${env.from} is addressed to ${env.to.join(', ')}, not to ${own}`,
      );
    }
    const expires = Date.parse(env.sentAt) + env.ttl * 1000;
    if (!(expires + LIMITS.maxClockSkewSeconds * 1000 > now)) {
      throw new EntraideError(
        'ENVELOPE_EXPIRED',
        `envelope ${env.id} from ${env.from} expired at ${new Date(expires).toISOString()} (sent ${env.sentAt}, time to live ${env.ttl} s)`,
      );
    }
  }

  /**
   * A format 2 envelope names the master key its sender pinned for each recipient authority. If
   * the one named for this node's authority is none of its master keys (current or rotated away),
   * a relay on the sender's path showed the sender another key: the officer hears of it at once.
   * The envelope itself reached this node sealed to its real key and is handled as usual.
   */
  private async checkOurMasterKey(env: Envelope): Promise<void> {
    const own = this.deps.authority;
    if (env.v < 2 || !env.to.includes(own)) return;
    const named = env.v !== 1 ? env.masterKeys.find((m) => m.authority === own) : undefined;
    if (!named) {
      throw new EntraideError(
        'SCHEMA_INVALID',
        `envelope ${env.id} from ${env.from} names no master key for ${own}, one of its recipients`,
      );
    }
    const ours = await this.ourMasterKeyFingerprints(named.fingerprint);
    if (ours.includes(named.fingerprint)) return;
    const sender = parseNodeAddress(env.from);
    const alarm: NewAlarm = {
      raisedAt: new Date(),
      kind: 'master-key-substituted',
      relay: parseAuthorityAddress(sender.authority).domain,
      authority: sender.authority,
      idx: null,
      message: `${env.from} sealed envelope ${env.id} to a master key of ${own} with fingerprint ${named.fingerprint}, which is not ${own}’s (${ours[0]}): a relay on the sender’s path substituted this authority’s key. Compare safety codes with ${sender.authority} out of band before trusting what it sent`,
      resolvedAt: null,
    };
    if (await this.deps.store.addAlarm(alarm)) this.deps.raise?.(alarm);
  }

  /**
   * Fingerprints of this authority's master key as pinned here, current first; in the rare case the
   * sender names another, the keys it rotated away from too (a sender may not have seen a rotation
   * yet), as far as this node's own key log can be read just now.
   */
  private async ourMasterKeyFingerprints(named: string): Promise<string[]> {
    const pin = await this.deps.store.pin(this.deps.authority);
    const pinned = pin ? [masterKeyFingerprint(pin.masterKey)] : [];
    if (pinned[0] === named) return pinned;
    try {
      const state = (await this.deps.trust.authority(this.deps.authority)).state;
      return [...new Set([...pinned, ...state.masterKeys.map((k) => masterKeyFingerprint(k.key))])];
    } catch (err) {
      if (!(err instanceof EntraideError) || pinned.length === 0) throw err;
      return pinned;
    }
  }

  /** Opens an envelope addressed to this node and checks its content against the schema. */
  private open(env: Envelope): { content: Content; gossip: unknown } {
    const plain = openEnvelope(env, { node: this.deps.address, encryptionKeys: this.deps.encryptionKeys() });
    try {
      const parsed: unknown = JSON.parse(fromUtf8(plain));
      // Hook for key-log head gossip (item 2): format 2 content may carry it beside the item.
      if (env.v >= 2 && typeof parsed === 'object' && parsed !== null && 'gossip' in parsed) {
        const { gossip, ...item } = parsed as Record<string, unknown>;
        return { content: check(Content, item, 'content'), gossip };
      }
      return { content: check(Content, parsed, 'content'), gossip: undefined };
    } catch {
      throw new EntraideError('CONTENT_INVALID', `envelope ${env.id} does not contain a valid entraide item`);
    }
  }

  /** Fetches everything waiting on the relay, stores it, acknowledges it; returns what arrived now. */
  async fetchInbox(): Promise<ReceiveOutcome[]> {
    await this.deps.beforeFetch();
    const { relay } = this.deps;
    const outcomes: ReceiveOutcome[] = [];
    const stored = new Set<string>();
    for (let round = 0; round < MAX_PAGES; round++) {
      const page = await relay.get(InboxPageUnchecked, '/v1/inbox?limit=200');
      if (page.envelopes.length === 0) break;
      const ids: string[] = [];
      for (const env of page.envelopes) {
        const outcome = await this.receive(env);
        // An envelope handed again in this fetch (see below) is reported once.
        const again = outcome.kind === 'message' && outcome.duplicate && stored.has(outcome.message.id);
        if (outcome.kind === 'message') stored.add(outcome.message.id);
        if (outcome.kind !== 'receipts' && !again) outcomes.push(outcome);
        // By the envelope's own id, whatever id the message is kept under (localIdOf).
        ids.push(stringField(env, 'id'));
      }
      // An envelope without a valid id cannot be acknowledged (and the relay never stores one).
      const unique = [...new Set(ids)];
      const ackable = unique.filter((i) => UUID_RE.test(i));
      if (ackable.length === 0) break;
      await relay.post(AckResult, '/v1/inbox/ack', { ids: ackable });
      // Two senders' envelopes under one id in this page: the relay ended one delivery for the id,
      // so the next page holds the other again, acknowledged then as the duplicate it now is.
      if (!page.more && unique.length === ids.length) break;
    }
    await this.deps.afterFetch();
    return outcomes;
  }
}

/**
 * The id a node keeps `from`'s envelope `id` under when another sender's item holds `id`: a UUIDv7
 * of the same time whose other bits come from the pair, so that the same envelope delivered again
 * finds it.
 */
export function keptIdOf(from: string, id: string): string {
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  return uuidv7(ms, createHash('sha256').update(`${from}\n${id}`).digest().subarray(0, 10));
}

/** A string field of something that failed its schema, for the rejection record ('unknown' otherwise). */
function stringField(raw: unknown, field: 'id' | 'from'): string {
  const value = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? value : 'unknown';
}
