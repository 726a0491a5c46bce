/**
 * Request views for the service's routes (routes-requests.ts): the vocabularies and the draft's
 * schema a web form is derived from, what this side may set next and what each step asks for,
 * creating and sending with the same unverified-counterpart rule as sendView, and the delivery
 * evidence of a request with each receipt verified.
 */
import { EntraideError } from '../../shared/errors.ts';
import { SUPPLEMENT_KINDS } from '../../shared/protocol/content.ts';
import { DEFAULT_REQUEST_HANDLING, FORWARDINGS, VISIBILITIES } from '../../shared/requests/handling.ts';
import { groundsFor } from '../../shared/requests/grounds.ts';
import { FINAL_STATES, nextStatuses, type Side } from '../../shared/requests/lifecycle.ts';
import { LEGAL_BASIS_KINDS, PERSON_ROLES, RequestDraft } from '../../shared/requests/request.ts';
import {
  LANGUAGES,
  REFUSAL_GROUNDS,
  REQUEST_TYPE_LABELS,
  REQUEST_TYPES,
  STATUSES,
  URGENCIES,
  type RefusalGround,
  type Status,
} from '../../shared/requests/vocabulary.ts';
import { NOTE_REQUIRED } from '../../shared/requests/status-update.ts';
import type { Warning } from '../../shared/requests/completeness.ts';
import type { AuthorityNode, SendResult } from '../node.ts';
import type { Evidence } from '../receipts.ts';
import type { RequestDetail } from '../requests.ts';
import { compareAdvice, fetchIfReachable } from './desk.ts';

/** The vocabularies and the draft's JSON schema (typebox), from which a web form is derived. */
export function requestTypesView() {
  return {
    types: REQUEST_TYPES.map((t) => ({ type: t, label: REQUEST_TYPE_LABELS[t] })),
    urgencies: [...URGENCIES],
    statuses: [...STATUSES],
    refusalGrounds: Object.entries(REFUSAL_GROUNDS).map(([ground, label]) => ({ ground, label })),
    legalBasisKinds: [...LEGAL_BASIS_KINDS],
    personRoles: [...PERSON_ROLES],
    languages: [...LANGUAGES],
    supplementKinds: [...SUPPLEMENT_KINDS],
    /** The handling code: who may read a request on the requested side, and whether it may be forwarded. */
    handling: {
      visibilities: [...VISIBILITIES],
      forwardings: [...FORWARDINGS],
      default: DEFAULT_REQUEST_HANDLING,
    },
    // The typebox schema is plain JSON Schema (its symbols are dropped by JSON.stringify).
    draftSchema: JSON.parse(JSON.stringify(RequestDraft)) as Record<string, unknown>,
  };
}

/**
 * Refused with UNVERIFIED_COUNTERPART, nothing sent, when `authority` was never verified nor
 * confirmed and the officer did not confirm it now (as sendView and the CLI's confirmCounterparts).
 * Returns the counterparts to record as confirmed once the send succeeded.
 */
export async function mustBeConfirmed(
  node: AuthorityNode,
  authorities: string[],
  confirmed: string[] = [],
): Promise<string[]> {
  const ok = new Set(confirmed);
  const unverified = await node.counterparts.unverified(authorities);
  const left = unverified.filter((u) => !ok.has(u.authority));
  if (left.length > 0) {
    throw new EntraideError(
      'UNVERIFIED_COUNTERPART',
      `nothing was sent: ${left.map((u) => compareAdvice(u.authority, u.safetyCode)).join('; ')}`,
      { unverified: left },
    );
  }
  return unverified.map((u) => u.authority);
}

export interface CreateInput {
  type: string;
  to: string;
  draft: unknown;
  send?: boolean | undefined;
  despiteWarnings?: boolean | undefined;
  confirmed?: string[] | undefined;
}

export interface CreateResult {
  id: string;
  state: Status;
  warnings: Warning[];
  sent?: SendResult;
  request: RequestDetail;
}

/** Creates a request: kept as a draft, or (send) sent once the counterpart is verified or confirmed. */
export async function createRequestView(node: AuthorityNode, input: CreateInput): Promise<CreateResult> {
  // Checked first, as the CLI does: a type or draft that cannot be sent is said before anything else.
  node.requests.check(input.type, input.draft);
  const confirmed = input.send ? await mustBeConfirmed(node, [input.to], input.confirmed) : [];
  const r = await node.requests.create({
    type: input.type,
    to: input.to,
    draft: input.draft,
    asDraft: !input.send,
    despiteWarnings: input.despiteWarnings ?? false,
  });
  if (r.state !== 'draft') await node.counterparts.confirm(confirmed);
  return { ...r, request: node.requests.show(r.id) };
}

/** Sends a request kept as a draft (same counterpart rule as creating one). */
export async function sendDraftView(
  node: AuthorityNode,
  id: string,
  input: { despiteWarnings?: boolean | undefined; confirmed?: string[] | undefined },
): Promise<{ id: string; sent: SendResult; warnings: Warning[]; request: RequestDetail }> {
  const { requested } = node.requests.mustExist(id);
  const confirmed = await mustBeConfirmed(node, [requested], input.confirmed);
  const r = await node.requests.sendDraft(id, input.despiteWarnings ?? false);
  await node.counterparts.confirm(confirmed);
  return { ...r, request: node.requests.show(r.id) };
}

export interface ActionView {
  status: Status;
  /** A note: the reasons of a refusal (UNTOC art. 18(23)), the information asked for. */
  note: 'required' | 'optional';
  /** A ground of refusal (refused only). */
  ground: 'required' | 'none';
  /** The grounds this type of request may be refused on (refused only; grounds.ts). */
  grounds: RefusalGround[];
  /**
   * For a refusal: whether the consultation of UNTOC art. 18(26) was held (conditions proposed);
   * when not, a refusal on a ground of art. 18(21) says why (`withoutConsultation`).
   */
  consultation: 'held' | 'not_held' | 'none';
  /** This authority's own reference number (acknowledged, requested side only). */
  reference: 'optional' | 'none';
  /** No status update carries a date of its own: it is signed with the time it is made. */
  date: 'none';
}

export interface ActionsView {
  id: string;
  state: Status;
  side: Side;
  /** A draft is sent (POST /requests/:id/send), not updated. */
  draft: boolean;
  final: boolean;
  actions: ActionView[];
  /** The requesting side may send a supplement while the request is open. */
  supplement: boolean;
  /** A message on the request, once it was sent. */
  message: boolean;
}

/** What this side may move the request to now, and what each step asks for (lifecycle.ts, status-rules.ts). */
export function requestActionsView(node: AuthorityNode, idOrPrefix: string): ActionsView {
  const row = node.requests.mustExist(idOrPrefix);
  const side: Side = row.requesting === node.authority ? 'requesting' : 'requested';
  const derived = node.requests.derive(row);
  const state = derived.state;
  const draft = row.sentAt === null;
  const final = FINAL_STATES.includes(state);
  const consulted = derived.history.some((h) => h.update.status === 'conditions_proposed');
  const actions = draft
    ? []
    : nextStatuses(state, side, row.requestType).map((status): ActionView => ({
        status,
        note: NOTE_REQUIRED[status] ? 'required' : 'optional',
        ground: status === 'refused' ? 'required' : 'none',
        grounds: status === 'refused' ? groundsFor(row.requestType) : [],
        consultation: status !== 'refused' ? 'none' : consulted ? 'held' : 'not_held',
        reference: status === 'acknowledged' && side === 'requested' ? 'optional' : 'none',
        date: 'none',
      }));
  return {
    id: row.id,
    state,
    side,
    draft,
    final,
    actions,
    supplement: side === 'requesting' && !draft && !final,
    message: !draft,
  };
}

/**
 * The delivery evidence of a request (the envelope that carried it) with each signed receipt
 * verified, after fetching what waits (as `entraide evidence`).
 */
export async function requestEvidenceView(
  node: AuthorityNode,
  idOrPrefix: string,
): Promise<Evidence & { request: string; fetched: boolean }> {
  const fetched = await fetchIfReachable(node);
  const row = node.requests.mustExist(idOrPrefix);
  if (row.direction !== 'out' || row.envelopeId === null) {
    throw new EntraideError(
      'EVIDENCE_NOT_FOUND',
      row.direction === 'out'
        ? `request ${row.id} is a draft: it has no delivery evidence yet`
        : `request ${row.id} was sent by ${row.requesting}: evidence is kept by the side that sent it`,
    );
  }
  return { request: row.id, fetched, ...node.receipts.evidence(row.envelopeId) };
}
