/**
 * Envelopes are known by the pair their sender signs, (from, id), and the hash of what was signed
 * (server/storage/relay-store.ts, insertOne): the same envelope again is a duplicate, accepted as
 * before; the same sender's other envelope under its id is refused for good (ENVELOPE_ID_CONFLICT)
 * with nothing stored; another sender's envelope under a known id (a co-recipient squatting it) is
 * stored beside it, both are delivered and opened, and the conflict is an alarm: an IdConflict row,
 * an id_conflict audit entry, the senders' delivery state, and the answer to the forwarding peer.
 * And a relay answers what it cannot check just now so that the peer tries again: one envelope
 * `transient`, or the whole request 503 when it cannot read the senders' keys from the peer.
 *
 * relay.a.test: sn.moj (sender), ma.mj (a co-recipient that squats), gh.moj (recipient);
 * relay.b.test: ke.ag; relay.c.test is pinned on relay.a.test at an address nobody answers;
 * relay.d.test (the last test) runs a clock that disagrees with relay.a.test's.
 */
import type { LightMyRequestResponse } from 'fastify';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keptIdOf } from '../../client/inbound.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { signFederationRequest } from '../../server/federation/s2s-token.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { canonicalBytes } from '../../shared/canonical.ts';
import { sealEnvelope } from '../../shared/crypto/envelope.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { EntraideError, type ErrorBody } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import type { ForwardResults } from '../../shared/protocol/federation.ts';
import { AckResult, SubmitResult, type Envelope } from '../../shared/protocol/schemas.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { random } from '../support/random.ts';
import { expectError, rowCounts } from '../support/refusals.ts';
import { waitFor } from '../support/wait.ts';

const A = 'relay.a.test';
const B = 'relay.b.test';
const C = 'relay.c.test';
const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
const quiet = { outbox: fast, gossipIntervalMs: 3_600_000 };

let a: TestRelay;
let b: TestRelay;
let sn: AuthorityNode;
let ma: AuthorityNode;
let gh: AuthorityNode;
let ke: AuthorityNode;
/** relay.c.test's key: pinned on relay.a.test, with no relay behind its URL. */
const c = generateKeyPairSync('ed25519');

async function pin(on: TestRelay, domain: string, url: string, publicKey: string): Promise<void> {
  await on.relay.store.addPeer({ domain, url, publicKey, addedAt: new Date() });
  await on.relay.ctx.federation.peers.load();
}

beforeAll(async () => {
  a = await startTestRelay({ domain: A, ...quiet });
  b = await startTestRelay({ domain: B, ...quiet });
  await pin(a, B, b.url, b.relay.identity.publicKeyB64);
  await pin(b, A, a.url, a.relay.identity.publicKeyB64);
  await pin(a, C, 'http://127.0.0.1:9/', c.publicKey.export({ format: 'jwk' }).x!);
  sn = await enrolNode(a, 'sn.moj');
  ma = await enrolNode(a, 'ma.mj');
  gh = await enrolNode(a, 'gh.moj');
  ke = await enrolNode(b, 'ke.ag');
}, 60_000);

afterAll(async () => {
  for (const n of [sn, ma, gh, ke]) await n?.close();
  await a?.close();
  await b?.close();
});

// ---- helpers -------------------------------------------------------------------------------

/** An envelope `from` seals by hand (any id, any date) for the nodes of `to`, as its node resolves them. */
async function sealFrom(
  from: AuthorityNode,
  to: AuthorityNode[],
  opts: { subject: string; id?: string; sentAt?: Date; signer?: Uint8Array },
): Promise<Envelope> {
  const recipients: { node: string; encryptionKey: Uint8Array }[] = [];
  for (const t of to)
    for (const r of await from.trust.recipients(t.authority))
      recipients.push({ node: r.node, encryptionKey: fromBase64url(r.encryptionKey) });
  const sentAt = opts.sentAt ?? new Date();
  return sealEnvelope(
    {
      id: opts.id ?? uuidv7(sentAt.getTime(), random(10)),
      from: from.address,
      to: to.map((t) => t.authority),
      sentAt,
      ttl: 3600,
      recipients,
      content: canonicalBytes({ type: 'message', subject: opts.subject, body: `${opts.subject}, the body` }),
    },
    opts.signer ?? from.identitySecretKey,
    random,
  );
}

/** A node submits an envelope to its relay over HTTP with its own session. */
function submit(node: AuthorityNode, env: Envelope): Promise<SubmitResult> {
  return node.relay.post(SubmitResult, '/v1/envelopes', env);
}

/** `from` (a relay, or a key that claims its domain) forwards `envelopes` to `to`. */
async function forwardRaw(
  from: { domain: string; privateKey: KeyObject },
  to: TestRelay,
  ...envelopes: Envelope[]
): Promise<LightMyRequestResponse> {
  const path = '/v1/federation/envelopes';
  const body = JSON.stringify({ envelopes });
  const token = await signFederationRequest(from, to.domain, { method: 'POST', path, body }, new Date());
  return to.relay.app.inject({
    method: 'POST',
    url: path,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: body,
  });
}

/** Forwards and reads the per-envelope results of a 200 answer. */
async function forward(
  from: { domain: string; privateKey: KeyObject },
  to: TestRelay,
  ...envelopes: Envelope[]
): Promise<ForwardResults['results']> {
  const res = await forwardRaw(from, to, ...envelopes);
  expect(res.statusCode).toBe(200);
  return res.json<ForwardResults>().results;
}

const relayB = () => ({ domain: B, privateKey: b.relay.identity.privateKeyObject });

/** The audit entries of `relay` appended since `from`, parsed. */
function auditSince(relay: TestRelay, from: number): Record<string, unknown>[] {
  return relay.relay.store.audit
    .entries(from, 1_000)
    .map((e) => JSON.parse(e.leaf) as Record<string, unknown>);
}

function conflictRows(relay: TestRelay): number {
  return relay.relay.store.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM "IdConflict"').get()!.n;
}

/** Envelope and Delivery rows `relay` holds under any of `ids`, whoever sent them. */
function storedRows(relay: TestRelay, ids: string[]): { envelopes: number; deliveries: number } {
  relay.relay.store.flush();
  const marks = ids.map(() => '?').join(', ');
  const count = (table: string, column: string): number =>
    relay.relay.store.db
      .prepare<string[], { n: number }>(
        `SELECT count(*) AS n FROM "${table}" WHERE "${column}" IN (${marks})`,
      )
      .get(...ids)!.n;
  return { envelopes: count('Envelope', 'id'), deliveries: count('Delivery', 'envelopeId') };
}

async function refusedBy(p: Promise<unknown>): Promise<EntraideError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EntraideError);
  return err as EntraideError;
}

// ---- one sender, one id ---------------------------------------------------------------------

describe('one sender, one id', () => {
  it('takes the same envelope again as a duplicate, stored once, from a node and from a peer', async () => {
    const env = await sealFrom(sn, [gh], { subject: 'twice from a node' });
    const before = rowCounts(a);
    const first = await submit(sn, env);
    const second = await submit(sn, env);
    expect(first).toMatchObject({ id: env.id, status: 'accepted', duplicate: false });
    expect(second).toEqual({ ...first, duplicate: true });
    expect(rowCounts(a)).toEqual({
      ...before,
      envelopes: before.envelopes + 1,
      deliveries: before.deliveries + 1,
    });

    const fromKe = await sealFrom(ke, [sn], { subject: 'twice from a peer' });
    expect(await forward(relayB(), a, fromKe)).toEqual([{ id: fromKe.id, status: 'accepted' }]);
    expect(await forward(relayB(), a, fromKe)).toEqual([{ id: fromKe.id, status: 'duplicate' }]);
    expect(a.relay.store.deliveries(fromKe.id)).toHaveLength(1);
    expect(conflictRows(a)).toBe(0);
  });

  it('refuses the same sender’s other envelope under its id for good (ENVELOPE_ID_CONFLICT), storing nothing', async () => {
    const env = await sealFrom(sn, [gh], { subject: 'the first under this id' });
    await submit(sn, env);
    const other = await sealFrom(sn, [gh], { subject: 'another under the same id', id: env.id });
    const before = rowCounts(a);
    const logged = a.relay.store.audit.size;
    const err = await refusedBy(submit(sn, other));
    expect([err.code, err.status]).toEqual(['ENVELOPE_ID_CONFLICT', 409]);
    expect(rowCounts(a)).toEqual(before);
    expect(auditSince(a, logged).map((e) => e.kind)).not.toContain('id_conflict');
    expect(
      JSON.parse(
        a.relay.store.db
          .prepare<[string], { body: string }>('SELECT body FROM "Envelope" WHERE id = ?')
          .get(env.id)!.body,
      ),
    ).toEqual(env);

    // From a peer: refused, final (no `transient`), nothing stored.
    const fromKe = await sealFrom(ke, [sn], { subject: 'first from ke' });
    await forward(relayB(), a, fromKe);
    const reused = await sealFrom(ke, [sn], { subject: 'ke reuses its id', id: fromKe.id });
    const beforePeer = rowCounts(a);
    const [result] = await forward(relayB(), a, reused);
    expect(result).toMatchObject({
      id: fromKe.id,
      status: 'refused',
      error: { code: 'ENVELOPE_ID_CONFLICT' },
    });
    expect(result!.error!.transient).toBeUndefined();
    expect(rowCounts(a)).toEqual(beforePeer);
    expect(conflictRows(a)).toBe(0);
    await sn.fetchInbox();
  });
});

// ---- two senders, one id --------------------------------------------------------------------

describe('two senders, one id', () => {
  it('keeps another sender’s envelope beside the first, delivers and opens both, and records the conflict once', async () => {
    await gh.fetchInbox(); // what the tests above left for gh.moj
    const genuine = await sealFrom(sn, [gh, ma], { subject: 'the genuine one' });
    await submit(sn, genuine);
    // ma.mj, a co-recipient, reads the id off its copy and sends its own envelope under it.
    const copy = (await ma.fetchInbox()).find((o) => o.kind === 'message' && o.message.id === genuine.id);
    expect(copy).toBeDefined();
    await gh.sendQueued(); // their delivery receipts go now, not amid the counts below
    await ma.sendQueued();
    const squat = await sealFrom(ma, [gh], { subject: 'squatted', id: genuine.id });
    const logged = a.relay.store.audit.size;
    const before = rowCounts(a);
    expect(await submit(ma, squat)).toMatchObject({ id: genuine.id, status: 'accepted', duplicate: false });
    expect(rowCounts(a)).toEqual({
      ...before,
      envelopes: before.envelopes + 1,
      deliveries: before.deliveries + 1,
    });
    expect(a.relay.store.envelopesUnder(genuine.id).map((e) => e.sender)).toEqual([sn.address, ma.address]);
    expect(a.relay.store.deliveries(genuine.id, sn.address).map((d) => [d.node, d.state])).toEqual([
      [gh.address, 'pending'],
      [ma.address, 'delivered'],
    ]);
    expect(a.relay.store.deliveries(genuine.id, ma.address).map((d) => [d.node, d.state])).toEqual([
      [gh.address, 'pending'],
    ]);

    // The alarm: one row and one audit entry, metadata only; sending it again adds neither.
    const [row] = a.relay.store.conflicts.latest(10);
    expect(row).toMatchObject({
      envelopeId: genuine.id,
      sender: ma.address,
      otherSender: sn.address,
      relay: A,
      peer: null,
    });
    expect(row!.ciphertextHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(row!.otherCiphertextHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const entries = auditSince(a, logged).filter((e) => e.kind === 'id_conflict');
    expect(entries).toEqual([
      expect.objectContaining({
        envelope: genuine.id,
        sender: ma.address,
        otherSender: sn.address,
        ciphertextHash: row!.ciphertextHash,
        otherCiphertextHash: row!.otherCiphertextHash,
      }),
    ]);
    expect(await submit(ma, squat)).toMatchObject({ duplicate: true });
    expect(conflictRows(a)).toBe(1);
    expect(auditSince(a, logged).filter((e) => e.kind === 'id_conflict')).toHaveLength(1);

    // Each sender sees its own envelope, and the other sender under its id.
    const mine = await sn.deliveryState(genuine.id);
    expect(mine.deliveries.map((d) => d.node).sort()).toEqual([gh.address, ma.address].sort());
    expect(mine.conflicts).toEqual([expect.objectContaining({ relay: A, otherSender: ma.address })]);
    const theirs = await ma.deliveryState(genuine.id);
    expect(theirs.deliveries.map((d) => d.node)).toEqual([gh.address]);
    expect(theirs.conflicts).toEqual([expect.objectContaining({ relay: A, otherSender: sn.address })]);

    // The recipient stores both, the second under an id derived from its sender, and acknowledges both.
    const got = await gh.fetchInbox();
    expect(
      got.map((o) => (o.kind === 'message' ? [o.message.id, o.message.sender, o.message.subject] : o.kind)),
    ).toEqual([
      [genuine.id, sn.address, 'the genuine one'],
      [keptIdOf(ma.address, genuine.id), ma.address, 'squatted'],
    ]);
    expect(a.relay.store.countPending(gh.address)).toBe(0);
    expect(await gh.fetchInbox()).toEqual([]);
    expect(gh.read(genuine.id).body).toBe('the genuine one, the body');
    expect(gh.read(keptIdOf(ma.address, genuine.id)).body).toBe('squatted, the body');
  });

  it('ends, for an acknowledged id, the first delivery still pending under it; a push ends its own', async () => {
    const genuine = await sealFrom(sn, [gh], { subject: 'acknowledged by id' });
    await submit(sn, genuine);
    await submit(ma, await sealFrom(ma, [gh], { subject: 'same id, ma', id: genuine.id }));
    const ack = (ids: string[]) => gh.relay.post(AckResult, '/v1/inbox/ack', { ids });
    expect(await ack([genuine.id])).toEqual({ acknowledged: 1 });
    expect(a.relay.store.deliveries(genuine.id, sn.address)[0]!.state).toBe('delivered');
    expect(a.relay.store.deliveries(genuine.id, ma.address)[0]!.state).toBe('pending');
    // A push names the sender: it ends that delivery and no other.
    expect(await a.relay.store.markDelivered(genuine.id, gh.address, new Date(), sn.address)).toBe(false);
    expect(await a.relay.store.markDelivered(genuine.id, gh.address, new Date(), ma.address)).toBe(true);
    expect(await ack([genuine.id])).toEqual({ acknowledged: 0 });
    const audit = auditSince(a, 0).filter((e) => e.kind === 'delivered' && e.envelope === genuine.id);
    expect(audit.map((e) => e.sender)).toEqual([sn.address, ma.address]);
  });

  it('answers the forwarding peer with the other sender; that relay records it for its operator and its sender', async () => {
    // ma.mj (relay.a.test) already holds an id at relay.a.test when ke.ag's envelope under it arrives.
    const held = await sealFrom(ma, [sn], { subject: 'held first, here' });
    await submit(ma, held);
    const late = await sealFrom(ke, [sn], { subject: 'from relay.b.test, same id', id: held.id });
    const logged = b.relay.store.audit.size;
    expect(await submit(ke, late)).toMatchObject({ status: 'accepted', duplicate: false });
    await waitFor(() => conflictRows(b) === 1, 10_000, 'relay.b.test to record the conflict it was told of');
    expect(b.relay.store.forwards(held.id, ke.address)).toEqual([
      expect.objectContaining({ peer: A, state: 'forwarded', lastError: null }),
    ]);
    expect(b.relay.store.conflicts.latest(1)[0]).toMatchObject({
      envelopeId: held.id,
      sender: ke.address,
      otherSender: ma.address,
      relay: A,
      peer: A,
    });
    expect(auditSince(b, logged).filter((e) => e.kind === 'id_conflict')).toEqual([
      expect.objectContaining({ envelope: held.id, sender: ke.address, otherSender: ma.address, peer: A }),
    ]);
    expect((await ke.deliveryState(held.id)).conflicts).toEqual([
      expect.objectContaining({ relay: A, otherSender: ma.address }),
    ]);
    // At relay.a.test both are delivered; the delivery report names its sender and reaches relay.b.test.
    const got = await sn.fetchInbox();
    expect(got.map((o) => o.kind === 'message' && o.message.sender)).toEqual([ma.address, ke.address]);
    await waitFor(
      () => b.relay.store.deliveries(held.id, ke.address).some((d) => d.state === 'delivered'),
      10_000,
      'the delivery report to reach relay.b.test',
    );
    expect(a.relay.store.deliveries(held.id, ma.address).map((d) => d.state)).toEqual(['delivered']);
  });
});

// ---- refusals that are no verdict -----------------------------------------------------------

describe('refusals that are no verdict on the envelope', () => {
  it('answers transient what it cannot check now, and a verdict on the envelope as final', async () => {
    // relay.c.test forwards for its own node: its keys cannot be read (nobody answers at its URL),
    // which is no verdict on the envelope, nor on one envelope: the whole request is answered 503.
    const fromC = sealEnvelope(
      {
        id: uuidv7(Date.now(), random(10)),
        from: 'desk1/ci.x@relay.c.test',
        to: [sn.authority],
        sentAt: new Date(),
        ttl: 3600,
        recipients: (await sn.trust.recipients(sn.authority)).map((r) => ({
          node: r.node,
          encryptionKey: fromBase64url(r.encryptionKey),
        })),
        content: canonicalBytes({ type: 'message', subject: 'from c', body: 'keys unreachable' }),
      },
      generateSigningKeyPair(random).secretKey,
      random,
    );
    const unreachable = await forwardRaw({ domain: C, privateKey: c.privateKey }, a, fromC);
    expectError(unreachable, 503, 'PEER_UNREACHABLE');
    expect(unreachable.headers['retry-after']).toBe('5');
    expect(unreachable.json<ErrorBody>().error.message).toMatch(
      /could not be read from relay\.c\.test just now/,
    );

    const ahead = new Date(Date.now() + (LIMITS.maxClockSkewSeconds + 120) * 1000);
    const future = await sealFrom(ke, [sn], { subject: 'dated ahead', sentAt: ahead });
    const forged = await sealFrom(ke, [sn], {
      subject: 'forged',
      signer: generateSigningKeyPair(random).secretKey,
    });
    const old = await sealFrom(ke, [sn], {
      subject: 'expired',
      sentAt: new Date(Date.now() - 2 * 86_400_000),
    });
    const results = await forward(relayB(), a, future, forged, old);
    expect(results.map((r) => [r.id, r.error?.code, r.error?.transient])).toEqual([
      [future.id, 'ENVELOPE_CLOCK_SKEW', true],
      [forged.id, 'BAD_SIGNATURE', undefined],
      [old.id, 'ENVELOPE_EXPIRED', undefined],
    ]);
    // Counted by id: receipts of the tests before may still land at relay.a.test meanwhile.
    expect(storedRows(a, [fromC.id, future.id, forged.id, old.id])).toEqual({ envelopes: 0, deliveries: 0 });
  });

  it('keeps in the outbox what the peer cannot take yet (clocks that disagree), and forwards it once it can', async () => {
    let behindMs = 20_000; // within the tokens' tolerance (30 s), enough to put the envelope out of its skew
    const d = await startTestRelay({
      domain: 'relay.d.test',
      ...quiet,
      now: () => new Date(Date.now() - behindMs),
    });
    try {
      await pin(a, d.domain, d.url, d.relay.identity.publicKeyB64);
      await pin(d, A, a.url, a.relay.identity.publicKeyB64);
      const dn = await enrolNode(d, 'dn.moj');
      try {
        // Dated as far ahead as relay.a.test takes (within its skew), beyond what relay.d.test takes.
        const sentAt = new Date(Date.now() + (LIMITS.maxClockSkewSeconds - 5) * 1000);
        const env = await sealFrom(sn, [dn], { subject: 'across clocks', sentAt });
        await submit(sn, env);
        await waitFor(
          () => /^ENVELOPE_CLOCK_SKEW: /.test(a.relay.store.forwards(env.id)[0]?.lastError ?? ''),
          10_000,
          'relay.d.test to refuse it for now',
        );
        await new Promise((r) => setTimeout(r, 1_000)); // several retries, never a verdict
        expect(a.relay.store.forwards(env.id)).toEqual([expect.objectContaining({ state: 'pending' })]);
        behindMs = 0;
        await waitFor(
          () => a.relay.store.forwards(env.id)[0]?.state === 'forwarded',
          10_000,
          'the envelope to be forwarded once the clocks agree',
        );
        const got = await dn.fetchInbox();
        expect(got.map((o) => o.kind === 'message' && o.message.subject)).toEqual(['across clocks']);
      } finally {
        await dn.close();
      }
    } finally {
      await a.relay.store.removePeer(d.domain);
      await a.relay.ctx.federation.peers.load();
      await d.close();
    }
  }, 60_000);
});
