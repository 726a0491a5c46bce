/**
 * Informal consultation before a formal request (CTOC/COP/2018/10, para. 32): the requesting side
 * shows a draft to its counterpart, which comments on it field by field; the formal request that
 * follows names the consultation. A consultation is not a request: it has no status, no deadline
 * and no place in statistics, and nothing in it binds either side.
 */
import { Type, type Static } from '@sinclair/typebox';
import { literals } from '../protocol/literals.ts';
import { UUID_PATTERN } from '../uuid.ts';
import { RequestDraft, REQUEST_LIMITS } from './request.ts';
import { REQUEST_TYPES } from './vocabulary.ts';

const Id = Type.String({ pattern: `^${UUID_PATTERN}$` });
const closed = { additionalProperties: false } as const;

export const CONSULTATION_LIMITS = { comments: 100, text: 5_000 } as const;

/** A field of a draft, by its path: `purpose`, `measures[1].description`, `proceedings.stage`. */
export const FIELD_PATH_PATTERN =
  '^[A-Za-z][A-Za-z0-9]*(\\[[0-9]{1,3}\\])?(\\.[A-Za-z][A-Za-z0-9]*(\\[[0-9]{1,3}\\])?){0,4}$';

export const ConsultationContent = Type.Object(
  {
    type: Type.Literal('consultation'),
    /** The consultation's id (UUIDv7), which a formal request that follows names. */
    id: Id,
    requestType: literals(REQUEST_TYPES),
    draft: RequestDraft,
    /** What the requesting side asks about. */
    note: Type.Optional(Type.String({ minLength: 1, maxLength: REQUEST_LIMITS.item })),
  },
  { ...closed, description: 'A draft shown informally to the requested authority before a formal request' },
);
export type ConsultationContent = Static<typeof ConsultationContent>;

export const ConsultationComment = Type.Object(
  {
    type: Type.Literal('consultation-comment'),
    consultation: Id,
    comments: Type.Array(
      Type.Object(
        {
          field: Type.String({ pattern: FIELD_PATH_PATTERN, maxLength: 200 }),
          text: Type.String({ minLength: 1, maxLength: CONSULTATION_LIMITS.text }),
        },
        closed,
      ),
      { minItems: 1, maxItems: CONSULTATION_LIMITS.comments },
    ),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: CONSULTATION_LIMITS.text })),
  },
  { ...closed, description: 'The requested authority’s comments on a consulted draft, field by field' },
);
export type ConsultationComment = Static<typeof ConsultationComment>;

/** Whether `path` names a field a request draft has (the first key of the path, indexes aside). */
export function isDraftField(path: string): boolean {
  const first = path.split(/[.[]/)[0]!;
  return Object.prototype.hasOwnProperty.call(RequestDraft.properties, first);
}
