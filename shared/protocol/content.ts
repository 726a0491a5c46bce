/** What only nodes see: the typed payloads inside an envelope's ciphertext. */
import { Type, type Static } from '@sinclair/typebox';
import { LIMITS } from '../limits.ts';

export const MessageContent = Type.Object(
  {
    type: Type.Literal('message'),
    subject: Type.String({ minLength: 1, maxLength: LIMITS.maxSubjectChars }),
    body: Type.String({ maxLength: LIMITS.maxContentBytes }),
    language: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' })),
  },
  { additionalProperties: false },
);
export type MessageContent = Static<typeof MessageContent>;

/** Every content type a node understands; later issues add requests, statuses, receipts, meetings. */
export const Content = MessageContent;
export type Content = MessageContent;
