/**
 * Every call the web app makes to its node's local service (`entraide serve`, /api/v1, same origin,
 * cookie session). Answers are typed loosely on purpose: the service is young, so the pages check
 * what they use and show nothing rather than crash when a field is missing.
 */

export interface ApiErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** An error answer of the service (or NETWORK when it could not be reached at all). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.status = status;
    this.code = body.code;
    this.details = body.details;
  }
}

/** Told when any call answers 401 AUTH_REQUIRED (idle lock): the app shows the unlock page. */
let onAuthRequired: () => void = () => undefined;
export function setAuthRequiredHandler(handler: () => void): void {
  onAuthRequired = handler;
}

const BASE = '/api/v1';

import type { DocumentView, ItemDocuments } from './api-documents.ts';
export type { DocumentView, ItemDocuments } from './api-documents.ts';
import type { AlarmsView, Counterpart, KeyHistory, NodesView } from './api-keys.ts';
export type { Counterpart, KeyHistory, Alarm, AlarmsView, NodeListing, NodesView } from './api-keys.ts';

/** A JSON text sent as it is (a file the user picked): the service, not the page, judges it. */
export class JsonText {
  constructor(readonly text: string) {}
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${BASE}${path}`, {
      method,
      credentials: 'same-origin',
      headers:
        body === undefined
          ? { Accept: 'application/json' }
          : {
              Accept: 'application/json',
              'Content-Type': 'application/json',
            },
      ...(body === undefined ? {} : { body: body instanceof JsonText ? body.text : JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ApiError(0, { code: 'NETWORK', message: err instanceof Error ? err.message : String(err) });
  }
  // Parsed from the bytes (no intermediate string: an inbox of 10,000 is 3 MB); an empty or
  // non-JSON answer reads as null.
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    // The service answers { error: { code, message, details?, unverified? } }.
    const outer = data as { error?: unknown } | null;
    const e = (outer?.error && typeof outer.error === 'object' ? outer.error : outer) as
      (Partial<ApiErrorBody> & { unverified?: unknown }) | null;
    const details = {
      ...(e?.details && typeof e.details === 'object' ? e.details : {}),
      ...(e?.unverified !== undefined ? { unverified: e.unverified } : {}),
    };
    const err = new ApiError(res.status, {
      code: typeof e?.code === 'string' ? e.code : 'INTERNAL',
      message: typeof e?.message === 'string' ? e.message : res.statusText,
      ...(Object.keys(details).length ? { details } : {}),
    });
    if (res.status === 401 && err.code === 'AUTH_REQUIRED' && path !== '/session') onAuthRequired();
    throw err;
  }
  return data as T;
}

/**
 * The text of a file the person picked, or USAGE saying to pick it again: the browser cannot read
 * a file that was changed or moved on disk after it was picked.
 */
export async function pickedText(file: File): Promise<string> {
  try {
    return await file.text();
  } catch {
    throw new ApiError(0, {
      code: 'USAGE',
      message: `${file.name} could not be read (it may have changed on disk since it was picked): pick it again`,
    });
  }
}

export const q = (params: Record<string, string | number | boolean | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== '' && v !== false) s.set(k, String(v));
  const out = s.toString();
  return out ? `?${out}` : '';
};
const enc = encodeURIComponent;

// ---- shapes -----------------------------------------------------------------------------------

export interface NodeInfo {
  address: string;
  authority: string;
  relay: string;
  connected?: boolean;
}

/** A relay an auditor has an account on (the auditor's service). */
export interface AuditRelay {
  domain: string;
  url: string;
  auditor: string;
}

export interface Session {
  officer: string;
  /** An officer's service (a node), or an auditor's (the audit logs of relays). */
  role?: 'officer' | 'auditor';
  node: NodeInfo;
  auditor?: { name: string; relays: AuditRelay[] };
  idleLockMinutes?: number;
}

export type MessageKind =
  'message' | 'request' | 'status' | 'supplement' | 'receipts' | 'network' | 'meeting' | 'hours';

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
  kind: MessageKind;
  requestId: string | null;
  handling: string | null;
  state?: 'queued' | 'sent';
  /** Delivery and reading by recipients, when the service reports it. */
  deliveredAt?: string | null;
  /** Its documents (opened items only). */
  documents?: DocumentView[];
}

export interface InboxView {
  fetched: number;
  rejected: unknown[];
  messages: StoredMessage[];
  unverified: string[];
}

export interface UnverifiedCounterpart {
  authority: string;
  safetyCode: string;
}

export interface SendResult {
  id: string;
  state?: 'queued' | 'sent';
  [k: string]: unknown;
}

import type { Flag } from '../../../shared/requests/deadlines.ts';
export type { Flag };

export interface RequestSummary {
  id: string;
  direction: 'out' | 'in';
  requestType: string;
  requesting: string;
  requested: string;
  counterpart: string;
  title: string;
  urgency: string;
  state: string;
  stateAt: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
  deadline: string | null;
  references?: { requesting: string; requested: string | null };
  flags?: Flag[];
}

export interface StoryEntry {
  at: string;
  what: 'drafted' | 'sent' | 'delivered' | 'read' | 'status' | 'supplement' | 'message' | string;
  by: string;
  text: string;
  status?: string;
  envelope?: string;
  standing?: string;
  to?: string;
  ground?: string;
  reference?: string;
  note?: string;
  withoutConsultation?: string;
}

export interface Warning {
  code: string;
  field: string;
  message: string;
}

export interface RequestDetail extends RequestSummary {
  content?: Record<string, unknown>;
  /** Each measure, coded, with where it stands as the requested side last reported. */
  measures?: { kind: string; description: string; state: string }[];
  handling?: unknown;
  warnings?: Warning[];
  story?: StoryEntry[];
  next?: string[];
  side?: 'requesting' | 'requested';
  documents?: ItemDocuments[];
}

export interface RequestList {
  requests: RequestSummary[];
  unverified: string[];
  fetched: boolean;
}

/** A JSON schema (the typebox RequestDraft as the service sends it). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  maxLength?: number;
  minLength?: number;
  maxItems?: number;
  description?: string;
  title?: string;
}

export interface RequestTypes {
  types?: { type: string; label?: string }[];
  urgencies?: string[];
  statuses?: string[];
  refusalGrounds?: { ground: string; label?: string }[];
  legalBasisKinds?: string[];
  personRoles?: string[];
  languages?: string[];
  supplementKinds?: string[];
  draftSchema?: JsonSchema;
}

export interface ActionView {
  status: string;
  note?: 'required' | 'optional';
  ground?: 'required' | 'none';
  /** For a refusal: the grounds this type of request may be refused on. */
  grounds?: string[];
  /** For a refusal: whether conditions were proposed first (UNTOC art. 18(26)). */
  consultation?: 'held' | 'not_held' | 'none';
  reference?: 'optional' | 'none';
}

export interface ActionsView {
  id: string;
  state: string;
  side: 'requesting' | 'requested';
  draft: boolean;
  final: boolean;
  actions: ActionView[];
  supplement: boolean;
  message: boolean;
}

export interface Receipt {
  kind: string;
  node: string;
  at: string;
  valid: boolean;
  problem: string | null;
  identityKey?: string;
}

export interface Evidence {
  request: string;
  fetched?: boolean;
  kind?: string;
  acceptedAt: string | null;
  ciphertextHash?: string;
  undelivered?: string[];
  receipts?: Receipt[];
}

export interface Meeting {
  uid: string;
  sequence?: number;
  title?: string;
  agenda?: string;
  start?: string;
  tz?: string;
  startUtc?: string;
  endUtc?: string;
  durationMin?: number;
  local?: { tz: string; start: string; end: string };
  organizer?: string;
  participants?: string[];
  languages?: string[];
  interpretation?: string;
  cancelled?: boolean;
  cancelReason?: string;
  conference?: { url?: string; room?: string; passcode?: string };
  request?: string;
  network?: string;
  replies?: Record<string, { answer: string; note?: string; sequence?: number; at?: string }>;
  upcoming?: boolean;
}

/** Lists may come bare or wrapped ({items}, {counterparts}...): take the first array found. */
export function arrayOf<T>(value: unknown, ...keys: string[]): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of [...keys, 'items', 'list', 'results']) if (Array.isArray(o[k])) return o[k] as T[];
  }
  return [];
}

// ---- calls ------------------------------------------------------------------------------------

export const api = {
  session: () => call<Session>('GET', '/session'),
  unlock: (officer: string, passphrase: string) => call<Session>('POST', '/session', { officer, passphrase }),
  lock: () => call<unknown>('DELETE', '/session'),
  node: () => call<NodeInfo>('GET', '/node'),

  inbox: (limit = 10_000) => call<InboxView>('GET', `/inbox${q({ limit })}`),
  sent: (limit = 10_000) => call<StoredMessage[]>('GET', `/sent${q({ limit })}`),
  message: (id: string) => call<StoredMessage>('GET', `/messages/${enc(id)}`),
  send: (input: {
    to: string[];
    subject: string;
    body: string;
    language?: string;
    confirmed?: string[];
    /** Files the page uploaded (routes-uploads.ts), by upload id, with their role and language. */
    uploads?: { id: string; role: string; language?: string }[];
  }) => call<SendResult>('POST', '/messages', input),

  requests: (f: { status?: string; overdue?: boolean; dueSoon?: boolean; direction?: 'in' | 'out' }) =>
    call<RequestList>('GET', `/requests${q(f)}`),
  request: (id: string) => call<RequestDetail>('GET', `/requests/${enc(id)}`),
  requestTypes: () => call<RequestTypes>('GET', '/requests/types'),
  checkRequest: (type: string, draft: unknown) =>
    call<{ warnings: Warning[]; invalid: { code: string; message: string } | null }>(
      'POST',
      '/requests/check',
      {
        type,
        draft,
      },
    ),
  createRequest: (input: {
    type: string;
    to: string;
    draft: unknown;
    send?: boolean;
    despiteWarnings?: boolean;
    confirmed?: string[];
  }) => call<{ id: string; state: string; warnings?: Warning[] }>('POST', '/requests', input),
  sendRequest: (id: string, input: { despiteWarnings?: boolean; confirmed?: string[] }) =>
    call<{ id: string }>('POST', `/requests/${enc(id)}/send`, input),
  actions: (id: string) => call<ActionsView>('GET', `/requests/${enc(id)}/actions`),
  setStatus: (
    id: string,
    body: {
      status: string;
      note?: string;
      ground?: string;
      withoutConsultation?: string;
      reference?: string;
      uploads?: { id: string; role: string; language?: string }[];
    },
  ) => call<unknown>('POST', `/requests/${enc(id)}/status`, body),
  supplement: (id: string, body: { kind?: string; text: string; language?: string }) =>
    call<unknown>('POST', `/requests/${enc(id)}/supplement`, body),
  requestMessage: (id: string, body: { body: string; subject?: string; language?: string }) =>
    call<unknown>('POST', `/requests/${enc(id)}/messages`, body),
  evidence: (id: string) => call<Evidence>('GET', `/requests/${enc(id)}/evidence`),

  counterparts: () => call<{ counterparts: Counterpart[] }>('GET', '/counterparts'),
  verify: (authority: string, code: string) =>
    call<{ authority: string; safetyCode: string; verifiedAt: string }>('POST', '/counterparts/verify', {
      authority,
      code,
    }),
  keyHistory: (authority: string) => call<KeyHistory>('GET', `/counterparts/${enc(authority)}/history`),
  alarms: () => call<AlarmsView>('GET', '/alarms'),
  nodes: () => call<NodesView>('GET', '/nodes'),
  approveNode: (code: string, passphrase: string) =>
    call<{ node: string }>('POST', '/nodes/approve', { code, passphrase }),
  rejectNode: (code: string) => call<unknown>('POST', '/nodes/reject', { code }),
  revokeNode: (node: string, passphrase: string, reason?: string) =>
    call<{ node: string }>('POST', '/nodes/revoke', { node, passphrase, ...(reason ? { reason } : {}) }),

  meetings: (tz?: string) => call<{ meetings: Meeting[] }>('GET', `/meetings${q({ tz })}`),
  meeting: (id: string, tz?: string) => call<Meeting>('GET', `/meetings/${enc(id)}${q({ tz })}`),
  rsvp: (id: string, answer: string, confirmed?: string[]) =>
    call<Meeting>('POST', `/meetings/${enc(id)}/rsvp`, { answer, ...(confirmed ? { confirmed } : {}) }),
  icsUrl: (id: string) => `${BASE}/meetings/${enc(id)}/ics`,
  eventsUrl: () => `${BASE}/events`,
};

/** The authority of a node address ("node/authority") or the address itself. */
export const authorityOf = (address: string): string => address.slice(address.indexOf('/') + 1);
