/**
 * What a relay refuses from its peers, each with its code and HTTP status, and with nothing stored
 * and nothing pushed: requests no pinned peer signed (unknown issuer, another key, expired, replayed,
 * made for another body, path, method or relay, unsigned), envelopes the forwarding peer may not
 * send, a second copy of an envelope; and, on the node's side, a peer's key-directory answer that
 * its proofs or its head signature do not back.
 *
 * relay.a.test receives (node sn.moj); relay.b.test forwards (node ke.ag); relay.c.test is a peer
 * of relay.a.test known only by its key; relay.x.test is no peer at all.
 */
import { decodeJwt } from 'jose';
import { ANSWER_HEADER, signFederationAnswer } from '../../server/federation/s2s-token.ts';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { audienceFor } from '../../server/auth/tokens.ts';
import { bodyHash, FEDERATION_TOKEN_TYPE, signFederationRequest } from '../../server/federation/s2s-token.ts';
import { fromBase64url, toBase64url, utf8 } from '../../shared/bytes.ts';
import { canonicalBytes } from '../../shared/canonical.ts';
import { sealEnvelope } from '../../shared/crypto/envelope.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import type { ForwardResults } from '../../shared/protocol/federation.ts';
import type { DirectoryEntry, SignedTreeHead } from '../../shared/protocol/key-log.ts';
import type { Envelope } from '../../shared/protocol/schemas.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { expectError, rowCounts } from '../support/refusals.ts';
import { flipBit } from '../unit/fixtures.ts';
import { random } from '../support/random.ts';

const A = 'relay.a.test';
const B = 'relay.b.test';
const C = 'relay.c.test';
const X = 'relay.x.test';
const ENVELOPES = '/v1/federation/envelopes';
const HEAD = '/v1/federation/keylog/head';
const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };

let a: TestRelay; // receives
let b: TestRelay; // forwards
let sn: AuthorityNode; // desk1/sn.moj@relay.a.test
let ke: AuthorityNode; // desk1/ke.ag@relay.b.test
/** relay.c.test: a peer of relay.a.test, with a key of its own (no relay runs behind it). */
const c = relayKey();

// ---- helpers -------------------------------------------------------------------------------

interface Signer {
  domain: string;
  privateKey: KeyObject;
}

/** An Ed25519 relay key, as a KeyObject to sign with and as the base64url text a Peer row pins. */
function relayKey(): { privateKey: KeyObject; publicKeyB64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKeyB64: publicKey.export({ format: 'jwk' }).x! };
}

function signerOf(relay: TestRelay): Signer {
  return { domain: relay.domain, privateKey: relay.relay.identity.privateKeyObject };
}

async function pin(on: TestRelay, domain: string, url: string, publicKey: string): Promise<void> {
  await on.relay.store.addPeer({ domain, url, publicKey, addedAt: new Date() });
  await on.relay.ctx.federation.peers.load();
}

/** Deliveries the receiving relay hands to its hub (to push to online nodes), as "id -> node". */
const pushed: string[] = [];

function watchPushes(relay: TestRelay): void {
  const ctx = relay.relay.ctx.envelopes;
  const push = ctx.onAccepted;
  ctx.onAccepted = (env, nodes) => {
    for (const n of nodes) pushed.push(`${env.id} -> ${n}`);
    push(env, nodes);
  };
}

/** Every table a peer request could write, counted. */
function tables(relay: TestRelay) {
  const count = (table: string): number =>
    relay.relay.store.db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${table}"`).get()!.n;
  return { ...rowCounts(relay), outbox: count('Outbox'), replays: count('FederationReplay') };
}

/**
 * Waits until neither relay owes the other anything (forwards, delivery reports): those requests
 * use token ids at the receiving relay, and a test that counts them must not meet one in flight.
 */
async function settled(): Promise<void> {
  const owed = (from: TestRelay, to: string): number =>
    from.relay.store.db
      .prepare<[string, string], { n: number }>(
        `SELECT (SELECT count(*) FROM "Outbox" WHERE state = 'pending' AND peer = ?)
              + (SELECT count(*) FROM "DeliveryReport" WHERE state = 'pending' AND peer = ?) AS n`,
      )
      .get(to, to)!.n;
  await waitFor(
    async () => owed(a, B) === 0 && owed(b, A) === 0,
    15_000,
    'the two relays to have sent each other what they owe',
  );
}

interface PeerRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** The whole Authorization header; none when undefined. */
  authorization?: string;
}

async function send(relay: TestRelay, r: PeerRequest): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  if (r.authorization !== undefined) headers.authorization = r.authorization;
  if (r.body !== undefined) headers['content-type'] = 'application/json';
  return relay.relay.app.inject({ method: r.method, url: r.path, headers, payload: r.body });
}

/** A token as the product signs one: for `to`, binding method, path and body, made at `now`. */
async function tokenFor(
  from: Signer,
  to: string,
  request: { method: string; path: string; body?: string },
  now = new Date(),
): Promise<string> {
  return signFederationRequest(from, to, { body: '', ...request }, now);
}

/** Sends a request signed exactly for itself, by `from`, to `to`. */
async function signed(
  from: Signer,
  to: TestRelay,
  r: { method: 'GET' | 'POST'; path: string; body?: string },
): Promise<LightMyRequestResponse> {
  return send(to, { ...r, authorization: `Bearer ${await tokenFor(from, to.domain, r)}` });
}

/** The claims signFederationRequest would make, for tokens crafted by hand. */
function claimsFor(
  from: string,
  to: string,
  request: { method: string; path: string; body: string },
  iat = Math.floor(Date.now() / 1000),
  lifetime = 60,
): JWTPayload {
  return {
    iss: from,
    aud: audienceFor(to),
    iat,
    exp: iat + lifetime,
    jti: randomUUID(),
    htm: request.method,
    htu: request.path,
    bh: bodyHash(request.body),
  };
}

async function craft(
  key: KeyObject | Uint8Array,
  claims: JWTPayload,
  header: JWTHeaderParameters = { alg: 'EdDSA', typ: FEDERATION_TOKEN_TYPE },
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

/**
 * Sends a request the relay must refuse with `status` and `code`, and checks that no table of the
 * relay changed (not even the replay table: a refused token is not remembered) and nothing was pushed.
 */
async function refusedRequest(
  relay: TestRelay,
  r: PeerRequest,
  status: number,
  code: ErrorCode,
): Promise<LightMyRequestResponse> {
  const before = tables(relay);
  const pushes = pushed.length;
  const res = await send(relay, r);
  expectError(res, status, code);
  expect(tables(relay)).toEqual(before);
  expect(pushed.length).toBe(pushes);
  return res;
}

/** A message envelope as a node seals it (only its sender's key signs it; the relay checks no more). */
function seal(opts: {
  from: string;
  senderKey: Uint8Array;
  to: string[];
  recipients: { node: string; encryptionKey: Uint8Array }[];
  subject: string;
}): Envelope {
  const sentAt = new Date();
  return sealEnvelope(
    {
      id: uuidv7(sentAt.getTime(), random(10)),
      from: opts.from,
      to: opts.to,
      sentAt,
      ttl: 3600,
      recipients: opts.recipients,
      content: canonicalBytes({ type: 'message', subject: opts.subject, body: 'federation refusals' }),
    },
    opts.senderKey,
    random,
  );
}

/** A genuine envelope of ke.ag for sn.moj, sealed to sn.moj's node keys as ke.ag resolved them. */
async function fromKe(subject: string): Promise<Envelope> {
  const targets = await ke.trust.recipients(sn.authority);
  return seal({
    from: ke.address,
    senderKey: ke.identitySecretKey,
    to: [sn.authority],
    recipients: targets.map((t) => ({ node: t.node, encryptionKey: fromBase64url(t.encryptionKey) })),
    subject,
  });
}

/** An envelope of any claimed sender, sealed with a throwaway key. */
function forged(from: string, to: string[], nodes: string[], subject: string): Envelope {
  return seal({
    from,
    senderKey: generateSigningKeyPair(random).secretKey,
    to,
    recipients: nodes.map((node) => ({ node, encryptionKey: generateEncryptionKeyPair(random).publicKey })),
    subject,
  });
}

function batch(...envelopes: Envelope[]): string {
  return JSON.stringify({ envelopes });
}

// ---- the two relays --------------------------------------------------------------------------

// Background gossip between the relays would use token ids while the tests count them: none here.
const quiet = { outbox: fast, gossipIntervalMs: 3_600_000 };

beforeAll(async () => {
  a = await startTestRelay({ domain: A, ...quiet });
  b = await startTestRelay({ domain: B, ...quiet });
  await pin(a, B, b.url, b.relay.identity.publicKeyB64);
  await pin(b, A, a.url, a.relay.identity.publicKeyB64);
  await pin(a, C, 'http://127.0.0.1:9/', c.publicKeyB64);
  watchPushes(a);
  sn = await enrolNode(a, 'sn.moj');
  ke = await enrolNode(b, 'ke.ag');
});

afterAll(async () => {
  await sn?.close();
  await ke?.close();
  await a?.close();
  await b?.close();
});

describe('a relay refuses peer requests that no pinned peer signed', () => {
  it('refuses a relay that is not in its Peer table: 403 UNKNOWN_PEER', async () => {
    const stranger = { domain: X, privateKey: relayKey().privateKey };
    const body = batch(await fromKe('from a stranger'));
    for (const r of [
      { method: 'POST' as const, path: ENVELOPES, body },
      { method: 'GET' as const, path: HEAD },
      { method: 'GET' as const, path: `/v1/federation/directory/${sn.authority}` },
    ]) {
      const authorization = `Bearer ${await tokenFor(stranger, A, r)}`;
      await refusedRequest(a, { ...r, authorization }, 403, 'UNKNOWN_PEER');
    }
  });

  it('refuses a token signed by another key than the one pinned for that peer: 401 TOKEN_INVALID', async () => {
    const body = batch(await fromKe('not signed by relay.b.test'));
    const r = { method: 'POST' as const, path: ENVELOPES, body };
    // A stranger's key, a key of another peer (relay.c.test), and the receiving relay's own key, each
    // claiming to be relay.b.test.
    for (const privateKey of [relayKey().privateKey, c.privateKey, a.relay.identity.privateKeyObject]) {
      const authorization = `Bearer ${await tokenFor({ domain: B, privateKey }, A, r)}`;
      await refusedRequest(a, { ...r, authorization }, 401, 'TOKEN_INVALID');
    }
  });

  it('refuses an expired token (401 TOKEN_EXPIRED), and one that lives too long or is dated in the future (TOKEN_INVALID)', async () => {
    const body = batch(await fromKe('out of time'));
    const r = { method: 'POST' as const, path: ENVELOPES, body };
    const key = b.relay.identity.privateKeyObject;
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    const expired = await tokenFor(signerOf(b), A, r, tenMinutesAgo);
    await refusedRequest(a, { ...r, authorization: `Bearer ${expired}` }, 401, 'TOKEN_EXPIRED');

    const now = Math.floor(Date.now() / 1000);
    const anHour = await craft(key, claimsFor(B, A, r, now, 3600));
    await refusedRequest(a, { ...r, authorization: `Bearer ${anHour}` }, 401, 'TOKEN_INVALID');
    const tenMinutes = await craft(key, claimsFor(B, A, r, now, 600));
    await refusedRequest(a, { ...r, authorization: `Bearer ${tenMinutes}` }, 401, 'TOKEN_INVALID');
    const future = await craft(key, claimsFor(B, A, r, now + 600));
    await refusedRequest(a, { ...r, authorization: `Bearer ${future}` }, 401, 'TOKEN_INVALID');
  });

  it('refuses a replayed token (401 TOKEN_REPLAYED), also after the receiving relay restarts', async () => {
    const env = await fromKe('sent once');
    const r = { method: 'POST' as const, path: ENVELOPES, body: batch(env) };
    const authorization = `Bearer ${await tokenFor(signerOf(b), A, r)}`;
    const first = await send(a, { ...r, authorization });
    expect(first.statusCode).toBe(200);
    expect(first.json<ForwardResults>().results).toEqual([{ id: env.id, status: 'accepted' }]);
    expect(pushed.filter((p) => p.startsWith(env.id))).toEqual([`${env.id} -> ${sn.address}`]);

    const logged = a.relay.store.audit.size;
    await refusedRequest(a, { ...r, authorization }, 401, 'TOKEN_REPLAYED');
    // Every replay refused is in the audit log once, naming the peer whose token it was.
    const entry = JSON.parse(a.relay.store.audit.entries(logged, 10).at(-1)!.leaf) as Record<string, unknown>;
    expect(entry).toMatchObject({ kind: 'auth_failed', reason: 'TOKEN_REPLAYED', peer: B });
    expect(a.relay.store.audit.size).toBe(logged + 1);
    // A GET replayed is refused all the same.
    const head = `Bearer ${await tokenFor(signerOf(b), A, { method: 'GET', path: HEAD })}`;
    expect((await send(a, { method: 'GET', path: HEAD, authorization: head })).statusCode).toBe(200);
    await refusedRequest(a, { method: 'GET', path: HEAD, authorization: head }, 401, 'TOKEN_REPLAYED');

    const before = tables(a);
    const port = Number(new URL(a.url).port);
    const dataDir = a.dataDir;
    await a.close();
    a = await startTestRelay({ domain: A, dataDir, port, ...quiet });
    watchPushes(a);
    expect(tables(a)).toEqual(before);
    await refusedRequest(a, { ...r, authorization }, 401, 'TOKEN_REPLAYED');
    await refusedRequest(a, { method: 'GET', path: HEAD, authorization: head }, 401, 'TOKEN_REPLAYED');
    expect(a.relay.store.deliveries(env.id)).toHaveLength(1);
  });

  it('refuses a body other than the one whose hash the token signs: 401 TOKEN_INVALID', async () => {
    const x = await fromKe('the signed body');
    const y = await fromKe('another body');
    const token = await tokenFor(signerOf(b), A, { method: 'POST', path: ENVELOPES, body: batch(x) });
    const authorization = `Bearer ${token}`;
    await refusedRequest(
      a,
      { method: 'POST', path: ENVELOPES, body: batch(y), authorization },
      401,
      'TOKEN_INVALID',
    );
    // The same JSON, written differently, is another body: the hash covers the text as sent.
    const spaced = JSON.stringify({ envelopes: [x] }, null, 1);
    await refusedRequest(
      a,
      { method: 'POST', path: ENVELOPES, body: spaced, authorization },
      401,
      'TOKEN_INVALID',
    );
  });

  it('refuses a token made for another path, query or method: 401 TOKEN_INVALID', async () => {
    const body = batch(await fromKe('misdirected'));
    const post = { method: 'POST' as const, path: ENVELOPES, body };
    const others = [
      { method: 'POST', path: `${ENVELOPES}/`, body },
      { method: 'POST', path: HEAD, body },
      { method: 'GET', path: ENVELOPES, body },
      { method: 'PUT', path: ENVELOPES, body },
    ];
    for (const other of others) {
      const authorization = `Bearer ${await tokenFor(signerOf(b), A, other)}`;
      await refusedRequest(a, { ...post, authorization }, 401, 'TOKEN_INVALID');
    }
    const entries = '/v1/federation/keylog/entries?start=0';
    const forOther = await tokenFor(signerOf(b), A, {
      method: 'GET',
      path: '/v1/federation/keylog/entries?start=1',
    });
    await refusedRequest(
      a,
      { method: 'GET', path: entries, authorization: `Bearer ${forOther}` },
      401,
      'TOKEN_INVALID',
    );
    const forHead = await tokenFor(signerOf(b), A, { method: 'GET', path: HEAD });
    await refusedRequest(
      a,
      { method: 'GET', path: `/v1/federation/directory/${sn.authority}`, authorization: `Bearer ${forHead}` },
      401,
      'TOKEN_INVALID',
    );
  });

  it('refuses a token made for another relay’s audience: 401 TOKEN_INVALID', async () => {
    const body = batch(await fromKe('for relay.c.test'));
    const r = { method: 'POST' as const, path: ENVELOPES, body };
    for (const audience of [C, B, X]) {
      const authorization = `Bearer ${await tokenFor(signerOf(b), audience, r)}`;
      await refusedRequest(a, { ...r, authorization }, 401, 'TOKEN_INVALID');
    }
  });

  it('refuses unsigned, HMAC, mistyped or incomplete tokens: 401 TOKEN_INVALID', async () => {
    const body = batch(await fromKe('badly signed'));
    const r = { method: 'POST' as const, path: ENVELOPES, body };
    const b64 = (o: object) => toBase64url(utf8(JSON.stringify(o)));
    const none = `${b64({ alg: 'none', typ: FEDERATION_TOKEN_TYPE })}.${b64(claimsFor(B, A, r))}.`;
    // HS256 keyed with the peer's public key: the classic algorithm confusion.
    const hmac = await craft(fromBase64url(b.relay.identity.publicKeyB64), claimsFor(B, A, r), {
      alg: 'HS256',
      typ: FEDERATION_TOKEN_TYPE,
    });
    const key = b.relay.identity.privateKeyObject;
    const sessionTyped = await craft(key, claimsFor(B, A, r), { alg: 'EdDSA', typ: 'entraide-session+jwt' });
    const untyped = await craft(key, claimsFor(B, A, r), { alg: 'EdDSA' });
    const { bh: _bh, ...withoutBodyHash } = claimsFor(B, A, r);
    const noHash = await craft(key, withoutBodyHash);
    const { jti: _jti, ...withoutId } = claimsFor(B, A, r);
    const noId = await craft(key, withoutId);
    const valid = await tokenFor(signerOf(b), A, r);
    const [h, p, s] = valid.split('.') as [string, string, string];
    const badSig = `${h}.${p}.${toBase64url(flipBit(fromBase64url(s), 3))}`;
    const authorizations = [
      `Bearer ${none}`,
      `Bearer ${hmac}`,
      `Bearer ${sessionTyped}`,
      `Bearer ${untyped}`,
      `Bearer ${noHash}`,
      `Bearer ${noId}`,
      `Bearer ${badSig}`,
      `Bearer not-a-jwt`,
      `Basic ${Buffer.from(`${B}:secret`).toString('base64')}`,
      valid, // without "Bearer "
    ];
    for (const authorization of authorizations) {
      await refusedRequest(a, { ...r, authorization }, 401, 'TOKEN_INVALID');
    }
  });

  it('asks for a signature before anything else: 401 AUTH_REQUIRED, whatever the request', async () => {
    const good = batch(await fromKe('unsigned'));
    const unsigned: PeerRequest[] = [
      { method: 'POST', path: ENVELOPES, body: good },
      // A bad schema learns nothing either: the signature is checked before validation.
      { method: 'POST', path: ENVELOPES, body: '{"nope":true}' },
      { method: 'POST', path: ENVELOPES, body: '{"envelopes":[]}' },
      { method: 'GET', path: HEAD },
      { method: 'GET', path: '/v1/federation/keylog/entries?start=-1' },
      { method: 'GET', path: '/v1/federation/keylog/consistency?from=banana' },
      { method: 'GET', path: '/v1/federation/directory/not-an-address' },
      { method: 'GET', path: `/v1/federation/directory/${sn.authority}` },
    ];
    for (const r of unsigned) await refusedRequest(a, r, 401, 'AUTH_REQUIRED');
    // Signed, the same bad body is a schema error: the order above is the only reason for the 401s.
    const res = await signed(signerOf(b), a, { method: 'POST', path: ENVELOPES, body: '{"nope":true}' });
    expectError(res, 400, 'SCHEMA_INVALID');
  });

  it('asks for a signature before parsing the body: 401 AUTH_REQUIRED for unsigned malformed JSON', async () => {
    await refusedRequest(
      a,
      { method: 'POST', path: ENVELOPES, body: '{"envelopes": [' },
      401,
      'AUTH_REQUIRED',
    );
  });
});

describe('a relay accepts from a peer only envelopes that peer may forward', () => {
  it('refuses, envelope by envelope, a foreign sender (FORBIDDEN) or recipients not homed and active here (UNKNOWN_RECIPIENT), and accepts the rest of the batch', async () => {
    const good = await fromKe('the good one');
    const fromC = forged('desk1/x@relay.c.test', [sn.authority], [sn.address], 'homed on relay.c.test');
    const fromA = forged(`desk9/${sn.authority}`, [sn.authority], [sn.address], 'homed on relay.a.test');
    const noLocal = forged(
      ke.address,
      ['ci.x@relay.c.test'],
      ['desk1/ci.x@relay.c.test'],
      'for relay.c.test',
    );
    const unenrolled = forged(ke.address, ['zz.none@relay.a.test'], ['desk1/zz.none@relay.a.test'], 'nobody');
    const inactive = forged(ke.address, [sn.authority], [`desk2/${sn.authority}`], 'no such node');
    const outsider = forged(ke.address, [sn.authority], ['desk1/zz.none@relay.a.test'], 'node of another');
    // Well addressed, but not signed by ke.ag's node key (proven in relay.b.test's key log), or from
    // a node relay.b.test's key log does not know.
    const badSig = forged(ke.address, [sn.authority], [sn.address], 'signed with another key');
    const ghost = forged(
      `ghost/${ke.authority}`,
      [sn.authority],
      [sn.address],
      'from a node nobody certified',
    );
    const all = [fromC, good, fromA, noLocal, unenrolled, inactive, outsider, badSig, ghost];

    await settled();
    const before = tables(a);
    const pushes = pushed.length;
    const res = await signed(signerOf(b), a, { method: 'POST', path: ENVELOPES, body: batch(...all) });
    expect(res.statusCode).toBe(200);
    const results = res.json<ForwardResults>().results;
    expect(results.map((x) => [x.id, x.status, x.error?.code])).toEqual([
      [fromC.id, 'refused', 'FORBIDDEN'],
      [good.id, 'accepted', undefined],
      [fromA.id, 'refused', 'FORBIDDEN'],
      [noLocal.id, 'refused', 'UNKNOWN_RECIPIENT'],
      [unenrolled.id, 'refused', 'UNKNOWN_RECIPIENT'],
      [inactive.id, 'refused', 'UNKNOWN_RECIPIENT'],
      [outsider.id, 'refused', 'UNKNOWN_RECIPIENT'],
      [badSig.id, 'refused', 'BAD_SIGNATURE'],
      [ghost.id, 'refused', 'UNKNOWN_SENDER'],
    ]);
    for (const x of results.filter((x) => x.status === 'refused'))
      expect(typeof x.error?.message).toBe('string');
    // Only the good envelope was stored, with its one delivery; one token id was used.
    expect(tables(a)).toEqual({
      ...before,
      envelopes: before.envelopes + 1,
      deliveries: before.deliveries + 1,
      replays: before.replays + 1,
    });
    expect(pushed.slice(pushes)).toEqual([`${good.id} -> ${sn.address}`]);
    for (const x of all.filter((e) => e !== good)) {
      expect(a.relay.store.envelopeMeta(x.id)).toBeUndefined();
      expect(a.relay.store.deliveries(x.id)).toEqual([]);
    }
  });

  it('stores and delivers once an envelope forwarded twice: the second answer is duplicate', async () => {
    await sn.fetchInbox(); // what earlier tests delivered
    const env = await fromKe('forwarded twice');
    const body = batch(env);
    await settled();
    const before = tables(a);
    const pushes = pushed.length;
    const first = await signed(signerOf(b), a, { method: 'POST', path: ENVELOPES, body });
    const second = await signed(signerOf(b), a, { method: 'POST', path: ENVELOPES, body });
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(first.json<ForwardResults>().results).toEqual([{ id: env.id, status: 'accepted' }]);
    expect(second.json<ForwardResults>().results).toEqual([{ id: env.id, status: 'duplicate' }]);
    expect(tables(a)).toEqual({
      ...before,
      envelopes: before.envelopes + 1,
      deliveries: before.deliveries + 1,
      replays: before.replays + 2,
    });
    expect(a.relay.store.deliveries(env.id)).toHaveLength(1);
    expect(pushed.slice(pushes)).toEqual([`${env.id} -> ${sn.address}`]);

    const got = await sn.fetchInbox();
    expect(got.map((o) => (o.kind === 'message' ? [o.message.id, o.message.subject] : o.kind))).toEqual([
      [env.id, 'forwarded twice'],
    ]);
    expect(await sn.fetchInbox()).toEqual([]);
  });
});

/**
 * Replay ids are kept until the token's `exp`, but the verifier accepts a token up to
 * `clockTolerance` (30 s) after its `exp`: once the sweeper purged the id, the same token is
 * accepted again. A relay of its own, on a clock the test moves, with a fast sweeper.
 */
describe('a used token id is remembered as long as the token is accepted', () => {
  let r: TestRelay;
  let offsetMs = 0;
  const sender = relayKey();
  const from: Signer = { domain: 'relay.s.test', privateKey: sender.privateKey };
  let authorization = '';
  const replays = () => tables(r).replays;

  beforeAll(async () => {
    r = await startTestRelay({
      domain: 'relay.r.test',
      now: () => new Date(Date.now() + offsetMs),
      sweepIntervalMs: 50,
    });
    await pin(r, from.domain, 'http://127.0.0.1:9/', sender.publicKeyB64);
  });

  afterAll(async () => {
    await r?.close();
  });

  it('accepts the token once, and still refuses it at the edge of the verifier’s tolerance', async () => {
    authorization = `Bearer ${await tokenFor(from, r.domain, { method: 'GET', path: HEAD })}`;
    expect((await send(r, { method: 'GET', path: HEAD, authorization })).statusCode).toBe(200);
    expectError(await send(r, { method: 'GET', path: HEAD, authorization }), 401, 'TOKEN_REPLAYED');
    expect(replays()).toBe(1);
    // Past exp (60 s) but within exp + the clock tolerance (30 s): the id must still be remembered.
    offsetMs = 70_000;
    await new Promise((resolve) => setTimeout(resolve, 200)); // a few sweeps run meanwhile
    expect(replays()).toBe(1);
    const res = await send(r, { method: 'GET', path: HEAD, authorization });
    expect(res.statusCode).toBe(401);
    expect(['TOKEN_REPLAYED', 'TOKEN_EXPIRED']).toContain(res.json<{ error: { code: string } }>().error.code);
  });

  it('forgets the id only once no check could accept the token any more', async () => {
    offsetMs = 160_000; // beyond iat + max age (120 s) + tolerance (30 s)
    await waitFor(() => replays() === 0, 5_000, 'the sweeper to purge the used token id');
    expectError(await send(r, { method: 'GET', path: HEAD, authorization }), 401, 'TOKEN_EXPIRED');
  });
});

type Forgery = 'honest' | 'foreign-head-key' | 'bad-inclusion-proof' | 'bad-consistency-proof';

/**
 * A deliberate adversary: relay.b.test gone bad. It stands at relay.b.test's URL in relay.a.test's
 * Peer table, forwards every request to the real relay.b.test unchanged (its tokens are signed for
 * relay.b.test, so they still verify there), alters the key-log answers as told and, holding
 * relay.b.test's key, signs the altered answers for their requests: only the proofs inside them,
 * which the nodes check, can give it away.
 */
class ForgingPeer {
  readonly seen: string[] = [];
  forgery: Forgery = 'honest';
  private readonly stranger = generateSigningKeyPair(random);

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
    private readonly signer: { domain: string; privateKey: KeyObject },
    private readonly audience: string,
  ) {}

  static async start(
    target: () => string,
    signer: { domain: string; privateKey: KeyObject },
    audience: string,
  ): Promise<ForgingPeer> {
    const box: { peer?: ForgingPeer } = {};
    const server = createServer((req, res) => void box.peer!.handle(req, res, target()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    box.peer = new ForgingPeer(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      signer,
      audience,
    );
    return box.peer;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    const path = req.url ?? '/';
    this.seen.push(`${req.method} ${path}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'content-type', 'accept']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const upstream = await fetch(new URL(path, target), {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    let text = await upstream.text();
    let signature = upstream.headers.get(ANSWER_HEADER) ?? '';
    if (upstream.ok && this.forgery !== 'honest' && headers.authorization) {
      text = JSON.stringify(this.alter(path, JSON.parse(text)));
      const requestId = String(decodeJwt(headers.authorization!.slice('Bearer '.length)).jti);
      signature = await signFederationAnswer(
        this.signer,
        this.audience,
        { requestId, status: upstream.status, body: text },
        new Date(),
      );
    }
    res.writeHead(upstream.status, { 'content-type': 'application/json', [ANSWER_HEADER]: signature });
    res.end(text);
  }

  private resign(head: SignedTreeHead): SignedTreeHead {
    return signTreeHead(
      {
        log: head.log,
        relay: head.relay,
        size: head.size,
        root: fromBase64url(head.root, 'root', 32),
        timestamp: new Date(head.timestamp),
      },
      this.stranger.secretKey,
    );
  }

  private alter(path: string, body: unknown): unknown {
    const flip = (p: string) => toBase64url(flipBit(fromBase64url(p, 'proof', 32), 5));
    if (this.forgery === 'foreign-head-key') {
      if (path.startsWith('/v1/federation/keylog/head')) return this.resign(body as SignedTreeHead);
      if (path.startsWith('/v1/federation/directory/')) {
        const d = body as DirectoryEntry;
        return { ...d, head: this.resign(d.head) };
      }
    }
    if (this.forgery === 'bad-inclusion-proof' && path.startsWith('/v1/federation/directory/')) {
      const d = body as DirectoryEntry;
      return { ...d, events: d.events.map((e) => ({ ...e, proof: e.proof.map(flip) })) };
    }
    if (this.forgery === 'bad-consistency-proof' && path.startsWith('/v1/federation/keylog/consistency')) {
      const c = body as { from: number; to: number; proof: string[] };
      return { ...c, proof: c.proof.map(flip) };
    }
    return body;
  }
}

describe('a node refuses a peer relay’s key-directory answer that its proofs do not back', () => {
  let forger: ForgingPeer;
  const opened: AuthorityNode[] = [];

  beforeAll(async () => {
    forger = await ForgingPeer.start(
      () => b.url,
      { domain: B, privateKey: b.relay.identity.privateKeyObject },
      A,
    );
    await pin(a, B, forger.url, b.relay.identity.publicKeyB64);
  });

  afterAll(async () => {
    for (const n of opened) await n.close();
    await pin(a, B, b.url, b.relay.identity.publicKeyB64);
    await forger?.close();
  });

  async function nodeOfA(authorityId: string): Promise<AuthorityNode> {
    const n = await enrolNode(a, authorityId);
    opened.push(n);
    return n;
  }

  /** The node refuses ke.ag's keys with `code`, and a send to ke.ag leaves every relay as it was. */
  async function refusesKeAg(node: AuthorityNode, code: ErrorCode): Promise<void> {
    await expect(node.trust.authority(ke.authority, true)).rejects.toMatchObject({ code });
    const atA = tables(a);
    const atB = tables(b);
    const forwarded = forger.seen.filter((s) => s.startsWith('POST')).length;
    node.trust.forget();
    await expect(
      node.send({ to: [ke.authority], subject: 'must not leave', body: 'forged directory' }),
    ).rejects.toMatchObject({ code });
    // Reading relay.b.test's log again uses token ids there; nothing else may change.
    expect(tables(a)).toEqual(atA);
    expect({ ...tables(b), replays: 0 }).toEqual({ ...atB, replays: 0 });
    expect(forger.seen.filter((s) => s.startsWith('POST'))).toHaveLength(forwarded);
  }

  it('passes honest answers through (the forger is transparent when told to be)', async () => {
    forger.forgery = 'honest';
    const node = await nodeOfA('ci.mj');
    const t = await node.trust.authority(ke.authority);
    expect([...t.state.nodes.keys()]).toEqual([ke.address]);
    expect(forger.seen).toContain('GET /v1/federation/keylog/head');
  });

  it('refuses a head signed by a key other than the one pinned for the peer: PROOF_INVALID, then PEER_KEY_CHANGED with an alarm', async () => {
    forger.forgery = 'foreign-head-key';
    const node = await nodeOfA('ml.mj');
    await expect(node.trust.authority(ke.authority, true)).rejects.toMatchObject({ code: 'PROOF_INVALID' });
    // From then on nothing from that peer is trusted, until an officer pins its key by hand.
    await refusesKeAg(node, 'PEER_KEY_CHANGED');
    expect(await node.store.alarms()).toContainEqual(
      expect.objectContaining({ kind: 'peer-key-changed', relay: B }),
    );
  });

  it('refuses a directory answer whose inclusion proofs are wrong: KEYLOG_INCONSISTENT, with an alarm', async () => {
    forger.forgery = 'bad-inclusion-proof';
    const node = await nodeOfA('bj.mj');
    await refusesKeAg(node, 'KEYLOG_INCONSISTENT');
    const alarms = await node.store.alarms();
    expect(alarms).toContainEqual(expect.objectContaining({ kind: 'log-inconsistent', relay: B }));
  });

  it('refuses a grown key log whose consistency proof is wrong: KEYLOG_INCONSISTENT', async () => {
    forger.forgery = 'honest';
    const node = await nodeOfA('ne.mj');
    await node.trust.authority(ke.authority);
    const other = await enrolNode(b, 'ug.dpp'); // relay.b.test's key log grows
    await other.close();
    forger.forgery = 'bad-consistency-proof';
    node.trust.forget();
    await refusesKeAg(node, 'KEYLOG_INCONSISTENT');
    expect(forger.seen.some((s) => s.startsWith('GET /v1/federation/keylog/consistency'))).toBe(true);
  });
});
