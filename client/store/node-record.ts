/**
 * The node's own record on disk: a Merkle log (prisma/merkle-log.ts) over NodeLogEntry,
 * NodeLogNode and NodeLogHead, appended in the transaction that stores what it records.
 */
import type Database from 'better-sqlite3';
import { NodeRecordEvent, nodeRecordLeaf } from '../../shared/audit/node-record.ts';
import { check } from '../../shared/protocol/validate.ts';
import { MerkleLog } from '../../prisma/merkle-log.ts';
import { currentOfficer } from '../officer-context.ts';

export type NodeRecordInput = Omit<NodeRecordEvent, 'v' | 'seq' | 'node' | 'at'> & { at?: string };

export class NodeRecord extends MerkleLog {
  #node = '';

  constructor(db: Database.Database) {
    super(db, { entries: 'NodeLogEntry', nodes: 'NodeLogNode', heads: 'NodeLogHead' }, 'the node’s record');
  }

  /** The node's address, written into every entry. */
  setNode(node: string): void {
    this.#node = node;
  }

  /** Appends one event; synchronous, inside the caller's transaction. Nothing is recorded before `setNode`. */
  append(input: NodeRecordInput, now = new Date()): number | null {
    if (!this.#node) return null;
    // What an officer sends or opens is recorded under their name (what merely arrives is not).
    const officer = input.kind === 'sent' || input.kind === 'opened' ? currentOfficer() : undefined;
    const event = check(
      NodeRecordEvent,
      {
        v: 1,
        seq: this.size,
        node: this.#node,
        ...input,
        ...(officer ? { officer } : {}),
        at: input.at ?? now.toISOString(),
      },
      'record event',
    );
    return this.appendLeaf(nodeRecordLeaf(event), {
      at: event.at,
      kind: event.kind,
      envelopeId: event.envelope,
    });
  }
}
