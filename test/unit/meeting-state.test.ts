/**
 * Meeting messages (shared/meetings/meeting.ts), drafts (meeting-draft.ts) and the meeting state
 * machine (meeting-state.ts), with real Ed25519 keys: every refusal code, corruptions of signed
 * messages, and fast-check properties that any arrival order, with duplicates, ends in the same
 * state.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { CONTEXTS, signObject, withoutSig } from '../../shared/crypto/signing.ts';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import { CONFERENCE_RANDOM_BYTES, conferenceLink } from '../../shared/meetings/conference.ts';
import {
  checkMeetingMessage,
  meetingSpan,
  signMeetingMessage,
  verifyMeetingMessage,
  type MeetingCancel,
  type MeetingEvent,
  type MeetingMessage,
  type MeetingRsvp,
  type RsvpAnswer,
} from '../../shared/meetings/meeting.ts';
import { validateMeetingDraft, type MeetingDraftInput } from '../../shared/meetings/meeting-draft.ts';
import { applyMeetingMessage, type MeetingState } from '../../shared/meetings/meeting-state.ts';
import { formatInZone, localTimeAt } from '../../shared/meetings/zoned-time.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import {
  authorityIn,
  codeOf,
  entraideErrorOf,
  everyBitFlip,
  makeNode,
  random,
  type TestNode,
} from './fixtures.ts';

const SN = authorityIn('wacap', 'SN', 'moj');
const NG = authorityIn('wacap', 'NG', 'fmoj');
const CV = authorityIn('wacap', 'CV', 'mj');
const GH = authorityIn('wacap', 'GH', 'ag');
const AT = '2027-01-04T09:00:00.000Z';
const MINUTE = 60_000;

let sn: TestNode;
let ng: TestNode;
let cv: TestNode;
let gh: TestNode;
let uid: string;
let invitation: MeetingEvent;

const conference = () => conferenceLink('https://meet.wacap.example', random(CONFERENCE_RANDOM_BYTES));

const baseInput: MeetingDraftInput = {
  title: 'WACAP quarterly coordination meeting',
  start: '2027-01-14T10:00',
  tz: 'Africa/Dakar',
  duration: '1h30m',
  agenda: '1. Pending extradition requests\n2. Asset recovery',
  languages: ['fr', 'en', 'pt'],
  interpretation: 'fr<>en, fr<>pt',
  participants: [NG, CV],
  network: 'wacap',
};

/** A signed invitation or update by SN's node, from a draft. */
function event(input: Partial<MeetingDraftInput> = {}, previous?: MeetingEvent, at = AT): MeetingEvent {
  const draft = validateMeetingDraft(
    { ...baseInput, ...input },
    {
      uid,
      organizer: SN,
      issuedBy: sn.address,
      at,
      conference: previous?.conference ?? conference(),
      previous,
    },
  );
  return signMeetingMessage(draft, sn.identity.secretKey);
}

function cancel(sequence: number, node = sn, reason?: string): MeetingCancel {
  return signMeetingMessage(
    {
      v: 1,
      type: 'meeting',
      kind: 'cancel',
      uid,
      sequence,
      ...(reason ? { reason } : {}),
      organizer: SN,
      issuedBy: node.address,
      at: AT,
    },
    node.identity.secretKey,
  );
}

function rsvp(node: TestNode, answer: RsvpAnswer, at = AT, sequence = 0, note?: string): MeetingRsvp {
  return signMeetingMessage(
    {
      v: 1,
      type: 'meeting-rsvp',
      uid,
      sequence,
      answer,
      ...(note ? { note } : {}),
      attendee: node.authority,
      by: node.address,
      at,
    },
    node.identity.secretKey,
  );
}

const own = { ownAuthority: NG };
const apply = (state: MeetingState | null, msg: MeetingMessage, ctx = own) =>
  applyMeetingMessage(state, msg, ctx);
const applyAll = (msgs: MeetingMessage[], ctx = own): MeetingState => {
  let state: MeetingState | null = null;
  for (const m of msgs) state = apply(state, m, ctx).state;
  return state!;
};

/** Deep-freezes a state so that any mutation by the state machine throws. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}

beforeAll(() => {
  [sn, ng, cv, gh] = [
    makeNode('desk1', SN),
    makeNode('desk1', NG),
    makeNode('desk2', CV),
    makeNode('desk1', GH),
  ];
  uid = uuidv7(Date.parse(AT), random(10));
  invitation = event();
});

describe('validateMeetingDraft', () => {
  it('turns typed inputs into a checked invitation', () => {
    const d = validateMeetingDraft(
      { ...baseInput, title: '  WACAP  ', participants: [NG, CV, NG, SN] },
      { uid, organizer: SN, issuedBy: sn.address, at: AT, conference: invitation.conference },
    );
    expect(d).toMatchObject({ kind: 'invitation', sequence: 0, uid, title: 'WACAP', durationMin: 90 });
    expect(d.startUtc).toBe('2027-01-14T10:00:00.000Z');
    expect(d.participants).toEqual([NG, CV]);
    expect(() => checkMeetingMessage({ ...d, sig: invitation.sig })).not.toThrow();
  });

  it('a meeting across the spring change lasts its duration in UTC and ends at the right local time', () => {
    const e = event({ start: '2027-03-28T01:30', tz: 'Europe/Paris', duration: '120m' });
    const { start, end } = meetingSpan(e);
    expect(e.startUtc).toBe('2027-03-28T00:30:00.000Z');
    expect(end - start).toBe(120 * MINUTE);
    expect(new Date(end).toISOString()).toBe('2027-03-28T02:30:00.000Z');
    // 01:30 + 2 h on the wall would be 03:30; the clock jumped, so it ends at 04:30.
    expect(localTimeAt(end, 'Europe/Paris')).toBe('2027-03-28T04:30');
    expect(
      [
        [
          'Europe/Paris',
          '2027-03-28 01:30 (Europe/Paris, UTC+01:00)',
          '2027-03-28 04:30 (Europe/Paris, UTC+02:00)',
        ],
        [
          'Africa/Dakar',
          '2027-03-28 00:30 (Africa/Dakar, UTC+00:00)',
          '2027-03-28 02:30 (Africa/Dakar, UTC+00:00)',
        ],
        [
          'Africa/Lagos',
          '2027-03-28 01:30 (Africa/Lagos, UTC+01:00)',
          '2027-03-28 03:30 (Africa/Lagos, UTC+01:00)',
        ],
        [
          'Atlantic/Cape_Verde',
          '2027-03-27 23:30 (Atlantic/Cape_Verde, UTC-01:00)',
          '2027-03-28 01:30 (Atlantic/Cape_Verde, UTC-01:00)',
        ],
        [
          'Europe/Lisbon',
          '2027-03-28 00:30 (Europe/Lisbon, UTC+00:00)',
          '2027-03-28 03:30 (Europe/Lisbon, UTC+01:00)',
        ],
      ].map(([tz]) => [tz, formatInZone(start, tz!), formatInZone(end, tz!)]),
    ).toEqual([
      [
        'Europe/Paris',
        '2027-03-28 01:30 (Europe/Paris, UTC+01:00)',
        '2027-03-28 04:30 (Europe/Paris, UTC+02:00)',
      ],
      [
        'Africa/Dakar',
        '2027-03-28 00:30 (Africa/Dakar, UTC+00:00)',
        '2027-03-28 02:30 (Africa/Dakar, UTC+00:00)',
      ],
      [
        'Africa/Lagos',
        '2027-03-28 01:30 (Africa/Lagos, UTC+01:00)',
        '2027-03-28 03:30 (Africa/Lagos, UTC+01:00)',
      ],
      [
        'Atlantic/Cape_Verde',
        '2027-03-27 23:30 (Atlantic/Cape_Verde, UTC-01:00)',
        '2027-03-28 01:30 (Atlantic/Cape_Verde, UTC-01:00)',
      ],
      [
        'Europe/Lisbon',
        '2027-03-28 00:30 (Europe/Lisbon, UTC+00:00)',
        '2027-03-28 03:30 (Europe/Lisbon, UTC+01:00)',
      ],
    ]);
  });

  it('a meeting across the autumn change in New York ends at the right local time', () => {
    const e = event({ start: '2027-11-07T00:30', tz: 'America/New_York', duration: '2h' });
    const { end } = meetingSpan(e);
    expect(formatInZone(end, 'America/New_York')).toBe('2027-11-07 01:30 (America/New_York, UTC-05:00)');
  });

  it('makes the next update: same uid, next sequence, same room', () => {
    const u = event({ title: 'WACAP meeting (moved)', start: '2027-01-15T10:00' }, invitation);
    expect(u).toMatchObject({
      kind: 'update',
      sequence: 1,
      uid: invitation.uid,
      conference: invitation.conference,
    });
  });

  it.each([
    ['a start in the spring gap', { start: '2027-03-28T02:30', tz: 'Europe/Paris' }, 'TIME_NONEXISTENT'],
    ['a start in the autumn overlap', { start: '2027-10-31T02:30', tz: 'Europe/Paris' }, 'TIME_AMBIGUOUS'],
    [
      'a start in the Lord Howe gap',
      { start: '2027-10-03T02:10', tz: 'Australia/Lord_Howe' },
      'TIME_NONEXISTENT',
    ],
    [
      'a start in the Casablanca overlap',
      { start: '2027-02-07T02:30', tz: 'Africa/Casablanca' },
      'TIME_AMBIGUOUS',
    ],
    ['an unknown zone', { tz: 'Africa/Wakanda' }, 'TIMEZONE_UNKNOWN'],
    ['a day that does not exist', { start: '2027-02-29T10:00' }, 'TIME_INVALID'],
    ['a zero duration', { duration: '0m' }, 'DURATION_INVALID'],
    ['a two-day duration', { duration: '48h' }, 'DURATION_INVALID'],
    ['a garbage duration', { duration: 'long' }, 'DURATION_INVALID'],
    ['an empty title', { title: '   ' }, 'MEETING_INVALID'],
    ['a title too long', { title: 'x'.repeat(201) }, 'MEETING_INVALID'],
    ['no participants', { participants: [] }, 'MEETING_INVALID'],
    ['only the organizer', { participants: [SN] }, 'MEETING_INVALID'],
    ['a bad participant address', { participants: ['NG.FMOJ@relay'] }, 'ADDRESS_INVALID'],
    ['a bad language tag', { languages: ['French'] }, 'SCHEMA_INVALID'],
    ['a bad network id', { network: 'WACAP network' }, 'SCHEMA_INVALID'],
  ])('refuses %s', (_what, input, code) => expect(codeOf(() => event(input))).toBe(code));

  it('accepts a repeated start time once told which one', () => {
    const e = event({ start: '2027-10-31T02:30', tz: 'Europe/Paris', disambiguation: 'later' });
    expect(e.startUtc).toBe('2027-10-31T01:30:00.000Z');
    expect(() => checkMeetingMessage(e)).not.toThrow();
  });

  it('refuses a draft issued by a node of another authority', () => {
    const err = entraideErrorOf(() =>
      validateMeetingDraft(baseInput, {
        uid,
        organizer: SN,
        issuedBy: ng.address,
        at: AT,
        conference: invitation.conference,
      }),
    );
    expect(err.code).toBe('MEETING_NOT_ORGANIZER');
  });
});

describe('signed meeting messages', () => {
  const key = (n: TestNode) => toBase64url(n.identity.publicKey);

  it('verify under the sending node’s key, and each kind passes checkMeetingMessage', () => {
    for (const [m, n] of [
      [invitation, sn],
      [cancel(1), sn],
      [rsvp(ng, 'accept'), ng],
    ] as const) {
      expect(checkMeetingMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
      expect(verifyMeetingMessage(m, key(n))).toBe(true);
      expect(verifyMeetingMessage(m, key(gh))).toBe(false);
    }
  });

  it('refuses every bit flip of the signature and every changed field', () => {
    for (const sig of everyBitFlip(invitation.sig))
      expect(verifyMeetingMessage({ ...invitation, sig }, key(sn))).toBe(false);
    const changes: Partial<MeetingEvent>[] = [
      { title: 'Another title' },
      { start: '2027-01-14T10:30', startUtc: '2027-01-14T10:30:00.000Z' },
      { durationMin: 91 },
      { participants: [NG] },
      { sequence: 1, kind: 'update' },
      { conference: { ...invitation.conference, passcode: '00000000' } },
      { agenda: undefined },
      { languages: ['fr'] },
    ];
    for (const c of changes) expect(verifyMeetingMessage({ ...invitation, ...c }, key(sn))).toBe(false);
  });

  it('keeps signatures of one purpose from passing for another', () => {
    const body = withoutSig(invitation);
    expect(
      verifyMeetingMessage(
        { ...invitation, sig: signObject(CONTEXTS.networkRoster, body, sn.identity.secretKey) },
        key(sn),
      ),
    ).toBe(false);
    expect(
      verifyMeetingMessage(
        { ...invitation, sig: signObject(CONTEXTS.meeting, body, sn.identity.secretKey) },
        key(sn),
      ),
    ).toBe(true);
  });

  it.each([
    [
      'an invitation with sequence 1',
      () => ({ ...invitation, sequence: 1 }),
      'MEETING_INVALID',
      'sequence 0',
    ],
    ['an update with sequence 0', () => ({ ...invitation, kind: 'update' }), 'MEETING_INVALID', 'sequence 0'],
    [
      'a startUtc that is not the start',
      () => ({ ...invitation, startUtc: '2027-01-14T11:00:00Z' }),
      'MEETING_INVALID',
      'is not 2027-01-14T10:00',
    ],
    [
      'a start in a gap',
      () => ({ ...invitation, start: '2027-03-28T02:30', tz: 'Europe/Paris' }),
      'MEETING_INVALID',
      'does not exist',
    ],
    ['an unknown zone', () => ({ ...invitation, tz: 'Mars/Base' }), 'MEETING_INVALID', 'unknown'],
    [
      'a URL for another room',
      () => ({
        ...invitation,
        conference: { ...invitation.conference, url: 'https://meet.wacap.example/x' },
      }),
      'MEETING_INVALID',
      'its room',
    ],
    [
      'the organizer among participants',
      () => ({ ...invitation, participants: [NG, SN] }),
      'MEETING_INVALID',
      'organizer',
    ],
    [
      'an RSVP for another authority',
      () => ({ ...rsvp(ng, 'accept'), attendee: CV }),
      'MEETING_INVALID',
      'another authority',
    ],
    [
      'an extra field',
      () => ({ ...invitation, location: 'Dakar' }),
      'SCHEMA_INVALID',
      'unexpected field "location"',
    ],
    [
      'a title over 200 characters',
      () => ({ ...invitation, title: 'x'.repeat(201) }),
      'SCHEMA_INVALID',
      'title',
    ],
    ['a cancellation with sequence 0', () => ({ ...cancel(1), sequence: 0 }), 'SCHEMA_INVALID', 'sequence'],
    [
      'an RSVP with another answer',
      () => ({ ...rsvp(ng, 'accept'), answer: 'maybe' }),
      'SCHEMA_INVALID',
      'answer',
    ],
    [
      'an eight-digit passcode with a letter',
      () => ({ ...invitation, conference: { ...invitation.conference, passcode: '1234567a' } }),
      'SCHEMA_INVALID',
      'passcode',
    ],
  ])('checkMeetingMessage refuses %s', (_what, make, code, text) => {
    const err = entraideErrorOf(() => checkMeetingMessage(make()));
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });
});

describe('applyMeetingMessage', () => {
  it('holds the invitation, then the update, and flags a duplicate without change', () => {
    const s0 = apply(null, invitation);
    expect(s0).toMatchObject({ duplicate: false, changed: true });
    expect(s0.state).toMatchObject({
      uid,
      organizer: SN,
      event: invitation,
      cancelled: false,
      invited: true,
      replies: {},
    });
    const again = apply(frozen(s0.state), invitation);
    expect(again).toEqual({ state: s0.state, duplicate: true, changed: false });
    const update = event({ start: '2027-01-15T10:00' }, invitation);
    const s1 = apply(frozen(s0.state), update);
    expect(s1.state.event).toBe(update);
  });

  it('an update that drops this node’s authority keeps the meeting, marked not invited', () => {
    const s = applyAll([invitation, event({ participants: [CV] }, invitation)]);
    expect(s.invited).toBe(false);
  });

  it('an update may arrive before the invitation; the invitation is then stale', () => {
    const update = event({ title: 'moved' }, invitation);
    const s = apply(null, update).state;
    expect(s.event).toBe(update);
    expect(codeOf(() => apply(s, invitation))).toBe('MEETING_STALE_SEQUENCE');
  });

  const table: [string, () => [MeetingMessage[], MeetingMessage], ErrorCode, string][] = [
    [
      'an older version',
      () => [[invitation, event({}, invitation)], invitation],
      'MEETING_STALE_SEQUENCE',
      'is older than 1',
    ],
    [
      'another version with the same sequence',
      () => [[invitation], event({ title: 'other' })],
      'MEETING_STALE_SEQUENCE',
      'differs from the version held',
    ],
    [
      'a cancellation not after the version held',
      () => [[invitation, event({}, invitation)], cancel(1)],
      'MEETING_STALE_SEQUENCE',
      'is not after 1',
    ],
    [
      'a second, older cancellation',
      () => [[invitation, cancel(2)], cancel(1)],
      'MEETING_STALE_SEQUENCE',
      'is not after 2',
    ],
    [
      'a second, newer cancellation',
      () => [[invitation, cancel(1)], cancel(2)],
      'MEETING_CANCELLED',
      'already cancelled',
    ],
    [
      'an update after the cancellation',
      () => [[invitation, cancel(1)], event({ title: 'revived' }, { ...invitation, sequence: 1 })],
      'MEETING_CANCELLED',
      'send a new invitation',
    ],
    [
      'an update signed by a participant',
      () => [
        [invitation],
        signMeetingMessage(
          { ...withoutSig(event({}, invitation)), issuedBy: ng.address },
          ng.identity.secretKey,
        ),
      ],
      'MEETING_NOT_ORGANIZER',
      `${NG} may not change it`,
    ],
    [
      'an update claiming another organizer',
      () => [
        [invitation],
        signMeetingMessage(
          {
            ...withoutSig(event({ participants: [SN, CV] }, invitation)),
            organizer: NG,
            issuedBy: ng.address,
          },
          ng.identity.secretKey,
        ),
      ],
      'MEETING_NOT_ORGANIZER',
      `organized by ${SN}`,
    ],
    [
      'a cancellation by a participant',
      () => [[invitation], cancel(1, ng)],
      'MEETING_NOT_ORGANIZER',
      'may not change it',
    ],
    [
      'an invitation that does not invite this authority',
      () => [[], event({ participants: [CV] })],
      'MEETING_NOT_INVITED',
      `does not invite ${NG}`,
    ],
    [
      'an RSVP for an unknown meeting',
      () => [[], rsvp(ng, 'accept')],
      'MEETING_NOT_INVITED',
      'does not know',
    ],
    [
      'an RSVP from an authority not invited',
      () => [[invitation], rsvp(gh, 'accept')],
      'MEETING_NOT_INVITED',
      `${GH} is not invited`,
    ],
    [
      'an RSVP after the cancellation',
      () => [[invitation, cancel(1)], rsvp(ng, 'accept')],
      'MEETING_CANCELLED',
      'not kept',
    ],
    [
      'a message of another meeting',
      () => [[invitation], { ...invitation, uid: uuidv7(0, random(10)) }],
      'MEETING_INVALID',
      'applied to',
    ],
    [
      'a message that makes no sense',
      () => [[invitation], { ...invitation, startUtc: '2027-01-14T09:00:00Z' }],
      'MEETING_INVALID',
      'is not 2027-01-14T10:00',
    ],
  ];

  it.each(table)('refuses %s', (_what, make, code, text) => {
    const [before, msg] = make();
    const state = before.length ? frozen(applyAll(before)) : null;
    const err = entraideErrorOf(() => apply(state, msg));
    expect(err).toBeInstanceOf(EntraideError);
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });

  it('a cancellation may come first; older versions then still say what was cancelled', () => {
    const u1 = event({ title: 'v1' }, invitation);
    const s = applyAll([cancel(2, sn, 'Postponed to the plenary'), invitation, u1]);
    expect(s).toMatchObject({ cancelled: true, event: u1 });
    expect(s.cancel?.reason).toBe('Postponed to the plenary');
  });

  it('keeps the latest RSVP per attendee, by time then by hash', () => {
    const s0 = applyAll([invitation]);
    const early = rsvp(ng, 'tentative', '2027-01-05T08:00:00Z');
    const late = rsvp(ng, 'accept', '2027-01-06T08:00:00Z');
    const s1 = apply(s0, late).state;
    expect(apply(frozen(s1), early)).toEqual({ state: s1, duplicate: false, changed: false });
    expect(apply(s1, late).duplicate).toBe(true);
    expect(apply(apply(s0, early).state, late).state.replies[NG]!.rsvp).toBe(late);
    // Same time: the higher hash wins, in either order.
    const a = rsvp(cv, 'accept', '2027-01-07T08:00:00Z');
    const d = rsvp(cv, 'decline', '2027-01-07T08:00:00Z');
    const ad = apply(apply(s1, a).state, d).state.replies[CV];
    const da = apply(apply(s1, d).state, a).state.replies[CV];
    expect(ad).toEqual(da);
  });

  // ---- order independence ------------------------------------------------------------------

  let history: MeetingMessage[];
  let replies: MeetingRsvp[];

  beforeAll(() => {
    const versions: MeetingEvent[] = [invitation];
    for (let i = 1; i <= 4; i++) {
      versions.push(event({ title: `version ${i}`, start: `2027-01-1${4 + i}T10:00` }, versions[i - 1]));
    }
    history = [...versions, cancel(5, sn, 'no quorum')];
    replies = [
      rsvp(ng, 'accept', '2027-01-05T08:00:00Z'),
      rsvp(ng, 'decline', '2027-01-06T08:00:00Z'),
      rsvp(cv, 'tentative', '2027-01-05T08:00:00Z'),
      rsvp(cv, 'accept', '2027-01-05T08:00:00Z'),
      rsvp(cv, 'decline', '2027-01-04T08:00:00Z', 0, 'on mission'),
    ];
  });

  /** The first n messages (n ≥ 1) in order, and a permutation of them with some repeated. */
  const arrivals = (all: MeetingMessage[]) =>
    fc.integer({ min: 1, max: all.length }).chain((n) =>
      fc
        .record({
          order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
          dups: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 8 }),
        })
        .map(({ order, dups }) => {
          const inOrder = all.slice(0, n);
          const arrived = order.map((i) => inOrder[i]!);
          for (const [which, where] of dups)
            arrived.splice(where % (arrived.length + 1), 0, inOrder[which % n]!);
          return { inOrder, arrived };
        }),
    );

  function settle(msgs: MeetingMessage[], start: MeetingState | null = null): MeetingState | null {
    let state = start;
    for (const m of msgs) {
      try {
        state = apply(state, m).state;
      } catch (err) {
        if (!(err instanceof EntraideError)) throw err;
        expect(['MEETING_STALE_SEQUENCE', 'MEETING_CANCELLED']).toContain(err.code);
      }
    }
    return state;
  }

  it('ends in the same state for any arrival order of invitation, updates and cancellation, with duplicates (fast-check)', () => {
    fc.assert(
      fc.property(arrivals(history), ({ inOrder, arrived }) => {
        const expected = applyAll(inOrder);
        expect(settle(arrived)).toEqual(expected);
        expect(expected.event!.sequence).toBe(Math.min(inOrder.length - 1, 4));
      }),
      { numRuns: 60 },
    );
  });

  it('ends with the same replies for any arrival order of RSVPs, with duplicates (fast-check)', () => {
    fc.assert(
      fc.property(arrivals(replies), ({ inOrder, arrived }) => {
        const start = applyAll([invitation]);
        expect(settle(arrived, start)).toEqual(settle(inOrder, start));
      }),
      { numRuns: 60 },
    );
  });
});
