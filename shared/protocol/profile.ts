/**
 * An authority's profile: its entry in the directory of competent authorities. What a counterpart
 * needs before it sends a request (CTOC/COP/2018/10, paras. 20–22): the names of the authority,
 * its State, what it is competent for, the languages it accepts (UNTOC art. 18(14)), how an
 * original must follow an electronic request, whom to reach at any hour for urgent electronic
 * evidence, its requirements (dual criminality, limits on use), the treaties it applies and its
 * published guide. Signed by the authority master key and logged with its key events, so that a
 * relay can neither forge nor alter it, and every change stays in the authority's key history.
 */
import { Type, type Static } from '@sinclair/typebox';
import { literals } from './literals.ts';
import { AuthorityAddress, NodeAddress, Rfc3339, Signature } from './schemas.ts';
import { REQUEST_LANGUAGE_PATTERN } from '../requests/languages.ts';
import { LEGAL_BASIS_KINDS, REQUEST_TYPES } from '../requests/vocabulary.ts';

/** What an authority may be competent for, with the provision that designates it. */
export const COMPETENCES = {
  untoc_mla: 'mutual legal assistance under UNTOC (central authority, art. 18(13))',
  untoc_extradition: 'extradition under UNTOC (art. 16)',
  uncac_mla: 'mutual legal assistance under UNCAC (central authority, art. 46(13))',
  drugs_1988: 'mutual legal assistance under the 1988 Convention (art. 7(8))',
  electronic_evidence_24_7: 'a 24/7 point of contact for electronic evidence (Budapest Convention art. 35)',
  asset_recovery: 'asset recovery and confiscation (UNTOC arts. 13–14; UNCAC chapter V)',
  cultural_property: 'trafficking in cultural property',
  transfer_of_sentenced_persons: 'transfer of sentenced persons (UNTOC art. 17)',
  joint_investigations: 'joint investigations (UNTOC art. 19)',
} as const;
export type Competence = keyof typeof COMPETENCES;
export const COMPETENCE_CODES = Object.keys(COMPETENCES) as Competence[];

/** What must follow a request sent electronically, if anything. */
export const ORIGINALS = ['none', 'paper', 'diplomatic'] as const;
export type OriginalToFollow = (typeof ORIGINALS)[number];

const text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const closed = { additionalProperties: false } as const;
const Language = Type.String({ pattern: REQUEST_LANGUAGE_PATTERN });

export const PROFILE_LIMITS = { names: 10, languages: 30, treaties: 50, text: 2_000 } as const;

export const ProfileBody = Type.Object(
  {
    v: Type.Literal(1),
    authority: AuthorityAddress,
    /** Later than the profile it replaces. */
    issuedAt: Rfc3339,
    names: Type.Array(Type.Object({ language: Language, name: text(300) }, closed), {
      minItems: 1,
      maxItems: PROFILE_LIMITS.names,
    }),
    /** ISO 3166-1 alpha-2. */
    state: Type.String({ pattern: '^[A-Z]{2}$' }),
    competences: Type.Array(literals(COMPETENCE_CODES), {
      maxItems: COMPETENCE_CODES.length,
      uniqueItems: true,
    }),
    /** The request types it handles; all when absent. */
    requestTypes: Type.Optional(
      Type.Array(literals(REQUEST_TYPES), { minItems: 1, maxItems: REQUEST_TYPES.length, uniqueItems: true }),
    ),
    /** The languages requests may be written in (art. 18(14)). */
    languages: Type.Array(Language, { minItems: 1, maxItems: PROFILE_LIMITS.languages, uniqueItems: true }),
    channels: Type.Object(
      {
        /** A request sent electronically is taken as the original. */
        electronicOriginal: Type.Boolean(),
        /** What original must follow an electronic request, if any. */
        originalToFollow: literals(ORIGINALS),
        /** Urgent requests through INTERPOL are accepted (art. 18(13)). */
        interpol: Type.Boolean(),
      },
      closed,
    ),
    /** Who answers at any hour, for urgent requests and electronic evidence. */
    onCall: Type.Optional(
      Type.Object(
        {
          /** The node of this authority that `immediate` requests alert. */
          node: Type.Optional(NodeAddress),
          phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{5,30}$' })),
          email: Type.Optional(Type.String({ pattern: '^[^@\\s]{1,64}@[^@\\s]{1,255}$' })),
          hours: Type.Optional(text(200)),
        },
        closed,
      ),
    ),
    requirements: Type.Optional(
      Type.Object(
        {
          dualCriminality: Type.Optional(text(PROFILE_LIMITS.text)),
          limitsOnUse: Type.Optional(text(PROFILE_LIMITS.text)),
          other: Type.Optional(text(PROFILE_LIMITS.text)),
        },
        closed,
      ),
    ),
    treaties: Type.Optional(
      Type.Array(
        Type.Object({ kind: literals(LEGAL_BASIS_KINDS), reference: Type.Optional(text(500)) }, closed),
        {
          maxItems: PROFILE_LIMITS.treaties,
        },
      ),
    ),
    /** The authority's published guide for requesting States. */
    guide: Type.Optional(Type.String({ pattern: '^https://[^\\s]{1,490}$' })),
  },
  { ...closed, description: 'An authority’s directory entry, as it signs it' },
);
export type ProfileBody = Static<typeof ProfileBody>;

export const AuthorityProfile = Type.Object(
  { ...ProfileBody.properties, sig: Signature },
  { ...closed, description: 'An authority’s directory entry, signed by its master key' },
);
export type AuthorityProfile = Static<typeof AuthorityProfile>;

/** What an officer writes in profile.json: the profile without what the node fills in. */
export const ProfileDraft = Type.Omit(ProfileBody, ['v', 'authority', 'issuedAt']);
export type ProfileDraft = Static<typeof ProfileDraft>;
