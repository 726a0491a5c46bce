/**
 * Storage quotas in a relay (DESIGN.md, "At the edge"): the ledger's counts follow what waits in
 * the database through every change (accept, delivery, expiry, revocation, forwarding to a peer),
 * a restart loads the same counts, a refusal stores nothing, and a peer's per-envelope
 * QUOTA_EXCEEDED leaves the envelope in the sending relay's outbox until the peer takes it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { QuotaLedger } from '../../server/domain/quotas.ts';
import { applyOverrides, relayLimits, type RelayLimits } from '../../server/limits.ts';
import { issueNodeCertificate } from '../../shared/crypto/certificates.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import type { ErrorBody } from '../../shared/errors.ts';
import { revokeNode } from '../../shared/keys/statements.ts';
import type { Envelope, InboxPage } from '../../shared/protocol/schemas.ts';
import { startPeeredRelays, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import {
  enrolByHand,
  login,
  postJson,
  recipientKey,
  seal,
  type HandNode,
} from '../support/hand-built-node.ts';
import { random } from '../support/random.ts';
import { expectError, rowCounts } from '../support/refusals.ts';
import { waitFor } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function limits(quota: Partial<RelayLimits['quota']>, profile = 'test'): RelayLimits {
  return applyOverrides(relayLimits(profile), { quota }, 'test');
}

async function relayWith(opts: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const relay = await startTestRelay(opts);
  cleanup.push(() => relay.close());
  return relay;
}

function ledgerOf(relay: TestRelay): QuotaLedger {
  return relay.relay.ctx.envelopes.quotas!;
}

const size = (env: Envelope) => JSON.stringify(env).length;
const none = { envelopes: 0, bytes: 0 };

function submit(relay: TestRelay, from: HandNode, env: Envelope) {
  return postJson(relay, '/v1/envelopes', env, from.token);
}

async function inbox(relay: TestRelay, node: HandNode): Promise<InboxPage> {
  const res = await relay.relay.app.inject({
    method: 'GET',
    url: '/v1/inbox?limit=500',
    headers: { authorization: `Bearer ${node.token}` },
  });
  expect(res.statusCode).toBe(200);
  return res.json<InboxPage>();
}

async function ack(relay: TestRelay, node: HandNode, ids: string[]): Promise<void> {
  const res = await postJson(relay, '/v1/inbox/ack', { ids }, node.token);
  expect(res.json()).toEqual({ acknowledged: ids.length });
}

async function accept(relay: TestRelay, from: HandNode, env: Envelope): Promise<void> {
  const res = await submit(relay, from, env);
  expect(res.statusCode, res.body).toBe(200);
}

describe('the quota ledger follows what waits', () => {
  it('counts an envelope per sender and recipient authority until it is delivered or expires', async () => {
    const relay = await relayWith();
    const sn = await enrolByHand(relay, 'sn.moj');
    const ke = await enrolByHand(relay, 'ke.ag');
    const [e1, e2] = [seal(sn, [ke]), seal(sn, [ke])] as [Envelope, Envelope];
    await accept(relay, sn, e1);
    await accept(relay, sn, e2);
    const both = { envelopes: 2, bytes: size(e1) + size(e2) };
    expect(ledgerOf(relay).sender(sn.address)).toEqual(both);
    expect(ledgerOf(relay).recipient(ke.authority)).toEqual(both);
    expect(ledgerOf(relay).recipient(sn.authority)).toEqual(none);

    await ack(relay, ke, [e1.id]);
    expect(ledgerOf(relay).sender(sn.address)).toEqual({ envelopes: 1, bytes: size(e2) });
    expect(ledgerOf(relay).recipient(ke.authority)).toEqual({ envelopes: 1, bytes: size(e2) });

    expect(relay.relay.store.expire(new Date(Date.now() + 2 * 3600_000))).toBe(2);
    expect(ledgerOf(relay).sender(sn.address)).toEqual(none);
    expect(ledgerOf(relay).recipient(ke.authority)).toEqual(none);
  });

  it('ends what waits for a node once it is revoked, and keeps what still waits for another node', async () => {
    const relay = await relayWith();
    const sn = await enrolByHand(relay, 'sn.moj');
    const ke = await enrolByHand(relay, 'ke.ag');
    const desk2 = { address: `desk2/${ke.authority}`, identity: generateSigningKeyPair(random) };
    const encryption = generateEncryptionKeyPair(random);
    const now = new Date();
    const certificate = issueNodeCertificate(
      {
        authority: ke.authority,
        node: desk2.address,
        identityKey: desk2.identity.publicKey,
        encryptionKey: encryption.publicKey,
        encKeyNotAfter: new Date(now.getTime() + 30 * 86_400_000),
        issuedAt: now,
      },
      ke.master.secretKey,
    );
    const certified = await postJson(relay, '/v1/keylog/events', { type: 'node-certified', certificate });
    expect(certified.statusCode, certified.body).toBe(200);
    const toDesk2 = recipientKey({ address: desk2.address, encryption });
    const both = seal(sn, [ke], { recipients: [recipientKey(ke), toDesk2] });
    const only2 = seal(sn, [ke], { recipients: [toDesk2] });
    await accept(relay, sn, both);
    await accept(relay, sn, only2);
    expect(ledgerOf(relay).recipient(ke.authority)).toEqual({
      envelopes: 2,
      bytes: size(both) + size(only2),
    });

    const revocation = revokeNode(
      {
        authority: ke.authority,
        node: desk2.address,
        identityKey: certificate.identityKey,
        revokedAt: new Date(),
        reason: 'lost',
      },
      ke.master.secretKey,
    );
    const revoked = await postJson(relay, '/v1/keylog/events', { type: 'node-revoked', revocation });
    expect(revoked.statusCode, revoked.body).toBe(200);
    // `both` still waits for desk1; `only2` waits for nobody now.
    expect(ledgerOf(relay).sender(sn.address)).toEqual({ envelopes: 1, bytes: size(both) });
    expect(ledgerOf(relay).recipient(ke.authority)).toEqual({ envelopes: 1, bytes: size(both) });
    await ack(relay, ke, [both.id]);
    expect(ledgerOf(relay).sender(sn.address)).toEqual(none);
    expect(ledgerOf(relay).size).toBe(0);
  });

  it('refuses past the quota with nothing stored, and loads the same counts after a restart', async () => {
    const dataDir = tempDir('entraide-relay-');
    const quota = limits({ senderEnvelopes: 3 });
    let relay = await startTestRelay({ dataDir, limits: quota });
    const sn = await enrolByHand(relay, 'sn.moj');
    const ke = await enrolByHand(relay, 'ke.ag');
    const sent = [seal(sn, [ke]), seal(sn, [ke]), seal(sn, [ke])];
    for (const env of sent) await accept(relay, sn, env);
    const before = rowCounts(relay);
    const over = await submit(relay, sn, seal(sn, [ke]));
    expectError(over, 429, 'QUOTA_EXCEEDED');
    expect(over.headers['retry-after']).toBe('60');
    expect(over.json<ErrorBody>().error.retryAfter).toBe(60);
    expect(rowCounts(relay)).toEqual(before);
    // The same envelope again is a duplicate, not a refusal: it stores nothing more.
    expect((await submit(relay, sn, sent[0]!)).json()).toMatchObject({ duplicate: true });

    await ack(relay, ke, [sent[0]!.id]);
    const counts = {
      sender: ledgerOf(relay).sender(sn.address),
      recipient: ledgerOf(relay).recipient(ke.authority),
    };
    expect(counts.sender.envelopes).toBe(2);
    await relay.close();

    relay = await relayWith({ dataDir, limits: quota });
    expect({
      sender: ledgerOf(relay).sender(sn.address),
      recipient: ledgerOf(relay).recipient(ke.authority),
    }).toEqual(counts);
    sn.token = (await login(relay, sn.address, sn.identity.secretKey)).token;
    await accept(relay, sn, seal(sn, [ke]));
    expectError(await submit(relay, sn, seal(sn, [ke])), 429, 'QUOTA_EXCEEDED');
  });

  it('checks nothing when the limits are not enforced', async () => {
    const relay = await relayWith({ limits: limits({ senderEnvelopes: 1 }, 'unlimited') });
    const sn = await enrolByHand(relay, 'sn.moj');
    const ke = await enrolByHand(relay, 'ke.ag');
    expect(relay.relay.ctx.envelopes.quotas).toBeUndefined();
    await accept(relay, sn, seal(sn, [ke]));
    await accept(relay, sn, seal(sn, [ke]));
  });
});

describe('quotas across relays', () => {
  it('keeps an envelope the peer refuses for its quota in the outbox, lets others pass it, and forwards it once there is room', async () => {
    const [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], {
      // A refused envelope waits 1–2 s before it is tried again: long enough to see others pass it.
      outbox: { ...fast, baseDelayMs: 2_000, maxDelayMs: 2_000 },
      limits: limits({ recipientEnvelopes: 1 }),
    });
    cleanup.push(
      () => a.close(),
      () => b.close(),
    );
    await a.relay.ctx.federation.peers.load();
    await b.relay.ctx.federation.peers.load();
    const sn = await enrolByHand(a, 'sn.moj');
    const fr = await enrolByHand(b, 'fr.mj');
    const ma = await enrolByHand(b, 'ma.mj');
    const [e1, e2] = [seal(sn, [fr]), seal(sn, [fr])] as [Envelope, Envelope];
    await accept(a, sn, e1);
    await accept(a, sn, e2);

    await waitFor(
      () => /^QUOTA_EXCEEDED: /.test(a.relay.store.forwards(e2.id)[0]?.lastError ?? ''),
      10_000,
      'relay.b.test to refuse the second envelope for its quota',
    );
    expect(a.relay.store.forwards(e1.id)).toMatchObject([{ state: 'forwarded' }]);
    expect(a.relay.store.forwards(e2.id)).toMatchObject([{ state: 'pending' }]);
    // On the sending relay, e2 waits in the outbox; on the receiving one, e1 waits for fr,
    // counted under its remote sender too.
    expect(ledgerOf(a).sender(sn.address)).toEqual({ envelopes: 1, bytes: size(e2) });
    expect(ledgerOf(b).sender(sn.address)).toEqual({ envelopes: 1, bytes: size(e1) });
    expect(ledgerOf(b).recipient(fr.authority)).toEqual({ envelopes: 1, bytes: size(e1) });
    expect((await inbox(b, fr)).envelopes.map((e) => e.id)).toEqual([e1.id]);

    // An envelope for another authority is not held up behind the refused one.
    const e3 = seal(sn, [ma]);
    await accept(a, sn, e3);
    await waitFor(() => a.relay.store.forwards(e3.id)[0]?.state === 'forwarded', 5_000, 'e3 forwarded');
    expect(a.relay.store.forwards(e2.id)).toMatchObject([{ state: 'pending' }]);

    await ack(b, fr, [e1.id]);
    await waitFor(
      () => a.relay.store.forwards(e2.id)[0]?.state === 'forwarded',
      10_000,
      'the second envelope to be forwarded once relay.b.test has room',
    );
    expect(ledgerOf(a).sender(sn.address)).toEqual(none);
    expect((await inbox(b, fr)).envelopes.map((e) => e.id)).toEqual([e2.id]);
  });
});
