/**
 * A status update: one signed step of a request's lifecycle. Each update names the update it
 * follows (`prev`, a hash; the first one follows the request itself) and its position (`seq`),
 * so that the history is a hash chain that both sides rebuild the same way, whatever order the
 * updates arrive in. Signed by the node that made it, under its own context string, so that an
 * update is evidence on its own, outside its envelope.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fromBase64url, toBase64url } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { sodium } from '../crypto/sodium.ts';
import { B64, NodeAddress, Rfc3339, Signature } from '../protocol/schemas.ts';
import { literals } from '../protocol/literals.ts';
import { UUID_PATTERN } from '../uuid.ts';
import { REQUEST_LIMITS, type RequestContent } from './request.ts';
import { FileManifest } from '../files/manifest.ts';
import { MEASURE_STATES, REFUSAL_GROUND_CODES, STATUSES, type Status } from './vocabulary.ts';

/** Statuses a status update may carry (draft, sent and delivered are reached otherwise). */
export const UPDATE_STATUSES = STATUSES.filter((s) => s !== 'draft' && s !== 'sent' && s !== 'delivered');

export const MAX_NOTE_CHARS = 10_000;
export const MAX_SEQ = 10_000;

export const StatusUpdate = Type.Object(
  {
    v: Type.Literal(1),
    request: Type.String({ pattern: `^${UUID_PATTERN}$` }),
    seq: Type.Integer({ minimum: 1, maximum: MAX_SEQ }),
    prev: B64(32, 'SHA-256 of the update this one follows, or of the request for the first'),
    status: literals(UPDATE_STATUSES),
    ground: Type.Optional(literals(REFUSAL_GROUND_CODES)),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NOTE_CHARS })),
    /** Why a refusal on a ground of UNTOC art. 18(21) came without the consultation of art. 18(26). */
    withoutConsultation: Type.Optional(Type.String({ minLength: 1, maxLength: REQUEST_LIMITS.item })),
    /** The requested authority's own reference number, given when it acknowledges. */
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: REQUEST_LIMITS.reference })),
    /** Where measures of the request stand (by their index in the request), from the requested side. */
    measures: Type.Optional(
      Type.Array(
        Type.Object(
          {
            index: Type.Integer({ minimum: 0, maximum: REQUEST_LIMITS.measures - 1 }),
            state: literals(MEASURE_STATES),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: REQUEST_LIMITS.measures },
      ),
    ),
    /** Documents the step carries, signed with it: above all the evidence of `executed`. */
    files: Type.Optional(FileManifest),
    by: NodeAddress,
    at: Rfc3339,
    sig: Signature,
  },
  { additionalProperties: false },
);
export type StatusUpdate = Static<typeof StatusUpdate>;
export type UnsignedStatusUpdate = Omit<StatusUpdate, 'sig'>;

function sha256(bytes: Uint8Array): string {
  return toBase64url(sodium().crypto_hash_sha256(bytes));
}

/** The hash the first update of a request follows: SHA-256 of the request's canonical content. */
export function requestHash(request: RequestContent): string {
  return sha256(canonicalBytes(request));
}

/** An update's identity: SHA-256 of its canonical form, signature included. */
export function updateHash(update: StatusUpdate): string {
  return sha256(canonicalBytes(update));
}

/** Statuses whose update says something in its note, and what it says. */
export const NOTE_REQUIRED: Partial<Record<Status, string>> = {
  refused: 'a refusal needs its reasons in a note (UNTOC art. 18(23))',
  additional_info_requested: 'say which information is needed, in a note',
  postponed: 'say why execution is postponed, and until when, in a note (UNTOC art. 18(25))',
  conditions_proposed: 'state the conditions proposed, in a note (UNTOC art. 18(26))',
  returned_for_formal_defects: 'list the defects to put right, in a note',
};

/** What a well-formed update must also say: refusals give a ground and reasons (UNTOC art. 18(23)). */
export function updateProblem(
  u: Pick<StatusUpdate, 'status' | 'ground' | 'note' | 'withoutConsultation'>,
): string | null {
  if (u.status === 'refused' && !u.ground) return 'a refusal needs a ground (--ground)';
  if (u.status !== 'refused' && u.ground) return 'only a refusal has a ground';
  if (u.withoutConsultation && u.status !== 'refused')
    return 'only a refusal says why it came without consultation (--without-consultation)';
  const needs = NOTE_REQUIRED[u.status];
  if (needs && !u.note) return needs;
  return null;
}

export function signStatusUpdate(u: UnsignedStatusUpdate, identitySecretKey: Uint8Array): StatusUpdate {
  return { ...u, sig: signObject(CONTEXTS.statusUpdate, u, identitySecretKey) };
}

export function verifyStatusUpdate(u: StatusUpdate, identityKey: string): boolean {
  return verifyObject(
    CONTEXTS.statusUpdate,
    withoutSig(u),
    u.sig,
    fromBase64url(identityKey, 'identityKey', 32),
  );
}

export function isUpdateStatus(s: Status): boolean {
  return (UPDATE_STATUSES as readonly Status[]).includes(s);
}
