/**
 * Sending: seals content for every trusted node of the recipient authorities (and this
 * authority's other nodes), stores it before submitting it, and submits it. The node's own record
 * holds every item it sent even when the node crashes right after the relay accepted it. While the
 * relay does not answer, an item for authorities whose keys this node verified before is sealed
 * to those keys and left in the outbox (outbox.ts), which sends it once the link returns.
 */
import { parseAuthorityAddress, parseNodeAddress } from '../shared/addresses.ts';
import { fromBase64url, fromUtf8 } from '../shared/bytes.ts';
import { canonicalBytes } from '../shared/canonical.ts';
import { sealEnvelope } from '../shared/crypto/envelope.ts';
import { masterKeyFingerprint } from '../shared/crypto/master-key-fingerprint.ts';
import { EntraideError } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';
import { MessageContent } from '../shared/protocol/content.ts';
import { manifestProblem } from '../shared/files/manifest.ts';
import { commonFormat } from '../shared/protocol/formats.ts';
import {
  BLOB_ENVELOPE_FORMAT,
  type Envelope,
  type EnvelopeFormat,
  type MasterKeyReference,
  type SubmitResult,
} from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import { ciphertextHash } from '../shared/receipts/receipt.ts';
import { Handling, handlingProblem } from '../shared/requests/handling.ts';
import { uuidv7 } from '../shared/uuid.ts';
import type { DocumentDesk } from './documents/desk.ts';
import type { KeyLogMonitor } from './key-log-monitor.ts';
import type { Dispatch, SendOptions, SendResult } from './node-port.ts';
import { random } from './random.ts';
import type { NodeStore } from './store/node-store.ts';
import { relayDidNotAnswer } from './transport/unreachable.ts';
import type { TrustStore } from './trust.ts';

/** Sends check the key log's head at most four times a second, shared by concurrent sends. */
const SEND_SYNC_INTERVAL_MS = 250;

type Recipient = { node: string; encryptionKey: Uint8Array; formats: readonly number[] };

export interface OutboundDeps {
  address: string;
  authority: string;
  identitySecretKey: Uint8Array;
  store: NodeStore;
  trust: TrustStore;
  monitor: KeyLogMonitor;
  /** Publishes pending keys and rotates a due encryption key before anything is sealed. */
  keepKeysFresh: () => Promise<void>;
  /** Hands an envelope to the relay (socket or HTTP). */
  submit: (envelope: Envelope) => Promise<SubmitResult>;
  /** Throws REQUEST_NOT_FOUND for a request this node does not hold. */
  requestMustExist: (id: string) => void;
  /** The envelope formats this node writes and reads. */
  formats: readonly EnvelopeFormat[];
  /** The formats a relay accepts as it advertises them ([1] when it cannot be asked). */
  relayFormats: (domain: string) => Promise<readonly number[]>;
  /** Key-log heads to gossip to these authorities' nodes (format 2 and later); undefined: none. */
  gossip?: (authorities: string[]) => Promise<unknown | undefined>;
  /** Seals attachments into the node's documents folder and records an item's documents. */
  documents: Pick<DocumentDesk, 'seal' | 'record'>;
}

export class Outbound {
  constructor(private readonly deps: OutboundDeps) {}

  /** Seals a message to every trusted node of each recipient authority and of this authority, submits it, stores it. */
  async send(opts: SendOptions): Promise<SendResult> {
    const handling = opts.handling ?? null;
    if (handling) {
      const problem = handlingProblem(check(Handling, handling, 'handling'));
      if (problem) throw new EntraideError('SCHEMA_INVALID', `handling: ${problem}`);
    }
    if (opts.request) this.deps.requestMustExist(opts.request);
    const files = [
      ...(opts.files ?? []),
      ...(opts.attachments?.length ? await this.deps.documents.seal(opts.attachments) : []),
    ];
    const problem = manifestProblem(files);
    if (problem) throw new EntraideError('USAGE', problem);
    const content = check(
      MessageContent,
      {
        type: 'message',
        subject: opts.subject,
        body: opts.body,
        ...(opts.language ? { language: opts.language } : {}),
        ...(opts.request ? { request: opts.request } : {}),
        ...(handling ? { handling } : {}),
        ...(files.length > 0 ? { files } : {}),
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
      files,
    });
  }

  /**
   * Seals any content for the recipient authorities' trusted nodes (and this authority's other
   * nodes), stores it before submission (a crash after the relay accepted it still leaves our own
   * record), submits it. When the relay does not answer, a stored item stays in the outbox and the
   * result says `queued` (an item not stored, `store: false`, is refused with the relay's error). A
   * failure that a later attempt may cure leaves the item stored; the outbox submits it again.
   */
  async dispatch(d: Dispatch): Promise<SendResult> {
    const { store } = this.deps;
    const to = [...new Set(d.to)];
    if (to.length === 0) throw new EntraideError('USAGE', 'name at least one recipient authority with --to');
    for (const a of to) parseAuthorityAddress(a);
    const plain = canonicalBytes(d.content);
    this.mustFit(plain, d);
    const keep = d.store ?? true;
    if (d.files?.length && !keep) throw new RangeError('an item with documents is always kept');
    const offline = await this.reachRelay(keep);
    const recipients = await this.recipientsFor(to, false, d.restrict, d.ownNodes ?? true, offline);
    const sentAt = new Date();
    const base = {
      id: uuidv7(sentAt.getTime(), random(10)),
      from: this.deps.address,
      to,
      sentAt,
      ttl: d.ttl ?? LIMITS.defaultTtlSeconds,
    };
    let envelope = await this.seal(base, recipients, d, offline);
    if (keep) {
      await store.saveMessage(
        {
          id: envelope.id,
          direction: 'out',
          sender: this.deps.address,
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
          content: d.record.kind === 'message' ? null : fromUtf8(plain),
        },
        () => {
          if (d.files?.length) this.deps.documents.record(envelope.id, 'out', d.files);
          d.then?.(envelope);
        },
      );
    }
    const outcome = (result: SubmitResult | null): SendResult => ({
      id: envelope.id,
      acceptedAt: result?.acceptedAt ?? null,
      queued: result === null,
      recipients: recipients.map((r) => r.node),
      sentAt: envelope.sentAt,
      ciphertextHash: ciphertextHash(envelope.ciphertext),
    });
    // Stored (committed above) and the relay known not to answer: the outbox sends it.
    if (offline) return outcome(null);
    let result: SubmitResult;
    try {
      result = await this.deps.submit(envelope);
    } catch (err) {
      if (keep && relayDidNotAnswer(err)) return outcome(null);
      // A node revoked or added since the directory was read: read it again and seal once more.
      if (!(err instanceof EntraideError && err.code === 'UNKNOWN_RECIPIENT')) throw err;
      const again = await this.recipientsFor(to, true, d.restrict, d.ownNodes ?? true, false);
      envelope = await this.seal(base, again, d, false);
      if (keep) await store.replaceEnvelope(envelope.id, JSON.stringify(envelope));
      recipients.splice(0, recipients.length, ...again);
      try {
        result = await this.deps.submit(envelope);
      } catch (err) {
        if (keep && relayDidNotAnswer(err)) return outcome(null);
        throw err;
      }
    }
    // Written with the next commit; close() flushes it. A failure here changes nothing the relay holds.
    if (keep) store.markAccepted(envelope.id, result.acceptedAt).catch(() => undefined);
    return outcome(result);
  }

  /**
   * Before sealing: publishes pending keys (a rotation that is due) and reads the key log's head,
   * so that a node approved or revoked a moment ago counts. Returns true when the relay did not
   * answer and the item is to be sealed to the keys this node verified before, for the outbox;
   * an item that is not stored cannot wait there, and is refused with the relay's error.
   */
  private async reachRelay(keep: boolean): Promise<boolean> {
    try {
      await this.deps.keepKeysFresh();
      await this.deps.monitor.sync(SEND_SYNC_INTERVAL_MS);
      return false;
    } catch (err) {
      if (!keep || !relayDidNotAnswer(err)) throw err;
      return true;
    }
  }

  /**
   * Seals the content in the highest format every recipient reads; from format 2 on, with the
   * recipients' master key fingerprints in the header and any gossip inside the ciphertext.
   */
  private async seal(
    base: { id: string; from: string; to: string[]; sentAt: Date; ttl: number },
    recipients: Recipient[],
    d: Dispatch,
    offline: boolean,
  ): Promise<Envelope> {
    const format = await this.formatFor(base.to, recipients, (d.files?.length ?? 0) > 0);
    // Hook for key-log head gossip (item 2): rides inside the ciphertext from format 2 on.
    const gossip = format >= 2 && this.deps.gossip ? await this.deps.gossip(base.to) : undefined;
    let content = canonicalBytes(gossip === undefined ? d.content : { ...d.content, gossip });
    // The limit counts the gossip too; an item that fits only without it goes without it.
    if (gossip !== undefined && content.length > LIMITS.maxContentBytes) content = canonicalBytes(d.content);
    this.mustFit(content, d);
    const masterKeys = format >= 2 ? await this.masterKeysOf(base.to, offline) : undefined;
    const blobs = format === BLOB_ENVELOPE_FORMAT ? d.files!.map((f) => f.blob) : undefined;
    return sealEnvelope(
      { ...base, recipients, content, format, masterKeys, ...(blobs ? { blobs } : {}) },
      this.deps.identitySecretKey,
      random,
    );
  }

  /** The content limit counts everything inside the ciphertext. */
  private mustFit(bytes: Uint8Array, d: Dispatch): void {
    if (bytes.length > LIMITS.maxContentBytes) {
      throw new EntraideError(
        'PAYLOAD_TOO_LARGE',
        `the ${d.record.kind} is ${bytes.length} bytes; the limit is ${LIMITS.maxContentBytes}`,
      );
    }
  }

  /**
   * The highest format that this node, every recipient node (as it published with its keys) and
   * every relay on the way (its own, and each recipient authority's as that relay advertises it)
   * reads. Conservative by choice: a relay that reads only v1 refuses v2 (its schema is closed),
   * so a relay that cannot be asked counts as v1-only.
   */
  private async formatFor(to: string[], recipients: Recipient[], files: boolean): Promise<EnvelopeFormat> {
    const domains = new Set([
      parseAuthorityAddress(this.deps.authority).domain,
      ...to.map((a) => parseAuthorityAddress(a).domain),
    ]);
    const relays = await Promise.all([...domains].map((d) => this.deps.relayFormats(d)));
    const common = commonFormat([this.deps.formats, ...recipients.map((r) => r.formats), ...relays]);
    // Format 3 is for items with documents only (its header lists their blobs).
    if (!files) return common >= BLOB_ENVELOPE_FORMAT ? 2 : common;
    if (common < BLOB_ENVELOPE_FORMAT) {
      const behind = recipients.filter((r) => !r.formats.includes(BLOB_ENVELOPE_FORMAT)).map((r) => r.node);
      throw new EntraideError(
        'FORMAT_UNSUPPORTED',
        behind.length > 0
          ? `${behind.join(', ')} cannot read documents yet (they run an older version): send the text without files, or ask them to upgrade; nothing was sent`
          : `a relay on the way cannot carry documents yet (it runs an older version): send the text without files; nothing was sent`,
      );
    }
    return BLOB_ENVELOPE_FORMAT;
  }

  /** Each recipient authority's master key as this node pinned it, for a format 2 header. */
  private async masterKeysOf(to: string[], offline: boolean): Promise<MasterKeyReference[]> {
    const out: MasterKeyReference[] = [];
    for (const authority of to) {
      const trusted = await this.deps.trust.authority(authority, false, offline);
      out.push({ authority, fingerprint: masterKeyFingerprint(trusted.masterKey) });
    }
    return out;
  }

  /** Every node to encrypt to: each recipient authority's trusted nodes, and this authority's other nodes. */
  private async recipientsFor(
    to: string[],
    fresh: boolean,
    restrict: { authority: string; nodes: string[] } | undefined,
    ownNodes: boolean,
    offline: boolean,
  ): Promise<Recipient[]> {
    const { authority: own, address } = this.deps;
    const recipients: Recipient[] = [];
    for (const authority of new Set(ownNodes ? [...to, own] : to)) {
      let targets = await this.deps.trust.recipients(authority, fresh, offline);
      if (restrict && restrict.authority === authority) {
        const all = targets;
        targets = targets.filter((t) => restrict.nodes.includes(parseNodeAddress(t.node).nodeName));
        if (authority !== own && targets.length === 0) {
          throw new EntraideError(
            'UNKNOWN_RECIPIENT',
            `none of the nodes named in the handling code (${restrict.nodes.join(', ')}) is a node of ${authority}; its nodes are ${all.map((t) => parseNodeAddress(t.node).nodeName).join(', ') || 'none'}: nothing was sent`,
          );
        }
      }
      for (const t of targets) {
        if (t.node === address) continue;
        recipients.push({
          node: t.node,
          encryptionKey: fromBase64url(t.encryptionKey, 'encryptionKey', 32),
          formats: t.formats,
        });
      }
      if (authority !== own && targets.length === 0) {
        throw new EntraideError(
          'UNKNOWN_RECIPIENT',
          `${authority} has no node with a valid certificate and a current encryption key: nothing was sent`,
        );
      }
    }
    return recipients;
  }
}
