/**
 * A request for cooperation as the requesting authority drafts it (`RequestDraft`, what an
 * officer writes in request.json) and as it travels inside an envelope (`RequestContent`: the
 * draft plus its id, type and the requesting side's identity).
 *
 * The fields follow UNTOC art. 18(15): the authority conducting the proceedings and their stage
 * (b), the facts (c), the assistance sought as the kinds of art. 18(3) with any particular
 * procedure to follow (d), the persons concerned with where they are (e), the purpose (f). A
 * request may come in several language versions, one of them authoritative, with a translation
 * still to come (`translationPending`), and may name the requests it follows (`relatedTo`).
 *
 * Requests stored before measures were coded carry them as plain strings: a content may still
 * hold them (RequestContent reads both), a draft written that way is read as measures of kind
 * `other` (normalizeDraft); nothing already signed is rewritten.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { UUID_PATTERN } from '../uuid.ts';
import { literals } from '../protocol/literals.ts';
import { Handling } from './handling.ts';
import { FileManifest } from '../files/manifest.ts';
import { REQUEST_LANGUAGE_PATTERN } from './languages.ts';
import {
  DATA_CATEGORY_CODES,
  LEGAL_BASIS_KINDS,
  MEASURE_KIND_CODES,
  OFFENCE_CATEGORY_CODES,
  PROCEEDING_STAGES,
  RELATION_CODES,
  REQUEST_TYPES,
  URGENCIES,
} from './vocabulary.ts';

const text = (max: number, opts: { minLength?: number } = {}) =>
  Type.String({ minLength: opts.minLength ?? 1, maxLength: max });
const list = <T extends TSchema>(item: T, max: number) => Type.Array(item, { maxItems: max });

/** A calendar date, YYYY-MM-DD (deadlines are days: the requested State's working day ends it). */
export const DATE_PATTERN = '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$';
const CalendarDate = Type.String({ pattern: DATE_PATTERN });

export const REQUEST_LIMITS = {
  title: 300,
  summaryOfFacts: 20_000,
  item: 2_000,
  measures: 50,
  persons: 50,
  evidence: 100,
  legalBases: 10,
  reference: 100,
  versions: 6,
  related: 20,
} as const;

export { LEGAL_BASIS_KINDS } from './vocabulary.ts';
/** A request's language: an ISO 639 code (languages.ts checks two-letter ones against ISO 639-1). */
export const RequestLanguage = Type.String({ pattern: REQUEST_LANGUAGE_PATTERN });
export const PERSON_ROLES = [
  'suspect',
  'accused',
  'person_sought',
  'sentenced_person',
  'witness',
  'victim',
  'expert',
  'owner_of_assets',
  'other',
] as const;

export const LegalBasis = Type.Object(
  {
    kind: literals(LEGAL_BASIS_KINDS),
    /** e.g. "UNTOC art. 18", "Treaty on mutual legal assistance between A and B (2003), art. 5". */
    reference: Type.Optional(text(REQUEST_LIMITS.item)),
  },
  { additionalProperties: false },
);

export const Person = Type.Object(
  {
    role: literals(PERSON_ROLES),
    name: text(300),
    dateOfBirth: Type.Optional(CalendarDate),
    nationality: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    identifiers: Type.Optional(text(REQUEST_LIMITS.item)),
    /** Where the person is, as far as known (art. 18(15)(e)). */
    location: Type.Optional(text(500)),
    details: Type.Optional(text(REQUEST_LIMITS.item)),
  },
  { additionalProperties: false },
);

export const EvidenceItem = Type.Object(
  {
    description: text(REQUEST_LIMITS.item),
    /** Who holds it: a bank, a service provider, a registry. */
    holder: Type.Optional(text(500)),
    location: Type.Optional(text(500)),
    /** Account numbers, IP addresses and times, subscriber ids... */
    identifiers: Type.Optional(text(REQUEST_LIMITS.item)),
    /** For data: subscriber information, traffic data or content (each obtained differently). */
    dataCategory: Type.Optional(literals(DATA_CATEGORY_CODES)),
  },
  { additionalProperties: false },
);

/** One measure requested: a kind of assistance of art. 18(3), described. */
export const Measure = Type.Object(
  {
    kind: literals(MEASURE_KIND_CODES),
    description: text(REQUEST_LIMITS.item),
  },
  { additionalProperties: false },
);
export type Measure = Static<typeof Measure>;

/** The proceedings the request serves (art. 18(15)(b)). */
export const Proceedings = Type.Object(
  {
    stage: literals(PROCEEDING_STAGES),
    /** The name and functions of the authority conducting them: a court, a prosecutor's office. */
    conductingAuthority: Type.Optional(text(500)),
  },
  { additionalProperties: false },
);

/** The request in another language: its main texts, translated. */
export const LanguageVersion = Type.Object(
  {
    language: RequestLanguage,
    /** This version, not the main text, is the one that binds. At most one version is. */
    authoritative: Type.Optional(Type.Boolean()),
    title: text(REQUEST_LIMITS.title),
    summaryOfFacts: Type.Optional(text(REQUEST_LIMITS.summaryOfFacts)),
    purpose: Type.Optional(text(REQUEST_LIMITS.item)),
    /** The measures' descriptions, in the order of the main text. */
    measures: Type.Optional(list(text(REQUEST_LIMITS.item), REQUEST_LIMITS.measures)),
  },
  { additionalProperties: false },
);
export type LanguageVersion = Static<typeof LanguageVersion>;

/** A link to an earlier request (this node's own or its counterpart's). */
export const RelatedRequest = Type.Object(
  {
    request: Type.String({ pattern: `^${UUID_PATTERN}$` }),
    relation: literals(RELATION_CODES),
  },
  { additionalProperties: false },
);

export const Offence = Type.Object(
  {
    description: text(REQUEST_LIMITS.item),
    /** The provision of the requesting State's law, e.g. "Penal Code art. 321". */
    provision: Type.Optional(text(500)),
    /** The maximum penalty, which extradition treaties ask for. */
    maxPenalty: Type.Optional(text(200)),
    /** Its category, for statistics by offence. */
    category: Type.Optional(literals(OFFENCE_CATEGORY_CODES)),
  },
  { additionalProperties: false },
);

export const Contact = Type.Object(
  {
    name: text(200),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{5,30}$' })),
    email: Type.Optional(Type.String({ pattern: '^[^@\\s]{1,64}@[^@\\s]{1,255}$' })),
    /** A point of contact reachable at any hour (UNTOC art. 18(13)). */
    available24h: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** The fields an officer writes; every field but the title and language may be completed later. */
const draftFields = {
  title: text(REQUEST_LIMITS.title),
  /** The language the request is written in (ISO 639). */
  language: RequestLanguage,
  legalBasis: Type.Optional(list(LegalBasis, REQUEST_LIMITS.legalBases)),
  proceedings: Type.Optional(Proceedings),
  offence: Type.Optional(Offence),
  summaryOfFacts: Type.Optional(text(REQUEST_LIMITS.summaryOfFacts)),
  /** What the evidence or action is sought for (art. 18(15)(f)). */
  purpose: Type.Optional(text(REQUEST_LIMITS.item)),
  measures: Type.Optional(list(Measure, REQUEST_LIMITS.measures)),
  /** Any particular procedure the requesting State wishes followed (arts. 18(15)(d), 18(17)). */
  procedures: Type.Optional(text(REQUEST_LIMITS.item)),
  persons: Type.Optional(list(Person, REQUEST_LIMITS.persons)),
  evidence: Type.Optional(list(EvidenceItem, REQUEST_LIMITS.evidence)),
  urgency: Type.Optional(literals(URGENCIES)),
  urgencyReason: Type.Optional(text(REQUEST_LIMITS.item)),
  /** The day by which the requesting State needs the execution. */
  deadline: Type.Optional(CalendarDate),
  /** For preservation and production of data: the day the provider may delete it. */
  dataRetentionUntil: Type.Optional(CalendarDate),
  references: Type.Object(
    {
      requesting: text(REQUEST_LIMITS.reference),
      requested: Type.Optional(text(REQUEST_LIMITS.reference)),
    },
    { additionalProperties: false },
  ),
  confidentiality: Type.Optional(
    Type.Object(
      { required: Type.Boolean(), requirements: Type.Optional(text(REQUEST_LIMITS.item)) },
      { additionalProperties: false },
    ),
  ),
  handling: Type.Optional(Handling),
  contact: Type.Optional(Contact),
  /** The requesting side's case number, shared by the requests of one case. */
  caseReference: Type.Optional(text(REQUEST_LIMITS.reference)),
  relatedTo: Type.Optional(list(RelatedRequest, REQUEST_LIMITS.related)),
  /** The informal consultation this request follows (shared/requests/consultation.ts). */
  consultation: Type.Optional(Type.String({ pattern: `^${UUID_PATTERN}$` })),
  versions: Type.Optional(list(LanguageVersion, REQUEST_LIMITS.versions)),
  /** A translation that will follow, into `language`, by `due`. */
  translationPending: Type.Optional(
    Type.Object({ language: RequestLanguage, due: CalendarDate }, { additionalProperties: false }),
  ),
};

export const RequestDraft = Type.Object(draftFields, { additionalProperties: false });
export type RequestDraft = Static<typeof RequestDraft>;

export const RequestContent = Type.Object(
  {
    type: Type.Literal('request'),
    /** The request's own id (UUIDv7), chosen by the requesting node; envelopes carry it. */
    id: Type.String({ pattern: `^${UUID_PATTERN}$` }),
    requestType: literals(REQUEST_TYPES),
    ...draftFields,
    /** Coded measures; a request stored before they were coded holds plain strings. */
    measures: Type.Optional(list(Type.Union([text(REQUEST_LIMITS.item), Measure]), REQUEST_LIMITS.measures)),
    handling: Handling,
    urgency: literals(URGENCIES),
    /** Its documents (format 3): the request letter, court orders, translations... */
    files: Type.Optional(FileManifest),
  },
  { additionalProperties: false },
);
export type RequestContent = Static<typeof RequestContent>;

/** A measure as stored: coded, or a plain string from before measures were coded (kind `other`). */
export function measureOf(m: string | Measure): Measure {
  return typeof m === 'string' ? { kind: 'other', description: m } : m;
}

/** Free-text fields whose script must match the request's language, by path. */
export function textFields(r: RequestDraft): { field: string; value: string }[] {
  const fields: { field: string; value: string }[] = [{ field: 'title', value: r.title }];
  if (r.summaryOfFacts) fields.push({ field: 'summaryOfFacts', value: r.summaryOfFacts });
  if (r.purpose) fields.push({ field: 'purpose', value: r.purpose });
  if (r.procedures) fields.push({ field: 'procedures', value: r.procedures });
  if (r.offence) fields.push({ field: 'offence.description', value: r.offence.description });
  r.measures?.forEach((m, i) => fields.push({ field: `measures[${i}].description`, value: m.description }));
  r.evidence?.forEach((e, i) => fields.push({ field: `evidence[${i}].description`, value: e.description }));
  if (r.urgencyReason) fields.push({ field: 'urgencyReason', value: r.urgencyReason });
  if (r.confidentiality?.requirements)
    fields.push({ field: 'confidentiality.requirements', value: r.confidentiality.requirements });
  return fields;
}
