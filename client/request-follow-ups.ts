/**
 * Following requests up. What a request's flags need to know beyond its own updates: whether a preservation this side
 * asked for was followed up (a production request, or an extension, linked to it and sent), and
 * whether the translation a request announced arrived (a supplement of kind translation in that
 * language); and asking for preserved data to be kept longer (`extendPreservation`).
 */
import { EntraideError } from '../shared/errors.ts';
import { SUPPLEMENT_SUBJECTS, type RequestContent } from '../shared/protocol/content.ts';
import type { Warning } from '../shared/requests/completeness.ts';
import type { SendResult } from './node-port.ts';
import type { NodeStore } from './store/node-store.ts';
import type { RequestRow, RequestStore } from './store/request-store.ts';

/** Undefined where no follow-up is owed by this side: a received request, or not a preservation. */
export function followedUp(rows: RequestStore, row: RequestRow): boolean | undefined {
  if (row.direction !== 'out' || row.requestType !== 'expedited_preservation') return undefined;
  return rows
    .linksTo(row.id)
    .some(
      (l) =>
        (l.relation === 'follow_up' || l.relation === 'extends_preservation') &&
        rows.requestById(l.fromId)?.sentAt != null,
    );
}

/** Undefined when the request announced no translation. */
export function translationArrived(
  store: Pick<NodeStore, 'messagesOn'>,
  requestId: string,
  content: RequestContent,
): boolean | undefined {
  const language = content.translationPending?.language;
  if (!language) return undefined;
  return store
    .messagesOn(requestId)
    .some(
      (m) =>
        m.kind === 'supplement' && m.subject === SUPPLEMENT_SUBJECTS.translation && m.language === language,
    );
}

/** What extending a preservation needs of the request desk. */
export interface PreservationDesk {
  mustExist(idOrPrefix: string): RequestRow;
  create(input: {
    type: string;
    to: string;
    draft: unknown;
    despiteWarnings?: boolean;
  }): Promise<{ id: string; state: string; warnings: Warning[]; sent?: SendResult }>;
}

/**
 * Asks the requested authority to keep preserved data longer: a new preservation request, the
 * same as the first but for its retention date (and title or reference, when given), linked to
 * it as `extends_preservation` so that the first no longer shows `followup_due`. What was true of
 * the first only (its deadline, a translation then to come, its documents) is not repeated.
 */
export function extendPreservation(
  desk: PreservationDesk,
  idOrPrefix: string,
  opts: {
    until: string;
    title?: string | undefined;
    reference?: string | undefined;
    despiteWarnings?: boolean | undefined;
  },
): Promise<{ id: string; state: string; warnings: Warning[]; sent?: SendResult }> {
  const row = desk.mustExist(idOrPrefix);
  if (row.direction !== 'out' || row.requestType !== 'expedited_preservation' || !row.sentAt)
    throw new EntraideError(
      'USAGE',
      `request ${row.id} is not a preservation this authority sent: only the requesting side extends one`,
    );
  const {
    type: _t,
    id: _i,
    requestType: _r,
    files: _f,
    deadline: _d,
    translationPending: _p,
    ...draft
  } = JSON.parse(row.content) as RequestContent;
  return desk.create({
    type: 'expedited_preservation',
    to: row.requested,
    draft: {
      ...draft,
      dataRetentionUntil: opts.until,
      ...(opts.title ? { title: opts.title } : {}),
      references: { requesting: opts.reference ?? draft.references.requesting },
      relatedTo: [{ request: row.id, relation: 'extends_preservation' }],
    },
    despiteWarnings: opts.despiteWarnings ?? false,
  });
}
