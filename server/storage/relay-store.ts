/**
 * The relay's storage module: the only place that knows tables. Prisma serves enrolment and the
 * directory; the envelope path (accept, deliver, acknowledge, expire) runs prepared statements on
 * the same database through better-sqlite3, in group-committed transactions, because a Prisma
 * create per envelope (~360 µs) would cap the relay far below its throughput target.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { openDatabase, BUSY_TIMEOUT_MS } from '../../prisma/database.ts';
import { EntraideError } from '../../shared/errors.ts';
import { PrismaClient } from './generated/client.ts';
import { AuditStore } from './audit-store.ts';
import { GroupCommit } from '../../prisma/group-commit.ts';

export interface NodeRecord {
  address: string;
  authority: string;
  identityKey: string;
  certificate: string;
  revokedAt: Date | null;
}

export interface AuthorityRecord {
  address: string;
  masterKey: string;
  enrolledAt: Date;
  nodes: NodeRecord[];
}

export interface EnrolmentRecord {
  codeHash: string;
  authorityId: string;
  authority: string;
  masterKey: string;
  node: string;
  identityKey: string;
  certificate: string;
  now: Date;
}

export interface KeyLogRow {
  idx: number;
  authority: string;
  type: string;
  node: string | null;
  leaf: string;
  eventHash: string;
  loggedAt: Date;
}

/** New key-log entries and the signed head over them, written in the same transaction as their effect. */
export interface KeyLogAppend {
  entries: KeyLogRow[];
  head: { size: number; root: string; signedAt: Date; head: string };
}

/** What a key event changes in the relay's own tables besides the log. */
export type KeyEffect =
  | {
      kind: 'node-certified';
      node: string;
      authority: string;
      identityKey: string;
      certificate: string;
      at: Date;
      isNew: boolean;
    }
  | { kind: 'node-revoked'; node: string; at: Date }
  | { kind: 'master-key-rotated'; authority: string; masterKey: string }
  | { kind: 'none' };

export interface JoinRecord {
  code: string;
  authority: string;
  node: string;
  request: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface NewEnvelope {
  id: string;
  sender: string;
  hash: string;
  body: string;
  acceptedAt: string;
  expiresAt: string;
  recipientNodes: string[];
  /** Peer relays to forward the envelope to (through the outbox). */
  peers: string[];
  /** For the audit log: the recipient authorities, the SHA-256 of the ciphertext, the peer it came from. */
  to: string[];
  ciphertextHash: string;
  fromPeer: string | null;
}

export interface PeerRecord {
  domain: string;
  url: string;
  publicKey: string;
  addedAt: Date;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  keyLogHead: string | null;
  auditHead: string | null;
  alarm: string | null;
  alarmAt: Date | null;
}

export interface OutboxItem {
  seq: number;
  envelopeId: string;
  attempts: number;
  nextAttemptAt: string;
  body: string | null;
}

export interface ReportItem {
  seq: number;
  envelopeId: string;
  node: string;
  deliveredAt: string;
  attempts: number;
  nextAttemptAt: string;
}

export interface ForwardRow {
  peer: string;
  state: 'pending' | 'forwarded' | 'refused' | 'expired';
  forwardedAt: string | null;
  lastError: string | null;
}

export type AcceptOutcome =
  { kind: 'accepted'; acceptedAt: string } | { kind: 'duplicate'; acceptedAt: string };

export interface PendingEnvelope {
  seq: number;
  envelopeId: string;
  body: string;
}

export interface DeliveryRow {
  node: string;
  state: 'pending' | 'delivered' | 'expired' | 'revoked';
  deliveredAt: string | null;
}

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

type Write =
  | { kind: 'accept'; envelope: NewEnvelope }
  | { kind: 'delivered'; envelopeId: string; node: string; at: string };

export class RelayStore {
  readonly prisma: PrismaClient;
  /** The audit log: appended in the transaction of each event it records. */
  readonly audit: AuditStore;
  private readonly stmt;
  private readonly writes: GroupCommit<Write, AcceptOutcome | boolean>;

  private constructor(
    readonly db: Database.Database,
    file: string,
  ) {
    this.prisma = new PrismaClient({
      adapter: new PrismaBetterSqlite3({ url: `file:${file}`, timeout: BUSY_TIMEOUT_MS }),
    });
    this.audit = new AuditStore(db);
    this.stmt = {
      outboxRow: db.prepare<[number], { envelopeId: string; peer: string }>(
        'SELECT envelopeId, peer FROM "Outbox" WHERE seq = ?',
      ),
      expiring: db.prepare<[string], { id: string }>(
        'SELECT id FROM "Envelope" WHERE expiredAt IS NULL AND expiresAt <= ? ORDER BY acceptedAt',
      ),
      findEnvelope: db.prepare<[string], { hash: string; acceptedAt: string; expiredAt: string | null }>(
        'SELECT hash, acceptedAt, expiredAt FROM "Envelope" WHERE id = ?',
      ),
      insertEnvelope: db.prepare(
        'INSERT INTO "Envelope" (id, sender, hash, size, body, acceptedAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertDelivery: db.prepare(
        'INSERT INTO "Delivery" (envelopeId, node, state) VALUES (?, ?, \'pending\')',
      ),
      pending: db.prepare<[string, number, number], PendingEnvelope>(
        `SELECT d.seq AS seq, d.envelopeId AS envelopeId, e.body AS body FROM "Delivery" d
         JOIN "Envelope" e ON e.id = d.envelopeId
         WHERE d.node = ? AND d.state = 'pending' AND d.seq > ? ORDER BY d.seq LIMIT ?`,
      ),
      countPending: db.prepare<[string], { n: number }>(
        `SELECT count(*) AS n FROM "Delivery" WHERE node = ? AND state = 'pending'`,
      ),
      markDelivered: db.prepare(
        `UPDATE "Delivery" SET state = 'delivered', deliveredAt = ? WHERE envelopeId = ? AND node = ? AND state = 'pending'`,
      ),
      deliveries: db.prepare<[string], DeliveryRow>(
        'SELECT node, state, deliveredAt FROM "Delivery" WHERE envelopeId = ? ORDER BY seq',
      ),
      envelopeMeta: db.prepare<[string], { sender: string; acceptedAt: string; expiresAt: string }>(
        'SELECT sender, acceptedAt, expiresAt FROM "Envelope" WHERE id = ?',
      ),
      expireDeliveries: db.prepare(
        `UPDATE "Delivery" SET state = 'expired' WHERE state = 'pending' AND envelopeId IN
         (SELECT id FROM "Envelope" WHERE expiredAt IS NULL AND expiresAt <= ?)`,
      ),
      envelopeSender: db.prepare<[string], { sender: string }>('SELECT sender FROM "Envelope" WHERE id = ?'),
      insertReport: db.prepare(
        `INSERT INTO "DeliveryReport" (peer, envelopeId, node, deliveredAt, state, attempts, nextAttemptAt)
         VALUES (?, ?, ?, ?, 'pending', 0, ?)`,
      ),
      reportsDue: db.prepare<[string, number], ReportItem>(
        `SELECT seq, envelopeId, node, deliveredAt, attempts, nextAttemptAt FROM "DeliveryReport"
         WHERE peer = ? AND state = 'pending' ORDER BY seq LIMIT ?`,
      ),
      reportSent: db.prepare(`UPDATE "DeliveryReport" SET state = 'sent' WHERE seq = ?`),
      reportRetry: db.prepare(
        `UPDATE "DeliveryReport" SET attempts = attempts + 1, nextAttemptAt = ? WHERE seq = ?`,
      ),
      reportPeers: db.prepare<[], { peer: string }>(
        `SELECT DISTINCT peer FROM "DeliveryReport" WHERE state = 'pending'`,
      ),
      remoteDelivered: db.prepare(
        `INSERT INTO "Delivery" (envelopeId, node, state, deliveredAt) VALUES (?, ?, 'delivered', ?)
         ON CONFLICT (envelopeId, node) DO UPDATE SET state = 'delivered', deliveredAt = excluded.deliveredAt
         WHERE "Delivery".state <> 'delivered'`,
      ),
      insertOutbox: db.prepare(
        `INSERT INTO "Outbox" (peer, envelopeId, state, attempts, nextAttemptAt) VALUES (?, ?, 'pending', 0, ?)`,
      ),
      outboxDue: db.prepare<[string, number], OutboxItem>(
        `SELECT o.seq AS seq, o.envelopeId AS envelopeId, o.attempts AS attempts, o.nextAttemptAt AS nextAttemptAt,
                e.body AS body
         FROM "Outbox" o JOIN "Envelope" e ON e.id = o.envelopeId
         WHERE o.peer = ? AND o.state = 'pending' ORDER BY o.seq LIMIT ?`,
      ),
      outboxForwarded: db.prepare(
        `UPDATE "Outbox" SET state = 'forwarded', forwardedAt = ?, lastError = NULL WHERE seq = ? AND state = 'pending'`,
      ),
      outboxRefused: db.prepare(
        `UPDATE "Outbox" SET state = 'refused', lastError = ? WHERE seq = ? AND state = 'pending'`,
      ),
      outboxRetry: db.prepare(
        `UPDATE "Outbox" SET attempts = attempts + 1, nextAttemptAt = ?, lastError = ? WHERE seq = ? AND state = 'pending'`,
      ),
      outboxCounts: db.prepare<[], { peer: string; n: number }>(
        `SELECT peer, count(*) AS n FROM "Outbox" WHERE state = 'pending' GROUP BY peer`,
      ),
      forwards: db.prepare<[string], ForwardRow>(
        'SELECT peer, state, forwardedAt, lastError FROM "Outbox" WHERE envelopeId = ? ORDER BY seq',
      ),
      expireOutbox: db.prepare(
        `UPDATE "Outbox" SET state = 'expired' WHERE state = 'pending' AND envelopeId IN
         (SELECT id FROM "Envelope" WHERE expiredAt IS NULL AND expiresAt <= ?)`,
      ),
      expireEnvelopes: db.prepare(
        'UPDATE "Envelope" SET body = NULL, expiredAt = ? WHERE expiredAt IS NULL AND expiresAt <= ?',
      ),
    };
    // Accepted envelopes and delivery acknowledgements of one event-loop turn share one transaction
    // (one fsync). insertOne refuses (id conflict, expired id) before it writes anything, so a
    // refused envelope answers its own caller and leaves the rest of the batch alone; any other
    // failure aborts the whole transaction, and then no caller in the batch is answered `accepted`.
    this.writes = new GroupCommit<Write, AcceptOutcome | boolean>((items) =>
      this.audit.transaction(() =>
        items.map((w): AcceptOutcome | boolean | Error => {
          if (w.kind === 'delivered') {
            const changed = this.stmt.markDelivered.run(w.at, w.envelopeId, w.node).changes > 0;
            if (changed) {
              this.reportIfRemote(w.envelopeId, w.node, w.at);
              this.audit.append({ kind: 'delivered', envelope: w.envelopeId, node: w.node, at: w.at });
            }
            return changed;
          }
          try {
            return this.insertOne(w.envelope);
          } catch (err) {
            if (err instanceof EntraideError) return err;
            throw err;
          }
        }),
      ),
    );
  }

  static open(dataDir: string): RelayStore {
    const file = join(dataDir, 'relay.db');
    return new RelayStore(openDatabase(file, 'relay'), file);
  }

  /** Writes whatever is queued now, lazy items included. */
  flush(): void {
    this.writes.flush();
  }

  async close(): Promise<void> {
    this.writes.flush();
    await this.prisma.$disconnect();
    this.db.close();
  }

  // ---- invitations and enrolment (Prisma) ----------------------------------------------

  async createInvitation(codeHash: string, authorityId: string, now: Date, expiresAt: Date): Promise<void> {
    await this.prisma.invitation.create({ data: { codeHash, authorityId, createdAt: now, expiresAt } });
  }

  /** Consumes the invitation and creates the authority, its first node and their key-log entries, all or nothing. */
  async enrol(r: EnrolmentRecord, log: KeyLogAppend): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await checkInvitation(tx, r.codeHash, r.authorityId, r.now);
      const existing = await tx.authority.findUnique({ where: { address: r.authority } });
      if (existing)
        throw new EntraideError('AUTHORITY_EXISTS', `${r.authority} is already enrolled on this relay`);
      await tx.invitation.update({ where: { codeHash: r.codeHash }, data: { usedAt: r.now } });
      await tx.authority.create({
        data: { address: r.authority, masterKey: r.masterKey, enrolledAt: r.now },
      });
      await tx.node.create({
        data: {
          address: r.node,
          authority: r.authority,
          identityKey: r.identityKey,
          certificate: r.certificate,
          createdAt: r.now,
        },
      });
      await this.writeLog(tx, log);
    });
  }

  // ---- key log (Prisma) -----------------------------------------------------------------

  private async writeLog(tx: Tx, log: KeyLogAppend): Promise<void> {
    await tx.keyLogEntry.createMany({ data: log.entries });
    await tx.keyLogHead.create({ data: log.head });
  }

  /** Applies a key event's effect and appends it to the key log in one transaction. */
  async recordKeyEvent(effect: KeyEffect, log: KeyLogAppend): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      switch (effect.kind) {
        case 'node-certified':
          if (effect.isNew) {
            await tx.node.create({
              data: {
                address: effect.node,
                authority: effect.authority,
                identityKey: effect.identityKey,
                certificate: effect.certificate,
                createdAt: effect.at,
              },
            });
          } else {
            await tx.node.update({
              where: { address: effect.node },
              data: { certificate: effect.certificate },
            });
          }
          // The join request stays until it expires, so that approving it again says "already approved".
          break;
        case 'node-revoked':
          await tx.node.update({ where: { address: effect.node }, data: { revokedAt: effect.at } });
          // Nothing more reaches a revoked node; its senders see the deliveries as revoked.
          await tx.delivery.updateMany({
            where: { node: effect.node, state: 'pending' },
            data: { state: 'revoked' },
          });
          break;
        case 'master-key-rotated':
          await tx.authority.update({
            where: { address: effect.authority },
            data: { masterKey: effect.masterKey },
          });
          break;
        case 'none':
          break;
      }
      await this.writeLog(tx, log);
    });
  }

  async keyLogEntries(): Promise<KeyLogRow[]> {
    return this.prisma.keyLogEntry.findMany({ orderBy: { idx: 'asc' } });
  }

  async latestKeyLogHead(): Promise<string | null> {
    const row = await this.prisma.keyLogHead.findFirst({ orderBy: { size: 'desc' } });
    return row?.head ?? null;
  }

  async saveKeyLogHead(head: KeyLogAppend['head']): Promise<void> {
    await this.prisma.keyLogHead.upsert({ where: { size: head.size }, create: head, update: {} });
  }

  async findKeyEvent(eventHash: string): Promise<number | null> {
    const row = await this.prisma.keyLogEntry.findUnique({ where: { eventHash }, select: { idx: true } });
    return row?.idx ?? null;
  }

  // ---- join requests (Prisma) -----------------------------------------------------------

  async saveJoin(j: JoinRecord): Promise<void> {
    await this.prisma.joinRequest.upsert({ where: { code: j.code }, create: j, update: {} });
  }

  async findJoin(code: string): Promise<JoinRecord | null> {
    return this.prisma.joinRequest.findUnique({ where: { code } });
  }

  async countJoins(authority: string, now: Date): Promise<number> {
    return this.prisma.joinRequest.count({ where: { authority, expiresAt: { gt: now } } });
  }

  async deleteExpiredJoins(now: Date): Promise<number> {
    return (await this.prisma.joinRequest.deleteMany({ where: { expiresAt: { lte: now } } })).count;
  }

  /** Throws the invitation's refusal, if any, without using it. */
  async verifyInvitation(codeHash: string, authorityId: string, now: Date): Promise<void> {
    await checkInvitation(this.prisma, codeHash, authorityId, now);
  }

  async listNodes(): Promise<NodeRecord[]> {
    return this.prisma.node.findMany();
  }

  async findAuthority(address: string): Promise<AuthorityRecord | null> {
    return this.prisma.authority.findUnique({ where: { address }, include: { nodes: true } });
  }

  // ---- envelopes (prepared statements, group commit) -----------------------------------

  /** Resolves once the envelope and its deliveries are durably committed. */
  acceptEnvelope(e: NewEnvelope): Promise<AcceptOutcome> {
    return this.writes.submit({ kind: 'accept', envelope: e }) as Promise<AcceptOutcome>;
  }

  private insertOne(e: NewEnvelope): AcceptOutcome {
    const prior = this.stmt.findEnvelope.get(e.id);
    if (prior) {
      if (prior.hash !== e.hash) {
        throw new EntraideError(
          'ENVELOPE_ID_CONFLICT',
          `envelope id ${e.id} is already used by another envelope`,
        );
      }
      if (prior.expiredAt)
        throw new EntraideError('ENVELOPE_EXPIRED', `envelope ${e.id} has already expired`);
      return { kind: 'duplicate', acceptedAt: prior.acceptedAt };
    }
    this.stmt.insertEnvelope.run(e.id, e.sender, e.hash, e.body.length, e.body, e.acceptedAt, e.expiresAt);
    for (const node of e.recipientNodes) this.stmt.insertDelivery.run(e.id, node);
    for (const peer of e.peers) this.stmt.insertOutbox.run(peer, e.id, e.acceptedAt);
    this.audit.append({
      kind: e.fromPeer ? 'received' : 'accepted',
      envelope: e.id,
      sender: e.sender,
      recipients: e.to,
      size: e.body.length,
      ciphertextHash: e.ciphertextHash,
      ...(e.fromPeer ? { peer: e.fromPeer } : {}),
      at: e.acceptedAt,
    });
    return { kind: 'accepted', acceptedAt: e.acceptedAt };
  }

  /** Envelopes waiting for `node`, in acceptance order, after the sequence number `afterSeq`. */
  pendingFor(node: string, afterSeq: number, limit: number): PendingEnvelope[] {
    return this.stmt.pending.all(node, afterSeq, limit);
  }

  countPending(node: string): number {
    return this.stmt.countPending.get(node)!.n;
  }

  /** Resolves true when this call moved the delivery from pending to delivered. */
  markDelivered(envelopeId: string, node: string, at: Date): Promise<boolean> {
    return this.writes.submit({
      kind: 'delivered',
      envelopeId,
      node,
      at: at.toISOString(),
    }) as Promise<boolean>;
  }

  envelopeMeta(id: string): { sender: string; acceptedAt: string; expiresAt: string } | undefined {
    return this.stmt.envelopeMeta.get(id);
  }

  deliveries(id: string): DeliveryRow[] {
    return this.stmt.deliveries.all(id);
  }

  /** Clears the ciphertext of every envelope past its TTL; returns how many expired now. */
  expire(now: Date): number {
    const at = now.toISOString();
    return this.audit.transaction(() => {
      for (const { id } of this.stmt.expiring.all(at))
        this.audit.append({ kind: 'expired', envelope: id, at });
      this.stmt.expireDeliveries.run(at);
      this.stmt.expireOutbox.run(at);
      return this.stmt.expireEnvelopes.run(at, at).changes;
    });
  }

  // ---- auditors ------------------------------------------------------------------------------

  /** Adds an auditor, or gives a removed one (or one with a new key) access again. */
  async addAuditor(name: string, publicKey: string, at: Date): Promise<void> {
    await this.prisma.auditor.upsert({
      where: { name },
      create: { name, publicKey, addedAt: at },
      update: { publicKey, addedAt: at, removedAt: null },
    });
  }

  async removeAuditor(name: string, at: Date): Promise<boolean> {
    return (
      (await this.prisma.auditor.updateMany({ where: { name, removedAt: null }, data: { removedAt: at } }))
        .count > 0
    );
  }

  async auditor(name: string): Promise<{ name: string; publicKey: string; removedAt: Date | null } | null> {
    return this.prisma.auditor.findUnique({ where: { name } });
  }

  async listAuditors(): Promise<
    { name: string; publicKey: string; addedAt: Date; removedAt: Date | null }[]
  > {
    return this.prisma.auditor.findMany({ orderBy: { name: 'asc' } });
  }

  // ---- federation: peers, token ids, outbox ------------------------------------------------

  async listPeers(): Promise<PeerRecord[]> {
    return this.prisma.peer.findMany({ orderBy: { domain: 'asc' } });
  }

  async addPeer(p: { domain: string; url: string; publicKey: string; addedAt: Date }): Promise<void> {
    await this.prisma.peer.upsert({
      where: { domain: p.domain },
      create: p,
      update: { url: p.url, publicKey: p.publicKey },
    });
  }

  async removePeer(domain: string): Promise<boolean> {
    return (await this.prisma.peer.deleteMany({ where: { domain } })).count > 0;
  }

  async peerResult(domain: string, at: Date, error: string | null): Promise<void> {
    await this.prisma.peer.updateMany({
      where: { domain },
      data: error === null ? { lastSuccessAt: at, lastError: null } : { lastError: error, lastErrorAt: at },
    });
  }

  async peerKeyLog(domain: string, head: string | null, alarm: string | null, at: Date): Promise<void> {
    await this.prisma.peer.updateMany({
      where: { domain },
      data: {
        ...(head !== null ? { keyLogHead: head } : {}),
        ...(alarm !== null ? { alarm, alarmAt: at } : {}),
      },
    });
  }

  async peerAuditHead(domain: string, head: string): Promise<void> {
    await this.prisma.peer.updateMany({ where: { domain }, data: { auditHead: head } });
  }

  /** Remembers a token id until it expires; false when it was already used (a replay). */
  async rememberFederationToken(jti: string, issuer: string, expiresAt: Date): Promise<boolean> {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO "FederationReplay" (jti, issuer, expiresAt) VALUES (?, ?, ?)')
      .run(jti, issuer, expiresAt.toISOString());
    return r.changes > 0;
  }

  purgeFederationTokens(now: Date): void {
    this.db.prepare('DELETE FROM "FederationReplay" WHERE expiresAt <= ?').run(now.toISOString());
  }

  /** The first pending outbox items for a peer, in acceptance order. */
  outboxDue(peer: string, limit: number): OutboxItem[] {
    return this.stmt.outboxDue.all(peer, limit);
  }

  /** What the peer said of a batch, in one transaction: forwarded, refused for good, or to retry. */
  recordForwarding(
    outcomes: { seq: number; ok: boolean; retry?: boolean; reason?: string }[],
    at: Date,
    nextAttempt: (attempts: number) => Date,
  ): void {
    this.audit.transaction(() => {
      for (const o of outcomes) {
        if (o.ok && this.stmt.outboxForwarded.run(at.toISOString(), o.seq).changes > 0) {
          const row = this.stmt.outboxRow.get(o.seq)!;
          this.audit.append({ kind: 'forwarded', envelope: row.envelopeId, peer: row.peer }, at);
        } else if (o.ok) continue;
        else if (!o.retry) this.stmt.outboxRefused.run(o.reason ?? 'refused', o.seq);
        else this.stmt.outboxRetry.run(nextAttempt(0).toISOString(), o.reason ?? 'retry', o.seq);
      }
    });
  }

  /** Pending outbox items by peer. */
  outboxCounts(): Map<string, number> {
    return new Map(this.stmt.outboxCounts.all().map((r) => [r.peer, r.n]));
  }

  forwards(envelopeId: string): ForwardRow[] {
    return this.stmt.forwards.all(envelopeId);
  }

  // ---- federation: delivery reports ---------------------------------------------------------

  private localDomain: string | undefined;

  /** The relay's own domain: envelopes from other domains get delivery reports sent back. */
  setLocalDomain(domain: string): void {
    this.localDomain = domain;
    this.audit.setRelay(domain);
  }

  /** In the delivery's transaction: a node here stored an envelope from a peer's sender. */
  private reportIfRemote(envelopeId: string, node: string, at: string): void {
    if (!this.localDomain) return;
    const row = this.stmt.envelopeSender.get(envelopeId);
    if (!row) return;
    const domain = row.sender.slice(row.sender.indexOf('@') + 1);
    if (domain !== this.localDomain) this.stmt.insertReport.run(domain, envelopeId, node, at, at);
  }

  reportsDue(peer: string, limit: number): ReportItem[] {
    return this.stmt.reportsDue.all(peer, limit);
  }

  reportPeers(): string[] {
    return this.stmt.reportPeers.all().map((r) => r.peer);
  }

  recordReports(sent: number[], retry: number[], next: Date): void {
    this.db.transaction(() => {
      for (const seq of sent) this.stmt.reportSent.run(seq);
      for (const seq of retry) this.stmt.reportRetry.run(next.toISOString(), seq);
    })();
  }

  /** A peer says its node stored our sender's envelope; true when that is news. */
  recordRemoteDeliveries(reports: { envelopeId: string; node: string; deliveredAt: string }[]): number {
    return this.audit.transaction(() =>
      reports.reduce((n, r) => {
        const changed = this.stmt.remoteDelivered.run(r.envelopeId, r.node, r.deliveredAt).changes;
        // A peer's report: its node stored our sender's envelope.
        if (changed > 0)
          this.audit.append({ kind: 'delivered', envelope: r.envelopeId, node: r.node, at: r.deliveredAt });
        return n + changed;
      }, 0),
    );
  }
}

async function checkInvitation(
  tx: Pick<Tx, 'invitation'>,
  codeHash: string,
  authorityId: string,
  now: Date,
): Promise<void> {
  const inv = await tx.invitation.findUnique({ where: { codeHash: codeHash } });
  if (!inv || inv.authorityId !== authorityId) {
    throw new EntraideError('INVITATION_INVALID', `this invitation code is not valid for ${authorityId}`);
  }
  if (inv.usedAt) throw new EntraideError('INVITATION_USED', 'this invitation code was already used');
  if (inv.expiresAt.getTime() <= now.getTime()) {
    throw new EntraideError(
      'INVITATION_EXPIRED',
      `this invitation code expired at ${inv.expiresAt.toISOString()}`,
    );
  }
}
