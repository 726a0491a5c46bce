/**
 * The words of cooperation in criminal matters that requests use: request types (as in
 * examples/networks.json), languages, urgency, the lifecycle's statuses and the grounds
 * on which a requested State may refuse (UNTOC arts. 16 and 18).
 */

export const REQUEST_TYPES = [
  'mutual_legal_assistance',
  'extradition',
  'confiscation',
  'transfer_of_proceedings',
  'transfer_of_sentenced_persons',
  'expedited_preservation',
  'stored_data_production',
  'real_time_traffic_collection',
  'joint_investigation',
  'videoconference_hearing',
  'controlled_delivery',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const REQUEST_TYPE_LABELS: Record<RequestType, string> = {
  mutual_legal_assistance: 'mutual legal assistance',
  extradition: 'extradition',
  confiscation: 'confiscation and asset recovery',
  transfer_of_proceedings: 'transfer of criminal proceedings',
  transfer_of_sentenced_persons: 'transfer of sentenced persons',
  expedited_preservation: 'expedited preservation of stored computer data',
  stored_data_production: 'production of stored data',
  real_time_traffic_collection: 'real-time collection of traffic data',
  joint_investigation: 'joint investigation',
  videoconference_hearing: 'hearing by videoconference',
  controlled_delivery: 'controlled delivery',
};

/** The six UN languages first, then Portuguese (used by WACAP, Great Lakes and IberRed). */
export const LANGUAGES = ['ar', 'zh', 'en', 'fr', 'ru', 'es', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];

/** How soon the requested State is asked to act; sets when silence is flagged. */
export const URGENCIES = ['routine', 'urgent', 'immediate'] as const;
export type Urgency = (typeof URGENCIES)[number];

export const STATUSES = [
  'draft',
  'sent',
  'delivered',
  'acknowledged',
  'returned_for_formal_defects',
  'transmitted_to_executing_authority',
  'in_execution',
  'additional_info_requested',
  'postponed',
  'conditions_proposed',
  'conditions_accepted',
  'conditions_declined',
  'provisional_arrest',
  'judicial_phase',
  'extradition_granted',
  'surrendered',
  'submitted_for_prosecution',
  'partially_executed',
  'executed',
  'closed',
  'refused',
  'withdrawn',
] as const;
export type Status = (typeof STATUSES)[number];

/**
 * Grounds for refusal. UNTOC art. 18(21)(a)–(d) lists the grounds for refusing mutual legal
 * assistance; art. 18(9) dual criminality; art. 16(14) discrimination; the others are the usual
 * grounds of extradition treaties. Art. 18(23) requires reasons, so a refusal always has a note.
 * Two grounds are listed so that an officer who reaches for them is told why they cannot be used:
 * bank secrecy (art. 18(8)) and fiscal matters (arts. 18(22) and 16(15)); see `grounds.ts`.
 */
export const REFUSAL_GROUNDS = {
  not_in_conformity: 'the request does not comply with UNTOC art. 18 (art. 18(21)(a))',
  essential_interests: 'sovereignty, security, ordre public or other essential interests (art. 18(21)(b))',
  domestic_law_prohibits: 'domestic law prohibits the action for a similar offence (art. 18(21)(c))',
  contrary_to_legal_system: 'contrary to the legal system of the requested State (art. 18(21)(d))',
  no_dual_criminality: 'the conduct is not an offence in the requested State (arts. 18(9), 16(1))',
  discrimination: 'the request aims to prosecute a person on discriminatory grounds (art. 16(14))',
  ne_bis_in_idem: 'the person was already tried for the same conduct',
  statute_of_limitations: 'the prosecution or penalty is time-barred',
  insufficient_information: 'the information given is not enough to execute the request',
  bank_secrecy: 'bank secrecy: never a ground for refusing assistance (art. 18(8))',
  fiscal_matters: 'the offence involves fiscal matters: never a ground for refusal (arts. 18(22), 16(15))',
  other: 'another ground, stated in the note',
} as const;
export type RefusalGround = keyof typeof REFUSAL_GROUNDS;
export const REFUSAL_GROUND_CODES = Object.keys(REFUSAL_GROUNDS) as RefusalGround[];

/**
 * What the completeness check warns of (completeness.ts): what a counterpart would send a request
 * back for. Stable codes; each has a label in the web app's codes catalogues (`warning.<code>`).
 */
export const WARNING_CODES = [
  'legal_basis_missing',
  'facts_missing',
  'offence_missing',
  'measures_missing',
  'contact_missing',
  'urgency_reason_missing',
  'confidentiality_unspecified',
  'person_sought_missing',
  'penalty_missing',
  'sentenced_person_missing',
  'assets_missing',
  'person_to_hear_missing',
  'hearing_date_missing',
  'deadline_missing',
  'retention_deadline_missing',
  'data_unidentified',
  'proceedings_missing',
  'conducting_authority_missing',
  'purpose_missing',
  'person_location_missing',
  'legal_basis_unnamed',
  'data_category_missing',
  'language_not_accepted',
  'type_not_handled',
  'original_required',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

export function isRequestType(value: string): value is RequestType {
  return (REQUEST_TYPES as readonly string[]).includes(value);
}

export function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value);
}

export function isRefusalGround(value: string): value is RefusalGround {
  return Object.prototype.hasOwnProperty.call(REFUSAL_GROUNDS, value);
}

/** Where each request type comes from: the provision that governs it. */
export const REQUEST_TYPE_SOURCES: Record<RequestType, string> = {
  mutual_legal_assistance: 'UNTOC art. 18',
  extradition: 'UNTOC art. 16',
  confiscation: 'UNTOC arts. 12–14; UNCAC arts. 54–55',
  transfer_of_proceedings: 'UNTOC art. 21',
  transfer_of_sentenced_persons: 'UNTOC art. 17',
  expedited_preservation: 'Budapest Convention arts. 16, 29; UNTOC art. 18(3)',
  stored_data_production: 'Budapest Convention arts. 18, 31; UNTOC art. 18(3)(f)',
  real_time_traffic_collection: 'Budapest Convention arts. 20, 33',
  joint_investigation: 'UNTOC art. 19',
  videoconference_hearing: 'UNTOC art. 18(18)',
  controlled_delivery: 'UNTOC art. 20; 1988 Convention art. 11',
};

/** The kinds of assistance UNTOC art. 18(3) lists, (a) to (i). */
export const MEASURE_KINDS = {
  taking_evidence: 'taking evidence or statements from persons (art. 18(3)(a))',
  service_of_documents: 'effecting service of judicial documents (art. 18(3)(b))',
  search_and_seizure: 'executing searches and seizures, and freezing (art. 18(3)(c))',
  examining_objects_and_sites: 'examining objects and sites (art. 18(3)(d))',
  providing_information: 'providing information, evidentiary items and expert evaluations (art. 18(3)(e))',
  providing_records:
    'providing originals or certified copies of documents and records, including government, bank, financial, corporate or business records (art. 18(3)(f))',
  identifying_proceeds:
    'identifying or tracing proceeds of crime, property, instrumentalities or other things for evidentiary purposes (art. 18(3)(g))',
  voluntary_appearance:
    'facilitating the voluntary appearance of persons in the requesting State (art. 18(3)(h))',
  other:
    'any other type of assistance not contrary to the domestic law of the requested State (art. 18(3)(i))',
} as const;
export type MeasureKind = keyof typeof MEASURE_KINDS;
export const MEASURE_KIND_CODES = Object.keys(MEASURE_KINDS) as MeasureKind[];

/** Where each measure of a request stands, as the requested side reports it with a status update. */
export const MEASURE_STATES = [
  'pending',
  'in_execution',
  'executed',
  'partially_executed',
  'not_executed',
] as const;
export type MeasureState = (typeof MEASURE_STATES)[number];

/** The categories of data sought (Budapest Convention arts. 1(d), 18(3)): each is obtained differently. */
export const DATA_CATEGORIES = {
  subscriber:
    'subscriber information: who holds the account, since when, with which address (Budapest art. 18(3))',
  traffic:
    'traffic data: origin, destination, route, time, date, size and duration of communications (Budapest art. 1(d))',
  content: 'content data: the communications themselves (Budapest art. 21)',
} as const;
export type DataCategory = keyof typeof DATA_CATEGORIES;
export const DATA_CATEGORY_CODES = Object.keys(DATA_CATEGORIES) as DataCategory[];

/** The stage of the proceedings a request serves (art. 18(15)(b)). */
export const PROCEEDING_STAGES = ['investigation', 'prosecution', 'trial', 'appeal', 'enforcement'] as const;
export type ProceedingStage = (typeof PROCEEDING_STAGES)[number];

/** Legal bases as codes, with the instrument each names; the reference (article, treaty name) stays free text. */
export const LEGAL_BASES = {
  untoc: 'UN Convention against Transnational Organized Crime (2000)',
  uncac: 'UN Convention against Corruption (2003)',
  vienna_1988: 'UN Convention against Illicit Traffic in Narcotic Drugs and Psychotropic Substances (1988)',
  budapest: 'Council of Europe Convention on Cybercrime (Budapest, 2001)',
  ecowas_mla_1992: 'ECOWAS Convention on Mutual Assistance in Criminal Matters (A/P1/7/92)',
  ecowas_extradition_1994: 'ECOWAS Convention on Extradition (A/P1/8/94)',
  minsk_1993:
    'CIS Convention on Legal Assistance and Legal Relations in Civil, Family and Criminal Matters (Minsk, 1993)',
  harare_scheme: 'Harare Scheme relating to Mutual Assistance in Criminal Matters within the Commonwealth',
  bilateral_treaty: 'a bilateral treaty between the two States (named in the reference)',
  treaty: 'another treaty (named in the reference)',
  reciprocity: 'reciprocity, without a treaty',
  domestic_law: 'the domestic law of the requested State',
  other: 'another basis (named in the reference)',
} as const;
export type LegalBasisKind = keyof typeof LEGAL_BASES;
export const LEGAL_BASIS_KINDS = Object.keys(LEGAL_BASES) as LegalBasisKind[];
/** Kinds that name no instrument of their own: the reference must. */
export const UNNAMED_BASES: readonly LegalBasisKind[] = ['bilateral_treaty', 'treaty', 'other'];

/** How a request relates to an earlier one. */
export const RELATIONS = {
  follow_up: 'follows up the other (a production request after a preservation)',
  supplementary: 'adds to the other (further measures on the same facts)',
  provisional_arrest_for: 'the extradition that a provisional arrest was asked for',
  same_case: 'concerns the same case',
  extends_preservation: 'extends the preservation the other asked for',
} as const;
export type Relation = keyof typeof RELATIONS;
export const RELATION_CODES = Object.keys(RELATIONS) as Relation[];

/** Where each status comes from, for `entraide request types`. */
export const STATUS_SOURCES: Partial<Record<Status, string>> = {
  returned_for_formal_defects: 'practice: the request lacks an element of art. 18(15); not a refusal',
  transmitted_to_executing_authority:
    'art. 18(13): the central authority transmits to the competent authority',
  postponed: 'art. 18(25)',
  conditions_proposed: 'art. 18(26)',
  conditions_accepted: 'art. 18(26)',
  conditions_declined: 'art. 18(26)',
  provisional_arrest: 'art. 16(9)',
  judicial_phase: 'art. 16(7), (8): extradition proceedings before the courts',
  extradition_granted: 'art. 16',
  surrendered: 'art. 16',
  submitted_for_prosecution: 'art. 16(10): aut dedere aut judicare',
  refused: 'arts. 16(7), (14), (15), 18(21)–(23)',
};

/**
 * Categories of offence, for statistics (which the review mechanism of UNTOC asks by offence):
 * the offences of the Convention and its Protocols first, then the others entraide's networks
 * handle most.
 */
export const OFFENCE_CATEGORIES = {
  organized_crime_group: 'participation in an organized criminal group (UNTOC art. 5)',
  money_laundering: 'laundering of the proceeds of crime (UNTOC art. 6)',
  corruption: 'corruption (UNTOC art. 8; UNCAC)',
  obstruction_of_justice: 'obstruction of justice (UNTOC art. 23)',
  trafficking_in_persons: 'trafficking in persons (Trafficking in Persons Protocol)',
  smuggling_of_migrants: 'smuggling of migrants (Smuggling of Migrants Protocol)',
  firearms_trafficking: 'illicit trafficking in firearms (Firearms Protocol)',
  drug_trafficking: 'illicit drug trafficking (1988 Convention)',
  cybercrime: 'cybercrime (Budapest Convention)',
  fraud: 'fraud',
  terrorism: 'terrorism',
  environmental_crime: 'crimes that affect the environment (wildlife, timber, waste)',
  cultural_property: 'trafficking in cultural property',
  other: 'another offence',
} as const;
export type OffenceCategory = keyof typeof OFFENCE_CATEGORIES;
export const OFFENCE_CATEGORY_CODES = Object.keys(OFFENCE_CATEGORIES) as OffenceCategory[];
