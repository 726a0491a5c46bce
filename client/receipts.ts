/**
 * Delivery evidence on the node. For every item that arrives from another authority the node
 * signs a `delivered` receipt in the same transaction that stores the item, and a `read` receipt
 * when an officer first opens it; receipts wait in the database until they are sent (batched, one
 * envelope per sender authority), so a crash or an unreachable relay loses none. Receipts that
 * arrive for what this authority sent are checked and kept as evidence (`entraide evidence`).
 */
import type { FileEntry } from '../shared/files/manifest.ts';
import { parseNodeAddress } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import type { ReceiptsContent } from '../shared/protocol/content.ts';
import type { Envelope } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import {
  ciphertextHash,
  Receipt,
  receiptHash,
  receiptMismatch,
  signReceipt,
  verifyReceipt,
  type ReceiptKind,
} from '../shared/receipts/receipt.ts';
import type { AcceptedRecord, NodePort } from './node-port.ts';
import type { ReceiptRow } from './store/request-store.ts';

/** How long receipts gather before they are sent while the node listens. */
const FLUSH_DELAY_MS = 200;

export type { AcceptedRecord } from './node-port.ts';

export interface EvidenceReceipt {
  kind: ReceiptKind;
  node: string;
  at: string;
  /** True when the signature verifies and the receipt names exactly the stored envelope's bytes. */
  valid: boolean;
  problem: string | null;
  receipt: Receipt;
  identityKey: string;
}

export interface Evidence {
  envelope: Envelope;
  kind: string;
  acceptedAt: string | null;
  ciphertextHash: string;
  receipts: EvidenceReceipt[];
  /** Recipient authorities with no delivery receipt yet. */
  undelivered: string[];
  /**
   * The documents the envelope carried, as sealed here (name, role, size, hashes; never the key):
   * a valid `downloaded` receipt names each of them with these hashes.
   */
  documents: EvidenceDocument[];
}

export interface EvidenceDocument {
  blob: string;
  name: string;
  role: string;
  size: number;
  sha256: string;
  ciphertextSha256: string;
  /** Recipient nodes whose valid `downloaded` receipt names this file with these hashes, and when. */
  downloadedBy: { node: string; at: string }[];
}

/** Why a `downloaded` receipt does not name exactly these documents, or null when it does. */
function filesMismatch(r: Receipt, docs: readonly FileEntry[]): string | null {
  const named = r.files ?? [];
  if (named.length !== docs.length)
    return `the receipt names ${named.length} documents; ${docs.length} were sent`;
  for (const d of docs) {
    const f = named.find((x) => x.blob === d.blob);
    if (!f || f.sha256 !== d.sha256 || f.ciphertextSha256 !== d.ciphertextSha256)
      return `the receipt does not name ${d.name} with the hashes it was sealed with`;
  }
  return null;
}

export class ReceiptDesk {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | undefined;
  /** Called with the failure of a background flush (the receipts stay queued). */
  onError: ((err: EntraideError) => void) | undefined;

  /**
   * @param rederive rebuilds a request's state once a delivery receipt for one of its items
   *   arrives (`delivered` is reached by a receipt).
   */
  constructor(
    private readonly node: NodePort,
    private readonly rederive: (requestId: string) => void,
  ) {}

  /** Signs and queues a receipt for an envelope this node stored; synchronous, for use inside a transaction. */
  issue(
    kind: ReceiptKind,
    env: Pick<Envelope, 'id' | 'from' | 'ciphertext'>,
    at: string,
    files?: FileEntry[],
  ): void {
    const rows = this.node.store.requests;
    // By id and sender: another sender's envelope under the same id (a squatted id) has receipts of its own.
    if (rows.hasReceipt({ id: env.id, sender: env.from }, this.node.address, kind)) return;
    const receipt = signReceipt(
      {
        v: 1,
        kind,
        envelope: env.id,
        ciphertextHash: ciphertextHash(env.ciphertext),
        sender: env.from,
        node: this.node.address,
        at,
        ...(files?.length
          ? {
              files: files.map((f) => ({
                blob: f.blob,
                sha256: f.sha256,
                ciphertextSha256: f.ciphertextSha256,
              })),
            }
          : {}),
      },
      this.node.identitySecretKey,
    );
    rows.insertReceipt({
      hash: receiptHash(receipt),
      envelopeId: env.id,
      sender: env.from,
      kind,
      node: this.node.address,
      at,
      signed: JSON.stringify(receipt),
      identityKey: this.node.identityPublicKey,
      direction: 'out',
      target: parseNodeAddress(env.from).authority,
      sentIn: null,
      storedAt: new Date().toISOString(),
    });
  }

  /** A read receipt for an item an officer opened for the first time (sent with the next flush). */
  read(envelopeId: string): void {
    const stored = this.node.store.envelopeOf(envelopeId);
    if (!stored) return;
    const env = JSON.parse(stored.envelope) as Envelope;
    if (parseNodeAddress(env.from).authority === this.node.authority) return;
    this.issue('read', env, new Date().toISOString());
    this.soon();
  }

  /** A downloaded receipt for an item whose documents this node now holds, complete and verified. */
  async downloaded(messageId: string, files: FileEntry[]): Promise<void> {
    const stored = this.node.store.envelopeOf(messageId);
    if (!stored) return;
    const env = JSON.parse(stored.envelope) as Envelope;
    if (parseNodeAddress(env.from).authority === this.node.authority) return;
    this.issue('downloaded', env, new Date().toISOString(), files);
    this.soon();
  }

  /** Sends queued receipts after a short pause, so that a burst of arrivals shares envelopes. */
  soon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => {
        if (err instanceof EntraideError) this.onError?.(err);
      });
    }, FLUSH_DELAY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends every queued receipt, one envelope per sender authority; returns how many went out. */
  async flush(): Promise<number> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    this.flushing = this.flushOnce();
    try {
      return await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async flushOnce(): Promise<number> {
    let sent = 0;
    for (let round = 0; round < 100; round++) {
      const queued = this.node.store.requests.unsentReceipts(500);
      if (queued.length === 0) break;
      const byTarget = new Map<string, ReceiptRow[]>();
      for (const r of queued) {
        const list = byTarget.get(r.target!);
        if (list) list.push(r);
        else byTarget.set(r.target!, [r]);
      }
      for (const [target, rows] of byTarget) {
        const result = await this.node.dispatch({
          to: [target],
          content: { type: 'receipts', receipts: rows.map((r) => JSON.parse(r.signed) as Receipt) },
          record: {
            kind: 'receipts',
            subject: '',
            body: '',
            language: null,
            requestId: null,
            handling: null,
          },
          ownNodes: false,
          store: false,
        });
        // Written once the relay accepted the envelope: the record holds what left this node.
        this.node.store.record.transaction(() => {
          this.node.store.requests.markReceiptsSent(
            rows.map((r) => r.hash),
            result.id,
          );
          this.node.store.record.append({
            kind: 'sent',
            envelope: result.id,
            item: 'receipts',
            counterparts: [target],
            ciphertextHash: result.ciphertextHash,
            at: result.sentAt,
          });
        });
        sent += rows.length;
      }
    }
    return sent;
  }

  /**
   * Checks receipts that arrived: each must be signed by the node that sent them (so no node can
   * pass off another's receipts) and be about an envelope sent by this authority.
   */
  accept(env: Envelope, content: ReceiptsContent, senderIdentityKey: string): AcceptedRecord {
    const now = new Date().toISOString();
    const good: { receipt: Receipt; hash: string }[] = [];
    for (const r of content.receipts) {
      if (r.node !== env.from) {
        throw new EntraideError(
          'CONTENT_INVALID',
          `a receipt in envelope ${env.id} is signed for ${r.node}, not its sender`,
        );
      }
      if (!verifyReceipt(r, senderIdentityKey)) {
        throw new EntraideError(
          'BAD_SIGNATURE',
          `a receipt in envelope ${env.id} is not signed by ${env.from}`,
        );
      }
      if (parseNodeAddress(r.sender).authority !== this.node.authority) {
        throw new EntraideError(
          'CONTENT_INVALID',
          `a receipt in envelope ${env.id} is for another authority's envelope`,
        );
      }
      good.push({ receipt: r, hash: receiptHash(r) });
    }
    const requestIds = new Set<string>();
    return {
      record: {
        kind: 'receipts',
        subject: `${content.receipts.length} receipt(s)`,
        body: '',
        language: null,
        requestId: null,
        handling: null,
        content: null,
      },
      then: () => {
        for (const { receipt, hash } of good) {
          const fresh = this.node.store.requests.insertReceipt({
            hash,
            envelopeId: receipt.envelope,
            sender: receipt.sender,
            kind: receipt.kind,
            node: receipt.node,
            at: receipt.at,
            signed: JSON.stringify(receipt),
            identityKey: senderIdentityKey,
            direction: 'in',
            target: null,
            sentIn: null,
            storedAt: now,
          });
          if (fresh) {
            this.node.store.record.append({
              kind: 'receipt',
              envelope: receipt.envelope,
              receipt: { kind: receipt.kind, node: receipt.node },
              at: new Date(receipt.at).toISOString(),
            });
          }
          if (fresh && receipt.kind === 'delivered') {
            const id = this.node.store.requests.requestOfEnvelope(
              receipt.envelope,
              parseNodeAddress(receipt.sender).authority,
            );
            if (id) requestIds.add(id);
          }
        }
        for (const id of requestIds) this.rederive(id);
      },
    };
  }

  /** The delivery evidence for an envelope this authority sent: the signed envelope and its receipts. */
  evidence(envelopeId: string): Evidence {
    const m = this.node.store.message(envelopeId);
    const stored = m ? this.node.store.envelopeOf(m.id) : undefined;
    if (!m || !stored || parseNodeAddress(m.sender).authority !== this.node.authority) {
      throw new EntraideError('EVIDENCE_NOT_FOUND', `${envelopeId} is not something this authority sent`);
    }
    const envelope = JSON.parse(stored.envelope) as Envelope;
    // Its own receipts only: another sender's envelope under the same id has receipts of its own.
    const key = { id: envelope.id, sender: envelope.from };
    const docs = this.node.store.documents.of(m.id).map((d) => d.entry);
    const receipts = this.node.store.requests.receiptsFor(key).map((row): EvidenceReceipt => {
      const receipt = check(Receipt, JSON.parse(row.signed), 'stored receipt');
      const signed = verifyReceipt(receipt, row.identityKey);
      const problem = !signed
        ? 'the signature does not verify'
        : (receiptMismatch(receipt, envelope) ??
          (receipt.kind === 'downloaded' ? filesMismatch(receipt, docs) : null));
      return {
        kind: receipt.kind,
        node: receipt.node,
        at: receipt.at,
        valid: problem === null,
        problem,
        receipt,
        identityKey: row.identityKey,
      };
    });
    const delivered = new Set(
      receipts
        .filter((r) => r.valid && r.kind === 'delivered')
        .map((r) => parseNodeAddress(r.node).authority),
    );
    return {
      envelope,
      kind: m.kind,
      acceptedAt: m.acceptedAt,
      ciphertextHash: ciphertextHash(envelope.ciphertext),
      receipts,
      undelivered: envelope.to.filter((a) => !delivered.has(a)),
      documents: docs.map((d) => ({
        blob: d.blob,
        name: d.name,
        role: d.role,
        size: d.size,
        sha256: d.sha256,
        ciphertextSha256: d.ciphertextSha256,
        downloadedBy: receipts
          .filter((r) => r.valid && r.kind === 'downloaded')
          .map((r) => ({ node: r.node, at: r.at })),
      })),
    };
  }
}
