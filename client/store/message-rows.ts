/** Rows of the Message table and the messages they read as, their sealed columns opened. */
import { EntraideError } from '../../shared/errors.ts';
import type { MessageKind, StoredMessage } from './records.ts';
import type { SealedColumns } from './sealed-columns.ts';

export interface ListedRow {
  id: string;
  direction: string;
  sender: string;
  recipients: string;
  subject: string;
  language: string | null;
  sentAt: string;
  receivedAt: string | null;
  readAt: string | null;
  acceptedAt: string | null;
  kind: string;
  requestId: string | null;
  handling: string | null;
}

export interface MessageRow extends ListedRow {
  body: string;
}

/** A stored message with its body opened at once. */
export function toMessage(r: MessageRow, sealer: SealedColumns): StoredMessage {
  return messageOf(r, sealer, sealer.open('Message.body', r.id, r.body));
}

/**
 * A listed message: its body is read and opened when first read (an enumerable getter, so JSON and
 * spreads still hold it), so that listing 10,000 messages reads and opens 10,000 subjects, not
 * 10 MB of bodies. `sealedBody` reads it by id; so, like the rest of the store, while it is open.
 */
export function toListedMessage(
  r: ListedRow,
  sealer: SealedColumns,
  sealedBody: (id: string) => string,
): StoredMessage {
  let body: string | undefined;
  // Redefined in place, so that `body` keeps its position among the fields.
  return Object.defineProperty(messageOf(r, sealer, ''), 'body', {
    enumerable: true,
    configurable: true,
    get: () => (body ??= sealer.open('Message.body', r.id, sealedBody(r.id))),
    set: (value: string) => {
      body = value;
    },
  });
}

function messageOf(r: ListedRow, sealer: SealedColumns, body: string): StoredMessage {
  return {
    id: r.id,
    direction: r.direction as 'in' | 'out',
    sender: r.sender,
    recipients: JSON.parse(r.recipients) as string[],
    subject: sealer.open('Message.subject', r.id, r.subject),
    body,
    language: r.language,
    sentAt: r.sentAt,
    receivedAt: r.receivedAt,
    readAt: r.readAt,
    acceptedAt: r.acceptedAt,
    kind: r.kind as MessageKind,
    requestId: r.requestId,
    handling: r.handling,
    // The outbox is the sent items the relay has not accepted yet: no second table to keep in step.
    state: r.direction === 'in' ? null : r.acceptedAt ? 'sent' : 'queued',
  };
}

/** Reads a listed message's sealed body when it is first shown (from the database, still open). */
export function bodyReader(
  db: { open: boolean },
  stmt: { get(id: string): { body: string } | undefined },
): (id: string) => string {
  return (id) => {
    if (!db.open)
      throw new EntraideError(
        'INTERNAL',
        `the node’s database is closed: read message ${id} again from an open node`,
      );
    const row = stmt.get(id);
    if (!row) throw new EntraideError('NOT_FOUND', `message ${id} is no longer on this node`);
    return row.body;
  };
}
