/**
 * Reading meetings on a node: each one's state as this node holds it, shown in this authority's
 * zone, as a list, as an iCalendar file, the times that suit a network, and what to remind of.
 * MeetingDesk (meetings.ts) adds what changes them.
 */
import { slotHeatmap, type Heatmap } from '../shared/meetings/heatmap.ts';
import { EntraideError } from '../shared/errors.ts';
import { parseDuration, parseWindow } from '../shared/meetings/duration.ts';
import { meetingToIcs } from '../shared/meetings/ics.ts';
import type { MeetingState } from '../shared/meetings/meeting-state.ts';
import { meetingSpan, type RsvpAnswer } from '../shared/meetings/meeting.ts';
import { findSlots, type Slot } from '../shared/meetings/slots.ts';
import type { WorkingHours } from '../shared/meetings/working-hours.ts';
import { checkTimeZone, isTimeZone, localTimeAt } from '../shared/meetings/zoned-time.ts';
import type { NetworkDesk } from './networks.ts';
import type { NodePort } from './node-port.ts';
import type { RequestRecords } from './request-records.ts';
import type { MeetingRow } from './store/meeting-store.ts';

const WEEK = 7 * 24 * 3_600_000;

/** How long before a meeting `listen` reminds of it. */
export const REMINDER_BEFORE_MS = 24 * 60 * 60 * 1000;

export interface MeetingView {
  uid: string;
  sequence: number;
  title: string;
  agenda?: string;
  start: string;
  tz: string;
  startUtc: string;
  endUtc: string;
  durationMin: number;
  local: { tz: string; start: string; end: string };
  organizer: string;
  participants: string[];
  languages: string[];
  interpretation?: string;
  cancelled: boolean;
  cancelReason?: string;
  conference: { url: string; room: string; passcode: string };
  network?: string;
  request?: string;
  replies: Record<string, { answer: RsvpAnswer; note?: string; sequence: number; at: string }>;
}

export class MeetingRecords {
  /**
   * @param networks the rosters and hours this node holds (a meeting belongs to a network).
   * @param requests the requests this node holds (a meeting may name one).
   */
  constructor(
    protected readonly node: NodePort,
    protected readonly networks: Pick<NetworkDesk, 'mustHold' | 'roster' | 'ownHours' | 'show'>,
    protected readonly requests: Pick<RequestRecords, 'mustExist'>,
  ) {}

  protected get store() {
    return this.node.store.meetings;
  }

  /** The zone this node shows times in: the declared working hours' zone, else the system's. */
  displayZone(tz?: string): string {
    if (tz) return checkTimeZone(tz);
    const own = this.networks.ownHours()?.tz;
    if (own) return own;
    const system = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return isTimeZone(system) ? system : 'UTC';
  }

  state(uidOrPrefix: string): MeetingState {
    return JSON.parse(this.mustExist(uidOrPrefix).state) as MeetingState;
  }

  protected mustExist(uidOrPrefix: string): MeetingRow {
    const exact = this.store.meeting(uidOrPrefix);
    if (exact) return exact;
    const found = uidOrPrefix.length >= 6 ? this.store.meetingsByPrefix(uidOrPrefix) : [];
    if (found.length === 1) return found[0]!;
    throw new EntraideError(
      'MEETING_NOT_INVITED',
      found.length > 1
        ? `${uidOrPrefix} names several meetings: give more of the id`
        : `this authority was not invited to a meeting ${uidOrPrefix}: see entraide meeting list`,
    );
  }

  // ---- reading ----------------------------------------------------------------------------

  show(uidOrPrefix: string, tz?: string): MeetingView {
    return this.view(this.state(uidOrPrefix), this.displayZone(tz));
  }

  list(opts: { upcoming?: boolean; tz?: string } = {}): MeetingView[] {
    const zone = this.displayZone(opts.tz);
    const rows = this.store.meetings(opts.upcoming ? new Date().toISOString() : undefined);
    return rows
      .filter((r) => !(opts.upcoming && r.cancelled))
      .map((r) => JSON.parse(r.state) as MeetingState)
      .filter((s) => s.event !== null)
      .map((s) => this.view(s, zone));
  }

  protected view(s: MeetingState, zone: string): MeetingView {
    const e = s.event;
    if (!e) throw new EntraideError('NOT_FOUND', `only a cancellation of meeting ${s.uid} is held`);
    const span = meetingSpan(e);
    const replies: MeetingView['replies'] = {};
    for (const [authority, r] of Object.entries(s.replies)) {
      replies[authority] = {
        answer: r.rsvp.answer,
        ...(r.rsvp.note ? { note: r.rsvp.note } : {}),
        sequence: r.rsvp.sequence,
        at: r.rsvp.at,
      };
    }
    return {
      uid: s.uid,
      sequence: Math.max(e.sequence, s.cancel?.sequence ?? 0),
      title: e.title,
      ...(e.agenda ? { agenda: e.agenda } : {}),
      start: e.start,
      tz: e.tz,
      startUtc: new Date(span.start).toISOString(),
      endUtc: new Date(span.end).toISOString(),
      durationMin: e.durationMin,
      local: {
        tz: zone,
        start: localTimeAt(span.start, zone).replace('T', ' '),
        end: localTimeAt(span.end, zone).replace('T', ' '),
      },
      organizer: e.organizer,
      participants: e.participants,
      languages: e.languages,
      ...(e.interpretation ? { interpretation: e.interpretation } : {}),
      cancelled: s.cancelled,
      ...(s.cancel?.reason ? { cancelReason: s.cancel.reason } : {}),
      conference: e.conference,
      ...(e.network !== undefined ? { network: e.network } : {}),
      ...(e.request !== undefined ? { request: e.request } : {}),
      replies,
    };
  }

  /** The meeting as an RFC 5545 calendar object: METHOD:REQUEST, or CANCEL once cancelled. */
  ics(uidOrPrefix: string): string {
    return meetingToIcs(this.state(uidOrPrefix), { now: Date.now() });
  }

  /** Times when the network's members are all inside their declared working hours. */
  /**
   * How many members of `network` are inside their hours at each start over the coming `weeks`
   * (a grid of `stepMin`), for a meeting of `durationMin`; members without declared hours are left
   * out and named.
   */
  heatmap(
    network: string,
    durationMin: number,
    weeks: number,
    stepMin = 30,
    from = Date.now(),
  ): Heatmap & { withoutHours: string[] } {
    const { members, withoutHours } = this.membersWithHours(network);
    const start = Math.ceil(from / 900_000) * 900_000;
    const map = slotHeatmap({ members, durationMin, stepMin, from: start, until: start + weeks * WEEK });
    return { ...map, withoutHours };
  }

  private membersWithHours(network: string): {
    members: { authority: string; hours: WorkingHours }[];
    withoutHours: string[];
  } {
    const view = this.networks.show(network);
    const members: { authority: string; hours: WorkingHours }[] = [];
    const withoutHours: string[] = [];
    for (const m of view.members) {
      const hours = view.hours[m];
      if (hours) members.push({ authority: m, hours });
      else withoutHours.push(m);
    }
    if (members.length === 0) {
      throw new EntraideError(
        'WORKING_HOURS_INVALID',
        `no member of ${network} has declared working hours yet (entraide hours set)`,
      );
    }
    return { members, withoutHours };
  }

  slots(
    network: string,
    duration: string,
    within: string,
    from = Date.now(),
  ): {
    slots: Slot[];
    withoutHours: string[];
  } {
    const durationMin = parseDuration(duration);
    const windowMin = parseWindow(within);
    const { members, withoutHours } = this.membersWithHours(network);
    // Starts on the next quarter hour.
    const start = Math.ceil(from / 900_000) * 900_000;
    const slots = findSlots({ members, durationMin, from: start, until: start + windowMin * 60_000 });
    return { slots, withoutHours };
  }

  /** Meetings starting within the next day that were not reminded of yet; marks them reminded. */
  dueReminders(now = new Date()): MeetingView[] {
    const rows = this.store.dueForReminder(
      now.toISOString(),
      new Date(now.getTime() + REMINDER_BEFORE_MS).toISOString(),
    );
    const zone = this.displayZone();
    const out: MeetingView[] = [];
    for (const r of rows) {
      const s = JSON.parse(r.state) as MeetingState;
      if (!s.event || !(s.invited || s.organizer === this.node.authority)) continue;
      out.push(this.view(s, zone));
      this.store.markReminded(r.uid, now.toISOString());
    }
    return out;
  }
}
