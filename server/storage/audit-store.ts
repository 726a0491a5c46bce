/**
 * The relay's audit log on disk: a Merkle log (prisma/merkle-log.ts) over the tables AuditEntry,
 * AuditNode and AuditHead, whose entries are audit events (shared/audit/audit-event.ts). Appended in
 * the transaction of each event it records.
 */
import type Database from 'better-sqlite3';
import { AuditEvent, auditLeaf, type AuditEventKind } from '../../shared/audit/audit-event.ts';
import { check } from '../../shared/protocol/validate.ts';
import { MerkleLog } from '../../prisma/merkle-log.ts';

export type { LogEntryRow as AuditEntryRow } from '../../prisma/merkle-log.ts';

/** What a caller says about an event; the store adds the index, the time and the relay. */
export type AuditInput = Omit<AuditEvent, 'v' | 'seq' | 'relay' | 'at' | 'kind'> & {
  kind: AuditEventKind;
  at?: string;
};

export class AuditStore extends MerkleLog {
  #relay = '';

  constructor(db: Database.Database) {
    super(db, { entries: 'AuditEntry', nodes: 'AuditNode', heads: 'AuditHead' }, 'the audit log');
  }

  /** The relay's domain, written into every entry. */
  setRelay(domain: string): void {
    this.#relay = domain;
  }

  /** Appends one event; synchronous, inside the caller's transaction. Returns its index. */
  append(input: AuditInput, now = new Date()): number {
    const event = check(
      AuditEvent,
      { v: 1, seq: this.size, relay: this.#relay, ...input, at: input.at ?? now.toISOString() },
      'audit event',
    );
    return this.appendLeaf(auditLeaf(event), {
      at: event.at,
      kind: event.kind,
      envelopeId: event.envelope ?? null,
    });
  }
}
