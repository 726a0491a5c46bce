/**
 * The relay's key routes refuse every statement the key log must not hold, with a typed error,
 * and write nothing: not a log entry, not a node, not a head. Join requests likewise, and a join
 * request is shown only to nodes of its own authority.
 */
import { issueJoinTicket } from '../../client/join-tickets.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { issueNodeCertificate } from '../../shared/crypto/certificates.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { joinCode } from '../../shared/keys/join-code.ts';
import {
  declareAuthority,
  revokeNode,
  rotateMasterKey,
  signEncryptionKey,
  signJoinRequest,
} from '../../shared/keys/statements.ts';
import { JoinRequest, type KeyEvent } from '../../shared/protocol/key-log.ts';
import { signProfile } from '../../shared/keys/profile.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { random } from '../support/random.ts';

const DAY = 86_400_000;

let relay: TestRelay;
let sn: AuthorityNode;
let ke: AuthorityNode;
let snMaster: Uint8Array;

beforeAll(async () => {
  relay = await startTestRelay();
  sn = await enrolNode(relay, 'sn.moj');
  ke = await enrolNode(relay, 'ke.ag');
  snMaster = fromBase64url(sn.keys.masterSecretKey!, 'master', 64);
});

afterAll(async () => {
  await sn?.close();
  await ke?.close();
  await relay?.close();
});

function counts() {
  const db = relay.relay.store.db;
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    entries: n('SELECT count(*) AS n FROM "KeyLogEntry"'),
    heads: n('SELECT count(*) AS n FROM "KeyLogHead"'),
    nodes: n('SELECT count(*) AS n FROM "Node"'),
    joins: n('SELECT count(*) AS n FROM "JoinRequest"'),
    size: relay.relay.ctx.keyLog.size,
  };
}

async function post(url: string, payload: unknown) {
  const res = await relay.relay.app.inject({ method: 'POST', url, payload: payload as object });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

async function refusedEvent(event: unknown, status: number, code: string, mention?: RegExp): Promise<void> {
  const before = counts();
  const res = await post('/v1/keylog/events', event);
  expect(res.body, JSON.stringify(res.body)).toMatchObject({ error: { code } });
  expect(res.status).toBe(status);
  if (mention) expect((res.body.error as { message: string }).message).toMatch(mention);
  expect(counts()).toEqual(before);
}

function newCert(
  authority: string,
  name: string,
  master: Uint8Array,
  opts: { issuedAt?: Date; days?: number } = {},
) {
  const issuedAt = opts.issuedAt ?? new Date();
  return issueNodeCertificate(
    {
      authority,
      node: `${name}/${authority}`,
      identityKey: generateSigningKeyPair(random).publicKey,
      encryptionKey: generateEncryptionKeyPair(random).publicKey,
      encKeyNotAfter: new Date(issuedAt.getTime() + (opts.days ?? 30) * DAY),
      issuedAt,
    },
    master,
  );
}

describe('POST /v1/keylog/events', () => {
  it('logs a node certified by the master key, once; the same event again is a duplicate', async () => {
    const before = counts();
    const event: KeyEvent = { type: 'node-certified', certificate: newCert(sn.authority, 'desk2', snMaster) };
    const first = await post('/v1/keylog/events', event);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      index: before.size,
      duplicate: false,
      head: { size: before.size + 1 },
    });
    const again = await post('/v1/keylog/events', event);
    expect(again.body).toMatchObject({ index: before.size, duplicate: true });
    expect(counts()).toMatchObject({ entries: before.entries + 1, nodes: before.nodes + 1 });
  });

  it('refuses a certificate signed by another authority’s master key', async () => {
    const keMaster = generateSigningKeyPair(random).secretKey;
    await refusedEvent(
      { type: 'node-certified', certificate: newCert(sn.authority, 'desk3', keMaster) },
      422,
      'CERTIFICATE_INVALID',
      /not signed by the master key of sn\.moj/,
    );
  });

  it('refuses a certificate for an authority of another relay, or one not enrolled', async () => {
    await refusedEvent(
      { type: 'node-certified', certificate: newCert('sn.moj@relay.elsewhere', 'desk3', snMaster) },
      404,
      'UNKNOWN_AUTHORITY',
    );
    await refusedEvent(
      { type: 'node-certified', certificate: newCert('ml.moj@relay.test', 'desk1', snMaster) },
      404,
      'UNKNOWN_AUTHORITY',
    );
  });

  it('refuses a certificate issued weeks ago: a key event is dated near the relay’s clock', async () => {
    await refusedEvent(
      {
        type: 'node-certified',
        certificate: newCert(sn.authority, 'desk3', snMaster, { issuedAt: new Date(Date.now() - 40 * DAY) }),
      },
      422,
      'ENVELOPE_CLOCK_SKEW',
      /more than 300 s from the relay’s time/,
    );
  });

  it('refuses an enrolment outside the invitation route', async () => {
    const other = generateSigningKeyPair(random);
    await refusedEvent(
      { type: 'authority-enrolled', declaration: declareAuthority(sn.authority, other, new Date()) },
      422,
      'KEY_EVENT_INVALID',
      /invitation/,
    );
  });

  it('refuses a rotated encryption key that the node’s identity key did not sign', async () => {
    const now = new Date();
    const statement = signEncryptionKey(
      {
        node: sn.address,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        issuedAt: now,
        notAfter: new Date(now.getTime() + 30 * DAY),
      },
      ke.identitySecretKey,
    );
    await refusedEvent({ type: 'encryption-key-rotated', statement }, 422, 'BAD_SIGNATURE', /identity key/);
  });

  it('refuses a revocation signed by another key, or of a node that does not exist', async () => {
    const now = new Date();
    const stranger = generateSigningKeyPair(random).secretKey;
    const input = {
      authority: sn.authority,
      node: sn.address,
      identityKey: sn.keys.identityPublicKey,
      revokedAt: now,
      reason: 'forged',
    };
    await refusedEvent(
      { type: 'node-revoked', revocation: revokeNode(input, stranger) },
      422,
      'BAD_SIGNATURE',
    );
    await refusedEvent(
      {
        type: 'node-revoked',
        revocation: revokeNode({ ...input, node: `ghost/${sn.authority}` }, snMaster),
      },
      422,
      'KEY_EVENT_INVALID',
    );
  });

  it('refuses a master-key rotation not signed by the current master key', async () => {
    const thief = generateSigningKeyPair(random);
    const rotation = rotateMasterKey(
      { authority: sn.authority, issuedAt: new Date() },
      thief,
      generateSigningKeyPair(random),
    );
    await refusedEvent(
      { type: 'master-key-rotated', rotation },
      422,
      'KEY_EVENT_INVALID',
      /current master key/,
    );
  });

  it('refuses the certificate of a revoked node sent again', async () => {
    const cert = newCert(sn.authority, 'desk4', snMaster);
    expect((await post('/v1/keylog/events', { type: 'node-certified', certificate: cert })).status).toBe(200);
    const revocation = revokeNode(
      {
        authority: sn.authority,
        node: cert.node,
        identityKey: cert.identityKey,
        revokedAt: new Date(),
        reason: '',
      },
      snMaster,
    );
    expect((await post('/v1/keylog/events', { type: 'node-revoked', revocation })).status).toBe(200);
    await refusedEvent({ type: 'node-certified', certificate: cert }, 403, 'NODE_REVOKED');
  });

  it.each([
    ['an unknown type', { type: 'node-promoted', certificate: {} }],
    ['an extra field', { type: 'node-certified', certificate: {}, extra: 1 }],
    ['no body', undefined],
  ])('refuses %s with SCHEMA_INVALID or INVALID_JSON', async (_name, body) => {
    const before = counts();
    const res = await post('/v1/keylog/events', body);
    expect(res.status).toBe(400);
    expect(['SCHEMA_INVALID', 'INVALID_JSON']).toContain((res.body.error as { code: string }).code);
    expect(counts()).toEqual(before);
  });
});

describe('profiles as key events', () => {
  const draft = {
    names: [{ language: 'fr', name: 'Ministère de la Justice' }],
    state: 'SN',
    competences: ['untoc_mla' as const],
    languages: ['fr'],
    channels: { electronicOriginal: true, originalToFollow: 'none' as const, interpol: false },
  };
  const profileBy = (key: Uint8Array, over: Partial<typeof draft> = {}, authority = sn.authority) => ({
    type: 'profile-published' as const,
    profile: signProfile({ authority, issuedAt: new Date(), draft: { ...draft, ...over } }, key),
  });

  it('logs a profile signed by the master key; refuses one signed by another key, or by another authority’s', async () => {
    const res = await post('/v1/keylog/events', profileBy(snMaster));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await refusedEvent(
      profileBy(generateSigningKeyPair(random).secretKey),
      422,
      'BAD_SIGNATURE',
      /profile of/,
    );
    const keMaster = fromBase64url(ke.keys.masterSecretKey!, 'master', 64);
    await refusedEvent(profileBy(keMaster), 422, 'BAD_SIGNATURE');
    // A signed profile edited after signing.
    const edited = profileBy(snMaster);
    await refusedEvent(
      { ...edited, profile: { ...edited.profile, languages: ['en'] } },
      422,
      'BAD_SIGNATURE',
    );
    // Bounded by its schema: a name over 300 characters is refused before any check.
    await refusedEvent(
      profileBy(snMaster, { names: [{ language: 'fr', name: 'x'.repeat(301) }] }),
      400,
      'SCHEMA_INVALID',
    );
  });
});

describe('join requests', () => {
  function joinRequest(name: string, authority = sn.authority, opts: { createdAt?: Date } = {}): JoinRequest {
    const identity = generateSigningKeyPair(random);
    const createdAt = opts.createdAt ?? new Date();
    return signJoinRequest(
      {
        relay: 'relay.test',
        node: `${name}/${authority}`,
        identityKey: toBase64url(identity.publicKey),
        encryptionKey: toBase64url(generateEncryptionKeyPair(random).publicKey),
        encKeyNotAfter: new Date(createdAt.getTime() + 30 * DAY).toISOString(),
        createdAt: createdAt.toISOString(),
      },
      identity.secretKey,
    );
  }

  /** The request with a fresh ticket from a node of Senegal's authority. */
  async function ticketed(request: unknown): Promise<{ request: unknown; ticket: string }> {
    return { request, ticket: (await issueJoinTicket(sn)).ticket };
  }

  async function refusedJoin(request: unknown, status: number, code: string): Promise<void> {
    const body = await ticketed(request);
    const before = counts();
    const res = await post('/v1/joins', body);
    expect(res.body).toMatchObject({ error: { code } });
    expect(res.status).toBe(status);
    expect(counts()).toEqual(before);
  }

  it('returns a code that is a hash of the request, the same for the same request', async () => {
    const req = joinRequest('desk7');
    const body = await ticketed(req);
    const first = await post('/v1/joins', body);
    expect(first.status).toBe(200);
    expect(first.body.code).toBe(joinCode(req));
    // Sent again with the same ticket (a lost answer): the same code, nothing more stored.
    expect((await post('/v1/joins', body)).body.code).toBe(first.body.code);
  });

  it('shows a join request only to nodes of the same authority', async () => {
    const req = joinRequest('desk8');
    const { code } = (await post('/v1/joins', await ticketed(req))).body as { code: string };
    await expect(sn.relay.get(JoinRequest, `/v1/joins/${code}`)).resolves.toEqual(req);
    await expect(ke.relay.get(JoinRequest, `/v1/joins/${code}`)).rejects.toMatchObject({
      code: 'JOIN_NOT_FOUND',
    });
    await expect(sn.relay.get(JoinRequest, '/v1/joins/ABCD-EFGH-JKMN-PQRS-TVWX-YZ01')).rejects.toMatchObject({
      code: 'JOIN_NOT_FOUND',
    });
  });

  it('refuses a request whose signature does not verify', async () => {
    const req = joinRequest('desk9');
    await refusedJoin(
      { ...req, encryptionKey: toBase64url(generateEncryptionKeyPair(random).publicKey) },
      422,
      'BAD_SIGNATURE',
    );
  });

  it('refuses a node name already taken, one revoked, another authority, another relay', async () => {
    await refusedJoin(joinRequest('desk1'), 409, 'NODE_EXISTS');
    await refusedJoin(joinRequest('desk4'), 403, 'NODE_REVOKED');
    // A ticket of Senegal's says nothing of another authority, enrolled or not.
    await refusedJoin(joinRequest('desk1', 'ml.moj@relay.test'), 403, 'JOIN_TICKET_INVALID');
    await refusedJoin(joinRequest('desk1', 'sn.moj@relay.elsewhere'), 400, 'ADDRESS_INVALID');
  });

  it('refuses a request dated far from the relay’s clock', async () => {
    await refusedJoin(
      joinRequest('desk10', sn.authority, { createdAt: new Date(Date.now() + 3600_000) }),
      422,
      'ENVELOPE_CLOCK_SKEW',
    );
  });
});
