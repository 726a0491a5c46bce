/** What only nodes see: the typed payloads inside an envelope's ciphertext. */
import { Type, type Static } from '@sinclair/typebox';
import { LIMITS } from '../limits.ts';
import { Receipt } from '../receipts/receipt.ts';
import { Handling } from '../requests/handling.ts';
import { RequestContent } from '../requests/request.ts';
import { ConsultationComment, ConsultationContent } from '../requests/consultation.ts';
import { StatusUpdate } from '../requests/status-update.ts';
import { MeetingCancel, MeetingEvent, MeetingRsvp } from '../meetings/meeting.ts';
import { Roster } from '../meetings/roster.ts';
import { WorkingHours } from '../meetings/working-hours.ts';
import { UUID_PATTERN } from '../uuid.ts';
import { literals } from './literals.ts';
import { Rfc3339 } from './schemas.ts';
import { FileManifest, type FileEntry } from '../files/manifest.ts';

const RequestId = Type.String({ pattern: `^${UUID_PATTERN}$` });
const LanguageTag = Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' });

export const MessageContent = Type.Object(
  {
    type: Type.Literal('message'),
    subject: Type.String({ minLength: 1, maxLength: LIMITS.maxSubjectChars }),
    body: Type.String({ maxLength: LIMITS.maxContentBytes }),
    language: Type.Optional(LanguageTag),
    /** The request this message belongs to (its thread). */
    request: Type.Optional(RequestId),
    handling: Type.Optional(Handling),
    /** Documents (format 3): each file's blob, key, name, hashes, role and language. */
    files: Type.Optional(FileManifest),
  },
  { additionalProperties: false },
);
export type MessageContent = Static<typeof MessageContent>;

export { RequestContent };

/** A signed step of a request's lifecycle. */
export const StatusContent = Type.Object(
  { type: Type.Literal('status'), update: StatusUpdate },
  { additionalProperties: false },
);
export type StatusContent = Static<typeof StatusContent>;

export const SUPPLEMENT_KINDS = ['additional_information', 'supplementary_request', 'translation'] as const;
export type SupplementKind = (typeof SUPPLEMENT_KINDS)[number];

/** How a supplement is named in a request's story (the CLI's English; a page names it in its language). */
export const SUPPLEMENT_SUBJECTS: Record<SupplementKind, string> = {
  additional_information: 'additional information',
  supplementary_request: 'supplementary request',
  translation: 'translation',
};

/**
 * From the requesting side: the information a requested authority asked for, further measures
 * added to a request already sent, or the translation a request announced (`translationPending`),
 * in the supplement's `language`.
 */
export const SupplementContent = Type.Object(
  {
    type: Type.Literal('supplement'),
    request: RequestId,
    kind: literals(SUPPLEMENT_KINDS),
    text: Type.String({ minLength: 1, maxLength: 20_000 }),
    measures: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2_000 }), { maxItems: 50 })),
    language: LanguageTag,
    files: Type.Optional(FileManifest),
  },
  { additionalProperties: false },
);
export type SupplementContent = Static<typeof SupplementContent>;

/** Receipts for envelopes a node stored or an officer opened, sent back to their sender. */
export const ReceiptsContent = Type.Object(
  { type: Type.Literal('receipts'), receipts: Type.Array(Receipt, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
export type ReceiptsContent = Static<typeof ReceiptsContent>;

/** An authority's working hours, sent to the coordinators of the networks it belongs to. */
export const HoursContent = Type.Object(
  { type: Type.Literal('working-hours'), hours: WorkingHours, at: Rfc3339 },
  { additionalProperties: false },
);
export type HoursContent = Static<typeof HoursContent>;

export { MeetingCancel, MeetingEvent, MeetingRsvp, Roster };

/** The documents an item carries: its own, or a status update's (none for most content types). */
export function filesOf(content: object): FileEntry[] {
  const c = content as { files?: unknown; update?: { files?: unknown } };
  const files = c.files ?? c.update?.files;
  return Array.isArray(files) ? (files as FileEntry[]) : [];
}

/** Every content type a node understands. */
export const Content = Type.Union([
  MessageContent,
  RequestContent,
  StatusContent,
  SupplementContent,
  ReceiptsContent,
  Roster,
  MeetingEvent,
  MeetingCancel,
  MeetingRsvp,
  HoursContent,
  ConsultationContent,
  ConsultationComment,
]);
export type Content = Static<typeof Content>;
export type ContentType = Content['type'];
