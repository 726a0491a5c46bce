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
import { DocumentStore } from './document-store.ts';
import { MeetingStore } from './meeting-store.ts';
import { NodeRecord } from './node-record.ts';
import { PeerKeyStore } from './peer-key-store.ts';
import { SealedColumns } from './sealed-columns.ts';
import { sealContent } from './content-seal.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { safetyCode } from '../../shared/crypto/safety-code.ts';
import { ciphertextHash as ciphertextHashOf } from '../../shared/receipts/receipt.ts';
import { bodyReader, toListedMessage, toMessage, type ListedRow, type MessageRow } from './message-rows.ts';
import type {
  MessageKind,
  StoredMessage,
  NewMessage,
  PinRecord,
  KeyLogHeadRecord,
  KeyLogLeafRecord,
  AlarmRecord,
  SplitViewRecord,
  RejectionRecord,
} from './records.ts';

/** The store's record types, for callers that import the store alone. */
export type * from './records.ts';

/**
 * Writes that share one group-committed transaction: many messages, one fsync. `then` runs in the
 * same transaction after a new message is inserted (what the message changes elsewhere: a request,
 * a status, a receipt to send), so that nothing is stored half-way.
 */
type Write =
  { kind: 'message'; message: NewMessage; then?: () => void } | { kind: 'accepted'; id: string; at: string };

/** What a listing reads: every column of a message but its body (fetched by id when it is read). */
const LISTED =
  'id, direction, sender, recipients, subject, language, sentAt, receivedAt, readAt, acceptedAt, kind, requestId, handling';
const COLUMNS = `${LISTED}, body`;

export class NodeStore {
  readonly prisma: PrismaClient;
  /** Requests, status updates, receipts and handling overrides. */
  readonly requests: RequestStore;
  /** The node's own record of what it sent, received and opened (a Merkle log). */
  readonly record: NodeRecord;
  /** Network rosters, declared working hours, meetings. */
  readonly meetings: MeetingStore;
  /** The documents items carried, and where their transfers stand. */
  readonly documents: DocumentStore;
  /** The peer relay keys this node pinned. */
  readonly peerKeys: PeerKeyStore;
  private readonly stmt;
  private readonly writes: GroupCommit<Write, boolean>;
  private readonly adapter: DurableBetterSqlite3;

  private constructor(
    readonly db: Database.Database,
    file: string,
    private readonly sealer: SealedColumns,
  ) {
    // Prisma's own connection is made durable (WAL, synchronous=FULL) and checked like this one.
    this.adapter = new DurableBetterSqlite3(file, BUSY_TIMEOUT_MS);
    this.prisma = new PrismaClient({ adapter: this.adapter });
    this.requests = new RequestStore(db, sealer);
    this.record = new NodeRecord(db);
    this.meetings = new MeetingStore(db, sealer);
    this.documents = new DocumentStore(db, sealer);
    this.peerKeys = new PeerKeyStore(this.prisma);
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
      list: db.prepare<[string, number], ListedRow>(
        `SELECT ${LISTED} FROM "Message" WHERE direction = ? AND kind <> 'receipts' ORDER BY sentAt DESC, id DESC LIMIT ?`,
      ),
      body: db.prepare<[string], { body: string }>('SELECT body FROM "Message" WHERE id = ?'),
      envelope: db.prepare<[string], { envelope: string; content: string | null }>(
        'SELECT envelope, content FROM "Message" WHERE id = ?',
      ),
      unaccepted: db.prepare<
        [string],
        { id: string; envelope: string; content: string | null; kind: string }
      >(
        `SELECT id, envelope, content, kind FROM "Message" WHERE direction = 'out' AND acceptedAt IS NULL AND sentAt < ? ORDER BY sentAt`,
      ),
      waiting: db.prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM "Message" WHERE direction = 'out' AND acceptedAt IS NULL`,
      ),
      byRequest: db.prepare<[string], MessageRow>(
        `SELECT ${COLUMNS} FROM "Message" WHERE requestId = ? AND kind IN ('message', 'supplement', 'consultation', 'consultation-comment') ORDER BY sentAt, id`,
      ),
      byKind: db.prepare<[string], MessageRow>(
        `SELECT ${COLUMNS} FROM "Message" WHERE kind = ? ORDER BY sentAt, id`,
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
    // A message kept under another id than its envelope's (inbound.ts, two senders' envelopes
    // under one id) is recorded under the envelope's, as the relay's audit log knows it.
    let envelopeId = m.id;
    try {
      const env = JSON.parse(m.envelope) as { ciphertext: string; id?: unknown };
      ciphertextHash = ciphertextHashOf(env.ciphertext);
      if (typeof env.id === 'string') envelopeId = env.id;
    } catch {
      ciphertextHash = undefined;
    }
    this.record.append({
      kind: m.direction === 'out' ? 'sent' : 'received',
      envelope: envelopeId,
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
        this.sealer.seal('Message.subject', m.id, m.subject),
        this.sealer.seal('Message.body', m.id, m.body),
        m.language,
        m.sentAt,
        m.receivedAt,
        m.acceptedAt,
        m.envelope,
        m.kind,
        m.requestId,
        m.handling,
        this.sealer.sealNullable('Message.content', m.id, m.content),
      ).changes > 0
    );
  }

  /**
   * Opens the node's database with its content key (the keystore's, client/keystore.ts
   * databaseKeyOf; libsodium loaded). A database written before content was sealed is sealed in
   * place now, in one transaction. STORAGE_NOT_DURABLE when it cannot commit durably;
   * STORE_CORRUPT when the key does not open it.
   */
  static open(file: string, databaseKey: Uint8Array): NodeStore {
    const sealer = new SealedColumns(databaseKey);
    let db: Database.Database | undefined;
    try {
      db = openDatabase(file, 'node');
      sealContent(db, sealer);
      return new NodeStore(db, file, sealer);
    } catch (err) {
      db?.close();
      sealer.wipe();
      throw err;
    }
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
    // The subkeys are not wiped here: messages listed before closing open their bodies when read.
  }

  /** Resolves after the message is durably stored; false when it was already there (a redelivery). */
  saveMessage(m: NewMessage, then?: () => void): Promise<boolean> {
    return this.writes.submit({ kind: 'message', message: m, ...(then ? { then } : {}) });
  }

  /** The signed envelope (JSON) and content (JSON, or null for plain messages) of a stored item. */
  envelopeOf(id: string): { envelope: string; content: string | null } | undefined {
    const row = this.stmt.envelope.get(id);
    return (
      row && { envelope: row.envelope, content: this.sealer.openNullable('Message.content', id, row.content) }
    );
  }

  /** Items this node stored for sending that the relay has not accepted yet, older than `before`. */
  unaccepted(before: string): { id: string; envelope: string; content: string | null; kind: string }[] {
    return this.stmt.unaccepted
      .all(before)
      .map((r) => ({ ...r, content: this.sealer.openNullable('Message.content', r.id, r.content) }));
  }

  /** How many sent items wait in the outbox (stored, not accepted by the relay yet). */
  outboxSize(): number {
    return this.stmt.waiting.get()!.n;
  }

  /** Messages and supplements on a request (a consultation and its comments, by its id), oldest first. */
  messagesOn(requestId: string): StoredMessage[] {
    return this.stmt.byRequest.all(requestId).map((r) => toMessage(r, this.sealer));
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
    if (row) return toMessage(row, this.sealer);
    // Officers may type the first characters of an id, as with git.
    if (/^[0-9a-f-]{6,35}$/.test(id)) {
      const rows = this.stmt.getByPrefix.all(`${id}%`);
      if (rows.length === 1) return toMessage(rows[0]!, this.sealer);
    }
    return undefined;
  }

  list(direction: 'in' | 'out', limit = 200): StoredMessage[] {
    const body = bodyReader(this.db, this.stmt.body);
    return this.stmt.list.all(direction, limit).map((r) => toListedMessage(r, this.sealer, body));
  }

  /** Every item of one kind (consultations), oldest first. */
  messagesOfKind(kind: MessageKind): StoredMessage[] {
    return this.stmt.byKind.all(kind).map((r) => toMessage(r, this.sealer));
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

  /** Pins the authority's own master key (when this node knows it) the first time the node opens. */
  async pinOwnMaster(authority: string, masterKey: string): Promise<void> {
    if (!masterKey || (await this.pin(authority))) return;
    const code = safetyCode(authority, fromBase64url(masterKey, 'masterPublicKey', 32));
    await this.savePin({ authority, masterKey, safetyCode: code, pinnedAt: new Date() });
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

  /** Records that an officer confirmed sending to a counterpart whose safety code is not verified. */
  async confirmCounterpart(authority: string, at: Date): Promise<void> {
    await this.prisma.pin.update({ where: { authority }, data: { confirmedAt: at } });
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
    // Written only from AlarmRecord values: the column holds AlarmKinds.
    return (await this.prisma.alarm.findMany({ orderBy: { id: 'asc' } })) as AlarmRecord[];
  }

  /** Stores the evidence of a split view and its alarm together; false (nothing stored) when that alarm is open already. */
  async addSplitView(v: Omit<SplitViewRecord, 'id'>, alarm: Omit<AlarmRecord, 'id'>): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const same = await tx.alarm.findFirst({
        where: { kind: alarm.kind, message: alarm.message, resolvedAt: null },
        select: { id: true },
      });
      if (same) return false;
      await tx.splitView.create({ data: v });
      await tx.alarm.create({ data: alarm });
      return true;
    });
  }

  /** The evidence of every split view this node caught, oldest first (of one relay, if named). */
  async splitViews(relay?: string): Promise<SplitViewRecord[]> {
    return this.prisma.splitView.findMany({ where: relay ? { relay } : {}, orderBy: { id: 'asc' } });
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
