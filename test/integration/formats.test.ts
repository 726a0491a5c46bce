/**
 * Envelope formats across versions (DESIGN: Versions). One relay and its nodes speak the current
 * format (2); another relay and its node speak only the one before (1), as if not upgraded yet
 * (RelayOptions.formats and the node's `formats` option, ENTRAIDE_FORMATS for processes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import { fromBase64url, utf8 } from '../../shared/bytes.ts';
import { sealEnvelope } from '../../shared/crypto/envelope.ts';
import { masterKeyFingerprint } from '../../shared/crypto/master-key-fingerprint.ts';
import { ERROR_CODES } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import type { Envelope, EnvelopeFormat } from '../../shared/protocol/schemas.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { random } from '../support/random.ts';
import { waitFor } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };

let current: TestRelay; // reads formats 1 and 2
let previous: TestRelay; // reads format 1 only
let sn: AuthorityNode; // current, on `current`
let ke: AuthorityNode; // current, on `current`
let fr: AuthorityNode; // format 1 only, on `previous`

async function peer(x: TestRelay, y: TestRelay): Promise<void> {
  await x.relay.store.addPeer({
    domain: y.domain,
    url: y.url,
    publicKey: y.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
}

/** A node that has not upgraded: it publishes, writes and reads format 1 only. */
async function previousNode(relay: TestRelay, authorityId: string): Promise<AuthorityNode> {
  const home = tempDir('entraide-node-');
  const formats: EnvelopeFormat[] = [1];
  await initNode({
    home,
    relayUrl: relay.url,
    relayKey: relay.relay.identity.publicKeyB64,
    invite: await invite(relay, authorityId),
    authorityId,
    nodeName: 'desk1',
    passphrase: PASSPHRASE,
    formats,
  });
  return AuthorityNode.open(home, PASSPHRASE, { formats });
}

beforeAll(async () => {
  current = await startTestRelay({ domain: 'relay.current.test', outbox: fast });
  previous = await startTestRelay({ domain: 'relay.previous.test', outbox: fast, formats: [1] });
  await peer(current, previous);
  await peer(previous, current);
  sn = await enrolNode(current, 'sn.moj');
  ke = await enrolNode(current, 'ke.ag');
  fr = await previousNode(previous, 'fr.dacg');
});

afterAll(async () => {
  for (const n of [sn, ke, fr]) await n?.close();
  await current?.close();
  await previous?.close();
});

/** Fetches `node`'s inbox until the envelope `id` arrived; returns the envelope as it was stored. */
async function arrival(node: AuthorityNode, id: string): Promise<Envelope> {
  await waitFor(
    async () => {
      await node.fetchInbox();
      return node.store.envelopeOf(id) !== undefined;
    },
    10_000,
    `envelope ${id} to reach ${node.address}`,
  );
  expect(node.store.message(id)).toMatchObject({ direction: 'in' });
  return JSON.parse(node.store.envelopeOf(id)!.envelope) as Envelope;
}

/** An envelope sealed in format 2 by `from` to `recipient`'s node, the header as `opts` say. */
async function byHand(
  from: AuthorityNode,
  recipient: AuthorityNode,
  opts: { to: string[]; sentAt?: Date; ttl?: number },
): Promise<Envelope> {
  const [target] = await from.trust.recipients(recipient.authority);
  const sentAt = opts.sentAt ?? new Date();
  const masterKeys = [];
  for (const authority of opts.to) {
    const pinned = (await from.trust.authority(authority)).masterKey;
    masterKeys.push({ authority, fingerprint: masterKeyFingerprint(pinned) });
  }
  return sealEnvelope(
    {
      id: uuidv7(sentAt.getTime(), random(10)),
      from: from.address,
      to: opts.to,
      sentAt,
      ttl: opts.ttl ?? 3600,
      recipients: [{ node: target!.node, encryptionKey: fromBase64url(target!.encryptionKey, 'key', 32) }],
      content: utf8(JSON.stringify({ type: 'message', subject: 'by hand', body: 'format 2' })),
      format: 2,
      masterKeys,
    },
    from.identitySecretKey,
    random,
  );
}

describe('envelope formats', () => {
  it('relays advertise what they accept, nodes publish what they read with their keys', async () => {
    const info = async (r: TestRelay) => (await fetch(new URL('/v1/relay', r.url))).json();
    expect(await info(current)).toMatchObject({ formats: [1, 2, 3] });
    // Not upgraded: says nothing, which reads as [1].
    expect(await info(previous)).not.toHaveProperty('formats');
    expect((await sn.trust.recipients(ke.authority)).map((t) => t.formats)).toEqual([[1, 2, 3]]);
    expect((await sn.trust.recipients(fr.authority)).map((t) => t.formats)).toEqual([[1]]);
  });

  it('delivers and opens messages both ways between versions: format 1 to the old node, 2 between new ones', async () => {
    const toOld = await sn.send({ to: [fr.authority], subject: 'to Paris', body: 'sealed in format 1' });
    const atOld = await arrival(fr, toOld.id);
    expect(atOld.v).toBe(1);
    expect(fr.store.message(toOld.id)).toMatchObject({ sender: sn.address, body: 'sealed in format 1' });

    const fromOld = await fr.send({ to: [sn.authority], subject: 'from Paris', body: 'written in format 1' });
    expect((await arrival(sn, fromOld.id)).v).toBe(1);
    expect(sn.store.message(fromOld.id)).toMatchObject({ sender: fr.address, body: 'written in format 1' });

    const between = await sn.send({ to: [ke.authority], subject: 'to Nairobi', body: 'format 2' });
    const atNew = await arrival(ke, between.id);
    expect(atNew.v).toBe(2);
    expect(atNew).toMatchObject({
      masterKeys: [{ authority: ke.authority, fingerprint: masterKeyFingerprint(ke.keys.masterPublicKey!) }],
    });
    expect(ke.store.message(between.id)).toMatchObject({ sender: sn.address, body: 'format 2' });

    // One recipient that reads format 1 only brings the whole envelope down to format 1.
    const both = await ke.send({ to: [sn.authority, fr.authority], subject: 'to all', body: 'mixed' });
    expect((await arrival(sn, both.id)).v).toBe(1);
    expect((await arrival(fr, both.id)).v).toBe(1);
    expect(fr.store.message(both.id)).toMatchObject({ sender: ke.address, body: 'mixed' });
  });

  it('a format 2 envelope is refused by the old relay and, handed to it, by the old node: FORMAT_UNSUPPORTED', async () => {
    const env = await byHand(sn, fr, { to: [fr.authority] });
    // The current relay accepts it; the previous one refuses it for good when it is forwarded.
    await sn.submit(env);
    await waitFor(
      async () => (await sn.deliveryState(env.id)).forwards.some((f) => f.state === 'refused'),
      10_000,
      'the previous relay to refuse the forwarded envelope',
    );
    const [forward] = (await sn.deliveryState(env.id)).forwards;
    expect(forward).toMatchObject({ peer: previous.domain, state: 'refused' });
    expect(forward!.lastError).toContain('FORMAT_UNSUPPORTED');

    const outcome = await fr.receive(env);
    expect(outcome).toMatchObject({
      kind: 'rejected',
      rejection: { envelopeId: env.id, sender: sn.address, code: 'FORMAT_UNSUPPORTED' },
    });
    expect(outcome.kind === 'rejected' && outcome.rejection.reason).toContain('is in format 2');
    expect(ERROR_CODES.FORMAT_UNSUPPORTED.hint).toContain('upgrade');
    expect(fr.store.message(env.id)).toBeUndefined();

    // Nor does the previous relay take one from its own node.
    const submitted = await fr.submit(await byHand(fr, sn, { to: [sn.authority] })).catch((e: unknown) => e);
    expect(submitted).toMatchObject({ code: 'FORMAT_UNSUPPORTED' });
    // And a format no relay knows yet is named as such, not as a schema mismatch.
    const future = { ...(await byHand(sn, ke, { to: [ke.authority] })), v: 4 } as unknown as Envelope;
    expect(await sn.submit(future).catch((e: unknown) => e)).toMatchObject({ code: 'FORMAT_UNSUPPORTED' });
  });

  it('a node reads only what names its authority, within its time to live', async () => {
    const misrouted = await byHand(sn, ke, { to: [fr.authority] });
    expect(await ke.receive(misrouted)).toMatchObject({
      kind: 'rejected',
      rejection: { envelopeId: misrouted.id, code: 'NOT_ADDRESSED' },
    });
    // Past sentAt + ttl by more than the clock-skew allowance.
    const stale = await byHand(sn, ke, {
      to: [ke.authority],
      sentAt: new Date(Date.now() - (LIMITS.minTtlSeconds + LIMITS.maxClockSkewSeconds + 60) * 1000),
      ttl: LIMITS.minTtlSeconds,
    });
    expect(await ke.receive(stale)).toMatchObject({
      kind: 'rejected',
      rejection: { envelopeId: stale.id, code: 'ENVELOPE_EXPIRED' },
    });
    const fine = await byHand(sn, ke, { to: [ke.authority] });
    expect(await ke.receive(fine)).toMatchObject({ kind: 'message', message: { id: fine.id } });
    for (const e of [misrouted, stale]) expect(ke.store.message(e.id)).toBeUndefined();
  });

  it('a node upgraded in place says so with a new key, made at once; its old relay still caps the format', async () => {
    const home = fr.home;
    await fr.close();
    fr = await AuthorityNode.open(home, PASSPHRASE); // every format this code knows
    await fr.keepKeysFresh();
    sn.trust.forget(fr.authority);
    expect((await sn.trust.recipients(fr.authority)).map((t) => t.formats)).toEqual([[1, 2, 3]]);
    const after = await sn.send({ to: [fr.authority], subject: 'to Paris', body: 'after the upgrade' });
    expect((await arrival(fr, after.id)).v).toBe(1);
    expect(fr.store.message(after.id)).toMatchObject({ body: 'after the upgrade' });
  });
});
