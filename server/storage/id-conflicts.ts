/**
 * Envelope ids two senders used (the IdConflict table): an alarm for the relay's operator, kept
 * with the audit log's id_conflict entries. Both envelopes are stored and delivered; a conflict is
 * recorded where the later one met the earlier (this relay), or where a peer reported it in its
 * answer to a forward. Written in the caller's transaction; metadata only (ids, senders, hashes).
 */
import type Database from 'better-sqlite3';
import { ciphertextHashOf } from '../../prisma/sha256.ts';
import type { IdConflictReport } from '../../shared/protocol/federation.ts';
import type { AuditStore } from './audit-store.ts';

/** Two senders' envelopes under one id (see the IdConflict model in prisma/relay.prisma). */
export interface IdConflictRecord {
  seq: number;
  envelopeId: string;
  /** Whose envelope came while the other's held the id. */
  sender: string;
  ciphertextHash: string | null;
  otherSender: string;
  otherCiphertextHash: string | null;
  /** Where they met: this relay, or the peer that reported it. */
  relay: string;
  /** The peer relay the envelope came from, or that reported the conflict; null for a local sender. */
  peer: string | null;
  detectedAt: string;
}

/** A conflict to record: `sender`'s envelope `envelopeId` met `otherSender`'s. */
export type NewIdConflict = {
  envelopeId: string;
  sender: string;
  ciphertextHash?: string;
} & IdConflictReport;

const COLUMNS =
  'seq, envelopeId, sender, ciphertextHash, otherSender, otherCiphertextHash, relay, peer, detectedAt';

export class IdConflicts {
  private readonly stmt;

  constructor(
    db: Database.Database,
    private readonly audit: AuditStore,
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO "IdConflict"
         (envelopeId, sender, ciphertextHash, otherSender, otherCiphertextHash, relay, peer, detectedAt)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      of: db.prepare<[string], IdConflictRecord>(
        `SELECT ${COLUMNS} FROM "IdConflict" WHERE envelopeId = ? ORDER BY seq`,
      ),
      latest: db.prepare<[number], IdConflictRecord>(
        `SELECT ${COLUMNS} FROM "IdConflict" ORDER BY seq DESC LIMIT ?`,
      ),
      body: db.prepare<[string, string], { body: string | null }>(
        'SELECT body FROM "Envelope" WHERE id = ? AND sender = ?',
      ),
    };
  }

  /**
   * In the caller's transaction: one row and one id_conflict audit entry, the first time this pair
   * of senders is seen under this id at `relay`.
   */
  record(c: NewIdConflict, relay: string, peer: string | null, at: string): void {
    const fresh =
      this.stmt.insert.run(
        c.envelopeId,
        c.sender,
        c.ciphertextHash ?? null,
        c.otherSender,
        c.otherCiphertextHash ?? null,
        relay,
        peer,
        at,
      ).changes > 0;
    if (!fresh) return;
    this.audit.append({
      kind: 'id_conflict',
      envelope: c.envelopeId,
      sender: c.sender,
      ...(c.ciphertextHash ? { ciphertextHash: c.ciphertextHash } : {}),
      otherSender: c.otherSender,
      ...(c.otherCiphertextHash ? { otherCiphertextHash: c.otherCiphertextHash } : {}),
      ...(peer ? { peer } : {}),
      at,
    });
  }

  /** Another sender's envelope held under `id`, as a conflict names it. */
  report(id: string, otherSender: string): IdConflictReport {
    const hash = this.ciphertextHash(id, otherSender);
    return { otherSender, ...(hash ? { otherCiphertextHash: hash } : {}) };
  }

  /** The ciphertext hash of a stored envelope, until it expires (its body is cleared then). */
  ciphertextHash(id: string, sender: string): string | undefined {
    const body = this.stmt.body.get(id, sender)?.body;
    if (!body) return undefined;
    try {
      return ciphertextHashOf((JSON.parse(body) as { ciphertext: string }).ciphertext);
    } catch {
      return undefined;
    }
  }

  /** Conflicts recorded about envelope id `id` (its sender being either side), oldest first. */
  of(id: string): IdConflictRecord[] {
    return this.stmt.of.all(id);
  }

  /** The latest `limit` conflicts recorded, newest first (for the operator). */
  latest(limit: number): IdConflictRecord[] {
    return this.stmt.latest.all(limit);
  }
}
