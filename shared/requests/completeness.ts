/**
 * Two checks before a request leaves the node.
 * - `validateDraft` refuses what is wrong (a deadline in the past, text in the wrong script, a
 *   malformed handling code): typed errors, nothing stored.
 * - `completenessWarnings` lists what a counterpart would send the request back for (no legal
 *   basis, no summary of facts, a preservation request without a retention date...): the officer
 *   completes the request or sends it anyway, knowingly.
 */
import { EntraideError } from '../errors.ts';
import { check } from '../protocol/validate.ts';
import { handlingProblem } from './handling.ts';
import { RequestDraft, textFields } from './request.ts';
import { inLanguageScript, scriptName } from './script.ts';
import { REQUEST_TYPE_LABELS, type RequestType, type WarningCode } from './vocabulary.ts';

export interface Warning {
  /** Stable code, e.g. `legal_basis_missing` (WARNING_CODES). */
  code: string;
  field: string;
  message: string;
}

/** True for a YYYY-MM-DD that exists (not 2026-02-30). */
export function isCalendarDay(day: string): boolean {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day;
}

/** Today as YYYY-MM-DD in UTC, from a clock reading. */
export function calendarDay(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/**
 * Checks the draft's shape and the rules no counterpart could act on; `today` is YYYY-MM-DD.
 * Throws SCHEMA_INVALID, DEADLINE_PAST or FIELD_SCRIPT_MISMATCH naming the field.
 */
export function validateDraft(value: unknown, today: string): RequestDraft {
  const draft = check(RequestDraft, value, 'request');
  if (draft.handling) {
    const problem = handlingProblem(draft.handling);
    if (problem) throw new EntraideError('SCHEMA_INVALID', `request.handling: ${problem}`);
  }
  draft.persons?.forEach((p, i) => {
    if (p.dateOfBirth !== undefined && !isCalendarDay(p.dateOfBirth))
      throw new EntraideError(
        'SCHEMA_INVALID',
        `request.persons[${i}].dateOfBirth is not a real calendar day`,
      );
  });
  for (const field of ['deadline', 'dataRetentionUntil'] as const) {
    const day = draft[field];
    if (day === undefined) continue;
    if (!isCalendarDay(day))
      throw new EntraideError('SCHEMA_INVALID', `request.${field} is not a real calendar day`);
    if (day < today)
      throw new EntraideError('DEADLINE_PAST', `request.${field} ${day} is in the past (today is ${today})`);
  }
  for (const { field, value: text } of textFields(draft)) {
    if (!inLanguageScript(text, draft.language)) {
      throw new EntraideError(
        'FIELD_SCRIPT_MISMATCH',
        `request.${field} is not written in ${scriptName(draft.language)} script, but the request's language is "${draft.language}"`,
      );
    }
  }
  return draft;
}

const PRESERVATION_LIKE: ReadonlySet<RequestType> = new Set([
  'expedited_preservation',
  'stored_data_production',
  'real_time_traffic_collection',
]);

/** What a counterpart would send back for, per request type; empty when nothing is missing. */
export function completenessWarnings(type: RequestType, d: RequestDraft): Warning[] {
  const w: Warning[] = [];
  const add = (code: WarningCode, field: string, message: string) => w.push({ code, field, message });
  const label = REQUEST_TYPE_LABELS[type];
  const roles = new Set((d.persons ?? []).map((p) => p.role));

  if (!d.legalBasis?.length)
    add(
      'legal_basis_missing',
      'legalBasis',
      'no legal basis: cite UNTOC art. 18 (or 16, 13), a treaty, or reciprocity',
    );
  if (!d.summaryOfFacts) add('facts_missing', 'summaryOfFacts', 'no summary of the facts');
  if (!d.offence) add('offence_missing', 'offence', 'no offence described');
  if (!d.measures?.length && type !== 'extradition' && type !== 'transfer_of_sentenced_persons')
    add('measures_missing', 'measures', `no measures requested: say what the ${label} should achieve`);
  if (!d.contact) add('contact_missing', 'contact', 'no point of contact for questions about the request');
  if ((d.urgency === 'urgent' || d.urgency === 'immediate') && !d.urgencyReason)
    add('urgency_reason_missing', 'urgencyReason', `urgency "${d.urgency}" without a reason`);
  if (d.confidentiality?.required && !d.confidentiality.requirements)
    add(
      'confidentiality_unspecified',
      'confidentiality.requirements',
      'confidentiality asked for but not described',
    );

  switch (type) {
    case 'extradition':
      if (!roles.has('person_sought')) add('person_sought_missing', 'persons', 'no person sought identified');
      if (d.offence && !d.offence.maxPenalty)
        add('penalty_missing', 'offence.maxPenalty', 'no maximum penalty: extradition treaties require it');
      break;
    case 'transfer_of_sentenced_persons':
      if (!roles.has('sentenced_person'))
        add('sentenced_person_missing', 'persons', 'no sentenced person identified');
      break;
    case 'confiscation':
      if (!d.evidence?.length)
        add('assets_missing', 'evidence', 'no assets described (what, where, held by whom)');
      break;
    case 'videoconference_hearing':
      if (!roles.has('witness') && !roles.has('expert') && !roles.has('accused') && !roles.has('victim'))
        add('person_to_hear_missing', 'persons', 'no person to be heard');
      if (!d.deadline) add('hearing_date_missing', 'deadline', 'no date proposed for the hearing');
      break;
    case 'controlled_delivery':
    case 'joint_investigation':
      if (!d.deadline) add('deadline_missing', 'deadline', `no date by which the ${label} must be agreed`);
      break;
    default:
      break;
  }
  if (PRESERVATION_LIKE.has(type)) {
    if (!d.deadline && !d.dataRetentionUntil)
      add(
        'retention_deadline_missing',
        'dataRetentionUntil',
        'no deadline: say until when the provider keeps the data (dataRetentionUntil), or the deadline',
      );
    const data = d.evidence ?? [];
    if (data.length === 0 || data.every((e) => !e.holder || !e.identifiers))
      add(
        'data_unidentified',
        'evidence',
        'the data are not identified: name the provider (holder) and the identifiers (accounts, IP addresses and times)',
      );
  }
  return w;
}
