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
import { isRequestLanguage } from './languages.ts';
import { RequestDraft, textFields, type Measure } from './request.ts';
import { inLanguageScript, scriptName } from './script.ts';
import { REQUEST_TYPE_LABELS, UNNAMED_BASES, type RequestType, type WarningCode } from './vocabulary.ts';

/** A draft, or a request as stored (whose measures may be plain strings from before they were coded). */
export type DraftLike = Omit<RequestDraft, 'measures'> & {
  measures?: readonly (string | Measure)[] | undefined;
};

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
 * A draft as an officer may still write it: measures as plain strings (as before they were
 * coded) become measures of kind `other`; everything else is left for the schema to judge.
 */
export function normalizeDraft(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.measures)) return value;
  return {
    ...v,
    measures: v.measures.map((m) => (typeof m === 'string' ? { kind: 'other', description: m } : m)),
  };
}

function mustBeLanguage(code: string, field: string): void {
  if (!isRequestLanguage(code))
    throw new EntraideError(
      'SCHEMA_INVALID',
      `${field} "${code}" is not an ISO 639 language code (two letters of ISO 639-1, such as uz or ka, or three of ISO 639-2/3)`,
    );
}

function mustBeFuture(day: string, field: string, today: string): void {
  if (!isCalendarDay(day)) throw new EntraideError('SCHEMA_INVALID', `${field} is not a real calendar day`);
  if (day < today)
    throw new EntraideError('DEADLINE_PAST', `${field} ${day} is in the past (today is ${today})`);
}

function mustBeInScript(field: string, text: string, language: string): void {
  if (!inLanguageScript(text, language)) {
    throw new EntraideError(
      'FIELD_SCRIPT_MISMATCH',
      `${field} is not written in ${scriptName(language)} script, but its language is "${language}"`,
    );
  }
}

/** The language versions: each in another language, in its own script, at most one authoritative. */
function checkVersions(draft: RequestDraft): void {
  const versions = draft.versions ?? [];
  const seen = new Set([draft.language]);
  versions.forEach((v, i) => {
    const at = `request.versions[${i}]`;
    mustBeLanguage(v.language, `${at}.language`);
    if (seen.has(v.language))
      throw new EntraideError('SCHEMA_INVALID', `${at}.language "${v.language}" has a version already`);
    seen.add(v.language);
    mustBeInScript(`${at}.title`, v.title, v.language);
    if (v.summaryOfFacts) mustBeInScript(`${at}.summaryOfFacts`, v.summaryOfFacts, v.language);
    if (v.purpose) mustBeInScript(`${at}.purpose`, v.purpose, v.language);
    v.measures?.forEach((m, j) => mustBeInScript(`${at}.measures[${j}]`, m, v.language));
    if (v.measures && v.measures.length !== (draft.measures?.length ?? 0))
      throw new EntraideError(
        'SCHEMA_INVALID',
        `${at}.measures has ${v.measures.length} descriptions for the ${draft.measures?.length ?? 0} measures of the request`,
      );
  });
  if (versions.filter((v) => v.authoritative).length > 1)
    throw new EntraideError('SCHEMA_INVALID', 'request.versions: only one version may be authoritative');
  const pending = draft.translationPending;
  if (pending) {
    mustBeLanguage(pending.language, 'request.translationPending.language');
    if (seen.has(pending.language))
      throw new EntraideError(
        'SCHEMA_INVALID',
        `request.translationPending.language "${pending.language}": the request has that version already`,
      );
  }
}

/**
 * Checks the draft's shape and the rules no counterpart could act on; `today` is YYYY-MM-DD.
 * Throws SCHEMA_INVALID, DEADLINE_PAST or FIELD_SCRIPT_MISMATCH naming the field.
 */
export function validateDraft(value: unknown, today: string): RequestDraft {
  const draft = check(RequestDraft, normalizeDraft(value), 'request');
  mustBeLanguage(draft.language, 'request.language');
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
    if (day !== undefined) mustBeFuture(day, `request.${field}`, today);
  }
  if (draft.translationPending)
    mustBeFuture(draft.translationPending.due, 'request.translationPending.due', today);
  for (const { field, value: text } of textFields(draft))
    mustBeInScript(`request.${field}`, text, draft.language);
  checkVersions(draft);
  const related = new Set<string>();
  for (const r of draft.relatedTo ?? []) {
    if (related.has(r.request))
      throw new EntraideError('SCHEMA_INVALID', `request.relatedTo names ${r.request} twice`);
    related.add(r.request);
  }
  return draft;
}

const PRESERVATION_LIKE: ReadonlySet<RequestType> = new Set([
  'expedited_preservation',
  'stored_data_production',
  'real_time_traffic_collection',
]);

/** What a counterpart would send back for, per request type; empty when nothing is missing. */
export function completenessWarnings(type: RequestType, d: DraftLike): Warning[] {
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
  d.legalBasis?.forEach((b, i) => {
    if (UNNAMED_BASES.includes(b.kind) && !b.reference)
      add(
        'legal_basis_unnamed',
        `legalBasis[${i}].reference`,
        `legal basis "${b.kind}" without its name: say which treaty or law`,
      );
  });
  if (!d.proceedings)
    add(
      'proceedings_missing',
      'proceedings',
      'no proceedings: say their stage and the authority conducting them (UNTOC art. 18(15)(b))',
    );
  else if (!d.proceedings.conductingAuthority)
    add(
      'conducting_authority_missing',
      'proceedings.conductingAuthority',
      'the authority conducting the proceedings is not named (UNTOC art. 18(15)(b))',
    );
  if (!d.summaryOfFacts) add('facts_missing', 'summaryOfFacts', 'no summary of the facts');
  if (!d.purpose && type !== 'extradition' && type !== 'transfer_of_sentenced_persons')
    add(
      'purpose_missing',
      'purpose',
      'no purpose: say what the evidence or action is sought for (UNTOC art. 18(15)(f))',
    );
  d.persons?.forEach((p, i) => {
    if (!p.location && !p.nationality)
      add(
        'person_location_missing',
        `persons[${i}].location`,
        `where ${p.name} is, or their nationality, is not given (UNTOC art. 18(15)(e), where possible)`,
      );
  });
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
    data.forEach((e, i) => {
      if (!e.dataCategory)
        add(
          'data_category_missing',
          `evidence[${i}].dataCategory`,
          'say whether subscriber information, traffic data or content is sought: each is obtained differently',
        );
    });
  }
  return w;
}
