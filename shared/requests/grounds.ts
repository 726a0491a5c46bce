/**
 * Which grounds of refusal a request of each type may be refused on, and the two it never may:
 * - the grounds of UNTOC art. 18(21)(a)–(d) belong to mutual legal assistance (and the measures
 *   art. 18 governs: confiscation through art. 13(3), data, hearings, joint investigations...),
 *   not to extradition or the transfer of sentenced persons;
 * - bank secrecy (art. 18(8)) and fiscal matters (arts. 18(22) and 16(15)) are never grounds:
 *   an update giving one is refused with GROUND_PROHIBITED;
 * - before refusing on a ground of art. 18(21), the requested State consults the requesting one
 *   on whether assistance may be granted on conditions (art. 18(26)): a refusal on such a ground
 *   follows `conditions_proposed`, or says why there was no consultation (`withoutConsultation`).
 */
import type { RuleBreach } from './lifecycle.ts';
import {
  REFUSAL_GROUND_CODES,
  REQUEST_TYPES,
  type RefusalGround,
  type RequestType,
  type Status,
} from './vocabulary.ts';

/** Request types art. 18 governs, directly or mutatis mutandis. */
export const ART_18_TYPES: readonly RequestType[] = REQUEST_TYPES.filter(
  (t) => t !== 'extradition' && t !== 'transfer_of_sentenced_persons',
);

/** The grounds of art. 18(21)(a)–(d): a refusal on one of them needs the consultation of art. 18(26). */
export const ART_18_21_GROUNDS: readonly RefusalGround[] = [
  'not_in_conformity',
  'essential_interests',
  'domestic_law_prohibits',
  'contrary_to_legal_system',
];

/** Grounds the Convention forbids, with the provision that forbids each, by kind of request. */
export const PROHIBITED_GROUNDS: Partial<Record<RefusalGround, (type: RequestType) => string>> = {
  bank_secrecy: () => 'bank secrecy is never a ground for declining assistance (UNTOC art. 18(8))',
  fiscal_matters: (type) =>
    type === 'extradition'
      ? 'an extradition may not be refused on the sole ground that the offence involves fiscal matters (UNTOC art. 16(15))'
      : 'assistance may not be refused on the sole ground that the offence involves fiscal matters (UNTOC art. 18(22))',
};

/** Whether `ground` belongs to requests of `type` (prohibited grounds belong to none). */
function inScope(ground: RefusalGround, type: RequestType): boolean {
  if (PROHIBITED_GROUNDS[ground]) return false;
  if (ART_18_21_GROUNDS.includes(ground)) return ART_18_TYPES.includes(type);
  return true;
}

/** The grounds a request of `type` may be refused on, for prompts and forms. */
export function groundsFor(type: RequestType): RefusalGround[] {
  return REFUSAL_GROUND_CODES.filter((g) => inScope(g, type));
}

/** Whether a refusal on `ground` needs the consultation of art. 18(26) first. */
export function needsConsultation(ground: string | undefined): boolean {
  return ground !== undefined && (ART_18_21_GROUNDS as readonly string[]).includes(ground);
}

/**
 * What is wrong with refusing a request of `type` on `ground` (a known ground), or null:
 * GROUND_PROHIBITED for bank secrecy and fiscal matters, GROUND_NOT_FOR_TYPE for a ground of
 * art. 18(21) on an extradition.
 */
export function groundScopeBreach(ground: RefusalGround, type: RequestType): RuleBreach | null {
  const prohibited = PROHIBITED_GROUNDS[ground];
  if (prohibited) return { code: 'GROUND_PROHIBITED', message: prohibited(type) };
  if (inScope(ground, type)) return null;
  return {
    code: 'GROUND_NOT_FOR_TYPE',
    message: `"${ground}" is a ground of UNTOC art. 18(21), for mutual legal assistance; a ${type} request may be refused on: ${groundsFor(type).join(', ')}`,
  };
}

/**
 * A refusal on a ground of art. 18(21) with no consultation before it (no `conditions_proposed`
 * in `past`, the statuses the request went through) and no reason why: CONSULTATION_REQUIRED.
 */
export function consultationBreach(
  update: { status: Status; ground?: string | undefined; withoutConsultation?: string | undefined },
  past: readonly Status[],
): RuleBreach | null {
  if (update.status !== 'refused' || !needsConsultation(update.ground)) return null;
  if (past.includes('conditions_proposed') || update.withoutConsultation) return null;
  return {
    code: 'CONSULTATION_REQUIRED',
    message: `before refusing on "${update.ground}" (UNTOC art. 18(21)), consult the requesting State on conditions (art. 18(26)): set conditions_proposed with the conditions in a note, or give the reason there was no consultation (--without-consultation)`,
  };
}
