/**
 * What an officer asks of the node, as data: the same answer whether the CLI opened the node itself
 * or asks the node's local service (`entraide serve`), and what the service's JSON API returns.
 */
import type { FileEntry } from '../../shared/files/manifest.ts';
import type { RequestContent } from '../../shared/requests/request.ts';
import type { Attachment } from '../documents/seal-file.ts';
import { documentsOf, requestDocuments, type DocumentView, type ItemDocuments } from './desk-documents.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { AuthorityNode, SendResult } from '../node.ts';
import type { RequestDetail, RequestSummary } from '../requests.ts';
import type { RejectionRecord, StoredMessage } from '../store/node-store.ts';

/** The fields of a stored message that may be null. */
type NullableField = {
  [K in keyof StoredMessage]: null extends StoredMessage[K] ? K : never;
}[keyof StoredMessage];

/**
 * An item as lists show it: everything but its text (opened one message at a time), and without
 * the fields that are null (a listing of 10,000 items is 20 % smaller for it).
 */
export type ListedMessage = Omit<StoredMessage, 'body' | NullableField> &
  Partial<Pick<StoredMessage, NullableField>>;

/**
 * `m` as a list shows it. The store's lists open a body only when it is read (a getter): copying the
 * other fields keeps a listing of 10,000 items from decrypting and sending 10,000 bodies.
 */
export function listed(m: StoredMessage): ListedMessage {
  const { id, direction, sender, recipients, subject, sentAt, kind } = m;
  const item: ListedMessage = { id, direction, sender, recipients, subject, sentAt, kind };
  if (m.language !== null) item.language = m.language;
  if (m.receivedAt !== null) item.receivedAt = m.receivedAt;
  if (m.readAt !== null) item.readAt = m.readAt;
  if (m.acceptedAt !== null) item.acceptedAt = m.acceptedAt;
  if (m.requestId !== null) item.requestId = m.requestId;
  if (m.handling !== null) item.handling = m.handling;
  if (m.state !== null) item.state = m.state;
  return item;
}

/** A listed item with its text, when a listing asks for the texts too (the CLI's --json). */
export type ListedWithBody = ListedMessage & { body?: string };

/** The items of a listing: without their texts, or with them (`bodies`). */
export const listing = (items: StoredMessage[], bodies: boolean): ListedWithBody[] =>
  items.map(bodies ? (m) => ({ ...m }) : listed);

export interface InboxView {
  /** How many items the fetch before the listing stored. */
  fetched: number;
  rejected: RejectionRecord[];
  messages: ListedWithBody[];
  /** The senders' authorities among `messages` whose safety code this authority never verified. */
  unverified: string[];
}

export interface SendInput {
  to: string[];
  subject: string;
  body: string;
  language?: string | undefined;
  /** Send even to counterparts never verified (scripts). */
  unverifiedOk?: boolean | undefined;
  /** Counterparts the officer confirmed for this send: recorded, and not asked about again. */
  confirmed?: string[] | undefined;
  /** Files on this machine to seal and send with the message (the CLI; absolute paths). */
  attachments?: Attachment[] | undefined;
  /** Files sealed already (uploaded by a page, routes-uploads.ts). */
  files?: FileEntry[] | undefined;
}

export interface RequestFilterInput {
  status?: string | undefined;
  overdue?: boolean | undefined;
  dueSoon?: boolean | undefined;
  direction?: 'in' | 'out' | undefined;
  /** Only the requests of this case (their caseReference). */
  case?: string | undefined;
}

/** Where and how to compare a counterpart's safety code. */
export function compareAdvice(authority: string, code: string): string {
  return `${authority} is not verified: its safety code here is ${code}. Compare it with ${authority}’s officer by telephone or in person, or with your network’s coordinator, then run: entraide keys verify ${authority} ${code}`;
}

/** The authorities whose safety code this node's officers verified (this authority counts as verified). */
export async function verifiedAuthorities(node: AuthorityNode): Promise<Set<string>> {
  const verified = new Set((await node.store.pins()).filter((p) => p.verifiedAt).map((p) => p.authority));
  verified.add(node.authority);
  return verified;
}

const authorityOf = (address: string): string => address.slice(address.indexOf('/') + 1);

/** Fetches what waits on the relay (stored before anything is listed), then lists the inbox. */
export async function inboxView(
  node: AuthorityNode,
  limit: number,
  opts: { fetch?: boolean; bodies?: boolean } = {},
): Promise<InboxView> {
  const { fetch = true, bodies = false } = opts;
  // The service need not fetch: it is connected, and what arrives is stored as it comes (and an
  // officer reads the inbox while the relay is unreachable too).
  const fetched = fetch ? await node.fetchInbox() : [];
  const messages = listing(node.inbox(limit), bodies);
  const verified = await verifiedAuthorities(node);
  return {
    fetched: fetched.length,
    rejected: fetched.flatMap((f) => (f.kind === 'rejected' ? [f.rejection] : [])),
    messages,
    unverified: [...new Set(messages.map((m) => authorityOf(m.sender)))].filter((a) => !verified.has(a)),
  };
}

/** Reads one message (an id prefix is enough) and sends its read receipt now if the relay answers. */
export async function readView(node: AuthorityNode, id: string, override?: string): Promise<MessageView> {
  const m = { ...node.read(id, { override }) };
  await node.receipts.flush().catch(() => undefined);
  const documents = documentsOf(node, m.id);
  return documents.length > 0 ? { ...m, documents } : m;
}

/** An item as the officers' clients show it: with its documents, when it carries any. */
export type MessageView = StoredMessage & { documents?: DocumentView[] };

/**
 * Sends a message; refused with UNVERIFIED_COUNTERPART, nothing sent, when a recipient's safety code
 * was never verified nor confirmed, unless the input confirms it or says `unverifiedOk`.
 */
export async function sendView(node: AuthorityNode, input: SendInput): Promise<SendResult> {
  const confirmed = new Set(input.confirmed ?? []);
  if (!input.unverifiedOk) {
    const left = (await node.counterparts.unverified(input.to)).filter((u) => !confirmed.has(u.authority));
    if (left.length > 0) {
      throw new EntraideError(
        'UNVERIFIED_COUNTERPART',
        `nothing was sent: ${left.map((u) => compareAdvice(u.authority, u.safetyCode)).join('; ')}`,
        { unverified: left },
      );
    }
  }
  const r = await node.send({
    to: input.to,
    subject: input.subject,
    body: input.body,
    language: input.language,
    ...(input.attachments?.length ? { attachments: input.attachments } : {}),
    ...(input.files?.length ? { files: input.files } : {}),
  });
  await node.counterparts.confirm([...confirmed]);
  return r;
}

/**
 * Fetches, then lists requests with their flags; counterparts never verified are named; `fetched`
 * false when the relay did not answer (what the node holds is listed).
 */
export async function requestListView(
  node: AuthorityNode,
  filter: RequestFilterInput,
): Promise<{ requests: RequestSummary[]; unverified: string[]; fetched: boolean }> {
  const fetched = await fetchIfReachable(node);
  const requests = node.requests.list({
    status: filter.status,
    overdue: filter.overdue ?? false,
    dueSoon: filter.dueSoon ?? false,
    ...(filter.direction ? { direction: filter.direction } : {}),
    ...(filter.case ? { case: filter.case } : {}),
  });
  const verified = await verifiedAuthorities(node);
  const counterparts = requests.map((r) => r.counterpart);
  return { requests, unverified: [...new Set(counterparts)].filter((a) => !verified.has(a)), fetched };
}

/** Fetches, then shows one request and its story (sends its read receipt if it was received). */
export async function requestShowView(
  node: AuthorityNode,
  id: string,
  override?: string,
): Promise<RequestView> {
  await fetchIfReachable(node);
  const d = node.requests.show(id, { override });
  await node.receipts.flush().catch(() => undefined);
  const documents = requestDocuments(node, d.story);
  // The files' keys stay in the node: the content is shown without them.
  const files = d.content.files?.map(({ key: _key, ...rest }) => rest);
  const content = files ? ({ ...d.content, files } as RequestContent) : d.content;
  return { ...d, content, ...(documents.length > 0 ? { documents } : {}) };
}

/** A request as the officers' clients show it: with the documents of its items, when any. */
export type RequestView = RequestDetail & { documents?: ItemDocuments[] };

/** Fetches what waits; a relay that does not answer leaves what the node holds to be shown. */
export async function fetchIfReachable(node: AuthorityNode): Promise<boolean> {
  try {
    await node.fetchInbox();
    return true;
  } catch (err) {
    if (!(err instanceof EntraideError) || err.code !== 'RELAY_UNREACHABLE') throw err;
    return false;
  }
}
