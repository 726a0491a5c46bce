/**
 * Content at rest on the node: two real nodes on a real relay exchange a message, a request, a
 * status update with a note, a network roster and a meeting, each carrying unique canaries. Neither
 * node's node.db nor its WAL holds any canary in clear, while the nodes are open (the WAL not yet
 * checkpointed) and after they are closed; both nodes still show everything in clear, also after
 * opening again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorityNode } from '../../client/node.ts';
import { enrolNode, PASSPHRASE, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { preservationDraft } from '../support/requests.ts';
import { pollUntil } from '../support/wait.ts';

const canary = (what: string) => `${what}-${randomBytes(10).toString('hex')}`;
const C = {
  subject: canary('SUBJECT'),
  body: canary('BODY'),
  title: canary('TITLE'),
  facts: canary('FACTS'),
  note: canary('NOTE'),
  network: canary('NETWORK'),
  meeting: canary('MEETING'),
  agenda: canary('AGENDA'),
};

/** node.db and node.db-wal of a node's folder, as bytes (the WAL only while it exists). */
function databaseFiles(home: string): { name: string; bytes: Buffer }[] {
  return ['node.db', 'node.db-wal']
    .map((name) => join(home, name))
    .filter((f) => existsSync(f))
    .map((f) => ({ name: f, bytes: readFileSync(f) }));
}

function expectNoCanary(home: string, mustHold: string): void {
  const files = databaseFiles(home);
  // The scan does read the rows: ids are kept in clear.
  expect(files.some((f) => f.bytes.includes(Buffer.from(mustHold, 'utf8')))).toBe(true);
  for (const { name, bytes } of files)
    for (const [what, text] of Object.entries(C))
      expect(bytes.includes(Buffer.from(text, 'utf8')), `${what} in clear in ${name}`).toBe(false);
}

describe('content sealed at rest on the node', () => {
  let relay: TestRelay;
  let sn: AuthorityNode;
  let ng: AuthorityNode;
  let messageId = '';
  let requestId = '';
  let meetingUid = '';

  async function arrive(node: AuthorityNode, n: number): Promise<void> {
    let got = 0;
    await pollUntil(
      async () => (got += (await node.fetchInbox()).filter((o) => o.kind !== 'rejected').length),
      (count) => count >= n,
      { intervalMs: 100, timeoutMs: 10_000 },
    );
    expect(got, `items at ${node.address}`).toBeGreaterThanOrEqual(n);
  }

  function expectShownInClear(): void {
    const inbox = ng.inbox();
    expect(inbox.find((m) => m.id === messageId)).toMatchObject({ subject: C.subject, body: C.body });
    expect(ng.requests.show(requestId).title).toBe(C.title);
    const atSenegal = JSON.stringify(sn.requests.show(requestId));
    expect(atSenegal).toContain(C.facts);
    expect(atSenegal).toContain(C.note);
    expect(ng.networks.show('wacap').name).toBe(C.network);
    expect(ng.meetings.show(meetingUid)).toMatchObject({ title: C.meeting, agenda: C.agenda });
  }

  beforeAll(async () => {
    relay = await startTestRelay();
    sn = await enrolNode(relay, 'sn.moj');
    ng = await enrolNode(relay, 'ng.moj');
  });
  afterAll(async () => {
    await sn?.close();
    await ng?.close();
    await relay?.close();
  });

  it('keeps no canary in node.db or its WAL, open or closed, and shows everything in clear', async () => {
    await sn.networks.create('wacap', C.network, ['en']);
    await sn.networks.change('wacap', { add: [ng.authority] });
    messageId = (await sn.send({ to: [ng.authority], subject: C.subject, body: C.body })).id;
    requestId = (
      await sn.requests.create({
        type: 'expedited_preservation',
        to: ng.authority,
        draft: preservationDraft({ title: C.title, summaryOfFacts: `Facts: ${C.facts}.` }),
      })
    ).id;
    meetingUid = (
      await sn.meetings.schedule({
        network: 'wacap',
        title: C.meeting,
        start: '2027-01-14T10:00',
        tz: 'Africa/Dakar',
        duration: '60m',
        agenda: C.agenda,
      })
    ).view.uid;
    await arrive(ng, 4); // roster, message, request, meeting
    await ng.requests.update(requestId, 'acknowledged');
    await ng.requests.update(requestId, 'additional_info_requested', { note: `Needed: ${C.note}` });
    await pollUntil(
      async () => {
        await sn.fetchInbox();
        return sn.requests.show(requestId).state;
      },
      (state) => state === 'additional_info_requested',
      { intervalMs: 100, timeoutMs: 10_000 },
    );
    expectShownInClear();

    // Open: what was written is still in the WALs, not yet checkpointed.
    for (const node of [sn, ng]) {
      expect(statSync(join(node.home, 'node.db-wal')).size).toBeGreaterThan(0);
      expectNoCanary(node.home, requestId);
    }
    const homes = [sn.home, ng.home];
    await sn.close();
    await ng.close();
    for (const home of homes) expectNoCanary(home, requestId);

    sn = await AuthorityNode.open(homes[0]!, PASSPHRASE);
    ng = await AuthorityNode.open(homes[1]!, PASSPHRASE);
    expectShownInClear();
  });
});
