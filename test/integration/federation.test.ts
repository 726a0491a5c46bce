/**
 * Two relays federated on loopback: authorities on each exchange messages in both directions,
 * resolving each other's keys through their own relay with the peer's key-log proofs; an envelope
 * for a peer that is down waits in the durable outbox and arrives, once, when the peer returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { PeerList } from '../../shared/protocol/federation.ts';

let a: TestRelay;
let b: TestRelay;
let sn: AuthorityNode; // on relay.a.test
let ke: AuthorityNode; // on relay.b.test
const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };

async function peer(x: TestRelay, y: TestRelay): Promise<void> {
  await x.relay.store.addPeer({
    domain: y.domain,
    url: y.url,
    publicKey: y.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
}

beforeAll(async () => {
  a = await startTestRelay({ domain: 'relay.a.test', outbox: fast });
  b = await startTestRelay({ domain: 'relay.b.test', outbox: fast });
  await peer(a, b);
  await peer(b, a);
  sn = await enrolNode(a, 'sn.moj');
  ke = await enrolNode(b, 'ke.ag');
});

afterAll(async () => {
  await sn?.close();
  await ke?.close();
  await a?.close();
  await b?.close();
});

describe('federation between two relays', () => {
  it('resolves a counterpart on the peer relay with the peer’s key-log proofs', async () => {
    const t = await sn.trust.authority('ke.ag@relay.b.test');
    expect([...t.state.nodes.keys()]).toEqual(['desk1/ke.ag@relay.b.test']);
    expect(t.head.relay).toBe('relay.b.test');
    expect((await sn.fingerprint('ke.ag@relay.b.test')).safetyCode).toBe((await ke.fingerprint()).safetyCode);
  });

  it('delivers across relays in both directions, each message once', async () => {
    const there = await sn.send({ to: ['ke.ag@relay.b.test'], subject: 'from Dakar', body: 'to Nairobi' });
    expect(there.recipients).toEqual(['desk1/ke.ag@relay.b.test']);
    await waitFor(async () => (await ke.fetchInbox()).length > 0, 10_000, 'the message to reach ke.ag');
    expect(ke.inbox().map((m) => m.subject)).toEqual(['from Dakar']);

    const back = await ke.send({ to: ['sn.moj@relay.a.test'], subject: 'from Nairobi', body: 'received' });
    await waitFor(async () => (await sn.fetchInbox()).length > 0, 10_000, 'the answer to reach sn.moj');
    expect(sn.inbox().map((m) => m.id)).toEqual([back.id]);

    const state = await sn.deliveryState(there.id);
    expect(state.forwards).toEqual([
      expect.objectContaining({ peer: 'relay.b.test', state: 'forwarded', lastError: null }),
    ]);
    // The peer reports back that its node stored it: the sender sees the remote node delivered.
    await waitFor(
      async () => (await sn.deliveryState(there.id)).deliveries.some((d) => d.state === 'delivered'),
      10_000,
      'the delivery report from relay.b.test',
    );
    expect((await sn.deliveryState(there.id)).deliveries).toEqual([
      expect.objectContaining({ node: 'desk1/ke.ag@relay.b.test', state: 'delivered' }),
    ]);
    expect(await ke.fetchInbox()).toEqual([]);
  });

  it('keeps envelopes for a peer that is down in the outbox, and delivers them once it returns', async () => {
    const port = Number(new URL(b.url).port);
    const dataDir = b.dataDir;
    await b.close();
    const sent: { id: string }[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(await sn.send({ to: ['ke.ag@relay.b.test'], subject: `while down ${i}`, body: String(i) }));
    }
    await waitFor(
      async () => (await sn.deliveryState(sent[0]!.id)).forwards[0]?.lastError !== null,
      10_000,
      'a failed attempt to be recorded',
    );
    const waiting = await sn.deliveryState(sent[4]!.id);
    expect(waiting.forwards).toEqual([expect.objectContaining({ peer: 'relay.b.test', state: 'pending' })]);
    expect(a.relay.store.outboxCounts().get('relay.b.test')).toBe(5);

    b = await startTestRelay({ domain: 'relay.b.test', dataDir, port, outbox: fast });
    await waitFor(
      () => a.relay.store.outboxCounts().get('relay.b.test') === undefined,
      15_000,
      'the outbox to drain',
    );
    const got = await ke.fetchInbox();
    expect(got.map((o) => o.kind === 'message' && o.message.subject)).toEqual(
      sent.map((_, i) => `while down ${i}`),
    );
  }, 60_000);
});

describe('a node’s first look at a peer relay', () => {
  it('is shared by concurrent sends: each one is sealed and accepted', async () => {
    const fresh = await enrolNode(a, 'ml.moj');
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          fresh.send({ to: ['ke.ag@relay.b.test'], subject: `concurrent ${i}`, body: String(i) }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill('fulfilled'));
      await waitFor(
        async () =>
          (await ke.fetchInbox()).length > 0 &&
          ke.inbox().filter((m) => m.subject.startsWith('concurrent')).length === 8,
        10_000,
        'all eight to arrive',
      );
    } finally {
      await fresh.close();
    }
  });
});

describe('an envelope for authorities on several relays', () => {
  it('is delivered here to local recipients and forwarded whole to the peer, which delivers only its own', async () => {
    const gh = await enrolNode(a, 'gh.moj'); // a second authority on relay.a.test
    try {
      const sent = await sn.send({
        to: ['gh.moj@relay.a.test', 'ke.ag@relay.b.test'],
        subject: 'to two relays',
        body: 'one envelope, one signature',
      });
      expect(sent.recipients.sort()).toEqual(['desk1/gh.moj@relay.a.test', 'desk1/ke.ag@relay.b.test']);
      await waitFor(async () => (await ke.fetchInbox()).length > 0, 10_000, 'ke.ag to receive it');
      expect((await gh.fetchInbox()).map((o) => o.kind === 'message' && o.message.id)).toEqual([sent.id]);
      // Each relay holds deliveries only for its own nodes (plus, at the sender's, the peer's report).
      const atB = b.relay.store.deliveries(sent.id).map((d) => d.node);
      expect(atB).toEqual(['desk1/ke.ag@relay.b.test']);
      await waitFor(
        () => a.relay.store.deliveries(sent.id).filter((d) => d.state === 'delivered').length === 2,
        10_000,
        'both deliveries to be known at the sender’s relay',
      );
      expect(
        a.relay.store
          .deliveries(sent.id)
          .map((d) => d.node)
          .sort(),
      ).toEqual(['desk1/gh.moj@relay.a.test', 'desk1/ke.ag@relay.b.test']);
    } finally {
      await gh.close();
    }
  });
});

describe('tree-head gossip', () => {
  it('verifies each peer’s key log against the head seen before, and tells the peer what it saw', async () => {
    const found = await a.relay.ctx.federation.gossip.round();
    expect(found.get('relay.b.test')).toBeNull();
    const peerB = (await a.relay.store.listPeers()).find((p) => p.domain === 'relay.b.test')!;
    expect(JSON.parse(peerB.keyLogHead!)).toMatchObject({
      relay: 'relay.b.test',
      size: b.relay.ctx.keyLog.size,
    });
    expect(peerB.alarm).toBeNull();
  });

  it('raises an alarm on both sides when a head signed with a relay’s key is not in its log (a fork)', async () => {
    // What a relay that showed a forked log to relay.a.test would leave there: a head of the same
    // size as its real log, signed with its own key, with another root.
    const real = b.relay.ctx.keyLog.head();
    const forked = signTreeHead(
      {
        log: 'key',
        relay: real.relay,
        size: real.size,
        root: new Uint8Array(32).fill(7),
        timestamp: new Date(),
      },
      b.relay.identity.secretKey,
    );
    a.relay.store.db
      .prepare('UPDATE "Peer" SET keyLogHead = ? WHERE domain = ?')
      .run(JSON.stringify(forked), 'relay.b.test');
    await a.relay.ctx.federation.peers.load();
    const found = await a.relay.ctx.federation.gossip.round();
    expect(found.get('relay.b.test')).toMatch(/signed two different key logs of size \d+: a fork/);
    // Nodes of relay.a.test see it too.
    const { peers } = await sn.relay.get(PeerList, '/v1/peers');
    expect(peers.find((p) => p.domain === 'relay.b.test')!.alarm).toMatch(/a fork/);
    // And relay.b.test learns that someone holds a head signed with its key that its log never had.
    const peerA = (await b.relay.store.listPeers()).find((p) => p.domain === 'relay.a.test')!;
    expect(peerA.alarm).toMatch(/relay\.a\.test holds a head of size \d+ whose root our key log never had/);
  });
});
