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
  'in_execution',
  'additional_info_requested',
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
 */
export const REFUSAL_GROUNDS = {
  not_in_conformity: 'the request does not comply with UNTOC art. 18 (art. 18(21)(a))',
  essential_interests: 'sovereignty, security, ordre public or other essential interests (art. 18(21)(b))',
  domestic_law_prohibits: 'domestic law prohibits the action for a similar offence (art. 18(21)(c))',
  contrary_to_legal_system: 'contrary to the legal system of the requested State (art. 18(21)(d))',
  no_dual_criminality: 'the conduct is not an offence in the requested State (art. 18(9))',
  discrimination: 'the request aims to prosecute a person on discriminatory grounds (art. 16(14))',
  ne_bis_in_idem: 'the person was already tried for the same conduct',
  statute_of_limitations: 'the prosecution or penalty is time-barred',
  insufficient_information: 'the information given is not enough to execute the request',
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
