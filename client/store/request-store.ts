/**
 * The node's tables for requests: requests with their derived state, status updates, receipts
 * (received as evidence, and issued by this node until they are sent), and handling overrides.
 * Plain better-sqlite3 statements: every write is synchronous, so it can join the transaction
 * that stores the envelope it came in (NodeStore.saveMessage's `then`). Titles, contents, signed
 * status updates (their notes) and override reasons are sealed (sealed-columns.ts); receipts hold
 * no content (envelope ids, nodes, times, signatures) and stay clear.
 */
import type Database from 'better-sqlite3';
import type { SealedColumns } from './sealed-columns.ts';
import type { RequestType } from '../../shared/requests/vocabulary.ts';

export interface RequestRow {
  id: string;
  direction: 'out' | 'in';
  /** Checked against the request schema before it is stored. */
  requestType: RequestType;
  requesting: string;
  requested: string;
  title: string;
  urgency: string;
  deadline: string | null;
  dataRetentionUntil: string | null;
  content: string;
  requestHash: string;
  envelopeId: string | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  state: string;
  stateAt: string | null;
  seq: number;
  tip: string;
}

/** A request's link to an earlier one (migration 0011_request_links). */
export interface RequestLink {
  fromId: string;
  toId: string;
  relation: string;
}

export interface UpdateRow {
  hash: string;
  requestId: string;
  seq: number;
  status: string;
  byNode: string;
  at: string;
  signed: string;
  envelopeId: string | null;
  receivedAt: string;
}

export interface ReceiptRow {
  hash: string;
  envelopeId: string;
  /** The node that sent the envelope (the receipt's `sender`): with the id, what names the envelope. */
  sender: string;
  kind: string;
  node: string;
  at: string;
  signed: string;
  identityKey: string;
  direction: 'in' | 'out';
  target: string | null;
  sentIn: string | null;
  storedAt: string;
}

/**
 * An envelope as relays know it: its id and the node that sent it. Two senders' envelopes may share
 * an id (a co-recipient squatting it), so receipts are never looked up by the id alone.
 */
export interface EnvelopeKey {
  id: string;
  sender: string;
}

export interface OverrideRow {
  id: number;
  at: string;
  item: string;
  action: string;
  reason: string;
  node: string;
}

export interface RequestFilter {
  status?: string;
  direction?: 'out' | 'in';
  limit?: number;
}

const REQUEST_COLUMNS =
  'id, direction, requestType, requesting, requested, title, urgency, deadline, dataRetentionUntil, content, requestHash, envelopeId, createdAt, sentAt, deliveredAt, state, stateAt, seq, tip';

export class RequestStore {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly sealer: SealedColumns,
  ) {
    this.s = {
      insertRequest: db.prepare(
        `INSERT OR IGNORE INTO "Request" (${REQUEST_COLUMNS}) VALUES (@id, @direction, @requestType, @requesting, @requested, @title, @urgency, @deadline, @dataRetentionUntil, @content, @requestHash, @envelopeId, @createdAt, @sentAt, @deliveredAt, @state, @stateAt, @seq, @tip)`,
      ),
      getRequest: db.prepare<[string], RequestRow>(`SELECT ${REQUEST_COLUMNS} FROM "Request" WHERE id = ?`),
      byPrefix: db.prepare<[string], RequestRow>(
        `SELECT ${REQUEST_COLUMNS} FROM "Request" WHERE id LIKE ? LIMIT 2`,
      ),
      contents: db.prepare<[], { id: string; content: string }>('SELECT id, content FROM "Request"'),
      list: db.prepare<[{ status: string | null; direction: string | null; limit: number }], RequestRow>(
        `SELECT ${REQUEST_COLUMNS} FROM "Request" WHERE (@status IS NULL OR state = @status) AND (@direction IS NULL OR direction = @direction)
         ORDER BY COALESCE(sentAt, createdAt) DESC, id DESC LIMIT @limit`,
      ),
      byEnvelope: db.prepare<[string, string], { id: string }>(
        'SELECT id FROM "Request" WHERE envelopeId = ? AND requesting = ?',
      ),
      all: db.prepare<[], RequestRow>(
        `SELECT ${REQUEST_COLUMNS} FROM "Request" ORDER BY COALESCE(sentAt, createdAt), id`,
      ),
      setDerived: db.prepare(
        'UPDATE "Request" SET state = @state, stateAt = @stateAt, seq = @seq, tip = @tip, deliveredAt = @deliveredAt WHERE id = @id',
      ),
      markSent: db.prepare(
        'UPDATE "Request" SET envelopeId = ?, sentAt = ?, state = \'sent\' WHERE id = ? AND sentAt IS NULL',
      ),
      unsend: db.prepare(
        'UPDATE "Request" SET sentAt = NULL, envelopeId = NULL, deliveredAt = NULL, state = \'draft\' WHERE id = ?',
      ),
      deleteDraft: db.prepare('DELETE FROM "Request" WHERE id = ? AND sentAt IS NULL'),
      insertLink: db.prepare(
        'INSERT OR IGNORE INTO "RequestLink" (fromId, toId, relation) VALUES (@fromId, @toId, @relation)',
      ),
      deleteLinks: db.prepare('DELETE FROM "RequestLink" WHERE fromId = ?'),
      linksTo: db.prepare<[string], RequestLink>(
        'SELECT fromId, toId, relation FROM "RequestLink" WHERE toId = ?',
      ),
      linksFrom: db.prepare<[string], RequestLink>(
        'SELECT fromId, toId, relation FROM "RequestLink" WHERE fromId = ?',
      ),
      insertUpdate: db.prepare(
        `INSERT OR IGNORE INTO "StatusUpdate" (hash, requestId, seq, status, byNode, at, signed, envelopeId, receivedAt)
         VALUES (@hash, @requestId, @seq, @status, @byNode, @at, @signed, @envelopeId, @receivedAt)`,
      ),
      setUpdateEnvelope: db.prepare('UPDATE "StatusUpdate" SET envelopeId = ? WHERE hash = ?'),
      deleteUpdate: db.prepare('DELETE FROM "StatusUpdate" WHERE hash = ?'),
      updates: db.prepare<[string], UpdateRow>(
        'SELECT hash, requestId, seq, status, byNode, at, signed, envelopeId, receivedAt FROM "StatusUpdate" WHERE requestId = ? ORDER BY seq, at',
      ),
      insertReceipt: db.prepare(
        `INSERT OR IGNORE INTO "Receipt" (hash, envelopeId, sender, kind, node, at, signed, identityKey, direction, target, sentIn, storedAt)
         VALUES (@hash, @envelopeId, @sender, @kind, @node, @at, @signed, @identityKey, @direction, @target, @sentIn, @storedAt)`,
      ),
      receipts: db.prepare<[string, string], ReceiptRow>(
        `SELECT * FROM "Receipt" WHERE envelopeId = ? AND sender = ? AND direction = 'in' ORDER BY at, node, kind`,
      ),
      receiptsById: db.prepare<[string], ReceiptRow>(
        'SELECT * FROM "Receipt" WHERE envelopeId = ? ORDER BY at, node, kind',
      ),
      unsent: db.prepare<[number], ReceiptRow>(
        `SELECT * FROM "Receipt" WHERE direction = 'out' AND sentIn IS NULL ORDER BY storedAt LIMIT ?`,
      ),
      markReceiptSent: db.prepare('UPDATE "Receipt" SET sentIn = ? WHERE hash = ?'),
      hasReceipt: db.prepare<[string, string, string, string], { x: number }>(
        'SELECT 1 AS x FROM "Receipt" WHERE envelopeId = ? AND sender = ? AND node = ? AND kind = ?',
      ),
      addOverride: db.prepare(
        'INSERT INTO "HandlingOverride" (at, item, action, reason, node) VALUES (?, ?, ?, \'\', ?)',
      ),
      setOverrideReason: db.prepare('UPDATE "HandlingOverride" SET reason = ? WHERE id = ?'),
      overrides: db.prepare<[{ item: string | null }], OverrideRow>(
        'SELECT id, at, item, action, reason, node FROM "HandlingOverride" WHERE (@item IS NULL OR item = @item) ORDER BY id',
      ),
    };
  }

  /** Runs `fn` in one transaction (a savepoint when one is already open). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Stores a request, and its links to the requests (relatedTo) and the consultation its content names. */
  insertRequest(r: RequestRow): boolean {
    const inserted =
      this.s.insertRequest.run({
        ...r,
        title: this.sealer.seal('Request.title', r.id, r.title),
        content: this.sealer.seal('Request.content', r.id, r.content),
      }).changes > 0;
    if (inserted) {
      const { relatedTo, consultation } = JSON.parse(r.content) as {
        relatedTo?: { request: string; relation: string }[];
        consultation?: string;
      };
      for (const l of relatedTo ?? [])
        this.s.insertLink.run({ fromId: r.id, toId: l.request, relation: l.relation });
      if (consultation) this.s.insertLink.run({ fromId: r.id, toId: consultation, relation: 'consultation' });
    }
    return inserted;
  }

  /** The links of requests that name `id` (the requests that follow it up, supplement it...). */
  linksTo(id: string): RequestLink[] {
    return this.s.linksTo.all(id);
  }

  /** The links `id` names. */
  linksFrom(id: string): RequestLink[] {
    return this.s.linksFrom.all(id);
  }

  /** The request with exactly this id. */
  requestById(id: string): RequestRow | undefined {
    const row = this.s.getRequest.get(id);
    return row && this.opened(row);
  }

  /** A request by id, id prefix (as with git) or the requesting side's reference number. */
  request(idOrPrefix: string): RequestRow | undefined {
    const exact = this.requestById(idOrPrefix);
    if (exact) return exact;
    if (/^[0-9a-f-]{6,35}$/.test(idOrPrefix)) {
      const rows = this.s.byPrefix.all(`${idOrPrefix}%`);
      if (rows.length === 1) return this.opened(rows[0]!);
    }
    const byRef = this.byReference(idOrPrefix);
    return byRef.length === 1 ? this.requestById(byRef[0]!) : undefined;
  }

  /**
   * The ids of the requests whose requesting side's reference is `reference` (at most two: one is
   * an answer, two are ambiguous). Contents are sealed, so they are opened and searched here.
   */
  private byReference(reference: string): string[] {
    const found: string[] = [];
    for (const row of this.s.contents.iterate()) {
      const content = this.sealer.open('Request.content', row.id, row.content);
      const references = (JSON.parse(content) as { references?: { requesting?: unknown } }).references;
      if (references?.requesting === reference) found.push(row.id);
      if (found.length === 2) break;
    }
    return found;
  }

  requests(filter: RequestFilter = {}): RequestRow[] {
    return this.s.list
      .all({
        status: filter.status ?? null,
        direction: filter.direction ?? null,
        limit: filter.limit ?? 1000,
      })
      .map((r) => this.opened(r));
  }

  /**
   * The request whose own envelope this is, if any: the envelope `envelopeId` sent by a node of
   * `requesting` (an envelope of another authority under the same id is not this request's).
   */
  requestOfEnvelope(envelopeId: string, requesting: string): string | undefined {
    return this.s.byEnvelope.get(envelopeId, requesting)?.id;
  }

  allRequests(): RequestRow[] {
    return this.s.all.all().map((r) => this.opened(r));
  }

  setDerived(d: Pick<RequestRow, 'id' | 'state' | 'stateAt' | 'seq' | 'tip' | 'deliveredAt'>): void {
    this.s.setDerived.run(d);
  }

  markSent(id: string, envelopeId: string, sentAt: string): boolean {
    return this.s.markSent.run(envelopeId, sentAt, id).changes > 0;
  }

  /** Back to a draft: the relay refused the request for good. */
  unsend(id: string): void {
    this.s.unsend.run(id);
  }

  deleteDraft(id: string): boolean {
    const deleted = this.s.deleteDraft.run(id).changes > 0;
    if (deleted) this.s.deleteLinks.run(id);
    return deleted;
  }

  insertUpdate(u: UpdateRow): boolean {
    return (
      this.s.insertUpdate.run({ ...u, signed: this.sealer.seal('StatusUpdate.signed', u.hash, u.signed) })
        .changes > 0
    );
  }

  setUpdateEnvelope(hash: string, envelopeId: string): void {
    this.s.setUpdateEnvelope.run(envelopeId, hash);
  }

  deleteUpdate(hash: string): void {
    this.s.deleteUpdate.run(hash);
  }

  updates(requestId: string): UpdateRow[] {
    return this.s.updates
      .all(requestId)
      .map((u) => ({ ...u, signed: this.sealer.open('StatusUpdate.signed', u.hash, u.signed) }));
  }

  /** False when a receipt of this kind by this node for this envelope (id and sender) is already kept. */
  insertReceipt(r: ReceiptRow): boolean {
    return this.s.insertReceipt.run(r).changes > 0;
  }

  hasReceipt(envelope: EnvelopeKey, node: string, kind: string): boolean {
    return this.s.hasReceipt.get(envelope.id, envelope.sender, node, kind) !== undefined;
  }

  /** Receipts received for an envelope this authority sent. */
  receiptsFor(envelope: EnvelopeKey): ReceiptRow[] {
    return this.s.receipts.all(envelope.id, envelope.sender);
  }

  /**
   * Every receipt about the envelope `envelopeId` sent by a node of `authority`: how a request names
   * the envelope that carried it (its id, sent by a node of the requesting authority), so that an
   * envelope of another authority under the same id is not taken for it.
   */
  receiptsFromAuthority(envelopeId: string, authority: string): ReceiptRow[] {
    return this.s.receiptsById
      .all(envelopeId)
      .filter((r) => r.sender.slice(r.sender.indexOf('/') + 1) === authority);
  }

  /** Receipts this node issued and has not sent yet, oldest first. */
  unsentReceipts(limit = 500): ReceiptRow[] {
    return this.s.unsent.all(limit);
  }

  markReceiptsSent(hashes: string[], envelopeId: string): void {
    this.transaction(() => {
      for (const h of hashes) this.s.markReceiptSent.run(envelopeId, h);
    });
  }

  /** The reason is sealed to the row's id, which exists once the row is inserted: both in one transaction. */
  addOverride(o: Omit<OverrideRow, 'id'>): void {
    this.transaction(() => {
      const id = String(this.s.addOverride.run(o.at, o.item, o.action, o.node).lastInsertRowid);
      this.s.setOverrideReason.run(this.sealer.seal('HandlingOverride.reason', id, o.reason), id);
    });
  }

  overrides(item?: string): OverrideRow[] {
    return this.s.overrides
      .all({ item: item ?? null })
      .map((o) => ({ ...o, reason: this.sealer.open('HandlingOverride.reason', String(o.id), o.reason) }));
  }

  private opened(r: RequestRow): RequestRow {
    return {
      ...r,
      title: this.sealer.open('Request.title', r.id, r.title),
      content: this.sealer.open('Request.content', r.id, r.content),
    };
  }
}
