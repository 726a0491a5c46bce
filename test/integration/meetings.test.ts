/**
 * Networks and meetings between real nodes on two federated relays: a coordinator's signed roster
 * reaches every member, members' working hours reach the coordinator, and an invitation, replies,
 * an update and a cancellation travel end to end encrypted. A roster change or an invitation from
 * a non-coordinator, and an old version sent again, are refused by the members; nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemRecord } from '../../client/networks.ts';
import type { AuthorityNode, ReceiveOutcome } from '../../client/node.ts';
import { rosterHash, signRoster } from '../../shared/meetings/roster.ts';
import { signMeetingMessage, type MeetingEvent } from '../../shared/meetings/meeting.ts';
import type { MeetingState } from '../../shared/meetings/meeting-state.ts';
import { enrolNode, type TestRelay, startPeeredRelays } from '../support/fixtures.ts';
import { pollUntil } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };

describe('networks and meetings across two relays', () => {
  let a: TestRelay;
  let b: TestRelay;
  let sn: AuthorityNode; // coordinator, relay A
  let ng: AuthorityNode; // member, relay A
  let gh: AuthorityNode; // member, relay B
  let uid = '';

  /** Fetches until `node` has received `n` more items (bounded). */
  async function arrive(node: AuthorityNode, n = 1): Promise<ReceiveOutcome[]> {
    const got: ReceiveOutcome[] = [];
    const fetchMore = async () => got.push(...(await node.fetchInbox()));
    await pollUntil(fetchMore, (count) => count >= n, { intervalMs: 100, timeoutMs: 10_000 });
    expect(got.length, `items at ${node.address}`).toBeGreaterThanOrEqual(n);
    return got;
  }

  beforeAll(async () => {
    [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], { outbox: fast });
    sn = await enrolNode(a, 'sn.moj');
    ng = await enrolNode(a, 'ng.moj');
    gh = await enrolNode(b, 'gh.moj');
  }, 60_000);
  afterAll(async () => {
    for (const n of [sn, ng, gh]) await n?.close();
    await a?.close();
    await b?.close();
  });

  it('shares the coordinator’s roster with every member', async () => {
    await sn.networks.create('wacap', 'West African Network of Central Authorities and Prosecutors', [
      'fr',
      'en',
    ]);
    const r = await sn.networks.change('wacap', { add: [ng.authority, gh.authority] });
    expect(r.view.version).toBe(2);
    expect([...r.diff.addedMembers].sort()).toEqual([gh.authority, ng.authority]);
    await arrive(ng);
    await arrive(gh);
    for (const m of [ng, gh]) {
      const v = m.networks.show('wacap');
      expect(v.version).toBe(2);
      expect(v.coordinators).toEqual([sn.authority]);
      expect(v.members).toEqual([sn.authority, ng.authority, gh.authority]);
    }
  });

  it('brings each member’s declared hours to the coordinator', async () => {
    await sn.networks.setHours({ tz: 'Africa/Dakar', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' });
    const n = await ng.networks.setHours({
      tz: 'Africa/Lagos',
      days: [1, 2, 3, 4, 5],
      start: '08:00',
      end: '16:00',
    });
    expect(n.sentTo).toEqual([sn.authority]);
    await gh.networks.setHours({ tz: 'Africa/Accra', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' });
    await arrive(sn, 2);
    const hours = sn.networks.show('wacap').hours;
    expect(Object.keys(hours).sort()).toEqual([gh.authority, ng.authority, sn.authority].sort());
    const { slots, withoutHours } = sn.meetings.slots(
      'wacap',
      '60m',
      '1w',
      Date.parse('2027-01-11T00:00:00Z'),
    );
    expect(withoutHours).toEqual([]);
    expect(slots.length).toBeGreaterThan(0);
    for (const s of slots) {
      expect(s.outside).toEqual([]);
      // Lagos works 08:00–16:00 (UTC+1), Dakar and Accra 09:00–17:00 (UTC): 09:00–15:00 UTC.
      const h = new Date(s.start).getUTCHours();
      expect(h).toBeGreaterThanOrEqual(9);
      expect(new Date(s.end).getUTCHours() * 60 + new Date(s.end).getUTCMinutes()).toBeLessThanOrEqual(
        15 * 60,
      );
    }
  });

  it('refuses a roster change by a member, at the CLI’s level and at every other member', async () => {
    await expect(ng.networks.change('wacap', { add: ['bj.moj@relay.a.test'] })).rejects.toMatchObject({
      code: 'NOT_COORDINATOR',
    });
    // A member that signs a next version itself anyway: the others refuse it, nothing changes.
    const current = ng.networks.roster('wacap')!;
    const forged = signRoster(
      {
        ...current,
        sig: undefined,
        version: current.version + 1,
        members: [...current.members, 'bj.moj@relay.a.test'],
        coordinators: [...current.coordinators, ng.authority],
        issuedBy: ng.address,
        at: new Date().toISOString(),
        prev: rosterHash(current),
        hours: undefined,
      } as never,
      ng.identitySecretKey,
    );
    await ng.dispatch({
      to: [gh.authority, sn.authority],
      content: forged,
      record: itemRecord('network', 'forged'),
    });
    const [o] = await arrive(gh);
    expect(o).toMatchObject({ kind: 'rejected', rejection: { code: 'NOT_COORDINATOR' } });
    expect(gh.networks.show('wacap').version).toBe(2);
    await arrive(sn);
    expect(sn.networks.show('wacap').members).not.toContain('bj.moj@relay.a.test');
  });

  it('invites every member, each in its own time zone, and collects their answers', async () => {
    const r = await sn.meetings.schedule({
      network: 'wacap',
      title: 'Réunion annuelle — annual meeting',
      start: '2027-01-14T10:00',
      tz: 'Africa/Dakar',
      duration: '90m',
      agenda: 'Case OKAPI-7731 briefing',
      languages: ['fr', 'en'],
    });
    uid = r.view.uid;
    expect(r.view.participants).toEqual([ng.authority, gh.authority]);
    expect(r.view.conference.url).toMatch(/^https:\/\/.+\/entraide(-[a-z2-7]{4}){8}$/);
    await arrive(ng);
    await arrive(gh);
    expect(ng.meetings.show(uid).local).toEqual({
      tz: 'Africa/Lagos',
      start: '2027-01-14 11:00',
      end: '2027-01-14 12:30',
    });
    expect(gh.meetings.show(uid).local.start).toBe('2027-01-14 10:00');
    expect(gh.meetings.show(uid).agenda).toBe('Case OKAPI-7731 briefing');
    await ng.meetings.rsvp(uid, 'accept');
    await gh.meetings.rsvp(uid, 'decline', 'Court hearing that day');
    await arrive(sn, 2);
    const replies = sn.meetings.show(uid).replies;
    expect(replies[ng.authority]).toMatchObject({ answer: 'accept', sequence: 0 });
    expect(replies[gh.authority]).toMatchObject({ answer: 'decline', note: 'Court hearing that day' });
  });

  it('sends updates and a cancellation; an old version sent again is refused', async () => {
    const first = JSON.parse(sn.store.meetings.meeting(uid)!.state) as MeetingState;
    await sn.meetings.update(uid, { start: '2027-01-21T10:00' });
    await arrive(gh);
    expect(gh.meetings.show(uid)).toMatchObject({ sequence: 1, start: '2027-01-21T10:00' });
    // The organizer's node sends version 0 again in a new envelope: stale, refused, nothing changes.
    await sn.dispatch({
      to: [gh.authority],
      content: first.event as MeetingEvent,
      record: itemRecord('meeting', 'again'),
    });
    const [stale] = await arrive(gh);
    expect(stale).toMatchObject({ kind: 'rejected', rejection: { code: 'MEETING_STALE_SEQUENCE' } });
    expect(gh.meetings.show(uid).sequence).toBe(1);
    // A member cannot change or cancel the meeting.
    await expect(ng.meetings.update(uid, { title: 'mine' })).rejects.toMatchObject({
      code: 'MEETING_NOT_ORGANIZER',
    });
    await sn.meetings.cancel(uid, 'Postponed to the plenary');
    await arrive(ng, 2);
    await arrive(gh);
    expect(ng.meetings.show(uid)).toMatchObject({
      cancelled: true,
      cancelReason: 'Postponed to the plenary',
    });
    expect(ng.meetings.ics(uid)).toMatch(/METHOD:CANCEL[\s\S]*STATUS:CANCELLED/);
    await expect(ng.meetings.rsvp(uid, 'accept')).rejects.toMatchObject({ code: 'MEETING_CANCELLED' });
  });

  it('refuses an invitation on a network’s behalf from a non-coordinator', async () => {
    await expect(
      ng.meetings.schedule({
        network: 'wacap',
        title: 'Side meeting',
        start: '2027-02-01T10:00',
        tz: 'Africa/Lagos',
        duration: '30m',
      }),
    ).rejects.toMatchObject({ code: 'NOT_COORDINATOR' });
    const before = gh.meetings.list().length;
    const forged = signMeetingMessage(
      {
        ...(JSON.parse(sn.store.meetings.meeting(uid)!.state) as MeetingState).event!,
        sig: undefined,
        uid: '01950a3c-8f00-7abc-8def-0123456789ab',
        sequence: 0,
        kind: 'invitation',
        organizer: ng.authority,
        participants: [gh.authority],
        issuedBy: ng.address,
      },
      ng.identitySecretKey,
    );
    await ng.dispatch({
      to: [gh.authority],
      content: forged,
      record: itemRecord('meeting', 'forged'),
    });
    const [o] = await arrive(gh);
    expect(o).toMatchObject({ kind: 'rejected', rejection: { code: 'NOT_COORDINATOR' } });
    expect(gh.meetings.list()).toHaveLength(before);
  });

  it('reminds of a meeting once, a day before, and again when it moves', async () => {
    const at = (ms: number) => new Date(Date.now() + ms).toISOString().slice(0, 16);
    const r = await sn.meetings.schedule({
      network: 'wacap',
      title: 'Urgent coordination call',
      start: at(3 * 3_600_000),
      tz: 'UTC',
      duration: '30m',
      participants: [ng.authority],
    });
    await arrive(ng);
    const due = ng.meetings.dueReminders();
    expect(due.map((m) => m.uid)).toEqual([r.view.uid]);
    expect(ng.meetings.dueReminders()).toEqual([]);
    // Reminded, it stays among the upcoming meetings.
    expect(ng.meetings.list({ upcoming: true }).map((m) => m.uid)).toContain(r.view.uid);
    await sn.meetings.update(r.view.uid, { start: at(5 * 3_600_000) });
    await arrive(ng);
    expect(ng.meetings.dueReminders().map((m) => m.sequence)).toEqual([1]);
    await sn.meetings.update(r.view.uid, { start: at(3 * 86_400_000) });
    await arrive(ng);
    expect(ng.meetings.dueReminders()).toEqual([]);
  });

  it('answers only meetings the authority was invited to', async () => {
    await expect(gh.meetings.rsvp('01950a3c-8f00-7abc-8def-000000000000', 'accept')).rejects.toMatchObject({
      code: 'MEETING_NOT_INVITED',
    });
  });
});
