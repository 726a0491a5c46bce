/**
 * The iCalendar writer (shared/meetings/ics.ts), read back by an independent parser:
 * test/support/ics-check.ts parses each file with Mozilla's ical.js and computes the UTC instants
 * of DTSTART/DTEND from the file's own VTIMEZONE (and, separately, from the system tz database
 * through Intl), which must equal the instants this node computed. Where Debian's /usr/bin/python3
 * has icalendar (CI installs it), test/support/ics-check.py reads every file too, as an extra
 * cross-check (with dateutil's tzical as a third reading); without it only that one test is skipped.
 * Also: 75-octet folding that never splits a UTF-8 character, CRLF everywhere, TEXT escaping.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFERENCE_RANDOM_BYTES, conferenceLink } from '../../shared/meetings/conference.ts';
import { escapeText, foldLine, meetingToIcs, type IcsOptions } from '../../shared/meetings/ics.ts';
import {
  meetingSpan,
  signMeetingMessage,
  type MeetingCancel,
  type MeetingEvent,
  type MeetingRsvp,
  type RsvpAnswer,
} from '../../shared/meetings/meeting.ts';
import { validateMeetingDraft, type MeetingDraftInput } from '../../shared/meetings/meeting-draft.ts';
import { applyMeetingMessage, type MeetingState } from '../../shared/meetings/meeting-state.ts';
import { localTimeAt } from '../../shared/meetings/zoned-time.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import {
  hasPythonIcalendar,
  pythonReadIcs,
  pythonReadMany,
  readIcs,
  type IcsReading,
} from '../support/ics-check.ts';
import { authorityIn, codeOf, makeNode, random, type TestNode } from './fixtures.ts';

const SN = authorityIn('wacap', 'SN', 'moj');
const NG = authorityIn('wacap', 'NG', 'fmoj');
const CV = authorityIn('wacap', 'CV', 'mj');
const AT = '2027-01-04T09:00:00.000Z';
const NOW = Date.parse('2027-01-04T09:30:00Z');
const utf8Bytes = (s: string) => new TextEncoder().encode(s);

const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');

/** CRLF after every line and nowhere else; physical lines of at most 75 octets, each valid UTF-8. */
function expectWellFormed(ics: string): string[] {
  expect(ics.endsWith('\r\n')).toBe(true);
  expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  const physical = ics.slice(0, -2).split('\r\n');
  for (const line of physical) {
    expect(utf8Bytes(line).length).toBeLessThanOrEqual(75);
    expect(line.length).toBeGreaterThan(0);
    // A lone surrogate would mean a character was cut in two.
    expect(line).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  }
  return ics.slice(0, -2).replace(/\r\n /g, '').split('\r\n');
}

let sn: TestNode;
let ng: TestNode;
let cv: TestNode;

const base: MeetingDraftInput = {
  title: 'WACAP coordination meeting',
  start: '2027-01-14T10:00',
  tz: 'Africa/Dakar',
  duration: '90m',
  languages: ['fr', 'en'],
  participants: [NG, CV],
  network: 'wacap',
};

function invite(input: Partial<MeetingDraftInput> = {}): MeetingEvent {
  const draft = validateMeetingDraft(
    { ...base, ...input },
    {
      uid: uuidv7(Date.parse(AT), random(10)),
      organizer: SN,
      issuedBy: sn.address,
      at: AT,
      conference: conferenceLink('https://meet.wacap.example', random(CONFERENCE_RANDOM_BYTES)),
    },
  );
  return signMeetingMessage(draft, sn.identity.secretKey);
}

const answer = (node: TestNode, e: MeetingEvent, a: RsvpAnswer): MeetingRsvp =>
  signMeetingMessage(
    {
      v: 1,
      type: 'meeting-rsvp',
      uid: e.uid,
      sequence: e.sequence,
      answer: a,
      attendee: node.authority,
      by: node.address,
      at: AT,
    },
    node.identity.secretKey,
  );

const cancelOf = (e: MeetingEvent, reason?: string): MeetingCancel =>
  signMeetingMessage(
    {
      v: 1,
      type: 'meeting',
      kind: 'cancel',
      uid: e.uid,
      sequence: e.sequence + 1,
      ...(reason ? { reason } : {}),
      organizer: SN,
      issuedBy: sn.address,
      at: AT,
    },
    sn.identity.secretKey,
  );

function stateOf(...msgs: (MeetingEvent | MeetingCancel | MeetingRsvp)[]): MeetingState {
  let s: MeetingState | null = null;
  for (const m of msgs) s = applyMeetingMessage(s, m, { ownAuthority: SN }).state;
  return s!;
}

/** Both readings of DTSTART and DTEND (its VTIMEZONE, the tz database) equal the meeting's own instants. */
function expectSameInstants(checked: IcsReading, e: MeetingEvent): void {
  const { start, end } = meetingSpan(e);
  for (const how of ['', '_zoneinfo'] as const) {
    expect(checked[`dtstart_utc${how}`]).toBe(iso(start));
    expect(checked[`dtend_utc${how}`]).toBe(iso(end));
  }
}

beforeAll(() => {
  [sn, ng, cv] = [makeNode('desk1', SN), makeNode('desk1', NG), makeNode('desk2', CV)];
});

const ZONED_CASES = [
  ['America/New_York', '2027-11-07T00:30', '2h', undefined],
  ['America/New_York', '2027-11-07T01:30', '45m', 'later'],
  ['America/New_York', '2027-11-07T01:30', '45m', 'earlier'],
  ['America/New_York', '2027-03-14T01:30', '1h', undefined],
  ['Australia/Lord_Howe', '2027-10-03T01:00', '3h', undefined],
  ['Australia/Lord_Howe', '2027-04-04T01:45', '30m', 'later'],
  ['Africa/Casablanca', '2027-03-14T01:00', '3h', undefined],
  ['Africa/Casablanca', '2027-02-07T02:15', '1h', 'later'],
  ['Africa/Lagos', '2027-03-28T10:00', '1h', undefined],
  ['Asia/Kathmandu', '2027-06-01T09:15', '1h', undefined],
  ['Europe/Paris', '2027-12-31T23:00', '2h', undefined],
] as const;

const TITLE =
  'اجتماع شبكة غرب أفريقيا للسلطات المركزية — 西非中央机关和检察官打击有组织犯罪网络会议 — Совещание сети центральных органов';
const AGENDA = [
  'Point 1; extradition, MLA: a\\b',
  'النقطة ٢، تسليم المجرمين؛ المساعدة القانونية المتبادلة',
  '第三项：没收和追回资产，包括加密资产；',
  'Пункт 4, выдача; взаимная правовая помощь — 𝕏 emoji 🇸🇳🇳🇬',
].join('\n');

describe('meetingToIcs, read back by ical.js', () => {
  interface File {
    ics: string;
    event: MeetingEvent;
    cancel?: MeetingCancel;
  }
  const files: Record<string, File> = {};
  const checked: Record<string, IcsReading> = {};

  // Every file is written first, then read back with ical.js (Python's test below reads them all too).
  beforeAll(() => {
    const add = (
      name: string,
      event: MeetingEvent,
      input: MeetingState | MeetingEvent | MeetingCancel,
      options: Partial<IcsOptions> = {},
    ): File => (files[name] = { ics: meetingToIcs(input, { now: NOW, ...options }), event });
    const plain = invite();
    add('plain', plain, stateOf(plain));
    const paris = invite({ start: '2027-03-28T01:30', tz: 'Europe/Paris', duration: '120m' });
    add('paris', paris, paris);
    for (const [tz, start, duration, disambiguation] of ZONED_CASES) {
      const e = invite({ tz, start, duration, ...(disambiguation ? { disambiguation } : {}) });
      add(`${tz} ${start} ${disambiguation ?? ''}`, e, e);
    }
    const utf8 = invite({ title: TITLE.slice(0, 200), agenda: AGENDA, languages: ['ar', 'zh', 'ru', 'fr'] });
    add('utf8', utf8, utf8);
    add('answers', plain, stateOf(plain, answer(ng, plain, 'accept'), answer(cv, plain, 'tentative')));
    add('publish', plain, stateOf(plain, answer(ng, plain, 'decline')), { method: 'PUBLISH' });
    const autumn = invite({ start: '2027-10-31T01:30', tz: 'Europe/Paris', duration: '2h' });
    const cancel = cancelOf(autumn, 'Postponed; see the plenary, in Abuja');
    add('cancelled', autumn, stateOf(autumn, cancel)).cancel = cancel;
    add('cancel alone', autumn, cancel);
    const june = invite({ start: '2027-06-01T10:00', tz: 'Europe/Paris' });
    files['wrong offset'] = {
      event: june,
      ics: meetingToIcs(june, { now: NOW }).replace(
        'TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200',
        'TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0300',
      ),
    };
    for (const [name, { ics }] of Object.entries(files)) {
      try {
        checked[name] = readIcs(ics);
      } catch (err) {
        throw new Error(`ics-check could not read "${name}": ${String(err)}`);
      }
    }
  });

  it('writes a plain invitation in a zone without daylight saving (Africa/Dakar)', () => {
    const { ics, event: e } = files.plain!;
    const lines = expectWellFormed(ics);
    expect(lines.slice(0, 5)).toEqual([
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//entraide//meetings//EN',
      'CALSCALE:GREGORIAN',
      'METHOD:REQUEST',
    ]);
    // One period only: Dakar has no changes.
    expect(lines.filter((l) => l.startsWith('BEGIN:STANDARD') || l.startsWith('BEGIN:DAYLIGHT'))).toEqual([
      'BEGIN:STANDARD',
    ]);
    expect(lines).toContain('DTSTART;TZID=Africa/Dakar:20270114T100000');
    expect(lines).toContain('DTEND;TZID=Africa/Dakar:20270114T113000');
    // Read alone too, as a person would run the checker on one file.
    const c = readIcs(ics);
    expect(c).toEqual(checked.plain);
    expectSameInstants(c, e);
    expect(c).toMatchObject({
      version: '2.0',
      method: 'REQUEST',
      uid: `${e.uid}@entraide`,
      sequence: 0,
      status: 'CONFIRMED',
      dtstamp: '2027-01-04T09:30:00Z',
      tzid: 'Africa/Dakar',
      summary: 'WACAP coordination meeting',
      location: e.conference.url,
      url: e.conference.url,
      organizer: { address: `urn:entraide:${SN}`, cn: SN },
    });
    expect(c.description).toContain(`Passcode: ${e.conference.passcode}`);
    expect(c.description).toContain('Languages: fr, en');
    expect(c.attendees).toEqual([
      { address: `urn:entraide:${NG}`, cn: NG, partstat: 'NEEDS-ACTION', rsvp: 'TRUE' },
      { address: `urn:entraide:${CV}`, cn: CV, partstat: 'NEEDS-ACTION', rsvp: 'TRUE' },
    ]);
  });

  it('writes a Paris meeting across the spring change: 01:30 for 120m ends 04:30 local, 02:30 UTC', () => {
    const { ics, event: e } = files.paris!;
    const lines = expectWellFormed(ics);
    expect(lines).toContain('DTSTART;TZID=Europe/Paris:20270328T013000');
    expect(lines).toContain('DTEND;TZID=Europe/Paris:20270328T043000');
    expect(ics).toContain(
      'BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT',
    );
    expect(ics).toContain(
      'BEGIN:STANDARD\r\nDTSTART:20271031T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD',
    );
    const c = checked.paris!;
    expectSameInstants(c, e);
    expect(c.dtstart_utc).toBe('2027-03-28T00:30:00Z');
    expect(c.dtend_utc).toBe('2027-03-28T02:30:00Z');
    expect(c.dtend_local).toBe('2027-03-28T04:30');
  });

  it.each(ZONED_CASES)(
    'writes %s %s for %s (%s) so that ical.js finds the same instants',
    (tz, start, _d, dis) => {
      const name = `${tz} ${start} ${dis ?? ''}`;
      expectWellFormed(files[name]!.ics);
      expectSameInstants(checked[name]!, files[name]!.event);
    },
  );

  it('writes the second of two repeated local times in UTC, since a zoned one would mean the first', () => {
    expect(files['America/New_York 2027-11-07T01:30 later']!.ics).toContain(
      '\r\nDTSTART:20271107T063000Z\r\n',
    );
    expect(files['America/New_York 2027-11-07T01:30 earlier']!.ics).toContain(
      '\r\nDTSTART;TZID=America/New_York:20271107T013000\r\n',
    );
  });

  it('writes long Arabic, Chinese and Russian text, folded without splitting a character, and reads it back', () => {
    const { ics, event: e } = files.utf8!;
    expect(ics.split('\r\n').filter((l) => l.startsWith(' ')).length).toBeGreaterThan(5);
    expectWellFormed(ics);
    const c = checked.utf8!;
    expect(c.summary).toBe(e.title);
    expect(c.description!.startsWith(`${AGENDA}\n\nVideo conference: ${e.conference.url}\n`)).toBe(true);
    expectSameInstants(c, e);
  });

  it('carries the answers as PARTSTAT', () => {
    expect(checked.answers!.attendees.map((a) => a.partstat)).toEqual(['ACCEPTED', 'TENTATIVE']);
    expect(checked.publish!.method).toBe('PUBLISH');
    expect(checked.publish!.attendees.map((a) => a.partstat)).toEqual(['DECLINED', 'NEEDS-ACTION']);
  });

  it('writes a cancellation: METHOD:CANCEL, STATUS:CANCELLED, the cancellation’s sequence', () => {
    const { ics, event: e, cancel } = files.cancelled!;
    expectWellFormed(ics);
    const c = checked.cancelled!;
    expect(c).toMatchObject({ method: 'CANCEL', status: 'CANCELLED', sequence: 1, uid: `${e.uid}@entraide` });
    expect(c.description).toContain('Cancelled: Postponed; see the plenary, in Abuja');
    expectSameInstants(c, e);
    // A cancellation known without its meeting still makes a valid calendar object.
    expectWellFormed(files['cancel alone']!.ics);
    expect(checked['cancel alone']).toMatchObject({
      method: 'CANCEL',
      status: 'CANCELLED',
      sequence: 1,
      dtstart_utc: null,
      vtimezones: [],
    });
    expect(codeOf(() => meetingToIcs(stateOf(e, cancel!), { now: NOW, method: 'REQUEST' }))).toBe(
      'MEETING_CANCELLED',
    );
    expect(codeOf(() => meetingToIcs(answer(ng, e, 'accept'), { now: NOW }))).toBe('MEETING_INVALID');
  });

  it('the checker really reads the VTIMEZONE: a wrong offset in it shows in ical.js’s answer', () => {
    const c = checked['wrong offset']!;
    expect(c.dtstart_utc_zoneinfo).toBe('2027-06-01T08:00:00Z');
    expect(c.dtstart_utc).toBe('2027-06-01T07:00:00Z');
    expect(() => readIcs('BEGIN:VCALENDAR\r\nnot a calendar\r\n')).toThrow();
  });

  it('the checker refuses what it cannot read as one zoned event', () => {
    const { ics } = files.paris!;
    expect(() => readIcs(ics.replace(/BEGIN:VTIMEZONE[\s\S]*END:VTIMEZONE\r\n/, ''))).toThrow(
      /names TZID Europe\/Paris but the file has no such VTIMEZONE/,
    );
    expect(() => readIcs(ics.replace('DTSTART;TZID=Europe/Paris:', 'DTSTART:'))).toThrow(
      /neither zoned nor UTC/,
    );
    // 02:30 on 28 March 2027 is skipped in Paris: no instant has that local time.
    expect(() => readIcs(ics.replace(':20270328T013000', ':20270328T023000'))).toThrow(/does not exist/);
    expect(() => readIcs(ics + ics)).toThrow(/one VCALENDAR/);
  });

  it.skipIf(!hasPythonIcalendar())(
    'Python’s icalendar (the extra parser, where /usr/bin/python3 has it) reads every file as ical.js does',
    () => {
      const names = Object.keys(files);
      const results = pythonReadMany(names.map((n) => files[n]!.ics));
      names.forEach((n, i) => {
        const r = results[i]!;
        if ('error' in r) throw new Error(`ics-check.py could not read "${n}": ${r.error}`);
        const { dtstart_utc_tzical, dtend_utc_tzical, ...reading } = r;
        expect(reading, n).toEqual(checked[n]);
        // dateutil's tzical, a third reading of the same VTIMEZONE text.
        expect(dtstart_utc_tzical, n).toBe(r.dtstart_utc);
        expect(dtend_utc_tzical, n).toBe(r.dtend_utc);
      });
      expect(results[names.indexOf('wrong offset')]).toMatchObject({
        dtstart_utc: '2027-06-01T07:00:00Z',
        dtstart_utc_tzical: '2027-06-01T07:00:00Z',
        dtstart_utc_zoneinfo: '2027-06-01T08:00:00Z',
      });
      // Read alone too, as a person would run the checker on one file.
      expect(pythonReadIcs(files.plain!.ics)).toEqual(results[names.indexOf('plain')]);
      expect(() => pythonReadIcs('BEGIN:VCALENDAR\r\nnot a calendar\r\n')).toThrow();
    },
  );
});

describe('text and lines', () => {
  it('escapes TEXT as RFC 5545 §3.3.11 says', () => {
    expect(escapeText('a\\b;c,d\ne\r\nf\rg')).toBe('a\\\\b\\;c\\,d\\ne\\nf\\ng');
    expect(escapeText('tab\there\u0000\u001f')).toBe('tab\there');
  });

  it('folds at 75 octets, continuation lines start with a space, and unfolding restores the line (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.string({ maxLength: 10 }),
        (text, prefix) => {
          const line = `X-${prefix.replace(/[\r\n]/g, '')}:${text.replace(/[\r\n]/g, '')}`;
          const folded = foldLine(line);
          for (const part of folded.split('\r\n')) expect(utf8Bytes(part).length).toBeLessThanOrEqual(75);
          expect(folded.replace(/\r\n /g, '')).toBe(line);
          // Every physical line is valid UTF-8 on its own: no character is cut.
          for (const part of folded.split('\r\n')) {
            expect(new TextDecoder('utf-8', { fatal: true }).decode(utf8Bytes(part))).toBe(part);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('folds exactly at the limit', () => {
    expect(foldLine('a'.repeat(75))).toBe('a'.repeat(75));
    expect(foldLine('a'.repeat(76))).toBe(`${'a'.repeat(75)}\r\n a`);
    // 74 ASCII octets then a 2-octet letter: 76 octets, so the letter moves to the next line.
    expect(foldLine(`${'a'.repeat(74)}é`)).toBe(`${'a'.repeat(74)}\r\n é`);
    expect(foldLine(`${'a'.repeat(73)}é`)).toBe(`${'a'.repeat(73)}é`);
  });

  it('the local end it writes is the local time of the UTC end', () => {
    const e = invite({ start: '2027-03-28T01:30', tz: 'Europe/Paris', duration: '120m' });
    const opts: IcsOptions = { now: NOW };
    expect(meetingToIcs(e, opts)).toContain(
      `DTEND;TZID=Europe/Paris:${localTimeAt(meetingSpan(e).end, 'Europe/Paris').replace(/[-:]/g, '')}00`,
    );
  });
});
