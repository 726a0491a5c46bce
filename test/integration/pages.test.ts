/**
 * Pages and batches bounded in bytes as well as in count (DESIGN.md, "At the edge"): the inbox
 * answer, the socket catch-up and the federation outbox each hold at most their budget of
 * envelope bytes (at least one envelope), and reading page after page gets every envelope once.
 * The inbox answer is the stored envelope texts as they were accepted, not serialised again.
 */
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { applyOverrides, relayLimits, type RelayLimits } from '../../server/limits.ts';
import type { OutboxItem, PendingPage } from '../../server/storage/relay-store.ts';
import type { Envelope, InboxPage } from '../../shared/protocol/schemas.ts';
import { startPeeredRelays, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { enrolByHand, postJson, seal, type HandNode } from '../support/hand-built-node.ts';
import { waitFor } from '../support/wait.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Sealed envelopes of a little over 2 kB each, and the budget that holds two of them. */
function envelopes(from: HandNode, to: HandNode, n: number): Envelope[] {
  return Array.from({ length: n }, (_, i) =>
    seal(from, [to], {
      content: JSON.stringify({ type: 'message', subject: `s${i}`, body: 'x'.repeat(1500) }),
    }),
  );
}
const twoOf = (envs: Envelope[]) => 29 + 2 * Math.max(...envs.map((e) => JSON.stringify(e).length + 1));

function limitsWith(pages: Partial<RelayLimits['pages']>): RelayLimits {
  return applyOverrides(relayLimits('test'), { pages }, 'test');
}

async function send(relay: TestRelay, from: HandNode, envs: Envelope[]): Promise<void> {
  for (const env of envs)
    expect((await postJson(relay, '/v1/envelopes', env, from.token)).statusCode).toBe(200);
}

describe('the inbox page', () => {
  it('holds at most its budget of bytes, says `more`, and gets every envelope once page after page', async () => {
    const relay = await startTestRelay({ limits: limitsWith({ inboxBytes: 1 }) });
    cleanup.push(() => relay.close());
    const sn = await enrolByHand(relay, 'sn.moj');
    const ke = await enrolByHand(relay, 'ke.ag');
    const sent = envelopes(sn, ke, 7);
    await send(relay, sn, sent);
    const budget = twoOf(sent);
    relay.relay.ctx.limits.pages.inboxBytes = budget;

    const seen: string[] = [];
    for (let round = 0; round < 10; round++) {
      const res = await relay.relay.app.inject({
        method: 'GET',
        url: '/v1/inbox?limit=500',
        headers: { authorization: `Bearer ${ke.token}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.length).toBeLessThanOrEqual(budget);
      const page = res.json<InboxPage>();
      // Written from the stored texts: each envelope exactly as it was sent.
      for (const env of page.envelopes) {
        expect(res.body).toContain(JSON.stringify(sent.find((s) => s.id === env.id)));
      }
      expect(page.envelopes.length).toBe(Math.min(2, sent.length - seen.length));
      seen.push(...page.envelopes.map((e) => e.id));
      expect(page.more).toBe(seen.length < sent.length);
      await postJson(relay, '/v1/inbox/ack', { ids: page.envelopes.map((e) => e.id) }, ke.token);
      if (!page.more) break;
    }
    expect(seen).toEqual(sent.map((e) => e.id));
  });

  it('holds one envelope larger than its budget, and at most `limit` envelopes', async () => {
    const relay = await startTestRelay({ limits: limitsWith({ inboxBytes: 100 }) });
    cleanup.push(() => relay.close());
    const sn = await enrolByHand(relay, 'sn.moj');
    const ke = await enrolByHand(relay, 'ke.ag');
    const sent = envelopes(sn, ke, 3);
    await send(relay, sn, sent);
    const get = async (query: string) =>
      (
        await relay.relay.app.inject({
          method: 'GET',
          url: `/v1/inbox${query}`,
          headers: { authorization: `Bearer ${ke.token}` },
        })
      ).json<InboxPage>();
    const one = await get('');
    expect({ ids: one.envelopes.map((e) => e.id), more: one.more }).toEqual({
      ids: [sent[0]!.id],
      more: true,
    });
    relay.relay.ctx.limits.pages.inboxBytes = 1 << 20;
    const two = await get('?limit=2');
    expect({ ids: two.envelopes.map((e) => e.id), more: two.more }).toEqual({
      ids: [sent[0]!.id, sent[1]!.id],
      more: true,
    });
    const all = await get('?limit=3');
    expect({ n: all.envelopes.length, more: all.more }).toEqual({ n: 3, more: false });
    expect(all.envelopes).toEqual(sent);
  });
});

describe('the socket catch-up', () => {
  it('pushes the backlog in pages within the budget of bytes, every envelope once', async () => {
    const relay = await startTestRelay({ limits: limitsWith({ catchUpBytes: 1 }) });
    cleanup.push(() => relay.close());
    const sn = await enrolByHand(relay, 'sn.moj');
    const ke = await enrolByHand(relay, 'ke.ag');
    const sent = envelopes(sn, ke, 7);
    await send(relay, sn, sent);
    const budget = twoOf(sent) - 29;
    // The hub was built with a budget of 1 byte (one envelope a page); two fit from now on.
    Object.assign(relay.relay.ctx.hub, { catchUpBytes: budget });
    const store = relay.relay.store;
    const pages: number[] = [];
    const pendingPage = store.pendingPage.bind(store);
    store.pendingPage = (...args): PendingPage => {
      const page = pendingPage(...args);
      pages.push(page.envelopes.reduce((n, e) => n + e.body.length + 1, 0));
      expect(page.envelopes.length).toBeLessThanOrEqual(2);
      return page;
    };
    cleanup.push(() => {
      store.pendingPage = pendingPage;
    });

    const received: string[] = [];
    const socket: Socket = io(relay.url, {
      auth: { token: ke.token },
      transports: ['websocket'],
      reconnection: false,
    });
    cleanup.push(() => void socket.close());
    socket.on('envelope', (env: Envelope, answer: (a: { ok: true }) => void) => {
      received.push(env.id);
      answer({ ok: true });
    });
    const drained = new Promise<{ pending: number }>((resolve) => socket.once('inbox:drained', resolve));
    expect(await drained).toEqual({ pending: 0 });
    expect(received).toEqual(sent.map((e) => e.id));
    expect(pages.length).toBeGreaterThanOrEqual(4);
    for (const bytes of pages) expect(bytes).toBeLessThanOrEqual(budget);
  });
});

describe('the federation outbox', () => {
  it('sends batches within the budget of bytes once the peer returns, every envelope once', async () => {
    const fast = { baseDelayMs: 50, maxDelayMs: 200, pollMs: 100, timeoutMs: 2_000 };
    const [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], {
      outbox: fast,
      limits: limitsWith({ federationBatchBytes: 1 }),
    });
    cleanup.push(
      () => a.close(),
      () => b.close(),
    );
    const sn = await enrolByHand(a, 'sn.moj');
    const fr = await enrolByHand(b, 'fr.mj');
    const sent = envelopes(sn, fr, 7);
    // relay.b.test is unreachable while the envelopes are accepted: they wait in the outbox.
    const peerOfA = { domain: b.domain, publicKey: b.relay.identity.publicKeyB64, addedAt: new Date() };
    await a.relay.store.addPeer({ ...peerOfA, url: 'http://127.0.0.1:9' });
    await a.relay.ctx.federation.peers.load();
    await b.relay.ctx.federation.peers.load();
    await send(a, sn, sent);
    const budget = twoOf(sent) - 29;
    // The outbox was built with a budget of 1 byte (one envelope a batch); two fit from now on.
    Object.assign(a.relay.ctx.federation.outbox, { batchBytes: budget });
    const batches: number[][] = [];
    const store = a.relay.store;
    const outboxBatch = store.outboxBatch.bind(store);
    store.outboxBatch = (...args): OutboxItem[] => {
      const items = outboxBatch(...args);
      batches.push(items.map((i) => (i.body?.length ?? 0) + 1));
      return items;
    };
    cleanup.push(() => {
      store.outboxBatch = outboxBatch;
    });

    await a.relay.store.addPeer({ ...peerOfA, url: b.url });
    await a.relay.ctx.federation.peers.load();
    await waitFor(
      () => sent.every((e) => a.relay.store.forwards(e.id)[0]?.state === 'forwarded'),
      15_000,
      'every envelope forwarded',
    );
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(2);
      expect(batch.reduce((n, x) => n + x, 0)).toBeLessThanOrEqual(budget);
    }
    expect(batches.some((batch) => batch.length === 2)).toBe(true);
    const res = await b.relay.app.inject({
      method: 'GET',
      url: '/v1/inbox?limit=500',
      headers: { authorization: `Bearer ${fr.token}` },
    });
    expect(res.json<InboxPage>().envelopes.map((e) => e.id)).toEqual(sent.map((e) => e.id));
  });
});
