/**
 * A request for cooperation as the requesting authority drafts it (`RequestDraft`, what an
 * officer writes in request.json) and as it travels inside an envelope (`RequestContent`: the
 * draft plus its id, type and the requesting side's identity).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { UUID_PATTERN } from '../uuid.ts';
import { literals } from '../protocol/literals.ts';
import { Handling } from './handling.ts';
import { FileManifest } from '../files/manifest.ts';
import { LANGUAGES, REQUEST_TYPES, URGENCIES } from './vocabulary.ts';

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
} as const;

export const LEGAL_BASIS_KINDS = ['untoc', 'treaty', 'reciprocity', 'domestic_law', 'other'] as const;
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
    reference: text(REQUEST_LIMITS.item),
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
  /** The language the request is written in. */
  language: literals(LANGUAGES),
  legalBasis: Type.Optional(list(LegalBasis, REQUEST_LIMITS.legalBases)),
  offence: Type.Optional(Offence),
  summaryOfFacts: Type.Optional(text(REQUEST_LIMITS.summaryOfFacts)),
  measures: Type.Optional(list(text(REQUEST_LIMITS.item), REQUEST_LIMITS.measures)),
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
    handling: Handling,
    urgency: literals(URGENCIES),
    /** Its documents (format 3): the request letter, court orders, translations... */
    files: Type.Optional(FileManifest),
  },
  { additionalProperties: false },
);
export type RequestContent = Static<typeof RequestContent>;

/** Free-text fields whose script must match the request's language, by path. */
export function textFields(r: RequestDraft): { field: string; value: string }[] {
  const fields: { field: string; value: string }[] = [{ field: 'title', value: r.title }];
  if (r.summaryOfFacts) fields.push({ field: 'summaryOfFacts', value: r.summaryOfFacts });
  if (r.offence) fields.push({ field: 'offence.description', value: r.offence.description });
  r.measures?.forEach((m, i) => fields.push({ field: `measures[${i}]`, value: m }));
  r.evidence?.forEach((e, i) => fields.push({ field: `evidence[${i}].description`, value: e.description }));
  if (r.urgencyReason) fields.push({ field: 'urgencyReason', value: r.urgencyReason });
  if (r.confidentiality?.requirements)
    fields.push({ field: 'confidentiality.requirements', value: r.confidentiality.requirements });
  return fields;
}
