/**
 * The node's storage module: the only place that knows its tables. Received messages are written
 * with prepared statements in group-committed transactions (a node may receive thousands per
 * second); pins and listings go through Prisma.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, openDatabase } from '../../prisma/database.ts';
import { GroupCommit } from '../../prisma/group-commit.ts';
import { PrismaClient } from './generated/client.ts';

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
}

export interface NewMessage extends Omit<StoredMessage, 'readAt'> {
  envelope: string;
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
}

function toMessage(r: MessageRow): StoredMessage {
  return { ...r, direction: r.direction as 'in' | 'out', recipients: JSON.parse(r.recipients) as string[] };
}

/** Writes that share one group-committed transaction: many messages, one fsync. */
type Write = { kind: 'message'; message: NewMessage } | { kind: 'accepted'; id: string; at: string };

const COLUMNS =
  'id, direction, sender, recipients, subject, body, language, sentAt, receivedAt, readAt, acceptedAt';

export class NodeStore {
  readonly prisma: PrismaClient;
  private readonly stmt;
  private readonly writes: GroupCommit<Write, boolean>;

  private constructor(
    readonly db: Database.Database,
    file: string,
  ) {
    this.prisma = new PrismaClient({
      adapter: new PrismaBetterSqlite3({ url: `file:${file}`, timeout: BUSY_TIMEOUT_MS }),
    });
    this.stmt = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO "Message" (id, direction, sender, recipients, subject, body, language, sentAt, receivedAt, acceptedAt, envelope)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        `SELECT ${COLUMNS} FROM "Message" WHERE direction = ? ORDER BY sentAt DESC, id DESC LIMIT ?`,
      ),
      replaceEnvelope: db.prepare('UPDATE "Message" SET envelope = ? WHERE id = ?'),
      markRead: db.prepare('UPDATE "Message" SET readAt = ? WHERE id = ? AND readAt IS NULL'),
      reject: db.prepare(
        'INSERT OR IGNORE INTO "Rejection" (envelopeId, sender, code, reason, receivedAt) VALUES (?, ?, ?, ?, ?)',
      ),
    };
    this.writes = new GroupCommit((items) =>
      db.transaction(() =>
        items.map((w) =>
          w.kind === 'message' ? this.insert(w.message) : this.stmt.accepted.run(w.at, w.id).changes > 0,
        ),
      )(),
    );
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
      ).changes > 0
    );
  }

  static open(file: string): NodeStore {
    return new NodeStore(openDatabase(file, 'node'), file);
  }

  async close(): Promise<void> {
    this.writes.flush();
    await this.prisma.$disconnect();
    this.db.close();
  }

  /** Resolves after the message is durably stored; false when it was already there (a redelivery). */
  saveMessage(m: NewMessage): Promise<boolean> {
    return this.writes.submit({ kind: 'message', message: m });
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
    this.stmt.reject.run(r.envelopeId, r.sender, r.code, r.reason, r.receivedAt);
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

  markRead(id: string, at: string): void {
    this.stmt.markRead.run(at, id);
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
