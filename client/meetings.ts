/**
 * A node's side of meetings: the organizer's node signs invitations, updates and cancellations
 * and sends them end to end encrypted to every participant authority; participants answer with
 * signed replies. The state of each meeting is rebuilt from what arrived, in any order
 * (shared/meetings/meeting-state.ts), and kept in the "Meeting" table.
 */
import { authorityOfNode } from '../shared/addresses.ts';
import { EntraideError, isTransient } from '../shared/errors.ts';
import { CONFERENCE_RANDOM_BYTES, conferenceLink } from '../shared/meetings/conference.ts';
import { validateMeetingDraft, type MeetingDraftInput } from '../shared/meetings/meeting-draft.ts';
import { applyMeetingMessage, type MeetingState } from '../shared/meetings/meeting-state.ts';
import {
  checkMeetingMessage,
  meetingSpan,
  senderOf,
  signMeetingMessage,
  verifyMeetingMessage,
  type MeetingMessage,
  type RsvpAnswer,
  RSVP_ANSWERS,
} from '../shared/meetings/meeting.ts';
import type { Envelope } from '../shared/protocol/schemas.ts';
import { uuidv7 } from '../shared/uuid.ts';
import { MeetingRecords, type MeetingView } from './meeting-records.ts';
import { itemRecord } from './networks.ts';
import type { AcceptedRecord, SendResult } from './node-port.ts';
import { random } from './random.ts';

/** The video service whose rooms invitations link to, unless the caller names another. */
export const DEFAULT_CONFERENCE_URL = 'https://meet.jit.si';

export interface ScheduleInput extends Omit<MeetingDraftInput, 'participants'> {
  participants?: string[];
  /** Base URL of the network's video service (https); DEFAULT_CONFERENCE_URL otherwise. */
  conferenceUrl?: string;
}

export type MeetingChanges = Partial<
  Pick<MeetingDraftInput, 'title' | 'start' | 'tz' | 'duration' | 'agenda' | 'languages' | 'interpretation'>
> & { participants?: string[]; disambiguation?: 'earlier' | 'later' };

const recordOf = (subject: string, msg: MeetingMessage): AcceptedRecord['record'] => ({
  ...itemRecord('meeting', subject),
  content: JSON.stringify(msg),
});

function subjectOf(m: MeetingMessage, title: string | undefined): string {
  if (m.type === 'meeting-rsvp') return `meeting reply: ${m.answer} from ${m.attendee}`;
  if (m.kind === 'cancel') return `meeting cancelled: ${title ?? m.uid}`;
  return `meeting ${m.kind === 'invitation' ? 'invitation' : `update ${m.sequence}`}: ${m.title}`;
}

export class MeetingDesk extends MeetingRecords {
  // ---- organizing -------------------------------------------------------------------------

  async schedule(input: ScheduleInput): Promise<{ view: MeetingView; sent: SendResult }> {
    const { conferenceUrl, ...draftInput } = input;
    const me = this.node.authority;
    let participants = input.participants;
    if (input.network !== undefined) {
      const roster = this.networks.mustHold(input.network);
      if (!roster.coordinators.includes(me)) {
        throw new EntraideError(
          'NOT_COORDINATOR',
          `${me} is not a coordinator of ${input.network}: only its coordinators (${roster.coordinators.join(', ')}) invite on its behalf`,
        );
      }
      const outside = (participants ?? []).filter((p) => !roster.members.includes(p));
      if (outside.length > 0) {
        throw new EntraideError(
          'MEETING_INVALID',
          `${outside.join(', ')} ${outside.length > 1 ? 'are not members' : 'is not a member'} of ${input.network}`,
        );
      }
      participants ??= roster.members;
    }
    let request = input.request;
    if (request !== undefined) {
      const r = this.requests.mustExist(request);
      request = r.id;
      participants ??= [r.requesting === me ? r.requested : r.requesting];
    }
    if (!participants) {
      throw new EntraideError('USAGE', 'say who is invited: --network, --request or --participants');
    }
    const draft = validateMeetingDraft(
      { ...draftInput, ...(request !== undefined ? { request } : {}), participants },
      {
        uid: uuidv7(Date.now(), random(10)),
        organizer: me,
        issuedBy: this.node.address,
        at: new Date().toISOString(),
        conference: conferenceLink(conferenceUrl ?? DEFAULT_CONFERENCE_URL, random(CONFERENCE_RANDOM_BYTES)),
      },
    );
    const msg = signMeetingMessage(draft, this.node.identitySecretKey);
    const sent = await this.issue(null, msg, msg.participants);
    return { view: this.show(msg.uid), sent };
  }

  async update(uidOrPrefix: string, c: MeetingChanges): Promise<{ view: MeetingView; sent: SendResult }> {
    const state = this.ownMeeting(uidOrPrefix);
    const prev = state.event!;
    const pick = <K extends keyof MeetingChanges>(k: K, fallback: MeetingChanges[K]) => c[k] ?? fallback;
    const draft = validateMeetingDraft(
      {
        title: pick('title', prev.title)!,
        start: pick('start', prev.start)!,
        tz: pick('tz', prev.tz)!,
        duration: c.duration ?? `${prev.durationMin}m`,
        ...(c.agenda !== undefined ? { agenda: c.agenda } : prev.agenda ? { agenda: prev.agenda } : {}),
        languages: c.languages ?? prev.languages,
        ...((c.interpretation ?? prev.interpretation)
          ? { interpretation: (c.interpretation ?? prev.interpretation)! }
          : {}),
        participants: c.participants ?? prev.participants,
        ...(prev.network !== undefined ? { network: prev.network } : {}),
        ...(prev.request !== undefined ? { request: prev.request } : {}),
        ...(c.disambiguation ? { disambiguation: c.disambiguation } : {}),
      },
      {
        uid: prev.uid,
        organizer: prev.organizer,
        issuedBy: this.node.address,
        at: new Date().toISOString(),
        conference: prev.conference,
        previous: prev,
      },
    );
    const msg = signMeetingMessage(draft, this.node.identitySecretKey);
    // Authorities dropped from the meeting hear of it too.
    const to = [...new Set([...msg.participants, ...prev.participants])];
    const sent = await this.issue(state, msg, to);
    return { view: this.show(msg.uid), sent };
  }

  async cancel(uidOrPrefix: string, reason?: string): Promise<{ view: MeetingView; sent: SendResult }> {
    const state = this.ownMeeting(uidOrPrefix);
    const prev = state.event!;
    const msg = signMeetingMessage(
      {
        v: 1 as const,
        type: 'meeting' as const,
        kind: 'cancel' as const,
        uid: prev.uid,
        sequence: prev.sequence + 1,
        ...(reason?.trim() ? { reason: reason.trim() } : {}),
        organizer: prev.organizer,
        issuedBy: this.node.address,
        at: new Date().toISOString(),
      },
      this.node.identitySecretKey,
    );
    const sent = await this.issue(state, msg, prev.participants);
    return { view: this.show(msg.uid), sent };
  }

  /**
   * A meeting this authority organizes and that is not cancelled: the precondition of an update or
   * a cancellation (MEETING_NOT_ORGANIZER, MEETING_CANCELLED), checked first by callers that ask
   * for more (the service confirms counterparts) before anything is signed.
   */
  ownMeeting(uidOrPrefix: string): MeetingState {
    const state = this.state(uidOrPrefix);
    if (state.organizer !== this.node.authority) {
      throw new EntraideError(
        'MEETING_NOT_ORGANIZER',
        `meeting ${state.uid} is organized by ${state.organizer}: only its nodes may change it`,
      );
    }
    if (state.cancelled || !state.event) {
      throw new EntraideError('MEETING_CANCELLED', `meeting ${state.uid} was cancelled`);
    }
    return state;
  }

  // ---- answering --------------------------------------------------------------------------

  async rsvp(
    uidOrPrefix: string,
    answer: string,
    note?: string,
  ): Promise<{ view: MeetingView; sent: SendResult }> {
    if (!(RSVP_ANSWERS as readonly string[]).includes(answer)) {
      throw new EntraideError('USAGE', `answer with one of: ${RSVP_ANSWERS.join(', ')}`);
    }
    const state = this.state(uidOrPrefix);
    const me = this.node.authority;
    if (!state.event || !state.invited || state.organizer === me) {
      throw new EntraideError(
        'MEETING_NOT_INVITED',
        state.organizer === me
          ? `${me} organizes meeting ${state.uid}: its participants answer`
          : `${me} is not invited to meeting ${state.uid}`,
      );
    }
    if (state.cancelled) throw new EntraideError('MEETING_CANCELLED', `meeting ${state.uid} was cancelled`);
    const msg = signMeetingMessage(
      {
        v: 1 as const,
        type: 'meeting-rsvp' as const,
        uid: state.uid,
        sequence: state.event.sequence,
        answer: answer as RsvpAnswer,
        ...(note?.trim() ? { note: note.trim() } : {}),
        attendee: me,
        by: this.node.address,
        at: new Date().toISOString(),
      },
      this.node.identitySecretKey,
    );
    const sent = await this.issue(state, msg, [state.organizer]);
    return { view: this.show(state.uid), sent };
  }

  /** Applies a message of this node's own to the state, stores it with the item, sends it. */
  private async issue(state: MeetingState | null, msg: MeetingMessage, to: string[]): Promise<SendResult> {
    const next = applyMeetingMessage(state, msg, { ownAuthority: this.node.authority }).state;
    const before = state ? this.store.meeting(state.uid) : undefined;
    let stored = false;
    try {
      return await this.node.dispatch({
        to: to.filter((a) => a !== this.node.authority),
        content: msg,
        record: itemRecord('meeting', subjectOf(msg, next.event?.title)),
        then: () => {
          stored = true;
          this.put(next);
        },
      });
    } catch (err) {
      if (stored && err instanceof EntraideError && !isTransient(err.code)) {
        if (before) this.store.putMeeting(before);
        else this.store.deleteMeeting(msg.uid);
      }
      throw err;
    }
  }

  private put(state: MeetingState): void {
    const e = state.event;
    const span = e ? meetingSpan(e) : null;
    const at = state.cancel?.at ?? e?.at ?? new Date().toISOString();
    this.store.putMeeting({
      uid: state.uid,
      network: e?.network ?? null,
      organizer: state.organizer,
      startUtc: span ? new Date(span.start).toISOString() : at,
      endUtc: span ? new Date(span.end).toISOString() : at,
      sequence: Math.max(e?.sequence ?? 0, state.cancel?.sequence ?? 0),
      cancelled: state.cancelled ? 1 : 0,
      state: JSON.stringify(state),
      updatedAt: new Date().toISOString(),
    });
  }

  // ---- receiving --------------------------------------------------------------------------

  /** Checks a meeting message that arrived: signed by its sender, on behalf of a coordinator. */
  accept(env: Envelope, content: MeetingMessage, senderIdentityKey: string): AcceptedRecord {
    const msg = checkMeetingMessage(content);
    if (senderOf(msg) !== env.from) {
      throw new EntraideError(
        'CONTENT_INVALID',
        `the meeting message in ${env.id} is signed for ${senderOf(msg)}, not its sender ${env.from}`,
      );
    }
    if (!verifyMeetingMessage(msg, senderIdentityKey)) {
      throw new EntraideError(
        'BAD_SIGNATURE',
        `the meeting message in ${env.id} is not signed by ${env.from}`,
      );
    }
    if (msg.type === 'meeting' && msg.kind !== 'cancel' && msg.network !== undefined) {
      const roster = this.networks.roster(msg.network);
      const sender = authorityOfNode(env.from);
      if (!roster?.coordinators.includes(sender)) {
        throw new EntraideError(
          'NOT_COORDINATOR',
          roster
            ? `${sender} is not a coordinator of ${msg.network}; it may not invite on its behalf`
            : `this node holds no roster of ${msg.network}, so ${sender} cannot be shown to coordinate it`,
        );
      }
    }
    const row = this.store.meeting(msg.uid);
    const state = row ? (JSON.parse(row.state) as MeetingState) : null;
    const outcome = applyMeetingMessage(state, msg, { ownAuthority: this.node.authority });
    return {
      record: recordOf(subjectOf(msg, outcome.state.event?.title), msg),
      then: () => {
        if (!outcome.changed) return;
        // Another message may have been stored in between: apply to the latest state held.
        const latestRow = this.store.meeting(msg.uid);
        const latest = latestRow ? (JSON.parse(latestRow.state) as MeetingState) : null;
        try {
          this.put(applyMeetingMessage(latest, msg, { ownAuthority: this.node.authority }).state);
        } catch {
          // Superseded meanwhile (a newer version or a duplicate): the item stays stored as evidence.
        }
      },
    };
  }
}
