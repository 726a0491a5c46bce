/**
 * What a node knows of one meeting, rebuilt from the messages it received, in whatever order
 * they came and however often. The highest sequence wins (RFC 5546); a cancellation is final; an
 * RSVP counts only from an invited authority, and the latest one per attendee (by `at`, then by
 * hash) is kept. For an organizer whose sequences only grow, every arrival order of the same set
 * of invitation, updates and cancellation ends in the same state.
 */
import { authorityOfNode } from '../addresses.ts';
import { EntraideError } from '../errors.ts';
import { parseTimestamp } from '../time.ts';
import {
  isRsvp,
  meetingMessageHash,
  meetingProblem,
  type MeetingCancel,
  type MeetingEvent,
  type MeetingMessage,
  type MeetingRsvp,
} from './meeting.ts';

export interface MeetingReply {
  rsvp: MeetingRsvp;
  hash: string;
}

export interface MeetingState {
  uid: string;
  organizer: string;
  /** The latest invitation or update held; null while only a cancellation has arrived. */
  event: MeetingEvent | null;
  eventHash: string | null;
  cancel: MeetingCancel | null;
  cancelHash: string | null;
  cancelled: boolean;
  /** Whether this node's authority organizes or is invited to the latest version held. */
  invited: boolean;
  /** The latest answer of each attendee, by authority address. */
  replies: Record<string, MeetingReply>;
}

export interface MeetingOutcome {
  state: MeetingState;
  /** The very same message was already applied: nothing changed. */
  duplicate: boolean;
  /** False for a duplicate, and for an RSVP older than the answer held. */
  changed: boolean;
}

export interface MeetingContext {
  /** The authority of the node applying the message. */
  ownAuthority: string;
}

const fail = (
  code:
    | 'MEETING_STALE_SEQUENCE'
    | 'MEETING_NOT_ORGANIZER'
    | 'MEETING_NOT_INVITED'
    | 'MEETING_CANCELLED'
    | 'MEETING_INVALID',
  message: string,
) => new EntraideError(code, message);

const unchanged = (state: MeetingState, duplicate: boolean): MeetingOutcome => ({
  state,
  duplicate,
  changed: false,
});

function invitedTo(event: MeetingEvent | null, own: string): boolean {
  return event !== null && (event.organizer === own || event.participants.includes(own));
}

function applyRsvp(state: MeetingState | null, msg: MeetingRsvp, hash: string): MeetingOutcome {
  if (state?.cancelled)
    throw fail('MEETING_CANCELLED', `meeting ${msg.uid} was cancelled: the answer is not kept`);
  if (!state?.event)
    throw fail('MEETING_NOT_INVITED', `an answer to meeting ${msg.uid}, which this node does not know`);
  if (!state.event.participants.includes(msg.attendee)) {
    throw fail('MEETING_NOT_INVITED', `${msg.attendee} is not invited to meeting ${msg.uid}`);
  }
  const held = state.replies[msg.attendee];
  if (held?.hash === hash) return unchanged(state, true);
  if (held) {
    const [a, b] = [parseTimestamp(held.rsvp.at, 'at'), parseTimestamp(msg.at, 'at')];
    if (a > b || (a === b && held.hash > hash)) return unchanged(state, false);
  }
  const replies = { ...state.replies, [msg.attendee]: { rsvp: msg, hash } };
  return { state: { ...state, replies }, duplicate: false, changed: true };
}

/**
 * The state after `msg`. Preconditions: `msg` passed checkMeetingMessage and its signature was
 * verified against its sending node's certified key; `state` (if any) is of the same uid.
 * Throws MEETING_INVALID, MEETING_NOT_ORGANIZER, MEETING_STALE_SEQUENCE, MEETING_CANCELLED or
 * MEETING_NOT_INVITED; the state passed in is never modified.
 */
export function applyMeetingMessage(
  state: MeetingState | null,
  msg: MeetingMessage,
  ctx: MeetingContext,
): MeetingOutcome {
  if (state && state.uid !== msg.uid)
    throw fail('MEETING_INVALID', `message for ${msg.uid} applied to ${state.uid}`);
  const problem = meetingProblem(msg);
  if (problem) throw fail('MEETING_INVALID', `meeting ${msg.uid}: ${problem}`);
  const hash = meetingMessageHash(msg);
  if (isRsvp(msg)) return applyRsvp(state, msg, hash);

  const issuer = authorityOfNode(msg.issuedBy);
  if (issuer !== msg.organizer || (state && state.organizer !== msg.organizer)) {
    throw fail(
      'MEETING_NOT_ORGANIZER',
      `meeting ${msg.uid} is organized by ${state?.organizer ?? msg.organizer}; ${issuer} may not change it`,
    );
  }
  const base: MeetingState = state ?? {
    uid: msg.uid,
    organizer: msg.organizer,
    event: null,
    eventHash: null,
    cancel: null,
    cancelHash: null,
    cancelled: false,
    invited: false,
    replies: {},
  };
  const held = base.event?.sequence ?? -1;

  if (msg.kind === 'cancel') {
    if (base.cancelHash === hash) return unchanged(base, true);
    if (base.cancel && msg.sequence > base.cancel.sequence) {
      throw fail('MEETING_CANCELLED', `meeting ${msg.uid} is already cancelled`);
    }
    if (base.cancel || msg.sequence <= held) {
      const current = Math.max(held, base.cancel?.sequence ?? -1);
      throw fail(
        'MEETING_STALE_SEQUENCE',
        `cancellation ${msg.sequence} of meeting ${msg.uid} is not after ${current}`,
      );
    }
    return {
      state: { ...base, cancel: msg, cancelHash: hash, cancelled: true },
      duplicate: false,
      changed: true,
    };
  }

  if (base.eventHash === hash) return unchanged(base, true);
  if (msg.sequence <= held) {
    const why =
      msg.sequence === held ? 'differs from the version held with that sequence' : `is older than ${held}`;
    throw fail('MEETING_STALE_SEQUENCE', `version ${msg.sequence} of meeting ${msg.uid} ${why}`);
  }
  // A version older than the cancellation still tells what was cancelled: it is kept.
  if (base.cancel && msg.sequence >= base.cancel.sequence) {
    throw fail('MEETING_CANCELLED', `meeting ${msg.uid} was cancelled: send a new invitation instead`);
  }
  if (msg.kind === 'invitation' && !invitedTo(msg, ctx.ownAuthority)) {
    throw fail('MEETING_NOT_INVITED', `meeting ${msg.uid} does not invite ${ctx.ownAuthority}`);
  }
  const next = { ...base, event: msg, eventHash: hash, invited: invitedTo(msg, ctx.ownAuthority) };
  return { state: next, duplicate: false, changed: true };
}
