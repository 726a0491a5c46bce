/**
 * Meeting messages, with iCalendar's semantics (RFC 5545/5546): a meeting has a UID; the organizer
 * sends an invitation (SEQUENCE 0), then updates and perhaps a cancellation with higher
 * sequences; each invited authority answers with an RSVP naming the sequence it answers. All are
 * signed by the sending node under one context string; their `type` field tells them apart.
 */
import { Type, type Static } from '@sinclair/typebox';
import { authorityOfNode } from '../addresses.ts';
import { fromBase64url } from '../bytes.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { EntraideError } from '../errors.ts';
import { literals } from '../protocol/literals.ts';
import { AuthorityAddress, NodeAddress, Rfc3339, Signature } from '../protocol/schemas.ts';
import { check } from '../protocol/validate.ts';
import { parseTimestamp } from '../time.ts';
import { UUID_PATTERN } from '../uuid.ts';
import { Conference } from './conference.ts';
import { MAX_MEETING_MINUTES } from './duration.ts';
import { Languages, NetworkId, objectHash } from './names.ts';
import { isTimeZone, LOCAL_TIME_PATTERN, zonedToInstant } from './zoned-time.ts';

export const MEETING_LIMITS = {
  title: 200,
  agenda: 20_000,
  interpretation: 500,
  reason: 2_000,
  note: 2_000,
  participants: 500,
  sequence: 10_000,
} as const;

const Uuid = Type.String({ pattern: `^${UUID_PATTERN}$` });
const Sequence = Type.Integer({ minimum: 0, maximum: MEETING_LIMITS.sequence });
const closed = { additionalProperties: false } as const;

export const EVENT_KINDS = ['invitation', 'update'] as const;
export const RSVP_ANSWERS = ['accept', 'decline', 'tentative'] as const;
export type RsvpAnswer = (typeof RSVP_ANSWERS)[number];

/** An invitation (sequence 0) or an update (sequence ≥ 1): the whole meeting, each time. */
export const MeetingEvent = Type.Object(
  {
    v: Type.Literal(1),
    type: Type.Literal('meeting'),
    kind: literals(EVENT_KINDS),
    uid: Uuid,
    sequence: Sequence,
    network: Type.Optional(NetworkId),
    request: Type.Optional(Uuid),
    title: Type.String({ minLength: 1, maxLength: MEETING_LIMITS.title }),
    agenda: Type.Optional(Type.String({ maxLength: MEETING_LIMITS.agenda })),
    /** Local wall-clock start in `tz`, 'YYYY-MM-DDTHH:MM'. */
    start: Type.String({ pattern: LOCAL_TIME_PATTERN }),
    tz: Type.String({ minLength: 1, maxLength: 64 }),
    /** The same start as an instant: what every participant's clock converts from. */
    startUtc: Rfc3339,
    durationMin: Type.Integer({ minimum: 1, maximum: MAX_MEETING_MINUTES }),
    languages: Languages,
    interpretation: Type.Optional(Type.String({ minLength: 1, maxLength: MEETING_LIMITS.interpretation })),
    conference: Conference,
    organizer: AuthorityAddress,
    /** The invited authorities, the organizer excluded. */
    participants: Type.Array(AuthorityAddress, {
      minItems: 1,
      maxItems: MEETING_LIMITS.participants,
      uniqueItems: true,
    }),
    issuedBy: NodeAddress,
    at: Rfc3339,
    sig: Signature,
  },
  closed,
);
export type MeetingEvent = Static<typeof MeetingEvent>;
export const UnsignedMeetingEvent = Type.Omit(MeetingEvent, ['sig']);
export type UnsignedMeetingEvent = Omit<MeetingEvent, 'sig'>;

export const MeetingCancel = Type.Object(
  {
    v: Type.Literal(1),
    type: Type.Literal('meeting'),
    kind: Type.Literal('cancel'),
    uid: Uuid,
    sequence: Type.Integer({ minimum: 1, maximum: MEETING_LIMITS.sequence }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: MEETING_LIMITS.reason })),
    organizer: AuthorityAddress,
    issuedBy: NodeAddress,
    at: Rfc3339,
    sig: Signature,
  },
  closed,
);
export type MeetingCancel = Static<typeof MeetingCancel>;

export const MeetingRsvp = Type.Object(
  {
    v: Type.Literal(1),
    type: Type.Literal('meeting-rsvp'),
    uid: Uuid,
    /** The sequence of the version answered. */
    sequence: Sequence,
    answer: literals(RSVP_ANSWERS),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: MEETING_LIMITS.note })),
    attendee: AuthorityAddress,
    by: NodeAddress,
    at: Rfc3339,
    sig: Signature,
  },
  closed,
);
export type MeetingRsvp = Static<typeof MeetingRsvp>;

export const MeetingMessage = Type.Union([MeetingEvent, MeetingCancel, MeetingRsvp]);
export type MeetingMessage = Static<typeof MeetingMessage>;
export type UnsignedMeetingMessage =
  Omit<MeetingEvent, 'sig'> | Omit<MeetingCancel, 'sig'> | Omit<MeetingRsvp, 'sig'>;

export const isEvent = (m: MeetingMessage): m is MeetingEvent =>
  m.type === 'meeting' && (m.kind === 'invitation' || m.kind === 'update');
export const isCancel = (m: MeetingMessage): m is MeetingCancel =>
  m.type === 'meeting' && m.kind === 'cancel';
export const isRsvp = (m: MeetingMessage): m is MeetingRsvp => m.type === 'meeting-rsvp';

export function signMeetingMessage<T extends UnsignedMeetingMessage>(
  m: T,
  identitySecretKey: Uint8Array,
): T & { sig: string } {
  return { ...m, sig: signObject(CONTEXTS.meeting, m, identitySecretKey) };
}

/** True when the sending node's identity key (base64url) signed this message. */
export function verifyMeetingMessage(m: MeetingMessage, identityKey: string): boolean {
  return verifyObject(CONTEXTS.meeting, withoutSig(m), m.sig, fromBase64url(identityKey, 'identityKey', 32));
}

/** A message's identity: SHA-256 of its canonical form, signature included. */
export function meetingMessageHash(m: MeetingMessage): string {
  return objectHash(m);
}

/** The node that signed a message. */
export const senderOf = (m: MeetingMessage): string => (isRsvp(m) ? m.by : m.issuedBy);

/** What a schema-valid message must also say to make sense; null when nothing is wrong. */
export function meetingProblem(m: MeetingMessage): string | null {
  if (isRsvp(m)) {
    return authorityOfNode(m.by) === m.attendee
      ? null
      : `an RSVP for ${m.attendee} is sent by another authority`;
  }
  if (isCancel(m)) return null;
  if ((m.kind === 'invitation') !== (m.sequence === 0))
    return 'an invitation has sequence 0 and an update more';
  if (!isTimeZone(m.tz)) return `time zone ${m.tz} is unknown here`;
  let instants: number[];
  try {
    instants = [zonedToInstant(m.start, m.tz, 'earlier'), zonedToInstant(m.start, m.tz, 'later')];
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (!instants.includes(parseTimestamp(m.startUtc, 'startUtc'))) {
    return `startUtc ${m.startUtc} is not ${m.start} in ${m.tz}`;
  }
  if (!m.conference.url.endsWith(`/${m.conference.room}`))
    return 'the conference URL does not lead to its room';
  if (m.participants.includes(m.organizer)) return 'the organizer is not listed among the participants';
  return null;
}

/** Schema (SCHEMA_INVALID), then sense (MEETING_INVALID): what a node does with any incoming message. */
export function checkMeetingMessage(value: unknown): MeetingMessage {
  // Pick the one schema by type and kind, so that the error names the field, not the union.
  const { type, kind } = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  const m: MeetingMessage =
    type === 'meeting-rsvp'
      ? check(MeetingRsvp, value, 'meeting RSVP')
      : kind === 'cancel'
        ? check(MeetingCancel, value, 'meeting cancellation')
        : check(MeetingEvent, value, 'meeting');
  const problem = meetingProblem(m);
  if (problem) throw new EntraideError('MEETING_INVALID', `meeting ${m.uid}: ${problem}`);
  return m;
}

/** The instant a meeting starts and ends, epoch ms. */
export function meetingSpan(m: Pick<MeetingEvent, 'startUtc' | 'durationMin'>): {
  start: number;
  end: number;
} {
  const start = parseTimestamp(m.startUtc, 'startUtc');
  return { start, end: start + m.durationMin * 60_000 };
}
