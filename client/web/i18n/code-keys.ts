/**
 * The keys of the codes catalogues (client/web/i18n/codes/<lang>.json): one label per code that
 * shared/ defines, so that a person never sees a raw code. The lists come from the shared
 * constants themselves: a code added there shows up as a missing label in
 * test/unit/catalogues.test.ts.
 *
 * Only light shared files are imported by value (vocabulary, request, handling, errors: plain
 * data and typebox). shared/meetings/meeting.ts loads libsodium and client/store/records.ts holds
 * only a type, so RSVP answers, message kinds and alarm kinds are imported as types, and their lists below are
 * held complete by the compiler (a `Record` over the type: a missing or extra code fails tsc);
 * the test also compares the RSVP list with meeting.ts at run time.
 */
import type { RsvpAnswer } from '../../../shared/meetings/meeting.ts';
import { FORWARDINGS, VISIBILITIES } from '../../../shared/requests/handling.ts';
import { LEGAL_BASIS_KINDS, PERSON_ROLES } from '../../../shared/requests/request.ts';
import {
  DATA_CATEGORY_CODES,
  LANGUAGES,
  MEASURE_KIND_CODES,
  MEASURE_STATES,
  OFFENCE_CATEGORY_CODES,
  PROCEEDING_STAGES,
  REFUSAL_GROUND_CODES,
  RELATION_CODES,
  REQUEST_TYPES,
  STATUSES,
  URGENCIES,
  WARNING_CODES,
} from '../../../shared/requests/vocabulary.ts';
import { ERROR_CODES, type ErrorCode } from '../../../shared/errors.ts';
import type { AuditEventKind } from '../../../shared/audit/audit-event.ts';
import type { AlarmKind, MessageKind } from '../../store/records.ts';
import type { DocumentState } from '../../store/document-store.ts';
import { FILE_ROLES } from '../../../shared/files/roles.ts';

const RSVP_ANSWER_SET: Record<RsvpAnswer, true> = { accept: true, decline: true, tentative: true };

const MESSAGE_KIND_SET: Record<MessageKind, true> = {
  message: true,
  request: true,
  status: true,
  supplement: true,
  receipts: true,
  network: true,
  meeting: true,
  hours: true,
  consultation: true,
  'consultation-comment': true,
};

const ALARM_KIND_SET: Record<AlarmKind, true> = {
  'log-inconsistent': true,
  'keylog-split-view': true,
  'rotation-failed': true,
  'relay-key-rotated': true,
  'master-key-rotated': true,
  'master-key-substituted': true,
  'forged-event': true,
  'own-key-unknown': true,
  'made-elsewhere': true,
  'gossip-head-invalid': true,
  'peer-key-changed': true,
  'peer-key-conflict': true,
  'peer-key-pinned': true,
  'peer-key-rotated': true,
  'peer-key-log-dropped': true,
};

const DOCUMENT_STATE_SET: Record<DocumentState, true> = {
  sealed: true,
  uploaded: true,
  pending: true,
  held: true,
  damaged: true,
};

const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

/** The kinds of a relay's audit log entries (shared/audit/audit-event.ts), for the auditor's view. */
const AUDIT_KIND_SET: Record<AuditEventKind, true> = {
  accepted: true,
  rejected: true,
  forwarded: true,
  received: true,
  delivered: true,
  expired: true,
  auth_failed: true,
  forbidden: true,
  login: true,
  key_event: true,
  id_conflict: true,
  blob_uploaded: true,
  blob_forwarded: true,
  blob_downloaded: true,
  blob_deleted: true,
};
export const AUDIT_KINDS = Object.keys(AUDIT_KIND_SET) as AuditEventKind[];

/** Each kind of code with its codes: `error` is the short title, `errorHint` the registry's hint. */
const CODES = {
  requestType: REQUEST_TYPES,
  status: STATUSES,
  refusalGround: REFUSAL_GROUND_CODES,
  urgency: URGENCIES,
  language: LANGUAGES,
  legalBasis: LEGAL_BASIS_KINDS,
  personRole: PERSON_ROLES,
  visibility: VISIBILITIES,
  forwarding: FORWARDINGS,
  rsvp: Object.keys(RSVP_ANSWER_SET) as RsvpAnswer[],
  messageKind: Object.keys(MESSAGE_KIND_SET) as MessageKind[],
  alarm: Object.keys(ALARM_KIND_SET) as AlarmKind[],
  warning: WARNING_CODES,
  measureKind: MEASURE_KIND_CODES,
  measureState: MEASURE_STATES,
  dataCategory: DATA_CATEGORY_CODES,
  proceedingStage: PROCEEDING_STAGES,
  relation: RELATION_CODES,
  offenceCategory: OFFENCE_CATEGORY_CODES,
  fileRole: FILE_ROLES,
  documentState: Object.keys(DOCUMENT_STATE_SET) as DocumentState[],
  auditKind: AUDIT_KINDS,
  error: ERROR_CODE_LIST,
  errorHint: ERROR_CODE_LIST,
} as const;

export type CodeKind = keyof typeof CODES;
/** The codes of one kind, e.g. `CodeOf<'status'>` is `'draft' | 'sent' | ...`. */
export type CodeOf<K extends CodeKind> = (typeof CODES)[K][number];

export const CODE_KINDS = Object.keys(CODES) as CodeKind[];

/** The catalogue key of a code, e.g. `codeKey('status', 'sent')` is `status.sent`. */
export function codeKey<K extends CodeKind>(kind: K, code: CodeOf<K>): string {
  return `${kind}.${code}`;
}

/** Every key a codes catalogue must have, and the only keys it may have, in a stable order. */
export function codeKeys(): string[] {
  return CODE_KINDS.flatMap((kind) => (CODES[kind] as readonly string[]).map((code) => `${kind}.${code}`));
}
