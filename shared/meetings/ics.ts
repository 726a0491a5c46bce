/**
 * A meeting as an iCalendar object (RFC 5545, with RFC 5546 methods) that calendar programs
 * import: lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character;
 * TEXT values are escaped; the meeting's zone is described in a VTIMEZONE whose changes are found
 * from Intl, so the file carries the offsets this node computed with, not a name to look up.
 */
import { EntraideError } from '../errors.ts';
import { isCancel, isEvent, meetingSpan, type MeetingMessage, type RsvpAnswer } from './meeting.ts';
import type { MeetingState } from './meeting-state.ts';
import { transitionsInYears } from './transitions.ts';
import { localTimeAt, offsetAt, zonedToInstant } from './zoned-time.ts';

export type IcsMethod = 'REQUEST' | 'CANCEL' | 'PUBLISH';

export interface IcsOptions {
  /** Defaults to CANCEL for a cancelled meeting, REQUEST otherwise. */
  method?: IcsMethod;
  /** DTSTAMP: when this file is made, epoch ms. */
  now: number;
}

const MINUTE = 60_000;
const MAX_OCTETS = 75;
export const PRODID = '-//entraide//meetings//EN';

const PARTSTAT: Record<RsvpAnswer, string> = {
  accept: 'ACCEPTED',
  decline: 'DECLINED',
  tentative: 'TENTATIVE',
};

/** RFC 5545 §3.3.11: backslash, semicolon, comma and line breaks escaped; other controls dropped. */
export function escapeText(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ''); // eslint-disable-line no-control-regex
}

const octets = (codePoint: number) =>
  codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;

/**
 * RFC 5545 §3.1: a content line longer than 75 octets is split, each continuation starting with
 * one space (which counts); splits fall between code points, never inside a UTF-8 sequence.
 */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let size = 0;
  for (const ch of line) {
    const n = octets(ch.codePointAt(0)!);
    if (size + n > MAX_OCTETS) {
      parts.push(current);
      current = ' ';
      size = 1;
    }
    current += ch;
    size += n;
  }
  parts.push(current);
  return parts.join('\r\n');
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A wall-clock value (local time read as UTC) as 'YYYYMMDDTHHMMSS'. */
function basic(wall: number): string {
  const d = new Date(wall);
  return (
    `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
  );
}

const utcStamp = (instant: number) => `${basic(instant)}Z`;

function utcOffset(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

/**
 * `NAME;TZID=zone:local` — unless that local time happens twice and the instant is the second
 * one: RFC 5545 reads a repeated local time as its first occurrence, so that one is written in UTC.
 */
function zonedProperty(name: string, instant: number, tz: string): string {
  const local = localTimeAt(instant, tz);
  if (zonedToInstant(local, tz, 'earlier') !== instant) return `${name}:${utcStamp(instant)}`;
  return `${name};TZID=${tz}:${basic(instant + offsetAt(instant, tz) * MINUTE)}`;
}

/** The zone's offsets over the UTC years the meeting spans: one leading period, then each change. */
export function vtimezone(tz: string, start: number, end: number): string[] {
  const [y0, y1] = [new Date(start).getUTCFullYear(), new Date(end).getUTCFullYear()];
  const yearStart = Date.UTC(y0, 0, 1);
  const initial = offsetAt(yearStart, tz);
  const changes = transitionsInYears(tz, y0, y1);
  const lowest = Math.min(initial, ...changes.map((c) => c.to));
  const period = (at: number, from: number, to: number) => {
    const kind = to > lowest ? 'DAYLIGHT' : 'STANDARD';
    return [
      `BEGIN:${kind}`,
      // A period's DTSTART is the local time at which it begins, read with the offset before it.
      `DTSTART:${basic(at + from * MINUTE)}`,
      `TZOFFSETFROM:${utcOffset(from)}`,
      `TZOFFSETTO:${utcOffset(to)}`,
      `END:${kind}`,
    ];
  };
  return [
    'BEGIN:VTIMEZONE',
    `TZID:${tz}`,
    ...period(yearStart, initial, initial),
    ...changes.flatMap((c) => period(c.at, c.from, c.to)),
    'END:VTIMEZONE',
  ];
}

const who = (authority: string) => `CN=${authority}:urn:entraide:${authority}`;

function asState(input: MeetingState | MeetingMessage): MeetingState {
  if (!('type' in input)) return input;
  const common = { uid: input.uid, eventHash: null, cancelHash: null, invited: false, replies: {} };
  if (isEvent(input))
    return { ...common, organizer: input.organizer, event: input, cancel: null, cancelled: false };
  if (isCancel(input))
    return { ...common, organizer: input.organizer, event: null, cancel: input, cancelled: true };
  throw new EntraideError('MEETING_INVALID', 'an RSVP is not a calendar event: give the meeting it answers');
}

/**
 * The meeting as an iCalendar object. A cancelled meeting (or METHOD:CANCEL) has STATUS:CANCELLED
 * and the cancellation's sequence; a cancellation alone gives a VEVENT without times.
 * Throws MEETING_CANCELLED for METHOD:REQUEST on a cancelled meeting.
 */
export function meetingToIcs(input: MeetingState | MeetingMessage, options: IcsOptions): string {
  const state = asState(input);
  const method = options.method ?? (state.cancelled ? 'CANCEL' : 'REQUEST');
  if (state.cancelled && method === 'REQUEST') {
    throw new EntraideError(
      'MEETING_CANCELLED',
      `meeting ${state.uid} was cancelled: send it with METHOD:CANCEL`,
    );
  }
  const cancelled = state.cancelled || method === 'CANCEL';
  const e = state.event;
  const sequence = state.cancel?.sequence ?? e?.sequence ?? 0;
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${PRODID}`,
    'CALSCALE:GREGORIAN',
    `METHOD:${method}`,
  ];
  const span = e ? meetingSpan(e) : null;
  if (e && span) lines.push(...vtimezone(e.tz, span.start, span.end));
  lines.push(
    'BEGIN:VEVENT',
    `UID:${state.uid}@entraide`,
    `SEQUENCE:${sequence}`,
    `DTSTAMP:${utcStamp(options.now)}`,
  );
  if (e && span) {
    const description = [
      ...(e.agenda ? [e.agenda, ''] : []),
      `Video conference: ${e.conference.url}`,
      `Passcode: ${e.conference.passcode}`,
      ...(e.languages.length ? [`Languages: ${e.languages.join(', ')}`] : []),
      ...(e.interpretation ? [`Interpretation: ${e.interpretation}`] : []),
      ...(state.cancel?.reason ? [`Cancelled: ${state.cancel.reason}`] : []),
    ].join('\n');
    lines.push(
      zonedProperty('DTSTART', span.start, e.tz),
      zonedProperty('DTEND', span.end, e.tz),
      `SUMMARY:${escapeText(e.title)}`,
      `DESCRIPTION:${escapeText(description)}`,
      `LOCATION:${escapeText(e.conference.url)}`,
      `URL:${e.conference.url}`,
    );
  } else if (state.cancel?.reason) {
    lines.push(`DESCRIPTION:${escapeText(`Cancelled: ${state.cancel.reason}`)}`);
  }
  lines.push(`ORGANIZER;${who(state.organizer)}`);
  for (const p of e?.participants ?? []) {
    const answer = state.replies[p]?.rsvp.answer;
    const partstat = answer ? PARTSTAT[answer] : 'NEEDS-ACTION';
    lines.push(`ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=${partstat};RSVP=TRUE;${who(p)}`);
  }
  lines.push(`STATUS:${cancelled ? 'CANCELLED' : 'CONFIRMED'}`, 'END:VEVENT', 'END:VCALENDAR');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}
