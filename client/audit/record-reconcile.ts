/**
 * A node's record shown to an auditor: the node exports its record (every entry and every head it
 * signed); the auditor checks the heads under the node's identity key as the relay's key log
 * proves it, streams the entries against every head, and sets the record against the relay's
 * audit log. What the node sent must have been accepted, what it received must have been
 * delivered to it, and every receipt it holds must match a delivery to the node that signed it;
 * and, the other way, the relay must not have accepted in the node's name what the node never sent.
 */
import { collectDirectory } from '../../shared/keys/directory-entry.ts';
import { Type, type Static } from '@sinclair/typebox';
import { leafHashOfText } from '../../prisma/sha256.ts';
import { NodeRecordEvent, NodeRecordHead, verifyNodeRecordHead } from '../../shared/audit/node-record.ts';
import { LogVerifier, type LogProblem } from '../../shared/audit/verify-log.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { replayAuthority } from '../../shared/keys/authority-state.ts';
import { verifyDirectoryEvents } from '../../shared/keys/directory-entry.ts';
import { verifyTreeHead } from '../../shared/keys/tree-head.ts';
import { NodeAddress, PublicKey } from '../../shared/protocol/schemas.ts';
import { check } from '../../shared/protocol/validate.ts';
import type { AuditorClient } from './auditor.ts';

/** What `entraide record export` writes. */
export const RecordExport = Type.Object(
  {
    v: Type.Literal(1),
    type: Type.Literal('entraide/node-record'),
    node: NodeAddress,
    /** As the node states it; the auditor takes the key from the relay's key log instead. */
    identityKey: PublicKey,
    heads: Type.Array(NodeRecordHead, { minItems: 1, maxItems: 100_000 }),
    /** Each entry's leaf: the RFC 8785 text of the event, in order from index 0. */
    entries: Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 10_000_000 }),
  },
  { additionalProperties: false },
);
export type RecordExport = Static<typeof RecordExport>;

export interface RecordReport {
  node: string;
  record: { size: number; heads: number; problem: LogProblem | null };
  /** The relay's audit log, verified in the same pass that reads it. */
  log: { relay: string; size: number; problem: LogProblem | null };
  /** Until when each side is compared: the older of the record's and the log's latest head. */
  until: string;
  matched: { sent: number; received: number; receipts: number };
  /** Sent by the node, no acceptance in the relay's log. */
  sentNotAccepted: string[];
  /** Received by the node, no delivery to it in the relay's log. */
  receivedNotDelivered: string[];
  /** A receipt the node holds, signed by a node the relay's log shows no delivery to. */
  receiptWithoutDelivery: { envelope: string; node: string }[];
  /** Accepted by the relay in the node's name, absent from the node's record. */
  acceptedNotSent: string[];
  /** Delivered to the node by the relay's log, absent from the node's record. */
  deliveredNotReceived: string[];
  /** The same envelope with another ciphertext hash on each side. */
  hashMismatch: string[];
}

/**
 * The identity key of `node` as the relay's key log proves it: the authority's key events, each
 * included under a key-log head signed by the relay key the auditor pinned, replayed.
 */
export async function provenIdentityKey(client: AuditorClient, node: string): Promise<Uint8Array> {
  const authority = node.slice(node.indexOf('/') + 1);
  const entry = await collectDirectory((q) =>
    client.get(`/v1/audit/directory/${encodeURIComponent(authority)}${q}`),
  );
  verifyTreeHead(entry.head, {
    log: 'key',
    relay: client.creds.relayDomain,
    relayKey: client.relayKeys.keys,
  });
  if (entry.authority !== authority) {
    throw new EntraideError(
      'KEYLOG_INCONSISTENT',
      `the key log answered for ${entry.authority}, not ${authority}`,
    );
  }
  verifyDirectoryEvents(entry);
  const keys = replayAuthority(entry.events).state?.nodes.get(node);
  if (!keys) {
    throw new EntraideError(
      'UNKNOWN_AUTHORITY',
      `the key log of ${client.creds.relayDomain} holds no node ${node}`,
    );
  }
  return fromBase64url(keys.identityKey, 'identity key', 32);
}

/** Streams the exported entries against every head, each checked under `identityKey`. */
export function verifyRecordExport(
  exported: RecordExport,
  identityKey: Uint8Array,
): { size: number; heads: number; problem: LogProblem | null } {
  const v = new LogVerifier<NodeRecordHead>((h) =>
    verifyNodeRecordHead(h, { node: exported.node, identityKey }),
  );
  for (const h of exported.heads) v.addHead(h);
  exported.entries.forEach((leaf, i) => {
    if (!v.problem) v.addLeafHash(i, leafHashOfText(leaf));
  });
  const problem = v.finish();
  return { size: v.size, heads: v.checkedHeads, problem };
}

function parseEvent(leaf: string, index: number): NodeRecordEvent {
  let value: unknown;
  try {
    value = JSON.parse(leaf);
  } catch {
    throw new EntraideError('INVALID_JSON', `entry ${index} of the record is not JSON`);
  }
  return check(NodeRecordEvent, value, `record entry ${index}`);
}

/**
 * Sets a node's exported record against the relay's audit log, after checking both. Only what
 * both sides could know is compared: events up to the older of the two latest heads.
 */
export async function reconcileRecord(client: AuditorClient, value: unknown): Promise<RecordReport> {
  const exported = check(RecordExport, value, 'record file');
  const identityKey = await provenIdentityKey(client, exported.node);
  const record = verifyRecordExport(exported, identityKey);
  const base: Omit<RecordReport, 'until'> = {
    node: exported.node,
    record,
    log: { relay: client.creds.relayDomain, size: 0, problem: null },
    matched: { sent: 0, received: 0, receipts: 0 },
    sentNotAccepted: [],
    receivedNotDelivered: [],
    receiptWithoutDelivery: [],
    acceptedNotSent: [],
    deliveredNotReceived: [],
    hashMismatch: [],
  };
  if (record.problem) return { ...base, until: '' };

  const node = exported.node;
  // One pass over the relay's log: verified, and the events of this node collected. Acceptances in
  // its name, deliveries to any node (receipts name other nodes), each acceptance's ciphertext hash.
  const accepted = new Map<string, { hash: string | undefined; at: string }>();
  const delivered = new Set<string>();
  const deliveredAt = new Map<string, string>();
  const log = await client.verify(undefined, [], (e) => {
    if (!e.envelope) return;
    if (e.kind === 'accepted' && e.sender === node)
      accepted.set(e.envelope, { hash: e.ciphertextHash, at: e.at });
    if (e.kind === 'delivered' && e.node) {
      delivered.add(`${e.envelope} ${e.node}`);
      if (e.node === node) deliveredAt.set(e.envelope, e.at);
    }
  });
  base.log = { relay: client.creds.relayDomain, size: log.size, problem: log.problem };
  if (log.problem) return { ...base, until: '' };
  const recordHead = exported.heads.reduce((a, b) => (b.size >= a.size ? b : a));
  const until = Math.min(Date.parse(recordHead.timestamp), Date.parse(log.head.timestamp));
  const within = (at: string) => Date.parse(at) <= until;

  const report: RecordReport = { ...base, until: new Date(until).toISOString() };
  const sent = new Set<string>();
  const received = new Set<string>();
  exported.entries.slice(0, record.size).forEach((leaf, i) => {
    const e = parseEvent(leaf, i);
    if (e.node !== node) {
      throw new EntraideError('PROOF_INVALID', `entry ${i} of the record of ${node} names ${e.node}`);
    }
    if (!within(e.at)) return;
    if (e.kind === 'sent') {
      sent.add(e.envelope);
      if (!accepted.has(e.envelope)) report.sentNotAccepted.push(e.envelope);
      else {
        report.matched.sent++;
        const h = accepted.get(e.envelope)!.hash;
        if (h && e.ciphertextHash && h !== e.ciphertextHash) report.hashMismatch.push(e.envelope);
      }
    } else if (e.kind === 'received') {
      received.add(e.envelope);
      if (deliveredAt.has(e.envelope)) report.matched.received++;
      else report.receivedNotDelivered.push(e.envelope);
    } else if (e.kind === 'receipt' && e.receipt) {
      if (delivered.has(`${e.envelope} ${e.receipt.node}`)) report.matched.receipts++;
      else report.receiptWithoutDelivery.push({ envelope: e.envelope, node: e.receipt.node });
    }
  });
  for (const [id, a] of accepted) if (within(a.at) && !sent.has(id)) report.acceptedNotSent.push(id);
  for (const [id, at] of deliveredAt)
    if (within(at) && !received.has(id)) report.deliveredNotReceived.push(id);
  return report;
}

/**
 * The relay of the node whose record `value` claims to be (its address after the '@'), read before
 * any check so that the record is set against the right relay's log; '' when it names none.
 */
export function recordRelay(value: unknown): string {
  const node = (value as { node?: unknown } | null)?.node;
  return typeof node === 'string' && node.includes('@') ? node.slice(node.lastIndexOf('@') + 1) : '';
}

/** How many differences a report holds. */
export function recordDifferences(r: RecordReport): number {
  return (
    r.sentNotAccepted.length +
    r.receivedNotDelivered.length +
    r.receiptWithoutDelivery.length +
    r.acceptedNotSent.length +
    r.deliveredNotReceived.length +
    r.hashMismatch.length
  );
}
