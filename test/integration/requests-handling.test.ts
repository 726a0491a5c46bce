/**
 * Handling codes between real nodes on a real relay: a restricted item is sealed only for the named
 * nodes of the receiving authority, the receiving node refuses to show or forward what the code
 * forbids unless an officer gives a reason (which it logs), and malformed codes send nothing.
 */
import { issueJoinTicket } from '../../client/join-tickets.ts';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forward } from '../../client/forward.ts';
import { completeJoin, requestToJoin } from '../../client/join.ts';
import { approveJoin } from '../../client/key-manager.ts';
import { AuthorityNode, type ReceiveOutcome } from '../../client/node.ts';
import type { MessageContent } from '../../shared/protocol/content.ts';
import type { Handling } from '../../shared/requests/handling.ts';
import { enrolNode, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { preservationDraft } from '../support/requests.ts';

const NG = 'ng.moj@relay.test';
const KE = 'ke.ag@relay.test';

let relay: TestRelay;
let senegal: AuthorityNode;
let desk1: AuthorityNode;
let desk2: AuthorityNode;
let kenya: AuthorityNode;
const opened: AuthorityNode[] = [];

/** The ids of the items (not receipts, not rejections) that arrived in one fetch. */
function arrived(outcomes: ReceiveOutcome[]): string[] {
  return outcomes.flatMap((o) => (o.kind === 'message' ? [o.message.id] : []));
}

beforeAll(async () => {
  relay = await startTestRelay();
  senegal = await enrolNode(relay, 'sn.moj', 'desk1');
  opened.push(senegal);
  desk1 = await enrolNode(relay, 'ng.moj', 'desk1');
  opened.push(desk1);
  kenya = await enrolNode(relay, 'ke.ag', 'desk1');
  opened.push(kenya);
  // The second node of Nigeria joins and is approved with the master key held by desk1.
  const home = tempDir('entraide-join-ng-');
  const joined = await requestToJoin({
    home,
    relayUrl: relay.url,
    authorityId: 'ng.moj',
    nodeName: 'desk2',
    ticket: (await issueJoinTicket(desk1, 'desk2')).ticket,
    passphrase: PASSPHRASE,
  });
  desk2 = await AuthorityNode.open(home, PASSPHRASE);
  opened.push(desk2);
  await approveJoin(desk1, joined.code);
  await completeJoin(desk2);
});

afterAll(async () => {
  for (const n of opened) await n.close().catch(() => undefined);
  await relay?.close();
});

describe('handling codes between Senegal and the two desks of Nigeria', () => {
  let requestId: string;
  let requestEnvelope: string;

  it('a request for desk1 only is sealed for desk1 and never reaches desk2', async () => {
    const handling: Handling = { visibility: 'named', nodes: ['desk1'], forwarding: 'forbidden' };
    const letter = join(tempDir('entraide-handling-'), 'letter.pdf');
    writeFileSync(letter, randomBytes(70_000));
    const created = await senegal.requests.create({
      type: 'expedited_preservation',
      to: NG,
      draft: preservationDraft({ handling }),
      attachments: [{ path: letter, role: 'request_letter' }],
    });
    requestId = created.id;
    requestEnvelope = created.sent!.id;
    expect(created.sent!.recipients).toEqual([desk1.address]);

    expect(arrived(await desk1.fetchInbox())).toContain(requestEnvelope);
    const shown = desk1.requests.show(requestId);
    expect(shown.direction).toBe('in');
    expect(shown.handling).toEqual(handling);
    expect(shown.content.title).toBe(preservationDraft().title);

    expect(arrived(await desk2.fetchInbox())).not.toContain(requestEnvelope);
    expect(desk2.store.message(requestEnvelope)).toBeUndefined();
    expect(desk2.store.requests.requestById(requestId)).toBeUndefined();
    // Its documents likewise: desk1 fetches the letter; desk2's session is refused it by the relay.
    expect((await desk1.documents.fetch(requestEnvelope)).map((d) => d.state)).toEqual(['held']);
    const blob = senegal.documents.of(requestEnvelope)[0]!.blob;
    const refused = await fetch(`${relay.url}/v1/blobs/${blob}`, {
      headers: { authorization: `Bearer ${await desk2.relay.token()}` },
    });
    expect(refused.status).toBe(404);

    // A status update on it goes to Senegal and, of Nigeria's nodes, to desk1 only.
    const ack = await desk1.requests.update(requestId, 'acknowledged', { reference: 'NG-1' });
    expect(ack.sent.recipients).toEqual([senegal.address]);
    expect(arrived(await desk2.fetchInbox())).not.toContain(ack.sent.id);
    expect(desk2.store.requests.requestById(requestId)).toBeUndefined();
    expect(desk2.requests.list().map((r) => r.id)).not.toContain(requestId);
    expect(desk1.requests.list().map((r) => r.id)).toContain(requestId);
  });

  it('a message for desk2 only reaches desk2 only', async () => {
    const sent = await senegal.send({
      to: [NG],
      subject: 'for desk2',
      body: 'only desk2 may see this',
      handling: { visibility: 'named', nodes: ['desk2'], forwarding: 'allowed' },
    });
    expect(sent.recipients).toEqual([desk2.address]);
    expect(arrived(await desk2.fetchInbox())).toEqual([sent.id]);
    expect(desk2.read(sent.id).body).toBe('only desk2 may see this');
    expect(arrived(await desk1.fetchInbox())).not.toContain(sent.id);
    expect(desk1.store.message(sent.id)).toBeUndefined();
  });

  it('a request whose code forbids forwarding goes on only with an override, which is logged', async () => {
    await expect(forward(desk1, requestEnvelope, { to: [KE] })).rejects.toMatchObject({
      code: 'FORWARD_FORBIDDEN',
    });
    expect(arrived(await kenya.fetchInbox())).toEqual([]);

    const fwd = await forward(desk1, requestEnvelope, { to: [KE], override: 'Court order 12/2026' });
    const got = await kenya.fetchInbox();
    expect(arrived(got)).toEqual([fwd.id]);
    const copy = kenya.read(fwd.id);
    expect(copy.subject.startsWith('Fwd:')).toBe(true);
    expect(copy.body).toContain('SN-MJ-2026-0142');
    // The copy keeps the stricter forwarding rule.
    expect(JSON.parse(copy.handling!)).toMatchObject({ forwarding: 'forbidden' });

    // Only the forward that went out is logged (the refused attempt is not).
    const log = desk1.store.requests.overrides(requestEnvelope);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ action: 'forward-override', node: desk1.address });
    expect(log[0]!.reason).toContain('Court order 12/2026');
    expect(log[0]!.reason).toContain(KE);
  });

  it('a message whose code needs consent goes on with a consent reference, which is logged', async () => {
    const sent = await senegal.send({
      to: [NG],
      subject: 'consent needed',
      body: 'forward only with our consent',
      handling: { visibility: 'authority', forwarding: 'consent_required' },
    });
    expect(arrived(await desk1.fetchInbox())).toContain(sent.id);
    await expect(forward(desk1, sent.id, { to: [KE] })).rejects.toMatchObject({
      code: 'FORWARD_FORBIDDEN',
    });
    expect(arrived(await kenya.fetchInbox())).toEqual([]);

    const fwd = await forward(desk1, sent.id, { to: [KE], consent: 'SN letter 2026-11-02' });
    expect(arrived(await kenya.fetchInbox())).toEqual([fwd.id]);
    expect(kenya.read(fwd.id).subject).toBe('Fwd: consent needed');
    const log = desk1.store.requests.overrides(sent.id);
    expect(log.map((o) => o.action)).toEqual(['forward-with-consent']);
    expect(log[0]!.reason).toContain('SN letter 2026-11-02');
  });

  it('a message with the default code forwards freely, and nothing is logged', async () => {
    const sent = await senegal.send({ to: [NG], subject: 'plain', body: 'nothing special' });
    expect(arrived(await desk1.fetchInbox())).toContain(sent.id);
    const fwd = await forward(desk1, sent.id, { to: [KE] });
    expect(arrived(await kenya.fetchInbox())).toEqual([fwd.id]);
    expect(kenya.read(fwd.id).subject).toBe('Fwd: plain');
    expect(desk1.store.requests.overrides(sent.id)).toEqual([]);
  });

  it('a forwarded copy of a desk1-only request is not readable by desk2 without an override', async () => {
    // Forwarding also seals a copy for the forwarding authority's other nodes: the content of a
    // request restricted to desk1 must not become readable on desk2 through that copy.
    const forwarded = desk1
      .sent(1000)
      .filter((m) => m.subject.startsWith('Fwd:') && m.body.includes('SN-MJ-2026-0142'));
    expect(forwarded).toHaveLength(1);
    await desk2.fetchInbox();
    // Either desk2 holds no copy at all, or it holds one it may not show.
    const copies = desk2.inbox(1000).filter((m) => m.id === forwarded[0]!.id);
    for (const c of copies) {
      expect(() => desk2.read(c.id)).toThrow(expect.objectContaining({ code: 'HANDLING_RESTRICTED' }));
    }
  });

  it('a node holding an item named for another node shows it only with an override, logged', async () => {
    const handling: Handling = { visibility: 'named', nodes: ['desk2'], forwarding: 'allowed' };
    const content: MessageContent = {
      type: 'message',
      subject: 'desk2 only, sealed to all',
      body: 'restricted body',
      handling,
    };
    // Sealed for every node of Nigeria (no restriction), although the code names desk2.
    const sent = await senegal.dispatch({
      to: [NG],
      content,
      record: {
        kind: 'message',
        subject: content.subject,
        body: content.body,
        language: null,
        requestId: null,
        handling,
      },
      restrict: undefined,
    });
    expect(sent.recipients.sort()).toEqual([desk1.address, desk2.address].sort());
    expect(arrived(await desk1.fetchInbox())).toContain(sent.id);

    expect(() => desk1.read(sent.id)).toThrow(expect.objectContaining({ code: 'HANDLING_RESTRICTED' }));
    expect(desk1.store.message(sent.id)!.readAt).toBeNull();
    expect(desk1.store.requests.overrides(sent.id)).toEqual([]);

    const m = desk1.read(sent.id, { override: 'Acting for desk2 on leave' });
    expect(m.body).toBe('restricted body');
    const log = desk1.store.requests.overrides(sent.id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      action: 'read',
      reason: 'Acting for desk2 on leave',
      node: desk1.address,
    });

    // desk2, which the code names, reads it without any override.
    await desk2.fetchInbox();
    expect(desk2.read(sent.id).body).toBe('restricted body');
    expect(desk2.store.requests.overrides(sent.id)).toEqual([]);
  });

  it('a malformed or unknown handling code sends and stores nothing', async () => {
    const sentBefore = senegal.sent(1000).length;
    const requestsBefore = senegal.store.requests.allRequests().length;
    await expect(
      senegal.send({
        to: [NG],
        subject: 'no nodes',
        body: 'x',
        handling: { visibility: 'named', forwarding: 'allowed' },
      }),
    ).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
    await expect(
      senegal.send({
        to: [NG],
        subject: 'unknown desk',
        body: 'x',
        handling: { visibility: 'named', nodes: ['desk9'], forwarding: 'allowed' },
      }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_RECIPIENT',
      message: expect.stringContaining('desk9') as string,
    });
    await expect(
      senegal.requests.create({
        type: 'expedited_preservation',
        to: NG,
        draft: preservationDraft({
          handling: { visibility: 'named', nodes: ['desk9'], forwarding: 'forbidden' },
        }),
      }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_RECIPIENT' });

    expect(senegal.sent(1000)).toHaveLength(sentBefore);
    expect(senegal.sent(1000).map((m) => m.subject)).not.toContain('unknown desk');
    expect(senegal.store.requests.allRequests()).toHaveLength(requestsBefore);
    expect(arrived(await desk1.fetchInbox())).toEqual([]);
    expect(arrived(await desk2.fetchInbox())).toEqual([]);
  });
});
