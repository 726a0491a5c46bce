/**
 * Checking a node's own record the way an auditor checks a relay's log: every head signed by the
 * node's identity key, and every entry streamed (bounded memory) against every signed root.
 */
import { leafHashOfText } from '../prisma/sha256.ts';
import {
  NodeRecordHead,
  signNodeRecordHead,
  verifyNodeRecordHead,
  type NodeRecordEvent,
} from '../shared/audit/node-record.ts';
import { LogVerifier, type LogProblem } from '../shared/audit/verify-log.ts';
import { fromBase64url } from '../shared/bytes.ts';
import { check } from '../shared/protocol/validate.ts';
import type { RecordExport } from './audit/record-reconcile.ts';
import type { NodePort } from './node-port.ts';

const PAGE = 10_000;

/**
 * A head of the node's own record, signed by its identity key: a new one when entries came since,
 * or when `fresh` (an export says what the record held at the time of export).
 */
export function recordHead(node: NodePort, fresh = false): NodeRecordHead {
  const record = node.store.record;
  const latest = record.latestHead();
  if (!fresh && latest && latest.size === record.size) {
    return check(NodeRecordHead, JSON.parse(latest.head), 'stored record head');
  }
  const head = signNodeRecordHead(
    { node: node.address, size: record.size, root: record.root(), timestamp: new Date() },
    node.identitySecretKey,
  );
  record.saveHead(head.size, JSON.stringify(head), new Date());
  return head;
}

export function recordEvents(node: NodePort, from = 0, limit = 1_000_000): NodeRecordEvent[] {
  return node.store.record.entries(from, limit).map((e) => JSON.parse(e.leaf) as NodeRecordEvent);
}

export function verifyRecord(node: NodePort): {
  size: number;
  heads: number;
  problem: LogProblem | null;
} {
  const latest = recordHead(node);
  const identityKey = fromBase64url(node.identityPublicKey, 'identity key', 32);
  const v = new LogVerifier<NodeRecordHead>((h) =>
    verifyNodeRecordHead(h, { node: node.address, identityKey }),
  );
  const heads = node.store.record
    .heads()
    .map((h) => check(NodeRecordHead, JSON.parse(h.head), 'stored head'));
  for (const h of [...heads, latest]) v.addHead(h);
  for (let from = 0; from < latest.size && !v.problem; from += PAGE) {
    for (const e of node.store.record.entries(from, PAGE)) {
      if (e.seq >= latest.size) break;
      v.addLeafHash(e.seq, leafHashOfText(e.leaf));
    }
  }
  const problem = v.finish();
  return { size: v.size, heads: v.checkedHeads, problem };
}

/** The whole record and every head the node signed, the last one signed now. */
export function exportRecord(node: NodePort): RecordExport {
  const latest = recordHead(node, true);
  const heads = node.store.record
    .heads()
    .filter((h) => h.size !== latest.size)
    .map((h) => JSON.parse(h.head) as NodeRecordHead);
  heads.push(latest);
  const entries: string[] = [];
  for (let from = 0; from < latest.size; from += PAGE) {
    for (const e of node.store.record.entries(from, PAGE)) if (e.seq < latest.size) entries.push(e.leaf);
  }
  return {
    v: 1,
    type: 'entraide/node-record',
    node: node.address,
    identityKey: node.identityPublicKey,
    heads,
    entries,
  };
}
