/**
 * The node's storage module: the only place that knows its tables. Received messages are written
 * with prepared statements in group-committed transactions (a node may receive thousands per
 * second); pins and listings go through Prisma.
 */
import type Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, openDatabase } from '../../prisma/database.ts';
import { DurableBetterSqlite3 } from '../../prisma/durability.ts';
import { GroupCommit } from '../../prisma/group-commit.ts';
import { PrismaClient } from './generated/client.ts';
import { RequestStore } from './request-store.ts';
import { MeetingStore } from './meeting-store.ts';
import { NodeRecord } from './node-record.ts';
import { ciphertextHash as ciphertextHashOf } from '../../shared/receipts/receipt.ts';

export interface StoredMessage {
  id: string;
  direction: 'in' | 'out';
  sender: string;
  recipients: string[];
  subject: string;
  body: string;
  language: string | null;
  sentAt: string;
  receivedAt: string | null;
  readAt: string | null;
  acceptedAt: string | null;
  /** The content type inside: message, request, status, supplement, receipts. */
  kind: MessageKind;
  /** The request the item belongs to, if any. */
  requestId: string | null;
  /** The handling code (JSON) that travelled with it, if any. */
  handling: string | null;
}

export type MessageKind =
  'message' | 'request' | 'status' | 'supplement' | 'receipts' | 'network' | 'meeting' | 'hours';

export interface NewMessage extends Omit<StoredMessage, 'readAt'> {
  envelope: string;
  /** The content as JSON, for every kind but plain messages (whose subject and body are columns). */
  content: string | null;
}

export interface PinRecord {
  authority: string;
  masterKey: string;
  safetyCode: string;
  pinnedAt: Date;
  verifiedAt: Date | null;
}

export interface KeyLogHeadRecord {
  relay: string;
  size: number;
  root: string;
  head: string;
  baseline: number;
  verifiedAt: Date;
}

export interface KeyLogLeafRecord {
  idx: number;
  authority: string;
  leaf: string;
  leafHash: string;
}

export interface AlarmRecord {
  id: number;
  raisedAt: Date;
  kind: string;
  /** The relay whose key log the alarm is about, if it is about one. */
  relay: string | null;
  authority: string | null;
  idx: number | null;
  message: string;
  resolvedAt: Date | null;
}

export interface RejectionRecord {
  envelopeId: string;
  sender: string;
  code: string;
  reason: string;
  receivedAt: string;
}

interface MessageRow {
  id: string;
  direction: string;
  sender: string;
  recipients: string;
  subject: string;
  body: string;
  language: string | null;
  sentAt: string;
  receivedAt: string | null;
  readAt: string | null;
  acceptedAt: string | null;
  kind: string;
  requestId: string | null;
  handling: string | null;
}

function toMessage(r: MessageRow): StoredMessage {
  return {
    ...r,
    direction: r.direction as 'in' | 'out',
    kind: r.kind as MessageKind,
    recipients: JSON.parse(r.recipients) as string[],
  };
}

/**
 * Writes that share one group-committed transaction: many messages, one fsync. `then` runs in the
 * same transaction after a new message is inserted (what the message changes elsewhere: a request,
 * a status, a receipt to send), so that nothing is stored half-way.
 */
type Write =
  { kind: 'message'; message: NewMessage; then?: () => void } | { kind: 'accepted'; id: string; at: string };

const COLUMNS =
  'id, direction, sender, recipients, subject, body, language, sentAt, receivedAt, readAt, acceptedAt, kind, requestId, handling';

export class NodeStore {
  readonly prisma: PrismaClient;
  /** Requests, status updates, receipts and handling overrides. */
  readonly requests: RequestStore;
  /** The node's own record of what it sent, received and opened (a Merkle log). */
  readonly record: NodeRecord;
  /** Network rosters, declared working hours, meetings. */
  readonly meetings: MeetingStore;
  private readonly stmt;
  private readonly writes: GroupCommit<Write, boolean>;
  private readonly adapter: DurableBetterSqlite3;

  private constructor(
    readonly db: Database.Database,
    file: string,
  ) {
    // Prisma's own connection is made durable (WAL, synchronous=FULL) and checked like this one.
    this.adapter = new DurableBetterSqlite3(file, BUSY_TIMEOUT_MS);
    this.prisma = new PrismaClient({ adapter: this.adapter });
    this.requests = new RequestStore(db);
    this.record = new NodeRecord(db);
    this.meetings = new MeetingStore(db);
    this.stmt = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO "Message" (id, direction, sender, recipients, subject, body, language, sentAt, receivedAt, acceptedAt, envelope, kind, requestId, handling, content)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      has: db.prepare<[string], { x: number }>(
        'SELECT 1 AS x FROM "Message" WHERE id = ?1 UNION ALL SELECT 1 AS x FROM "Rejection" WHERE envelopeId = ?1',
      ),
      accepted: db.prepare('UPDATE "Message" SET acceptedAt = ? WHERE id = ?'),
      get: db.prepare<[string], MessageRow>(`SELECT ${COLUMNS} FROM "Message" WHERE id = ?`),
      getByPrefix: db.prepare<[string], MessageRow>(
        `SELECT ${COLUMNS} FROM "Message" WHERE id LIKE ? LIMIT 2`,
      ),
      list: db.prepare<[string, number], MessageRow>(
        `SELECT ${COLUMNS} FROM "Message" WHERE direction = ? AND kind <> 'receipts' ORDER BY sentAt DESC, id DESC LIMIT ?`,
      ),
      envelope: db.prepare<[string], { envelope: string; content: string | null }>(
        'SELECT envelope, content FROM "Message" WHERE id = ?',
      ),
      unaccepted: db.prepare<
        [string],
        { id: string; envelope: string; content: string | null; kind: string }
      >(
        `SELECT id, envelope, content, kind FROM "Message" WHERE direction = 'out' AND acceptedAt IS NULL AND sentAt < ? ORDER BY sentAt`,
      ),
      byRequest: db.prepare<[string], MessageRow>(
        `SELECT ${COLUMNS} FROM "Message" WHERE requestId = ? AND kind IN ('message', 'supplement') ORDER BY sentAt, id`,
      ),
      deleteMessage: db.prepare('DELETE FROM "Message" WHERE id = ?'),
      replaceEnvelope: db.prepare('UPDATE "Message" SET envelope = ? WHERE id = ?'),
      markRead: db.prepare('UPDATE "Message" SET readAt = ? WHERE id = ? AND readAt IS NULL'),
      reject: db.prepare(
        'INSERT OR IGNORE INTO "Rejection" (envelopeId, sender, code, reason, receivedAt) VALUES (?, ?, ?, ?, ?)',
      ),
    };
    this.writes = new GroupCommit((items) =>
      this.record.transaction(() =>
        items.map((w) => {
          if (w.kind === 'accepted') return this.stmt.accepted.run(w.at, w.id).changes > 0;
          // A savepoint per item: a failing `then` undoes its own message, not the batch.
          try {
            return this.record.transaction(() => {
              const fresh = this.insert(w.message);
              if (fresh) {
                w.then?.();
                this.recordMessage(w.message);
              }
              return fresh;
            });
          } catch (err) {
            return err instanceof Error ? err : new Error(String(err));
          }
        }),
      ),
    );
  }

  /** In the transaction that stores it: the item goes into the node's own record. */
  private recordMessage(m: NewMessage): void {
    let ciphertextHash: string | undefined;
    try {
      ciphertextHash = ciphertextHashOf((JSON.parse(m.envelope) as { ciphertext: string }).ciphertext);
    } catch {
      ciphertextHash = undefined;
    }
    this.record.append({
      kind: m.direction === 'out' ? 'sent' : 'received',
      envelope: m.id,
      item: m.kind,
      counterparts: m.direction === 'out' ? m.recipients : [m.sender],
      ...(ciphertextHash ? { ciphertextHash } : {}),
      at: m.direction === 'out' ? m.sentAt : (m.receivedAt ?? undefined),
    });
  }

  private insert(m: NewMessage): boolean {
    return (
      this.stmt.insert.run(
        m.id,
        m.direction,
        m.sender,
        JSON.stringify(m.recipients),
        m.subject,
        m.body,
        m.language,
        m.sentAt,
        m.receivedAt,
        m.acceptedAt,
        m.envelope,
        m.kind,
        m.requestId,
        m.handling,
        m.content,
      ).changes > 0
    );
  }

  /** Opens the node's database; throws STORAGE_NOT_DURABLE when it cannot commit durably. */
  static open(file: string): NodeStore {
    return new NodeStore(openDatabase(file, 'node'), file);
  }

  /** Opens and checks the Prisma connection now; throws STORAGE_NOT_DURABLE as it is. */
  async connect(): Promise<void> {
    try {
      await this.prisma.$connect();
    } catch (err) {
      throw this.adapter.refusal ?? err;
    }
  }

  /** Writes what waits for the next group commit now. */
  flush(): void {
    this.writes.flush();
  }

  async close(): Promise<void> {
    this.writes.flush();
    await this.prisma.$disconnect();
    this.db.close();
  }

  /** Resolves after the message is durably stored; false when it was already there (a redelivery). */
  saveMessage(m: NewMessage, then?: () => void): Promise<boolean> {
    return this.writes.submit({ kind: 'message', message: m, ...(then ? { then } : {}) });
  }

  /** The signed envelope (JSON) and content (JSON, or null for plain messages) of a stored item. */
  envelopeOf(id: string): { envelope: string; content: string | null } | undefined {
    return this.stmt.envelope.get(id);
  }

  /** Items this node stored for sending that the relay has not accepted yet, older than `before`. */
  unaccepted(before: string): { id: string; envelope: string; content: string | null; kind: string }[] {
    return this.stmt.unaccepted.all(before);
  }

  /** Messages and supplements on a request, oldest first. */
  messagesOn(requestId: string): StoredMessage[] {
    return this.stmt.byRequest.all(requestId).map(toMessage);
  }

  /** True when this envelope id was already stored or rejected. */
  seen(id: string): boolean {
    return this.stmt.has.get(id) !== undefined;
  }

  /**
   * Records when the relay accepted a sent message, with the next commit (lazy: the message itself
   * was stored before submission, and the relay can be asked again for its delivery state).
   */
  markAccepted(id: string, at: string): Promise<boolean> {
    return this.writes.submit({ kind: 'accepted', id, at }, { lazy: true });
  }

  saveRejection(r: RejectionRecord): void {
    this.record.transaction(() => {
      const fresh = this.stmt.reject.run(r.envelopeId, r.sender, r.code, r.reason, r.receivedAt).changes > 0;
      // Only a well-formed envelope id can be recorded; junk stays in the Rejection table alone.
      if (
        fresh &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(r.envelopeId)
      ) {
        this.record.append({ kind: 'rejected', envelope: r.envelopeId, reason: r.code, at: r.receivedAt });
      }
    });
  }

  message(id: string): StoredMessage | undefined {
    const row = this.stmt.get.get(id);
    if (row) return toMessage(row);
    // Officers may type the first characters of an id, as with git.
    if (/^[0-9a-f-]{6,35}$/.test(id)) {
      const rows = this.stmt.getByPrefix.all(`${id}%`);
      if (rows.length === 1) return toMessage(rows[0]!);
    }
    return undefined;
  }

  list(direction: 'in' | 'out', limit = 200): StoredMessage[] {
    return this.stmt.list.all(direction, limit).map(toMessage);
  }

  /** A sent message sealed again (to a fresher set of recipient nodes) before the relay accepted it. */
  async replaceEnvelope(id: string, envelope: string): Promise<void> {
    this.stmt.replaceEnvelope.run(envelope, id);
  }

  /** Removes an item that the relay refused for good, so that nothing stays half-sent. */
  deleteMessage(id: string): void {
    this.writes.flush();
    this.stmt.deleteMessage.run(id);
  }

  /** Marks an item read (the first opening only) and records the opening. */
  markRead(id: string, at: string): void {
    this.writes.flush();
    this.record.transaction(() => {
      if (this.stmt.markRead.run(at, id).changes > 0)
        this.record.append({ kind: 'opened', envelope: id, at });
    });
  }

  async pin(authority: string): Promise<PinRecord | null> {
    return this.prisma.pin.findUnique({ where: { authority } });
  }

  async savePin(p: Omit<PinRecord, 'verifiedAt'>): Promise<void> {
    await this.prisma.pin.create({ data: { ...p, verifiedAt: null } });
  }

  async pins(): Promise<PinRecord[]> {
    return this.prisma.pin.findMany({ orderBy: { authority: 'asc' } });
  }

  async updatePin(authority: string, masterKey: string, safetyCode: string): Promise<void> {
    await this.prisma.pin.update({ where: { authority }, data: { masterKey, safetyCode, verifiedAt: null } });
  }

  async markVerified(authority: string, at: Date): Promise<void> {
    await this.prisma.pin.update({ where: { authority }, data: { verifiedAt: at } });
  }

  // ---- key log mirror, alarms, own key events --------------------------------------------

  async keyLogHead(relay: string): Promise<KeyLogHeadRecord | null> {
    return this.prisma.keyLogHead.findUnique({ where: { relay } });
  }

  async keyLogLeaves(relay: string): Promise<KeyLogLeafRecord[]> {
    return this.prisma.keyLogEntry.findMany({
      where: { relay },
      orderBy: { idx: 'asc' },
      select: { idx: true, authority: true, leaf: true, leafHash: true },
    });
  }

  /** Stores newly verified entries and the head they lead to, together. */
  async appendKeyLog(
    relay: string,
    entries: KeyLogLeafRecord[],
    head: Omit<KeyLogHeadRecord, 'relay'>,
    alarms: Omit<AlarmRecord, 'id'>[],
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      if (entries.length > 0)
        await tx.keyLogEntry.createMany({ data: entries.map((e) => ({ relay, ...e })) });
      await tx.keyLogHead.upsert({
        where: { relay },
        create: { relay, ...head },
        update: { size: head.size, root: head.root, head: head.head, verifiedAt: head.verifiedAt },
      });
      if (alarms.length > 0) await tx.alarm.createMany({ data: alarms });
    });
  }

  /** Stores an alarm unless the same one is already open; true when stored. */
  async addAlarm(a: Omit<AlarmRecord, 'id'>): Promise<boolean> {
    const same = await this.prisma.alarm.findFirst({
      where: { kind: a.kind, message: a.message, resolvedAt: null },
      select: { id: true },
    });
    if (same) return false;
    await this.prisma.alarm.create({ data: a });
    return true;
  }

  async resolveAlarms(kind: string, relay: string, at: Date): Promise<number> {
    return (
      await this.prisma.alarm.updateMany({
        where: { kind, relay, resolvedAt: null },
        data: { resolvedAt: at },
      })
    ).count;
  }

  async alarms(): Promise<AlarmRecord[]> {
    return this.prisma.alarm.findMany({ orderBy: { id: 'asc' } });
  }

  async markPublished(eventHash: string, at: Date): Promise<void> {
    await this.prisma.published.upsert({
      where: { eventHash },
      create: { eventHash, publishedAt: at },
      update: {},
    });
  }

  async publishedHashes(): Promise<Set<string>> {
    return new Set(
      (await this.prisma.published.findMany({ select: { eventHash: true } })).map((p) => p.eventHash),
    );
  }
}
