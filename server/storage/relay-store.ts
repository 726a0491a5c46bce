/**
 * The relay's storage module: the only place that knows tables. Prisma serves enrolment and the
 * directory; the envelope path (accept, deliver, acknowledge, expire) runs prepared statements on
 * the same database through better-sqlite3, in group-committed transactions, because a Prisma
 * create per envelope (~360 µs) would cap the relay far below its throughput target.
 *
 * Storage faults are answered, never waited for on the event loop: both connections give up on a
 * lock after SERVING_BUSY_TIMEOUT_MS, writes are retried off the loop for BUSY_RETRY.budgetMs
 * (the group commit's retries, retryWhileBusy for Prisma), and what still fails is thrown as
 * STORAGE_UNAVAILABLE (503 with Retry-After).
 */
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { openDatabase, SERVING_BUSY_TIMEOUT_MS } from '../../prisma/database.ts';
import { DurableBetterSqlite3 } from '../../prisma/durability.ts';
import {
  asStorageError,
  BUSY_RETRY,
  busyRetryDelay,
  retryWhileBusy,
  storageFaultOf,
} from '../../prisma/storage-faults.ts';
import { EntraideError } from '../../shared/errors.ts';
import { PrismaClient } from './generated/client.ts';
import { AuditStore } from './audit-store.ts';
import { GroupCommit } from '../../prisma/group-commit.ts';
import { freeBytesIn, StorageHealth, type StorageState } from './storage-health.ts';
import { takeWithin } from './pages.ts';
import { envelopeKey, type WaitingChange, type WaitingListener, type WaitingRow } from './waiting.ts';
import type { IdConflictReport } from '../../shared/protocol/federation.ts';
import { IdConflicts } from './id-conflicts.ts';
import { BlobRecords } from './blob-records.ts';

export type { IdConflictRecord } from './id-conflicts.ts';

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

export interface TicketRecord {
  ticketHash: string;
  authority: string;
  node: string | null;
  issuedBy: string;
  createdAt: Date;
  expiresAt: Date;
  joinCode: string | null;
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
  /** Format 3: the blobs the envelope names, bound to it in the same commit (each complete, its sender's). */
  blobs?: readonly string[];
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
  sender: string;
  attempts: number;
  nextAttemptAt: string;
  body: string | null;
}

export interface ReportItem {
  seq: number;
  envelopeId: string;
  /** Null only for reports written before envelopes were keyed by sender and id. */
  sender: string | null;
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

/**
 * Stored (`accepted`) or already held (`duplicate`, the same sender's same envelope); `conflicts`
 * names the other senders whose envelopes hold the same id here (each kept apart, IdConflict).
 */
export type AcceptOutcome = {
  kind: 'accepted' | 'duplicate';
  acceptedAt: string;
  conflicts: IdConflictReport[];
};

export interface PendingEnvelope {
  seq: number;
  envelopeId: string;
  sender: string;
  body: string;
}

/** A page of a node's pending envelopes; `more` when some were left for the next page. */
export interface PendingPage {
  envelopes: PendingEnvelope[];
  more: boolean;
}

/** What the peer said of one forwarded envelope (or what became of it without the peer). */
export interface ForwardingOutcome {
  seq: number;
  ok: boolean;
  /** Not ok: the whole batch is tried again at nextAttempt (the peer did not answer). */
  retry?: boolean;
  /**
   * Not ok: this envelope alone is tried again later (a transient refusal, e.g. QUOTA_EXCEEDED):
   * its attempts are counted and its reason kept, and the outbox decides when (outbox.ts).
   */
  deferred?: boolean;
  reason?: string;
  /** Ok: the peer holds other senders' envelopes under the same id (recorded as IdConflict). */
  conflicts?: IdConflictReport[];
}

export interface EnvelopeMeta {
  sender: string;
  acceptedAt: string;
  expiresAt: string;
}

export interface DeliveryRow {
  node: string;
  state: 'pending' | 'delivered' | 'expired' | 'revoked';
  deliveredAt: string | null;
}

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * A delivery acknowledged by a node: of the envelope `sender` sent under `envelopeId` when the
 * sender is known (a socket push), otherwise (an inbox acknowledgement names ids only) of the first
 * envelope under that id still pending for the node, so that an acknowledgement never ends the
 * delivery of an envelope the node was not handed yet (two senders may use one id).
 */
type Write =
  | { kind: 'accept'; envelope: NewEnvelope }
  | { kind: 'delivered'; envelopeId: string; sender: string | undefined; node: string; at: string };

export class RelayStore {
  readonly prisma: PrismaClient;
  /** The audit log: appended in the transaction of each event it records. */
  readonly audit: AuditStore;
  /** Envelope ids two senders used: the operator's alarms (id-conflicts.ts). */
  readonly conflicts: IdConflicts;
  /** What the relay knows of blobs (documents): owners, sizes, bindings to envelopes, fetches. */
  readonly blobs: BlobRecords;
  private readonly stmt;
  private readonly writes: GroupCommit<Write, AcceptOutcome | boolean>;
  private readonly adapter: DurableBetterSqlite3;
  /** The last storage fault met, for /healthz. */
  private readonly health: StorageHealth;
  /** Told, after each commit, what changed in what waits on the relay (the quota ledger). */
  private waitingListener: WaitingListener | undefined;

  private constructor(
    readonly db: Database.Database,
    file: string,
    dataDir: string,
  ) {
    this.adapter = new DurableBetterSqlite3(file, SERVING_BUSY_TIMEOUT_MS);
    this.prisma = new PrismaClient({ adapter: this.adapter });
    this.health = new StorageHealth({
      writeLock: () => this.tryWriteLock(),
      freeBytes: () => freeBytesIn(dataDir),
    });
    this.audit = new AuditStore(db);
    this.conflicts = new IdConflicts(db, this.audit);
    this.blobs = new BlobRecords(db);
    this.stmt = {
      outboxRow: db.prepare<[number], { envelopeId: string; sender: string; peer: string }>(
        'SELECT envelopeId, sender, peer FROM "Outbox" WHERE seq = ?',
      ),
      expiring: db.prepare<[string], { id: string; sender: string }>(
        'SELECT id, sender FROM "Envelope" WHERE expiredAt IS NULL AND expiresAt <= ? ORDER BY acceptedAt',
      ),
      // Every sender's envelope under one id: the same sender's is a duplicate or a conflict, the others are kept beside it.
      findEnvelopes: db.prepare<
        [string],
        { sender: string; hash: string; acceptedAt: string; expiredAt: string | null }
      >('SELECT sender, hash, acceptedAt, expiredAt FROM "Envelope" WHERE id = ? ORDER BY acceptedAt'),
      insertEnvelope: db.prepare(
        'INSERT INTO "Envelope" (id, sender, hash, size, body, acceptedAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertDelivery: db.prepare(
        'INSERT INTO "Delivery" (envelopeId, sender, node, state) VALUES (?, ?, ?, \'pending\')',
      ),
      pending: db.prepare<[string, number, number], PendingEnvelope>(
        `SELECT d.seq AS seq, d.envelopeId AS envelopeId, d.sender AS sender, e.body AS body FROM "Delivery" d
         JOIN "Envelope" e ON e.id = d.envelopeId AND e.sender = d.sender
         WHERE d.node = ? AND d.state = 'pending' AND d.seq > ? ORDER BY d.seq LIMIT ?`,
      ),
      // Sizes first, bodies of the chosen range after (pages.ts). Only columns stored before the
      // body are read in the first pass: one past it would walk the body's overflow pages.
      pendingSizes: db.prepare<[string, number], { seq: number; size: number }>(
        `SELECT d.seq AS seq, e.size AS size FROM "Delivery" d
         JOIN "Envelope" e ON e.id = d.envelopeId AND e.sender = d.sender
         WHERE d.node = ? AND d.state = 'pending' AND d.seq > ? ORDER BY d.seq`,
      ),
      pendingRange: db.prepare<[string, number, number], PendingEnvelope>(
        `SELECT d.seq AS seq, d.envelopeId AS envelopeId, d.sender AS sender, e.body AS body FROM "Delivery" d
         JOIN "Envelope" e ON e.id = d.envelopeId AND e.sender = d.sender
         WHERE d.node = ? AND d.state = 'pending' AND d.seq > ? AND d.seq <= ? ORDER BY d.seq`,
      ),
      waiting: db.prepare<[], Omit<WaitingRow, 'key'> & { id: string }>(
        `SELECT e.id AS id, e.sender AS sender, e.size AS size, d.node AS node FROM "Delivery" d
         JOIN "Envelope" e ON e.id = d.envelopeId AND e.sender = d.sender WHERE d.state = 'pending'
         UNION ALL
         SELECT e.id AS id, e.sender AS sender, e.size AS size, NULL AS node FROM "Outbox" o
         JOIN "Envelope" e ON e.id = o.envelopeId AND e.sender = o.sender WHERE o.state = 'pending'`,
      ),
      countPending: db.prepare<[string], { n: number }>(
        `SELECT count(*) AS n FROM "Delivery" WHERE node = ? AND state = 'pending'`,
      ),
      markDelivered: db.prepare<[string, string, string, string], { sender: string }>(
        `UPDATE "Delivery" SET state = 'delivered', deliveredAt = ?
         WHERE envelopeId = ? AND sender = ? AND node = ? AND state = 'pending' RETURNING sender`,
      ),
      markFirstDelivered: db.prepare<[string, string, string], { sender: string }>(
        `UPDATE "Delivery" SET state = 'delivered', deliveredAt = ? WHERE seq =
         (SELECT seq FROM "Delivery" WHERE envelopeId = ? AND node = ? AND state = 'pending' ORDER BY seq LIMIT 1)
         RETURNING sender`,
      ),
      deliveries: db.prepare<[string], DeliveryRow>(
        'SELECT node, state, deliveredAt FROM "Delivery" WHERE envelopeId = ? ORDER BY seq',
      ),
      deliveriesOf: db.prepare<[string, string], DeliveryRow>(
        'SELECT node, state, deliveredAt FROM "Delivery" WHERE envelopeId = ? AND sender = ? ORDER BY seq',
      ),
      envelopesUnder: db.prepare<[string], EnvelopeMeta>(
        'SELECT sender, acceptedAt, expiresAt FROM "Envelope" WHERE id = ? ORDER BY acceptedAt',
      ),
      expireDeliveries: db.prepare(
        `UPDATE "Delivery" SET state = 'expired' WHERE state = 'pending' AND (envelopeId, sender) IN
         (SELECT id, sender FROM "Envelope" WHERE expiredAt IS NULL AND expiresAt <= ?)`,
      ),
      insertReport: db.prepare(
        `INSERT INTO "DeliveryReport" (peer, envelopeId, sender, node, deliveredAt, state, attempts, nextAttemptAt)
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?)`,
      ),
      reportsDue: db.prepare<[string, number], ReportItem>(
        `SELECT seq, envelopeId, sender, node, deliveredAt, attempts, nextAttemptAt FROM "DeliveryReport"
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
        `INSERT INTO "Delivery" (envelopeId, sender, node, state, deliveredAt) VALUES (?, ?, ?, 'delivered', ?)
         ON CONFLICT (envelopeId, sender, node) DO UPDATE SET state = 'delivered', deliveredAt = excluded.deliveredAt
         WHERE "Delivery".state <> 'delivered'`,
      ),
      insertOutbox: db.prepare(
        `INSERT INTO "Outbox" (peer, envelopeId, sender, state, attempts, nextAttemptAt) VALUES (?, ?, ?, 'pending', 0, ?)`,
      ),
      outboxPending: db.prepare<[string], Omit<OutboxItem, 'body'> & { size: number }>(
        `SELECT o.seq AS seq, o.envelopeId AS envelopeId, o.sender AS sender, o.attempts AS attempts,
                o.nextAttemptAt AS nextAttemptAt, e.size AS size
         FROM "Outbox" o JOIN "Envelope" e ON e.id = o.envelopeId AND e.sender = o.sender
         WHERE o.peer = ? AND o.state = 'pending' ORDER BY o.seq`,
      ),
      envelopeBody: db.prepare<[string, string], { body: string | null }>(
        'SELECT body FROM "Envelope" WHERE id = ? AND sender = ?',
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
      outboxDeferred: db.prepare(
        `UPDATE "Outbox" SET attempts = attempts + 1, lastError = ? WHERE seq = ? AND state = 'pending'`,
      ),
      outboxCounts: db.prepare<[], { peer: string; n: number }>(
        `SELECT peer, count(*) AS n FROM "Outbox" WHERE state = 'pending' GROUP BY peer`,
      ),
      forwards: db.prepare<[string], ForwardRow>(
        'SELECT peer, state, forwardedAt, lastError FROM "Outbox" WHERE envelopeId = ? ORDER BY seq',
      ),
      forwardsOf: db.prepare<[string, string], ForwardRow>(
        'SELECT peer, state, forwardedAt, lastError FROM "Outbox" WHERE envelopeId = ? AND sender = ? ORDER BY seq',
      ),
      expireOutbox: db.prepare(
        `UPDATE "Outbox" SET state = 'expired' WHERE state = 'pending' AND (envelopeId, sender) IN
         (SELECT id, sender FROM "Envelope" WHERE expiredAt IS NULL AND expiresAt <= ?)`,
      ),
      expireEnvelopes: db.prepare(
        'UPDATE "Envelope" SET body = NULL, expiredAt = ? WHERE expiredAt IS NULL AND expiresAt <= ?',
      ),
    };
    // Accepted envelopes and delivery acknowledgements of one event-loop turn share one transaction
    // (one fsync). insertOne refuses (id conflict, expired id) before it writes anything, so a
    // refused envelope answers its own caller and leaves the rest of the batch alone; any other
    // failure aborts the whole transaction, and then no caller in the batch is answered `accepted`.
    // A batch that finds the lock taken is written again later (GroupCommit's retries).
    // What waits on the relay changes with each item; the ledger hears of it once committed.
    this.writes = new GroupCommit<Write, AcceptOutcome | boolean>(
      (items) => {
        const changes: WaitingChange[] = [];
        const results = this.syncWrite(() =>
          this.audit.transaction(() =>
            items.map((w): AcceptOutcome | boolean | Error => {
              if (w.kind === 'delivered') {
                const row =
                  w.sender === undefined
                    ? this.stmt.markFirstDelivered.get(w.at, w.envelopeId, w.node)
                    : this.stmt.markDelivered.get(w.at, w.envelopeId, w.sender, w.node);
                if (!row) return false;
                this.reportIfRemote(w.envelopeId, row.sender, w.node, w.at);
                this.audit.append({
                  kind: 'delivered',
                  envelope: w.envelopeId,
                  sender: row.sender,
                  node: w.node,
                  at: w.at,
                });
                changes.push({
                  kind: 'delivery-ended',
                  key: envelopeKey(row.sender, w.envelopeId),
                  node: w.node,
                });
                return true;
              }
              try {
                const outcome = this.insertOne(w.envelope);
                if (outcome.kind === 'accepted') {
                  const e = w.envelope;
                  changes.push({
                    kind: 'accepted',
                    key: envelopeKey(e.sender, e.id),
                    sender: e.sender,
                    size: e.body.length,
                    nodes: e.recipientNodes,
                    peers: e.peers.length,
                  });
                }
                return outcome;
              } catch (err) {
                if (err instanceof EntraideError) return err;
                throw err;
              }
            }),
          ),
        );
        this.reportWaiting(changes);
        return results;
      },
      {
        retry: {
          when: (err) => storageFaultOf(err) === 'busy',
          budgetMs: BUSY_RETRY.budgetMs,
          delayMs: busyRetryDelay,
        },
      },
    );
  }

  /** Opens the relay's database; throws STORAGE_NOT_DURABLE when it cannot commit durably. */
  static open(dataDir: string): RelayStore {
    const file = join(dataDir, 'relay.db');
    return new RelayStore(
      openDatabase(file, 'relay', { busyTimeoutMs: SERVING_BUSY_TIMEOUT_MS }),
      file,
      dataDir,
    );
  }

  /** Opens and checks the Prisma connection now rather than at its first use. */
  async connect(): Promise<void> {
    await this.read(() => this.prisma.$connect());
  }

  /**
   * Every pending delivery and outbox row with its envelope, for loading the quota ledger; read
   * row by row, never all at once.
   */
  *waitingEnvelopes(): IterableIterator<WaitingRow> {
    for (const { id, ...row } of this.stmt.waiting.iterate())
      yield { key: envelopeKey(row.sender, id), ...row };
  }

  /** `listener` hears, after each commit, what it changed in what waits (see waiting.ts). */
  watchWaiting(listener: WaitingListener): void {
    this.waitingListener = listener;
  }

  private reportWaiting(changes: readonly WaitingChange[]): void {
    if (changes.length > 0) this.waitingListener?.(changes);
  }

  /** Writes whatever is queued now, lazy items included. */
  flush(): void {
    this.writes.flush();
  }

  async close(): Promise<void> {
    this.writes.close();
    await this.prisma.$disconnect();
    this.db.close();
  }

  // ---- storage faults ---------------------------------------------------------------------

  /** The storage as /healthz reports it: ok, or the fault it meets (busy, full, io). Never waits. */
  storageState(): StorageState {
    return this.health.state();
  }

  /** Takes the write lock and gives it back at once, without waiting: the fault if that fails. */
  private tryWriteLock(): ReturnType<typeof storageFaultOf> {
    if (!this.db.open || this.db.inTransaction) return undefined;
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return undefined;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      return storageFaultOf(err) ?? 'io';
    } finally {
      this.db.pragma(`busy_timeout = ${SERVING_BUSY_TIMEOUT_MS}`);
    }
  }

  /** A synchronous write on the hot path: its fault is noted, and thrown as STORAGE_UNAVAILABLE. */
  private syncWrite<T>(write: () => T): T {
    try {
      const result = write();
      this.health.noteSuccess();
      return result;
    } catch (err) {
      this.health.noteFailure(err);
      throw asStorageError(err);
    }
  }

  /** A Prisma read, retried while the database is busy; its fault is noted, and thrown as STORAGE_UNAVAILABLE. */
  private read<T>(query: () => Promise<T>): Promise<T> {
    return retryWhileBusy(query).catch((err: unknown) => {
      this.health.noteFailure(err);
      throw this.adapter.refusal ?? asStorageError(err);
    });
  }

  /** A Prisma write, like a read; its success says the storage takes writes again. */
  private async write<T>(query: () => Promise<T>): Promise<T> {
    const result = await this.read(query);
    this.health.noteSuccess();
    return result;
  }

  /**
   * A Prisma interactive transaction that takes the write lock first: the adapter begins with a
   * plain BEGIN, and a transaction that read first would fail at its first write (BUSY_SNAPSHOT)
   * whenever the hot path committed in between. Retried whole while the database is busy.
   */
  private transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.write(() =>
      this.prisma.$transaction(async (tx) => {
        // A write that changes nothing: it takes the lock, like BEGIN IMMEDIATE.
        await tx.$executeRawUnsafe('DELETE FROM "FederationReplay" WHERE 0');
        return fn(tx);
      }),
    );
  }

  // ---- invitations and enrolment (Prisma) ----------------------------------------------

  async createInvitation(codeHash: string, authorityId: string, now: Date, expiresAt: Date): Promise<void> {
    await this.write(() =>
      this.prisma.invitation.create({ data: { codeHash, authorityId, createdAt: now, expiresAt } }),
    );
  }

  /** Consumes the invitation and creates the authority, its first node and their key-log entries, all or nothing. */
  async enrol(r: EnrolmentRecord, log: KeyLogAppend): Promise<void> {
    await this.transaction(async (tx) => {
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
    const changes: WaitingChange[] = [];
    await this.transaction(async (tx) => {
      changes.length = 0; // the transaction may run again when the database was busy
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
          for (const d of await tx.delivery.findMany({
            where: { node: effect.node, state: 'pending' },
            select: { envelopeId: true, sender: true },
          }))
            changes.push({
              kind: 'delivery-ended',
              key: envelopeKey(d.sender, d.envelopeId),
              node: effect.node,
            });
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
    this.reportWaiting(changes);
  }

  async keyLogEntries(): Promise<KeyLogRow[]> {
    return this.read(() => this.prisma.keyLogEntry.findMany({ orderBy: { idx: 'asc' } }));
  }

  async latestKeyLogHead(): Promise<string | null> {
    const row = await this.read(() => this.prisma.keyLogHead.findFirst({ orderBy: { size: 'desc' } }));
    return row?.head ?? null;
  }

  async saveKeyLogHead(head: KeyLogAppend['head']): Promise<void> {
    await this.write(() =>
      this.prisma.keyLogHead.upsert({ where: { size: head.size }, create: head, update: {} }),
    );
  }

  async findKeyEvent(eventHash: string): Promise<number | null> {
    const row = await this.read(() =>
      this.prisma.keyLogEntry.findUnique({ where: { eventHash }, select: { idx: true } }),
    );
    return row?.idx ?? null;
  }

  /**
   * Key events logged since `since` for one node's encryption keys (`node` given) or for the
   * authority's own events (certifications, revocations, master-key rotations: `node` null).
   */
  async countKeyEvents(authority: string, node: string | null, since: Date): Promise<number> {
    return this.read(() =>
      this.prisma.keyLogEntry.count({
        where: {
          authority,
          loggedAt: { gt: since },
          ...(node ? { node, type: 'encryption-key-rotated' } : { type: { not: 'encryption-key-rotated' } }),
        },
      }),
    );
  }

  // ---- join requests (Prisma) -----------------------------------------------------------

  async saveJoin(j: JoinRecord): Promise<void> {
    await this.write(() =>
      this.prisma.joinRequest.upsert({ where: { code: j.code }, create: j, update: {} }),
    );
  }

  async saveTicket(t: TicketRecord): Promise<void> {
    await this.write(() => this.prisma.joinTicket.create({ data: t }));
  }

  /** Tickets of `authority` neither spent nor expired. */
  async countOpenTickets(authority: string, now: Date): Promise<number> {
    return this.read(() =>
      this.prisma.joinTicket.count({ where: { authority, joinCode: null, expiresAt: { gt: now } } }),
    );
  }

  async findTicket(ticketHash: string): Promise<TicketRecord | null> {
    return this.read(() => this.prisma.joinTicket.findUnique({ where: { ticketHash } }));
  }

  /**
   * Spends the ticket on the join request and stores the request, all or nothing; a ticket already
   * spent on another request is refused (JOIN_TICKET_INVALID) and nothing is stored.
   */
  async saveTicketedJoin(ticketHash: string, j: JoinRecord): Promise<void> {
    await this.transaction(async (tx) => {
      const spent = await tx.joinTicket.updateMany({
        where: { ticketHash, OR: [{ joinCode: null }, { joinCode: j.code }] },
        data: { joinCode: j.code },
      });
      if (spent.count !== 1)
        throw new EntraideError('JOIN_TICKET_INVALID', 'this join ticket was already used by another node');
      await tx.joinRequest.upsert({ where: { code: j.code }, create: j, update: {} });
    });
  }

  /** Join requests waiting for `authority`, oldest first. */
  async pendingJoins(authority: string, now: Date): Promise<JoinRecord[]> {
    return this.read(() =>
      this.prisma.joinRequest.findMany({
        where: { authority, expiresAt: { gt: now } },
        orderBy: { createdAt: 'asc' },
        take: 64,
      }),
    );
  }

  /** Deletes a waiting join request of `authority`; false if there was none. */
  async deleteJoin(code: string, authority: string): Promise<boolean> {
    return (
      (await this.write(() => this.prisma.joinRequest.deleteMany({ where: { code, authority } }))).count > 0
    );
  }

  async findJoin(code: string): Promise<JoinRecord | null> {
    return this.read(() => this.prisma.joinRequest.findUnique({ where: { code } }));
  }

  async countJoins(authority: string, now: Date): Promise<number> {
    return this.read(() => this.prisma.joinRequest.count({ where: { authority, expiresAt: { gt: now } } }));
  }

  async deleteExpiredJoins(now: Date): Promise<number> {
    return (
      await this.write(async () => {
        await this.prisma.joinTicket.deleteMany({ where: { expiresAt: { lte: now } } });
        return this.prisma.joinRequest.deleteMany({ where: { expiresAt: { lte: now } } });
      })
    ).count;
  }

  /** Throws the invitation's refusal, if any, without using it. */
  async verifyInvitation(codeHash: string, authorityId: string, now: Date): Promise<void> {
    await this.read(() => checkInvitation(this.prisma, codeHash, authorityId, now));
  }

  async listNodes(): Promise<NodeRecord[]> {
    return this.read(() => this.prisma.node.findMany());
  }

  async findAuthority(address: string): Promise<AuthorityRecord | null> {
    return this.read(() =>
      this.prisma.authority.findUnique({ where: { address }, include: { nodes: true } }),
    );
  }

  // ---- envelopes (prepared statements, group commit) -----------------------------------

  /** Resolves once the envelope and its deliveries are durably committed. */
  acceptEnvelope(e: NewEnvelope): Promise<AcceptOutcome> {
    return this.writes.submit({ kind: 'accept', envelope: e }) as Promise<AcceptOutcome>;
  }

  /**
   * Envelopes are deduplicated by the pair their sender signs, (sender, id), and the hash of what
   * was signed: the same again is a duplicate; the same sender's other envelope under an id it
   * already used is refused (ENVELOPE_ID_CONFLICT, the sender's fault, nothing stored). Another
   * sender's envelope under that id never stands in the way: it is stored beside it, and the
   * conflict is recorded (IdConflict, an id_conflict audit entry) and answered to the caller.
   */
  private insertOne(e: NewEnvelope): AcceptOutcome {
    const held = this.stmt.findEnvelopes.all(e.id);
    const own = held.find((h) => h.sender === e.sender);
    const others = held
      .filter((h) => h.sender !== e.sender)
      .map((h) => this.conflicts.report(e.id, h.sender));
    if (own) {
      if (own.hash !== e.hash) {
        throw new EntraideError(
          'ENVELOPE_ID_CONFLICT',
          `envelope id ${e.id} is already used by another envelope of ${e.sender}`,
        );
      }
      if (own.expiredAt) throw new EntraideError('ENVELOPE_EXPIRED', `envelope ${e.id} has already expired`);
      return { kind: 'duplicate', acceptedAt: own.acceptedAt, conflicts: others };
    }
    if (e.blobs) this.blobsMustBeReady(e);
    this.stmt.insertEnvelope.run(e.id, e.sender, e.hash, e.body.length, e.body, e.acceptedAt, e.expiresAt);
    if (e.blobs) this.blobs.bind(e.id, e.sender, e.blobs);
    for (const node of e.recipientNodes) this.stmt.insertDelivery.run(e.id, e.sender, node);
    for (const peer of e.peers) this.stmt.insertOutbox.run(peer, e.id, e.sender, e.acceptedAt);
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
    // Another sender's envelope under this id: kept beside it, and an alarm (id-conflicts.ts).
    for (const other of others) {
      this.conflicts.record(
        { envelopeId: e.id, sender: e.sender, ciphertextHash: e.ciphertextHash, ...other },
        this.localDomain ?? '',
        e.fromPeer,
        e.acceptedAt,
      );
    }
    return { kind: 'accepted', acceptedAt: e.acceptedAt, conflicts: others };
  }

  /**
   * Each blob an envelope names must be here, complete, and uploaded by its sender (or, for an
   * envelope from a peer, forwarded by that peer for that sender): otherwise the envelope is
   * refused, nothing of it stored.
   */
  private blobsMustBeReady(e: NewEnvelope): void {
    for (const id of e.blobs ?? []) {
      const b = this.blobs.get(id);
      if (!b || b.deletedAt || b.owner !== e.sender || (e.fromPeer !== null && b.origin !== e.fromPeer)) {
        throw new EntraideError(
          'BLOB_UNKNOWN',
          `envelope ${e.id} names blob ${id}, which ${e.sender} did not upload to this relay`,
        );
      }
      if (!b.completedAt) {
        throw new EntraideError(
          'BLOB_INCOMPLETE',
          `envelope ${e.id} names blob ${id}, whose upload is not complete`,
        );
      }
    }
  }

  /** A synchronous write of the blob desk, with its audit entries, in one transaction. */
  blobWrite<T>(fn: () => T): T {
    return this.syncWrite(() => this.audit.transaction(fn));
  }

  /** Envelopes waiting for `node`, in acceptance order, after the sequence number `afterSeq`. */
  pendingFor(node: string, afterSeq: number, limit: number): PendingEnvelope[] {
    return this.stmt.pending.all(node, afterSeq, limit);
  }

  /**
   * The envelopes waiting for `node` after `afterSeq`, in acceptance order: at most `maxCount` of
   * them and `maxBytes` bytes of bodies (one byte more each, for a separator), at least one.
   * Only that page's bodies are read (pages.ts). Preconditions: maxCount >= 1, maxBytes >= 0.
   */
  pendingPage(node: string, afterSeq: number, maxCount: number, maxBytes: number): PendingPage {
    const page = takeWithin(this.stmt.pendingSizes.iterate(node, afterSeq), maxCount, maxBytes);
    const last = page.rows.at(-1);
    if (!last) return { envelopes: [], more: false };
    return { envelopes: this.stmt.pendingRange.all(node, afterSeq, last.seq), more: page.more };
  }

  countPending(node: string): number {
    return this.stmt.countPending.get(node)!.n;
  }

  /**
   * Resolves true when this call moved a delivery from pending to delivered: that of `sender`'s
   * envelope `envelopeId` when the sender is given, otherwise of the first envelope under that id
   * still pending for `node` (see Write).
   */
  markDelivered(envelopeId: string, node: string, at: Date, sender?: string): Promise<boolean> {
    return this.writes.submit({
      kind: 'delivered',
      envelopeId,
      sender,
      node,
      at: at.toISOString(),
    }) as Promise<boolean>;
  }

  /** The envelope `sender` sent under `id`, or without a sender the first accepted under it. */
  envelopeMeta(id: string, sender?: string): EnvelopeMeta | undefined {
    const all = this.stmt.envelopesUnder.all(id);
    return sender === undefined ? all[0] : all.find((e) => e.sender === sender);
  }

  /** Every sender's envelope under `id`, first accepted first (more than one only after a conflict). */
  envelopesUnder(id: string): EnvelopeMeta[] {
    return this.stmt.envelopesUnder.all(id);
  }

  /** The deliveries of `sender`'s envelope `id`; without a sender, of every envelope under the id. */
  deliveries(id: string, sender?: string): DeliveryRow[] {
    return sender === undefined ? this.stmt.deliveries.all(id) : this.stmt.deliveriesOf.all(id, sender);
  }

  /** Clears the ciphertext of every envelope past its TTL; returns how many expired now. */
  expire(now: Date): number {
    const at = now.toISOString();
    const changes: WaitingChange[] = [];
    const expired = this.syncWrite(() =>
      this.audit.transaction(() => {
        for (const { id, sender } of this.stmt.expiring.all(at)) {
          this.audit.append({ kind: 'expired', envelope: id, sender, at });
          changes.push({ kind: 'expired', key: envelopeKey(sender, id) });
        }
        this.stmt.expireDeliveries.run(at);
        this.stmt.expireOutbox.run(at);
        return this.stmt.expireEnvelopes.run(at, at).changes;
      }),
    );
    this.reportWaiting(changes);
    return expired;
  }

  // ---- auditors ------------------------------------------------------------------------------

  /** Adds an auditor, or gives a removed one (or one with a new key) access again. */
  async addAuditor(name: string, publicKey: string, at: Date): Promise<void> {
    await this.write(() =>
      this.prisma.auditor.upsert({
        where: { name },
        create: { name, publicKey, addedAt: at },
        update: { publicKey, addedAt: at, removedAt: null },
      }),
    );
  }

  async removeAuditor(name: string, at: Date): Promise<boolean> {
    return (
      (
        await this.write(() =>
          this.prisma.auditor.updateMany({ where: { name, removedAt: null }, data: { removedAt: at } }),
        )
      ).count > 0
    );
  }

  async auditor(name: string): Promise<{ name: string; publicKey: string; removedAt: Date | null } | null> {
    return this.read(() => this.prisma.auditor.findUnique({ where: { name } }));
  }

  async listAuditors(): Promise<
    { name: string; publicKey: string; addedAt: Date; removedAt: Date | null }[]
  > {
    return this.read(() => this.prisma.auditor.findMany({ orderBy: { name: 'asc' } }));
  }

  // ---- federation: peers, token ids, outbox ------------------------------------------------

  async listPeers(): Promise<PeerRecord[]> {
    return this.read(() => this.prisma.peer.findMany({ orderBy: { domain: 'asc' } }));
  }

  async addPeer(p: { domain: string; url: string; publicKey: string; addedAt: Date }): Promise<void> {
    await this.write(() =>
      this.prisma.peer.upsert({
        where: { domain: p.domain },
        create: p,
        update: { url: p.url, publicKey: p.publicKey },
      }),
    );
  }

  /**
   * Pins a peer's new key after it rotated (federation/peer-key-follow.ts); only while the row still
   * pins `from`, so that a key the operator set meanwhile stands. True when the row changed.
   */
  async updatePeerKey(domain: string, from: string, to: string): Promise<boolean> {
    const changed = await this.write(() =>
      this.prisma.peer.updateMany({ where: { domain, publicKey: from }, data: { publicKey: to } }),
    );
    return changed.count > 0;
  }

  async removePeer(domain: string): Promise<boolean> {
    return (await this.write(() => this.prisma.peer.deleteMany({ where: { domain } }))).count > 0;
  }

  async peerResult(domain: string, at: Date, error: string | null): Promise<void> {
    await this.write(() =>
      this.prisma.peer.updateMany({
        where: { domain },
        data: error === null ? { lastSuccessAt: at, lastError: null } : { lastError: error, lastErrorAt: at },
      }),
    );
  }

  async peerKeyLog(domain: string, head: string | null, alarm: string | null, at: Date): Promise<void> {
    await this.write(() =>
      this.prisma.peer.updateMany({
        where: { domain },
        data: {
          ...(head !== null ? { keyLogHead: head } : {}),
          ...(alarm !== null ? { alarm, alarmAt: at } : {}),
        },
      }),
    );
  }

  async peerAuditHead(domain: string, head: string): Promise<void> {
    await this.write(() => this.prisma.peer.updateMany({ where: { domain }, data: { auditHead: head } }));
  }

  /** Remembers a token id until it expires; false when it was already used (a replay). */
  async rememberFederationToken(jti: string, issuer: string, expiresAt: Date): Promise<boolean> {
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO "FederationReplay" (jti, issuer, expiresAt) VALUES (?, ?, ?)',
    );
    return retryWhileBusy(async () =>
      this.syncWrite(() => insert.run(jti, issuer, expiresAt.toISOString()).changes > 0),
    ).catch((err: unknown) => {
      throw asStorageError(err);
    });
  }

  purgeFederationTokens(now: Date): void {
    this.syncWrite(() =>
      this.db.prepare('DELETE FROM "FederationReplay" WHERE expiresAt <= ?').run(now.toISOString()),
    );
  }

  /**
   * The first pending outbox items for a peer, in acceptance order, with their bodies: at most
   * `maxCount` of them and `maxBytes` bytes (one more each, for a separator), at least one; items
   * for which `skip` is true are passed over (pages.ts). Only the chosen items' bodies are read.
   */
  outboxBatch(
    peer: string,
    maxCount: number,
    maxBytes: number,
    skip?: (seq: number) => boolean,
  ): OutboxItem[] {
    const page = takeWithin(
      this.stmt.outboxPending.iterate(peer),
      maxCount,
      maxBytes,
      skip ? (row) => skip(row.seq) : undefined,
    );
    return page.rows.map((r) => ({
      seq: r.seq,
      envelopeId: r.envelopeId,
      sender: r.sender,
      attempts: r.attempts,
      nextAttemptAt: r.nextAttemptAt,
      body: this.stmt.envelopeBody.get(r.envelopeId, r.sender)?.body ?? null,
    }));
  }

  /**
   * What the peer said of a batch, in one transaction: forwarded, refused for good, to retry with
   * the batch (at `nextAttempt`), or deferred alone; and the id conflicts the peer reported (other
   * senders' envelopes it holds under the same ids), each recorded once with an id_conflict entry.
   */
  recordForwarding(outcomes: ForwardingOutcome[], at: Date, nextAttempt: (attempts: number) => Date): void {
    const changes: WaitingChange[] = [];
    this.syncWrite(() =>
      this.audit.transaction(() => {
        changes.length = 0;
        for (const o of outcomes) {
          if (o.ok && o.conflicts?.length) this.recordReportedConflicts(o.seq, o.conflicts, at);
          if (o.ok && this.stmt.outboxForwarded.run(at.toISOString(), o.seq).changes > 0) {
            const row = this.stmt.outboxRow.get(o.seq)!;
            this.audit.append(
              { kind: 'forwarded', envelope: row.envelopeId, sender: row.sender, peer: row.peer },
              at,
            );
            changes.push({ kind: 'forward-ended', key: envelopeKey(row.sender, row.envelopeId) });
          } else if (o.ok) continue;
          else if (o.deferred) this.stmt.outboxDeferred.run(o.reason ?? 'deferred', o.seq);
          else if (!o.retry) {
            if (this.stmt.outboxRefused.run(o.reason ?? 'refused', o.seq).changes > 0) {
              const row = this.stmt.outboxRow.get(o.seq)!;
              changes.push({ kind: 'forward-ended', key: envelopeKey(row.sender, row.envelopeId) });
            }
          } else this.stmt.outboxRetry.run(nextAttempt(0).toISOString(), o.reason ?? 'retry', o.seq);
        }
      }),
    );
    this.reportWaiting(changes);
  }

  /** The peer holds other senders' envelopes under the id of the one it was forwarded (outbox row `seq`). */
  private recordReportedConflicts(seq: number, conflicts: IdConflictReport[], at: Date): void {
    const row = this.stmt.outboxRow.get(seq);
    if (!row) return;
    const ours = this.conflicts.ciphertextHash(row.envelopeId, row.sender);
    for (const c of conflicts) {
      if (c.otherSender === row.sender) continue; // not a conflict: the peer names our sender
      this.conflicts.record(
        { envelopeId: row.envelopeId, sender: row.sender, ...(ours ? { ciphertextHash: ours } : {}), ...c },
        row.peer,
        row.peer,
        at.toISOString(),
      );
    }
  }

  /** Pending outbox items by peer. */
  outboxCounts(): Map<string, number> {
    return new Map(this.stmt.outboxCounts.all().map((r) => [r.peer, r.n]));
  }

  /** The outbox rows of `sender`'s envelope `envelopeId`; without a sender, of every envelope under the id. */
  forwards(envelopeId: string, sender?: string): ForwardRow[] {
    return sender === undefined
      ? this.stmt.forwards.all(envelopeId)
      : this.stmt.forwardsOf.all(envelopeId, sender);
  }

  // ---- federation: delivery reports ---------------------------------------------------------

  private localDomain: string | undefined;

  /** The relay's own domain: envelopes from other domains get delivery reports sent back. */
  setLocalDomain(domain: string): void {
    this.localDomain = domain;
    this.audit.setRelay(domain);
  }

  /** In the delivery's transaction: a node here stored an envelope from a peer's sender. */
  private reportIfRemote(envelopeId: string, sender: string, node: string, at: string): void {
    if (!this.localDomain) return;
    const domain = sender.slice(sender.indexOf('@') + 1);
    if (domain !== this.localDomain) this.stmt.insertReport.run(domain, envelopeId, sender, node, at, at);
  }

  reportsDue(peer: string, limit: number): ReportItem[] {
    return this.stmt.reportsDue.all(peer, limit);
  }

  reportPeers(): string[] {
    return this.stmt.reportPeers.all().map((r) => r.peer);
  }

  recordReports(sent: number[], retry: number[], next: Date): void {
    this.syncWrite(() =>
      this.db
        .transaction(() => {
          for (const seq of sent) this.stmt.reportSent.run(seq);
          for (const seq of retry) this.stmt.reportRetry.run(next.toISOString(), seq);
        })
        .immediate(),
    );
  }

  /** A peer says its node stored our sender's envelope; returns how many of the reports were news. */
  recordRemoteDeliveries(
    reports: { envelopeId: string; sender: string; node: string; deliveredAt: string }[],
  ): number {
    return this.syncWrite(() =>
      this.audit.transaction(() =>
        reports.reduce((n, r) => {
          const changed = this.stmt.remoteDelivered.run(
            r.envelopeId,
            r.sender,
            r.node,
            r.deliveredAt,
          ).changes;
          // A peer's report: its node stored our sender's envelope.
          if (changed > 0)
            this.audit.append({
              kind: 'delivered',
              envelope: r.envelopeId,
              sender: r.sender,
              node: r.node,
              at: r.deliveredAt,
            });
          return n + changed;
        }, 0),
      ),
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
