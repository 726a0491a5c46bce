/**
 * From what an officer types (title, local start, zone, '1h30m', participants…) to a checked,
 * unsigned invitation or update. Every refusal names the field: a start that a clock change
 * skips or repeats, an unknown zone, a bad duration, an empty title, nobody invited.
 */
import { parseAuthorityAddress, parseNodeAddress } from '../addresses.ts';
import { EntraideError } from '../errors.ts';
import { check } from '../protocol/validate.ts';
import type { Conference } from './conference.ts';
import { parseDuration } from './duration.ts';
import { MEETING_LIMITS, meetingProblem, UnsignedMeetingEvent, type MeetingEvent } from './meeting.ts';
import { checkTimeZone, zonedToInstant, type Disambiguation } from './zoned-time.ts';

export interface MeetingDraftInput {
  title: string;
  /** Local start, 'YYYY-MM-DDTHH:MM', in `tz`. */
  start: string;
  tz: string;
  /** '90m', '1h30m', 'PT1H30M'. */
  duration: string;
  agenda?: string;
  languages?: readonly string[];
  interpretation?: string;
  participants: readonly string[];
  network?: string;
  request?: string;
  /** Which of two instants a start repeated by a clock change means; refused without it. */
  disambiguation?: Disambiguation;
}

export interface MeetingDraftContext {
  /** The meeting's UUID (ignored for an update: it keeps the previous one). */
  uid: string;
  organizer: string;
  issuedBy: string;
  at: string;
  conference: Conference;
  /** The version this draft updates; absent for an invitation. */
  previous?: MeetingEvent;
}

const invalid = (why: string) => new EntraideError('MEETING_INVALID', why);

/**
 * A checked unsigned invitation (or, with `ctx.previous`, the next update of that meeting).
 * Participants are de-duplicated and the organizer dropped from them. Throws TIMEZONE_UNKNOWN,
 * TIME_INVALID, TIME_NONEXISTENT, TIME_AMBIGUOUS, DURATION_INVALID, ADDRESS_INVALID,
 * MEETING_INVALID or SCHEMA_INVALID.
 */
export function validateMeetingDraft(
  input: MeetingDraftInput,
  ctx: MeetingDraftContext,
): UnsignedMeetingEvent {
  const title = input.title.trim();
  if (title === '') throw invalid('a meeting needs a title');
  if (title.length > MEETING_LIMITS.title)
    throw invalid(`the title is longer than ${MEETING_LIMITS.title} characters`);
  const agenda = input.agenda?.trim();
  if (agenda !== undefined && agenda.length > MEETING_LIMITS.agenda) {
    throw invalid(`the agenda is longer than ${MEETING_LIMITS.agenda} characters`);
  }
  const organizer = parseAuthorityAddress(ctx.organizer).address;
  if (parseNodeAddress(ctx.issuedBy).authority !== organizer) {
    throw new EntraideError('MEETING_NOT_ORGANIZER', `${ctx.issuedBy} is not a node of ${organizer}`);
  }
  const participants = [
    ...new Set(input.participants.map((p) => parseAuthorityAddress(p.trim()).address)),
  ].filter((p) => p !== organizer);
  if (participants.length === 0) throw invalid('invite at least one authority other than the organizer');
  if (participants.length > MEETING_LIMITS.participants) {
    throw invalid(`at most ${MEETING_LIMITS.participants} authorities may be invited`);
  }
  const tz = checkTimeZone(input.tz);
  const startUtc = new Date(zonedToInstant(input.start, tz, input.disambiguation)).toISOString();
  const durationMin = parseDuration(input.duration);

  const previous = ctx.previous;
  if (previous && previous.organizer !== organizer) {
    throw new EntraideError('MEETING_NOT_ORGANIZER', `only ${previous.organizer} may update this meeting`);
  }
  const draft: UnsignedMeetingEvent = {
    v: 1,
    type: 'meeting',
    kind: previous ? 'update' : 'invitation',
    uid: previous?.uid ?? ctx.uid,
    sequence: previous ? previous.sequence + 1 : 0,
    ...(input.network !== undefined ? { network: input.network } : {}),
    ...(input.request !== undefined ? { request: input.request } : {}),
    title,
    ...(agenda ? { agenda } : {}),
    start: input.start,
    tz,
    startUtc,
    durationMin,
    languages: [...new Set(input.languages ?? [])],
    ...(input.interpretation?.trim() ? { interpretation: input.interpretation.trim() } : {}),
    conference: ctx.conference,
    organizer,
    participants,
    issuedBy: ctx.issuedBy,
    at: ctx.at,
  };
  check(UnsignedMeetingEvent, draft, 'meeting');
  const problem = meetingProblem({ ...draft, sig: '' });
  if (problem) throw invalid(problem);
  return draft;
}
