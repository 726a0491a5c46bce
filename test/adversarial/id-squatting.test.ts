/**
 * No silent loss between relays (issue 15, item 6), with three real relays on loopback, each the
 * peer of the others, and TCP proxies (test/support/tcp-proxy.ts) on the links from relay.a.test to
 * relay.b.test and back:
 *
 * - A co-recipient squats an envelope's id. sn.moj (relay.a.test) sends one envelope to ke.ag
 *   (relay.b.test) and ci.x (relay.c.test) while the link to relay.b.test is cut; ci.x reads the id
 *   off its copy and sends its own envelope under it to ke.ag, which reaches relay.b.test first.
 *   Once the link is back, the genuine envelope is still delivered to ke.ag and opened there, and
 *   the conflict is an alarm for relay.b.test's operator (`entraide relay conflicts`, the audit
 *   log), for relay.a.test's (told in relay.b.test's answer) and for the sender (delivery state).
 * - relay.b.test cannot read relay.a.test's key directory for a while (the link back cut): every
 *   envelope waits, none is refused for good, and all are delivered once the link is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keptIdOf } from '../../client/inbound.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { listConflicts } from '../../server/admin.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { canonicalBytes } from '../../shared/canonical.ts';
import { sealEnvelope } from '../../shared/crypto/envelope.ts';
import { SubmitResult, type Envelope } from '../../shared/protocol/schemas.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { cli } from '../support/processes.ts';
import { random } from '../support/random.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { sleep, waitFor } from '../support/wait.ts';

const A = 'relay.a.test';
const B = 'relay.b.test';
const C = 'relay.c.test';
/** Short outbox timing, so that retries fit in a test. */
const fast = { baseDelayMs: 50, maxDelayMs: 500, pollMs: 100, timeoutMs: 2_000 };

let a: TestRelay;
let b: TestRelay;
let c: TestRelay;
/** relay.a.test's link to relay.b.test, and relay.b.test's link back. */
let toB: TcpProxy;
let toA: TcpProxy;
let sn: AuthorityNode; // desk1/sn.moj@relay.a.test, the sender
let ke: AuthorityNode; // desk1/ke.ag@relay.b.test
let ci: AuthorityNode; // desk1/ci.x@relay.c.test, a co-recipient that squats

async function pin(on: TestRelay, peer: TestRelay, url = peer.url): Promise<void> {
  await on.relay.store.addPeer({
    domain: peer.domain,
    url,
    publicKey: peer.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
  await on.relay.ctx.federation.peers.load();
}

beforeAll(async () => {
  a = await startTestRelay({ domain: A, outbox: fast });
  b = await startTestRelay({ domain: B, outbox: fast });
  c = await startTestRelay({ domain: C, outbox: fast });
  toB = await startTcpProxy({ port: Number(new URL(b.url).port) });
  toA = await startTcpProxy({ port: Number(new URL(a.url).port) });
  await pin(a, b, toB.url);
  await pin(b, a, toA.url);
  for (const [x, y] of [
    [a, c],
    [c, a],
    [b, c],
    [c, b],
  ] as const)
    await pin(x, y);
  sn = await enrolNode(a, 'sn.moj');
  ke = await enrolNode(b, 'ke.ag');
  ci = await enrolNode(c, 'ci.x');
}, 60_000);

afterAll(async () => {
  for (const n of [sn, ke, ci]) await n?.close();
  for (const r of [a, b, c]) await r?.close();
  await toB?.close();
  await toA?.close();
});

/** `from` seals by hand for the nodes of `to` (as its node resolves them), under `id` if given. */
async function sealFrom(
  from: AuthorityNode,
  to: AuthorityNode[],
  subject: string,
  id?: string,
): Promise<Envelope> {
  const recipients: { node: string; encryptionKey: Uint8Array }[] = [];
  for (const t of to)
    for (const r of await from.trust.recipients(t.authority))
      recipients.push({ node: r.node, encryptionKey: fromBase64url(r.encryptionKey) });
  const sentAt = new Date();
  return sealEnvelope(
    {
      id: id ?? uuidv7(sentAt.getTime(), random(10)),
      from: from.address,
      to: to.map((t) => t.authority),
      sentAt,
      ttl: 3600,
      recipients,
      content: canonicalBytes({ type: 'message', subject, body: `${subject}: the body` }),
    },
    from.identitySecretKey,
    random,
  );
}

function auditKinds(relay: TestRelay, kind: string): Record<string, unknown>[] {
  return relay.relay.store.audit
    .entries(0, 100_000)
    .map((e) => JSON.parse(e.leaf) as Record<string, unknown>)
    .filter((e) => e.kind === kind);
}

describe('a co-recipient squatting an envelope’s id on a third relay', () => {
  it('cannot keep the genuine envelope from its recipient, and the conflict is seen by both operators and the sender', async () => {
    // Sealed while every link is up (the sender resolves both recipients' keys), sent while the
    // link to relay.b.test is cut: relay.c.test gets it, relay.b.test not yet.
    const genuine = await sealFrom(sn, [ke, ci], 'the genuine one');
    toB.cut();
    expect(await sn.relay.post(SubmitResult, '/v1/envelopes', genuine)).toMatchObject({ duplicate: false });
    await waitFor(
      () => a.relay.store.forwards(genuine.id).find((f) => f.peer === C)?.state === 'forwarded',
      10_000,
      'the envelope to reach relay.c.test',
    );
    const copy = (await ci.fetchInbox()).find((o) => o.kind === 'message' && o.message.id === genuine.id);
    expect(copy).toBeDefined();

    // ci.x sends its own envelope under that id to ke.ag: it reaches relay.b.test first.
    const squat = await sealFrom(ci, [ke], 'the squatter', genuine.id);
    await ci.relay.post(SubmitResult, '/v1/envelopes', squat);
    await waitFor(
      () => b.relay.store.envelopesUnder(genuine.id).some((e) => e.sender === ci.address),
      10_000,
      'the squatter’s envelope to reach relay.b.test',
    );
    expect(a.relay.store.forwards(genuine.id).find((f) => f.peer === B)).toMatchObject({ state: 'pending' });

    toB.restore();
    await waitFor(
      () => a.relay.store.forwards(genuine.id).every((f) => f.state === 'forwarded'),
      15_000,
      'the genuine envelope to be forwarded to relay.b.test',
    );
    // Both are kept on relay.b.test, each with its delivery to ke.ag.
    expect(b.relay.store.envelopesUnder(genuine.id).map((e) => e.sender)).toEqual([ci.address, sn.address]);

    // ke.ag stores both; the genuine one under an id derived from its sender, and opens it.
    const got = await ke.fetchInbox();
    const messages = got.flatMap((o) => (o.kind === 'message' ? [o.message] : []));
    expect(messages.map((m) => [m.id, m.sender, m.subject])).toEqual([
      [genuine.id, ci.address, 'the squatter'],
      [keptIdOf(sn.address, genuine.id), sn.address, 'the genuine one'],
    ]);
    expect(ke.read(keptIdOf(sn.address, genuine.id)).body).toBe('the genuine one: the body');
    expect(b.relay.store.countPending(ke.address)).toBe(0);

    // relay.b.test's operator: the audit log and `entraide relay conflicts`.
    expect(auditKinds(b, 'id_conflict')).toEqual([
      expect.objectContaining({ envelope: genuine.id, sender: sn.address, otherSender: ci.address, peer: A }),
    ]);
    expect(await listConflicts(b.dataDir)).toEqual([
      expect.objectContaining({
        envelopeId: genuine.id,
        sender: sn.address,
        otherSender: ci.address,
        relay: B,
        peer: A,
      }),
    ]);
    const shown = await cli(['relay', 'conflicts', '--data', b.dataDir]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(genuine.id);
    expect(shown.stdout).toContain(
      `${sn.address} (it came from ${A}) sent it while ${ci.address} already held this id`,
    );

    // relay.a.test's operator, told in relay.b.test's answer.
    await waitFor(() => a.relay.store.conflicts.latest(10).length === 1, 10_000, 'relay.a.test to record it');
    expect(await listConflicts(a.dataDir)).toEqual([
      expect.objectContaining({
        envelopeId: genuine.id,
        sender: sn.address,
        otherSender: ci.address,
        relay: B,
      }),
    ]);
    expect(auditKinds(a, 'id_conflict')).toEqual([
      expect.objectContaining({ envelope: genuine.id, sender: sn.address, otherSender: ci.address, peer: B }),
    ]);

    // The sender: its envelope's delivery state names the conflict, and ke.ag's delivery.
    await waitFor(
      async () =>
        (await sn.deliveryState(genuine.id)).deliveries.some(
          (d) => d.node === ke.address && d.state === 'delivered',
        ),
      10_000,
      'relay.b.test’s delivery report to reach relay.a.test',
    );
    const state = await sn.deliveryState(genuine.id);
    expect(state.conflicts).toEqual([expect.objectContaining({ relay: B, otherSender: ci.address })]);
    expect(state.forwards.map((f) => [f.peer, f.state])).toEqual([
      [B, 'forwarded'],
      [C, 'forwarded'],
    ]);
  }, 90_000);
});

describe('a receiving relay that cannot read the sender’s keys for a while', () => {
  it('refuses nothing for good: every envelope waits, then is delivered', async () => {
    // A new authority: relay.b.test has never read its keys, and must from relay.a.test.
    const ml = await enrolNode(a, 'ml.moj');
    try {
      await ml.trust.recipients(ke.authority);
      toA.cut();
      const sent: string[] = [];
      for (let i = 0; i < 5; i++)
        sent.push(
          (await ml.send({ to: [ke.authority], subject: `keys unreachable ${i}`, body: String(i) })).id,
        );
      await waitFor(
        () => sent.every((id) => /PEER_UNREACHABLE/.test(a.relay.store.forwards(id)[0]?.lastError ?? '')),
        10_000,
        'relay.b.test to answer that it cannot read the keys just now',
      );
      await sleep(2_500); // a few retries with the link still cut
      for (const id of sent) {
        expect(a.relay.store.forwards(id)).toEqual([expect.objectContaining({ peer: B, state: 'pending' })]);
        expect(b.relay.store.envelopesUnder(id)).toEqual([]);
      }

      toA.restore();
      await waitFor(
        () => sent.every((id) => a.relay.store.forwards(id)[0]?.state === 'forwarded'),
        15_000,
        'every envelope to be forwarded once the keys can be read',
      );
      const got = await ke.fetchInbox();
      expect(got.map((o) => o.kind === 'message' && o.message.subject)).toEqual(
        sent.map((_, i) => `keys unreachable ${i}`),
      );
      const refused = a.relay.store.db
        .prepare<[], { n: number }>(`SELECT count(*) AS n FROM "Outbox" WHERE state = 'refused'`)
        .get()!.n;
      expect(refused).toBe(0);
    } finally {
      toA.restore();
      await ml.close();
    }
  }, 90_000);
});
