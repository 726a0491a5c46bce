import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

describe('two authorities exchange messages through one relay', () => {
  let relay: TestRelay;
  let senegal: AuthorityNode;
  let kenya: AuthorityNode;

  beforeAll(async () => {
    relay = await startTestRelay();
    senegal = await enrolNode(relay, 'sn.moj');
    kenya = await enrolNode(relay, 'ke.ag');
  });
  afterAll(async () => {
    await senegal?.close();
    await kenya?.close();
    await relay?.close();
  });

  it('delivers both ways over HTTP pull', async () => {
    const a = await senegal.send({
      to: [kenya.authority],
      subject: 'MLA 2026/114',
      body: 'Please preserve the account data.',
      language: 'en',
    });
    const b = await kenya.send({
      to: [senegal.authority],
      subject: 'Re: MLA 2026/114',
      body: 'Preservation order issued.',
      language: 'fr',
    });
    const atKenya = await kenya.fetchInbox();
    const atSenegal = await senegal.fetchInbox();
    expect(atKenya.map((o) => o.kind === 'message' && o.message.id)).toEqual([a.id]);
    expect(atSenegal.map((o) => o.kind === 'message' && o.message.id)).toEqual([b.id]);
    expect(kenya.read(a.id).body).toBe('Please preserve the account data.');
    expect(senegal.read(b.id).subject).toBe('Re: MLA 2026/114');
    const state = await senegal.deliveryState(a.id);
    expect(state.deliveries).toEqual([expect.objectContaining({ node: kenya.address, state: 'delivered' })]);
  });

  it('pushes over socket.io to a listening node, each once', async () => {
    const got: string[] = [];
    await kenya.listen({ onReceive: (o) => o.kind === 'message' && got.push(o.message.id) });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await senegal.send({ to: [kenya.authority], subject: `push ${i}`, body: `body ${i}` })).id);
      await waitFor(() => got.length >= 5, 10_000, 'five pushed messages');
      expect(got.sort()).toEqual(ids.sort());
    } finally {
      kenya.stopListening();
    }
  });
});
