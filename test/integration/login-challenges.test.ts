/**
 * Logins of nodes and auditors (server/auth/challenges.ts): the challenge step answers every
 * well-formed subject alike, so enrolled nodes and registered auditors cannot be listed; the token
 * step refuses an unknown subject, a revoked (removed) one and a wrong signature with one code and
 * one message; a challenge works once, for its own subject, until it expires, and only in the
 * relay process that issued it. Each successful login leaves one `login` entry in the audit log,
 * which still verifies; token answers are not to be cached.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditorClient, createAuditor } from '../../client/audit/auditor.ts';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject } from '../../shared/crypto/signing.ts';
import type { ErrorBody } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import { revokeNode } from '../../shared/keys/statements.ts';
import { buildRelay } from '../../server/app.ts';
import { relayLimits } from '../../server/limits.ts';
import { enrolByHand, postJson, signChallenge, type HandNode } from '../support/hand-built-node.ts';
import { startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { random } from '../support/random.ts';
import { refused } from '../support/refusals.ts';

let relay: TestRelay;
/** Added to the relay's clock, to let challenges expire without waiting. */
let offsetMs = 0;
let sn: HandNode;
let ke: HandNode;
let revoked: HandNode;
const ghost = () => `desk9/sn.moj@${relay.domain}`;
let alice: SigningKeyPair;
let bob: SigningKeyPair;

beforeAll(async () => {
  relay = await startTestRelay({ now: () => new Date(Date.now() + offsetMs), limits: relayLimits('test') });
  sn = await enrolByHand(relay, 'sn.moj');
  ke = await enrolByHand(relay, 'ke.ag');
  revoked = await enrolByHand(relay, 'ml.moj');
  const revocation = revokeNode(
    {
      authority: revoked.authority,
      node: revoked.address,
      identityKey: toBase64url(revoked.identity.publicKey),
      revokedAt: new Date(),
      reason: 'laptop lost',
    },
    revoked.master.secretKey,
  );
  const r = await postJson(relay, '/v1/keylog/events', { type: 'node-revoked', revocation });
  expect(r.statusCode, r.body).toBe(200);
  alice = generateSigningKeyPair(random);
  bob = generateSigningKeyPair(random);
  await relay.relay.store.addAuditor('alice', toBase64url(alice.publicKey), new Date());
  await relay.relay.store.addAuditor('bob', toBase64url(bob.publicKey), new Date());
  await relay.relay.store.removeAuditor('bob', new Date());
});

afterAll(async () => {
  await relay?.close();
});

// ---- helpers ------------------------------------------------------------------------------

interface Login {
  challengeRoute: string;
  tokenRoute: string;
  /** The body of a challenge request, and of a token request without its signature. */
  body(subject: string): Record<string, string>;
  sign(subject: string, challenge: string, secretKey: Uint8Array): string;
}

const NODE: Login = {
  challengeRoute: '/v1/auth/challenge',
  tokenRoute: '/v1/auth/token',
  body: (node) => ({ node }),
  sign: (node, challenge, key) => signChallenge(relay.domain, node, challenge, key),
};

const AUDITOR: Login = {
  challengeRoute: '/v1/audit/auth/challenge',
  tokenRoute: '/v1/audit/auth/token',
  body: (auditor) => ({ auditor }),
  sign: (auditor, challenge, key) =>
    signObject(CONTEXTS.auditChallenge, { relay: relay.domain, auditor, challenge }, key),
};

async function challenge(login: Login, subject: string): Promise<{ challenge: string; expiresAt: string }> {
  const res = await postJson(relay, login.challengeRoute, login.body(subject));
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ challenge: string; expiresAt: string }>();
}

/** Asks a challenge for `asked`, then answers it as `subject` signing with `key`. */
async function answer(
  login: Login,
  subject: string,
  key: Uint8Array,
  asked = subject,
): Promise<{ body: Record<string, string>; send: () => Promise<LightMyRequestResponse> }> {
  const c = (await challenge(login, asked)).challenge;
  const body = { ...login.body(subject), challenge: c, sig: login.sign(subject, c, key) };
  return { body, send: () => postJson(relay, login.tokenRoute, body) };
}

function errorOf(res: LightMyRequestResponse): ErrorBody['error'] {
  return res.json<ErrorBody>().error;
}

function events(): AuditEvent[] {
  // Refusals of callers who did not log in may be counted per interval: write them out first.
  (relay.relay.audit as { flushRefusals?: () => void }).flushRefusals?.();
  return relay.relay.store.audit.entries(0, 100_000).map((e) => JSON.parse(e.leaf) as AuditEvent);
}

/** Challenge bytes with one byte changed. */
function altered(challenge: string, i: number): string {
  const bytes = fromBase64url(challenge, 'challenge', 32);
  bytes[i] = bytes[i]! ^ 0x01;
  return toBase64url(bytes);
}

// ---- nodes ----------------------------------------------------------------------------------

describe('node login', () => {
  it('answers an enrolled, an unknown and a revoked node alike at the challenge step', async () => {
    const answers = await Promise.all(
      [sn.address, ghost(), revoked.address].map((node) => postJson(relay, NODE.challengeRoute, { node })),
    );
    for (const res of answers) {
      expect(res.statusCode).toBe(200);
      const body = res.json<{ challenge: string; expiresAt: string }>();
      expect(Object.keys(body).sort()).toEqual(['challenge', 'expiresAt']);
      expect(body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const ttl = Date.parse(body.expiresAt) - Date.now();
      expect(ttl).toBeGreaterThan((LIMITS.challengeLifetimeSeconds - 2) * 1000);
      expect(ttl).toBeLessThanOrEqual(LIMITS.challengeLifetimeSeconds * 1000);
    }
    expect(new Set(answers.map((r) => r.json<{ challenge: string }>().challenge)).size).toBe(3);
  });

  it('refuses an unknown node, a revoked node and a wrong signature with one code and message', async () => {
    const stranger = generateSigningKeyPair(random);
    const cases = [
      await answer(NODE, ghost(), stranger.secretKey),
      await answer(NODE, revoked.address, revoked.identity.secretKey),
      await answer(NODE, sn.address, ke.identity.secretKey),
    ];
    const refusals: ErrorBody['error'][] = [];
    for (const c of cases) {
      await refused(
        relay,
        async () => {
          const res = await c.send();
          refusals.push(errorOf(res));
          return res;
        },
        401,
        'CHALLENGE_INVALID',
      );
    }
    expect(refusals[1]).toEqual(refusals[0]);
    expect(refusals[2]).toEqual(refusals[0]);
    expect(refusals[0]!.message).not.toContain('sn.moj');
  });

  it('lets a challenge be used once, and logs the login once', async () => {
    const before = events().length;
    const login = await answer(NODE, sn.address, sn.identity.secretKey);
    const first = await login.send();
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const { token } = first.json<{ token: string }>();
    expect((await postJson(relay, '/v1/envelopes', {}, token)).statusCode).not.toBe(401);
    await refused(relay, login.send, 401, 'CHALLENGE_INVALID');
    const added = events().slice(before);
    expect(added.filter((e) => e.kind === 'login')).toEqual([
      expect.objectContaining({ kind: 'login', node: sn.address, relay: relay.domain }),
    ]);
    expect(JSON.stringify(added)).not.toContain(token);
    expect(JSON.stringify(added)).not.toContain(token.split('.')[2]!);
    expect(added.filter((e) => e.kind === 'auth_failed' && e.reason === 'CHALLENGE_INVALID')).not.toEqual([]);
  });

  it('refuses a challenge once it has expired', async () => {
    const login = await answer(NODE, sn.address, sn.identity.secretKey);
    offsetMs = (LIMITS.challengeLifetimeSeconds + 1) * 1000;
    try {
      await refused(relay, login.send, 401, 'CHALLENGE_INVALID');
    } finally {
      offsetMs = 0;
    }
    // Back within its lifetime it would do: only the clock refused it.
    expect((await login.send()).statusCode).toBe(200);
  });

  it('refuses a challenge issued for another node, even signed by the one that uses it', async () => {
    const login = await answer(NODE, ke.address, ke.identity.secretKey, sn.address);
    await refused(relay, login.send, 401, 'CHALLENGE_INVALID');
  });

  it('refuses a challenge with any one of its 32 bytes changed', async () => {
    const c = (await challenge(NODE, sn.address)).challenge;
    for (let i = 0; i < 32; i++) {
      const forged = altered(c, i);
      const body = {
        node: sn.address,
        challenge: forged,
        sig: NODE.sign(sn.address, forged, sn.identity.secretKey),
      };
      const res = await postJson(relay, NODE.tokenRoute, body);
      expect([i, res.statusCode, errorOf(res).code]).toEqual([i, 401, 'CHALLENGE_INVALID']);
    }
    // The original is still good: none of the forgeries spent it.
    const body = { node: sn.address, challenge: c, sig: NODE.sign(sn.address, c, sn.identity.secretKey) };
    expect((await postJson(relay, NODE.tokenRoute, body)).statusCode).toBe(200);
  });

  it('keeps nothing for a challenge it issues, and remembers only challenges spent', async () => {
    const spent = relay.relay.ctx.challenges.spentCount;
    for (let i = 0; i < 200; i++) await challenge(NODE, `desk${i}/xx.moj@${relay.domain}`);
    expect(relay.relay.ctx.challenges.spentCount).toBe(spent);
  });
});

// ---- auditors -------------------------------------------------------------------------------

describe('auditor login', () => {
  it('answers a registered, an unknown and a removed auditor alike at the challenge step', async () => {
    for (const auditor of ['alice', 'carol', 'bob']) {
      const res = await postJson(relay, AUDITOR.challengeRoute, { auditor });
      expect([auditor, res.statusCode]).toEqual([auditor, 200]);
      expect(Object.keys(res.json<object>()).sort()).toEqual(['challenge', 'expiresAt']);
    }
  });

  it('refuses an unknown auditor, a removed one and a wrong signature with one code and message', async () => {
    const refusals: ErrorBody['error'][] = [];
    for (const c of [
      await answer(AUDITOR, 'carol', generateSigningKeyPair(random).secretKey),
      await answer(AUDITOR, 'bob', bob.secretKey),
      await answer(AUDITOR, 'alice', bob.secretKey),
    ]) {
      const res = await c.send();
      expect(res.statusCode).toBe(401);
      refusals.push(errorOf(res));
    }
    expect(refusals[0]!.code).toBe('CHALLENGE_INVALID');
    expect(refusals[1]).toEqual(refusals[0]);
    expect(refusals[2]).toEqual(refusals[0]);
  });

  it('lets a challenge be used once, for its own auditor, until it expires', async () => {
    const before = events().length;
    const login = await answer(AUDITOR, 'alice', alice.secretKey);
    const first = await login.send();
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const again = await login.send();
    expect([again.statusCode, errorOf(again).code]).toEqual([401, 'CHALLENGE_INVALID']);
    expect(
      events()
        .slice(before)
        .filter((e) => e.kind === 'login'),
    ).toEqual([expect.objectContaining({ kind: 'login', auditor: 'alice' })]);

    // A challenge asked for alice is not another auditor's, nor a node's; a node's is not alice's.
    const forCarol = await (await answer(AUDITOR, 'carol', alice.secretKey, 'alice')).send();
    expect([forCarol.statusCode, errorOf(forCarol).code]).toEqual([401, 'CHALLENGE_INVALID']);
    const auditorChallenge = (await challenge(AUDITOR, 'alice')).challenge;
    const asNode = await postJson(relay, NODE.tokenRoute, {
      node: sn.address,
      challenge: auditorChallenge,
      sig: NODE.sign(sn.address, auditorChallenge, sn.identity.secretKey),
    });
    expect([asNode.statusCode, errorOf(asNode).code]).toEqual([401, 'CHALLENGE_INVALID']);
    const nodeChallenge = (await challenge(NODE, sn.address)).challenge;
    const crossed = await postJson(relay, AUDITOR.tokenRoute, {
      auditor: 'alice',
      challenge: nodeChallenge,
      sig: AUDITOR.sign('alice', nodeChallenge, alice.secretKey),
    });
    expect([crossed.statusCode, errorOf(crossed).code]).toEqual([401, 'CHALLENGE_INVALID']);

    const late = await answer(AUDITOR, 'alice', alice.secretKey);
    offsetMs = (LIMITS.challengeLifetimeSeconds + 1) * 1000;
    try {
      const res = await late.send();
      expect([res.statusCode, errorOf(res).code]).toEqual([401, 'CHALLENGE_INVALID']);
    } finally {
      offsetMs = 0;
    }
  });

  it('logs the auditor client in, logs that login, and the log with every login still verifies', async () => {
    const creds = await createAuditor(tempDir('entraide-auditor-'), {
      name: 'dave',
      relayUrl: relay.url,
      passphrase: 'auditor passphrase',
    });
    await relay.relay.store.addAuditor('dave', creds.publicKey, new Date());
    const before = events().length;
    const client = new AuditorClient(creds);
    await client.login();
    const report = await client.verify();
    expect(report.problem).toBeNull();
    const logins = events()
      .slice(before)
      .filter((e) => e.kind === 'login');
    expect(logins).toEqual([expect.objectContaining({ auditor: 'dave' })]);
    expect(logins[0]!.node).toBeUndefined();
    // The log verified holds the logins of the tests above: nodes' and auditors'.
    const all = events().filter((e) => e.kind === 'login');
    expect(all.some((e) => e.node === sn.address)).toBe(true);
    expect(all.some((e) => e.auditor === 'alice')).toBe(true);
    expect(report.size).toBeGreaterThan(all.at(-1)!.seq);
  });
});

// ---- the relay's secret ---------------------------------------------------------------------

describe('challenges across a restart', () => {
  it('refuses a challenge issued before the relay restarted (a new secret each start)', async () => {
    const first = await startTestRelay({ domain: 'relay.restart', limits: relayLimits('test') });
    const dataDir = first.dataDir;
    let node: HandNode;
    let c: string;
    try {
      node = await enrolByHand(first, 'sn.moj');
      const res = await postJson(first, NODE.challengeRoute, { node: node.address });
      c = res.json<{ challenge: string }>().challenge;
    } finally {
      await first.close();
    }
    const second = await buildRelay({ dataDir, domain: 'relay.restart' });
    try {
      const res = await second.app.inject({
        method: 'POST',
        url: NODE.tokenRoute,
        payload: {
          node: node.address,
          challenge: c,
          sig: signChallenge('relay.restart', node.address, c, node.identity.secretKey),
        },
      });
      expect([res.statusCode, res.json<ErrorBody>().error.code]).toEqual([401, 'CHALLENGE_INVALID']);
    } finally {
      await second.close();
    }
  });
});
