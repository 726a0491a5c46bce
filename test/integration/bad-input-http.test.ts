/**
 * Bad input over HTTP, through fastify.inject (no socket): every refusal answers the documented
 * status with the stable error code, and leaves no row behind (envelopes, deliveries,
 * authorities, nodes, consumed invitations are counted before and after).
 * Keys are generated here, not by the SDK, so that envelopes and enrolments can be forged.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashInvitation } from '../../server/domain/enrolment.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject, withoutSig } from '../../shared/crypto/signing.ts';
import { LIMITS } from '../../shared/limits.ts';
import type {
  EnrolmentRequest,
  Envelope,
  NodeCertificate,
  SubmitResult,
} from '../../shared/protocol/schemas.ts';
import { refused, rowCounts } from '../support/refusals.ts';
import { invite, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import {
  enrolByHand,
  enrolmentFor,
  post,
  postJson,
  recipientKey,
  seal,
  type HandEnrolment,
  type HandNode,
} from '../support/hand-built-node.ts';
import { random } from '../support/random.ts';

// ---- helpers ------------------------------------------------------------------------------

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Signs a (modified) envelope again, so that only the defect under test can make it fail. */
function resign(env: Omit<Envelope, 'sig'> & { sig?: string }, secretKey: Uint8Array): Envelope {
  const { sig: _old, ...unsigned } = env;
  return { ...unsigned, sig: signObject(CONTEXTS.envelope, unsigned, secretKey) } as Envelope;
}

function resignCertificate(cert: NodeCertificate, masterSecretKey: Uint8Array): NodeCertificate {
  const body = withoutSig(cert);
  return { ...body, sig: signObject(CONTEXTS.nodeCertificate, body, masterSecretKey) };
}

/** A fresh authority id, so that one lax answer cannot change what a later case meets. */
let authoritySeq = 0;
function freshAuthorityId(): string {
  return `t${++authoritySeq}.moj`;
}

/** base64url of n random bytes (any length, to build wrong-length fields). */
function b64(n: number): string {
  return toBase64url(random(n));
}

/**
 * Sets a low bit that base64url leaves unused in the last character: a lax decoder returns the
 * same bytes, a strict one refuses, so each byte string keeps exactly one text form.
 */
function nonCanonical(text: string): string {
  const last = B64URL.indexOf(text.at(-1)!);
  const out = text.slice(0, -1) + B64URL[last | 1]!;
  expect(out).not.toBe(text);
  expect(Buffer.from(out, 'base64url').equals(Buffer.from(text, 'base64url'))).toBe(true);
  return out;
}

// ---- tests ----------------------------------------------------------------------------------

let relay: TestRelay;
let sn: HandNode;
let ke: HandNode;
let gh: HandNode;

beforeAll(async () => {
  relay = await startTestRelay();
  sn = await enrolByHand(relay, 'sn.moj');
  ke = await enrolByHand(relay, 'ke.ag');
  gh = await enrolByHand(relay, 'gh.moj');
});

afterAll(async () => {
  await relay?.close();
});

function submit(env: unknown, token = sn.token): Promise<LightMyRequestResponse> {
  return postJson(relay, '/v1/envelopes', env, token);
}

async function freshEnrolment(): Promise<HandEnrolment> {
  const id = freshAuthorityId();
  return enrolmentFor(relay.domain, id, await invite(relay, id));
}

describe('HTTP body: JSON and media type', () => {
  it('refuses malformed JSON on /v1/envelopes with INVALID_JSON', async () => {
    await refused(relay, () => post(relay, '/v1/envelopes', '{"v":1,"id":', sn.token), 400, 'INVALID_JSON');
  });

  it('refuses malformed JSON on /v1/enrol with INVALID_JSON', async () => {
    await refused(relay, () => post(relay, '/v1/enrol', '{"invitation": nope}'), 400, 'INVALID_JSON');
  });

  it('refuses an empty JSON body with INVALID_JSON', async () => {
    await refused(relay, () => post(relay, '/v1/envelopes', '', sn.token), 400, 'INVALID_JSON');
  });

  it('refuses text/plain on /v1/envelopes with UNSUPPORTED_MEDIA_TYPE', async () => {
    const env = seal(sn, [ke]);
    await refused(
      relay,
      () => post(relay, '/v1/envelopes', JSON.stringify(env), sn.token, 'text/plain'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('refuses text/plain on /v1/enrol with UNSUPPORTED_MEDIA_TYPE', async () => {
    const e = enrolmentFor(relay.domain, 'tz.moj', await invite(relay, 'tz.moj'));
    await refused(
      relay,
      () => post(relay, '/v1/enrol', JSON.stringify(e.request), undefined, 'text/plain'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });
});

describe('HTTP body: envelope schema', () => {
  it.each(['sig', 'nonce', 'ciphertext', 'recipients', 'keyCommitment', 'from'] as const)(
    'refuses an envelope missing "%s" with SCHEMA_INVALID',
    async (field) => {
      const env: Partial<Envelope> = { ...seal(sn, [ke]) };
      delete env[field];
      await refused(relay, () => submit(env), 400, 'SCHEMA_INVALID');
    },
  );

  it('refuses an envelope with an extra top-level field, even when signed, with SCHEMA_INVALID', async () => {
    const env = seal(sn, [ke]);
    const extra = { ...withoutSig(env), priority: 'urgent' };
    const signed = { ...extra, sig: signObject(CONTEXTS.envelope, extra, sn.identity.secretKey) };
    await refused(relay, () => submit(signed), 400, 'SCHEMA_INVALID');
  });

  it('refuses an envelope with an extra field in a recipient entry with SCHEMA_INVALID', async () => {
    const env = seal(sn, [ke]);
    const tampered = { ...env, recipients: env.recipients.map((r) => ({ ...r, hint: 'x' })) };
    await refused(relay, () => submit(tampered), 400, 'SCHEMA_INVALID');
  });

  it('refuses an envelope with v: 2 with SCHEMA_INVALID', async () => {
    const env = seal(sn, [ke]);
    await refused(relay, () => submit({ ...env, v: 2 }), 400, 'SCHEMA_INVALID');
  });

  it('refuses an envelope whose ttl is below the minimum with SCHEMA_INVALID', async () => {
    const env = seal(sn, [ke], { ttl: LIMITS.minTtlSeconds - 1 });
    await refused(relay, () => submit(env), 400, 'SCHEMA_INVALID');
  });

  it('refuses an envelope naming the same recipient node twice with SCHEMA_INVALID', async () => {
    const env = seal(sn, [ke], { recipients: [recipientKey(ke), recipientKey(ke)] });
    await refused(relay, () => submit(env), 400, 'SCHEMA_INVALID');
  });
});

describe('HTTP body: enrolment schema', () => {
  it.each(['proof', 'certificate', 'masterKey', 'invitation'] as const)(
    'refuses an enrolment missing "%s" with SCHEMA_INVALID',
    async (field) => {
      const e = await freshEnrolment();
      const body: Partial<EnrolmentRequest> = { ...e.request };
      delete body[field];
      await refused(relay, () => postJson(relay, '/v1/enrol', body), 400, 'SCHEMA_INVALID');
    },
  );

  it('refuses an enrolment whose certificate misses its signature with SCHEMA_INVALID', async () => {
    const e = await freshEnrolment();
    const body = { ...e.request, certificate: withoutSig(e.request.certificate) };
    await refused(relay, () => postJson(relay, '/v1/enrol', body), 400, 'SCHEMA_INVALID');
  });

  it('refuses an enrolment with an extra top-level field with SCHEMA_INVALID', async () => {
    const e = await freshEnrolment();
    await refused(
      relay,
      () => postJson(relay, '/v1/enrol', { ...e.request, admin: true }),
      400,
      'SCHEMA_INVALID',
    );
  });

  it('refuses an enrolment whose certificate has an extra field (signed) with SCHEMA_INVALID', async () => {
    const e = await freshEnrolment();
    const body = { ...withoutSig(e.request.certificate), role: 'admin' };
    const certificate = { ...body, sig: signObject(CONTEXTS.nodeCertificate, body, e.master.secretKey) };
    await refused(
      relay,
      () => postJson(relay, '/v1/enrol', { ...e.request, certificate }),
      400,
      'SCHEMA_INVALID',
    );
  });
});

describe('HTTP body: lengths of keys, nonces and signatures', () => {
  const envelopeCases: [string, (env: Envelope) => unknown][] = [
    ['a nonce of 23 bytes', (env) => ({ ...env, nonce: b64(23) })],
    ['a nonce of 25 bytes', (env) => ({ ...env, nonce: b64(25) })],
    ['a signature of 63 bytes', (env) => ({ ...env, sig: b64(63) })],
    ['a signature of 65 bytes', (env) => ({ ...env, sig: b64(65) })],
    [
      'key commitment of 31 bytes',
      (env) => resign({ ...env, keyCommitment: b64(31) }, sn.identity.secretKey),
    ],
    [
      'wrapped key of 79 bytes',
      (env) =>
        resign(
          { ...env, recipients: [{ ...env.recipients[0]!, wrappedKey: b64(79) }] },
          sn.identity.secretKey,
        ),
    ],
    [
      'an encryption key id of 17 bytes',
      (env) =>
        resign({ ...env, recipients: [{ ...env.recipients[0]!, encKeyId: b64(17) }] }, sn.identity.secretKey),
    ],
  ];
  it.each(envelopeCases)('refuses an envelope with %s with SCHEMA_INVALID', async (_name, mutate) => {
    const env = mutate(seal(sn, [ke]));
    await refused(relay, () => submit(env), 400, 'SCHEMA_INVALID');
  });

  const enrolmentCases: [string, (e: HandEnrolment) => unknown][] = [
    ['master key of 31 bytes', (e) => ({ ...e.request, masterKey: b64(31) })],
    ['master key of 33 bytes', (e) => ({ ...e.request, masterKey: b64(33) })],
    ['proof signature of 63 bytes', (e) => ({ ...e.request, proof: b64(63) })],
    [
      'certificate identity key of 31 bytes',
      (e) => ({
        ...e.request,
        certificate: resignCertificate(
          { ...e.request.certificate, identityKey: b64(31) },
          e.master.secretKey,
        ),
      }),
    ],
    [
      'certificate encryption key of 33 bytes',
      (e) => ({
        ...e.request,
        certificate: resignCertificate(
          { ...e.request.certificate, encryptionKey: b64(33) },
          e.master.secretKey,
        ),
      }),
    ],
    [
      'certificate signature of 65 bytes',
      (e) => ({ ...e.request, certificate: { ...e.request.certificate, sig: b64(65) } }),
    ],
  ];
  it.each(enrolmentCases)('refuses an enrolment with a %s with SCHEMA_INVALID', async (_name, mutate) => {
    const body = mutate(await freshEnrolment());
    await refused(relay, () => postJson(relay, '/v1/enrol', body), 400, 'SCHEMA_INVALID');
  });
});

describe('HTTP body: base64url', () => {
  it("refuses '+' (standard base64, not base64url) in an envelope nonce with SCHEMA_INVALID", async () => {
    const env = seal(sn, [ke]);
    const nonce = '+' + env.nonce.slice(1);
    await refused(
      relay,
      () => submit(resign({ ...env, nonce }, sn.identity.secretKey)),
      400,
      'SCHEMA_INVALID',
    );
  });

  it("refuses '/' in an envelope key commitment with SCHEMA_INVALID", async () => {
    const env = seal(sn, [ke]);
    const keyCommitment = env.keyCommitment.slice(0, -2) + '/A';
    await refused(
      relay,
      () => submit(resign({ ...env, keyCommitment }, sn.identity.secretKey)),
      400,
      'SCHEMA_INVALID',
    );
  });

  it("refuses '=' padding on an envelope signature with SCHEMA_INVALID", async () => {
    const env = seal(sn, [ke]);
    await refused(relay, () => submit({ ...env, sig: env.sig + '==' }), 400, 'SCHEMA_INVALID');
  });

  it("refuses '=' padding in place of the last character of a master key with SCHEMA_INVALID", async () => {
    const e = await freshEnrolment();
    const masterKey = e.request.masterKey.slice(0, -1) + '=';
    await refused(
      relay,
      () => postJson(relay, '/v1/enrol', { ...e.request, masterKey }),
      400,
      'SCHEMA_INVALID',
    );
  });

  it("refuses '+' in an enrolment proof with SCHEMA_INVALID", async () => {
    const e = await freshEnrolment();
    const proof = '+' + e.request.proof.slice(1);
    await refused(relay, () => postJson(relay, '/v1/enrol', { ...e.request, proof }), 400, 'SCHEMA_INVALID');
  });

  const envelopeFields: [string, (env: Envelope) => Envelope][] = [
    [
      'keyCommitment (32 bytes)',
      (env) => resign({ ...env, keyCommitment: nonCanonical(env.keyCommitment) }, sn.identity.secretKey),
    ],
    [
      'recipients.0.wrappedKey (80 bytes)',
      (env) =>
        resign(
          {
            ...env,
            recipients: [{ ...env.recipients[0]!, wrappedKey: nonCanonical(env.recipients[0]!.wrappedKey) }],
          },
          sn.identity.secretKey,
        ),
    ],
    [
      'recipients.0.encKeyId (16 bytes)',
      (env) =>
        resign(
          {
            ...env,
            recipients: [{ ...env.recipients[0]!, encKeyId: nonCanonical(env.recipients[0]!.encKeyId) }],
          },
          sn.identity.secretKey,
        ),
    ],
    ['sig (64 bytes)', (env) => ({ ...env, sig: nonCanonical(env.sig) })],
  ];
  it.each(envelopeFields)(
    'refuses a non-canonical last character in envelope %s with SCHEMA_INVALID',
    async (_name, mutate) => {
      await refused(relay, () => submit(mutate(seal(sn, [ke]))), 400, 'SCHEMA_INVALID');
    },
  );

  const enrolmentFields: [string, (e: HandEnrolment) => EnrolmentRequest][] = [
    ['masterKey (32 bytes)', (e) => ({ ...e.request, masterKey: nonCanonical(e.request.masterKey) })],
    [
      'certificate.identityKey (32 bytes, certificate signed again)',
      (e) => ({
        ...e.request,
        certificate: resignCertificate(
          { ...e.request.certificate, identityKey: nonCanonical(e.request.certificate.identityKey) },
          e.master.secretKey,
        ),
      }),
    ],
    [
      'certificate.encryptionKey (32 bytes, certificate signed again)',
      (e) => ({
        ...e.request,
        certificate: resignCertificate(
          { ...e.request.certificate, encryptionKey: nonCanonical(e.request.certificate.encryptionKey) },
          e.master.secretKey,
        ),
      }),
    ],
    [
      'certificate.sig (64 bytes)',
      (e) => ({
        ...e.request,
        certificate: { ...e.request.certificate, sig: nonCanonical(e.request.certificate.sig) },
      }),
    ],
    ['proof (64 bytes)', (e) => ({ ...e.request, proof: nonCanonical(e.request.proof) })],
  ];
  it.each(enrolmentFields)(
    'refuses a non-canonical last character in enrolment %s with SCHEMA_INVALID',
    async (_name, mutate) => {
      const body = mutate(await freshEnrolment());
      await refused(relay, () => postJson(relay, '/v1/enrol', body), 400, 'SCHEMA_INVALID');
    },
  );
});

describe('HTTP body: size', () => {
  it('refuses an envelope body larger than 1 MiB with PAYLOAD_TOO_LARGE', async () => {
    const env = seal(sn, [ke]);
    const big = JSON.stringify({ ...env, ciphertext: 'A'.repeat(LIMITS.maxRequestBytes) });
    expect(big.length).toBeGreaterThan(LIMITS.maxRequestBytes);
    await refused(relay, () => post(relay, '/v1/envelopes', big, sn.token), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('refuses an enrolment body larger than 1 MiB with PAYLOAD_TOO_LARGE', async () => {
    const e = await freshEnrolment();
    const big = JSON.stringify({ ...e.request, padding: 'x'.repeat(LIMITS.maxRequestBytes + 1) });
    await refused(relay, () => post(relay, '/v1/enrol', big), 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('HTTP envelopes: recipients, signatures, sessions', () => {
  it('refuses an envelope to an authority that is not enrolled with UNKNOWN_RECIPIENT', async () => {
    const ghost = { address: `desk1/zz.none@${relay.domain}`, encryption: generateEncryptionKeyPair(random) };
    const env = seal(sn, [], { to: [`zz.none@${relay.domain}`], recipients: [recipientKey(ghost)] });
    await refused(relay, () => submit(env), 422, 'UNKNOWN_RECIPIENT');
  });

  it('refuses an envelope to an authority of another relay with UNKNOWN_RECIPIENT', async () => {
    const remote = { address: 'desk1/ke.ag@relay.other', encryption: generateEncryptionKeyPair(random) };
    const env = seal(sn, [], { to: ['ke.ag@relay.other'], recipients: [recipientKey(remote)] });
    await refused(relay, () => submit(env), 422, 'UNKNOWN_RECIPIENT');
  });

  it('refuses an envelope listing a recipient authority among others that is not enrolled with UNKNOWN_RECIPIENT', async () => {
    const env = seal(sn, [ke], { to: [ke.authority, `zz.none@${relay.domain}`] });
    await refused(relay, () => submit(env), 422, 'UNKNOWN_RECIPIENT');
  });

  it('refuses an envelope sealed to an unknown node of a known authority with UNKNOWN_RECIPIENT', async () => {
    const ghost = { address: `desk9/${ke.authority}`, encryption: generateEncryptionKeyPair(random) };
    const env = seal(sn, [ke], { recipients: [recipientKey(ke), recipientKey(ghost)] });
    await refused(relay, () => submit(env), 422, 'UNKNOWN_RECIPIENT');
  });

  it('refuses an envelope sealed to a node of an authority that is not in "to" with UNKNOWN_RECIPIENT', async () => {
    const env = seal(sn, [ke], { recipients: [recipientKey(ke), recipientKey(gh)] });
    await refused(relay, () => submit(env), 422, 'UNKNOWN_RECIPIENT');
  });

  it("refuses an envelope signed by another node's key than the claimed sender's with BAD_SIGNATURE", async () => {
    const env = seal(sn, [ke], { signer: ke.identity.secretKey });
    expect(env.from).toBe(sn.address);
    await refused(relay, () => submit(env, sn.token), 422, 'BAD_SIGNATURE');
  });

  it('refuses an envelope whose ciphertext was altered after signing with BAD_SIGNATURE', async () => {
    const env = seal(sn, [ke]);
    const first = env.ciphertext[0] === 'A' ? 'B' : 'A';
    await refused(
      relay,
      () => submit({ ...env, ciphertext: first + env.ciphertext.slice(1) }),
      422,
      'BAD_SIGNATURE',
    );
  });

  it("refuses an envelope from node A submitted with node B's session with SESSION_MISMATCH", async () => {
    const env = seal(sn, [ke]);
    await refused(relay, () => submit(env, ke.token), 403, 'SESSION_MISMATCH');
  });

  it('refuses an envelope without a session token with AUTH_REQUIRED', async () => {
    await refused(relay, () => postJson(relay, '/v1/envelopes', seal(sn, [ke])), 401, 'AUTH_REQUIRED');
  });
});

describe('HTTP envelopes: replay, id conflict, time', () => {
  it('answers a replayed envelope with duplicate: true and stores one delivery', async () => {
    const env = seal(sn, [ke]);
    const before = rowCounts(relay);
    const first = await submit(env);
    expect(first.statusCode).toBe(200);
    const a = first.json<SubmitResult>();
    expect(a).toMatchObject({ id: env.id, status: 'accepted', duplicate: false });
    const second = await submit(env);
    expect(second.statusCode).toBe(200);
    expect(second.json<SubmitResult>()).toEqual({
      id: env.id,
      status: 'accepted',
      acceptedAt: a.acceptedAt,
      duplicate: true,
    });
    const db = relay.relay.store.db;
    expect(
      db
        .prepare<[string], { n: number }>('SELECT count(*) AS n FROM "Delivery" WHERE envelopeId = ?')
        .get(env.id)!.n,
    ).toBe(1);
    expect(rowCounts(relay)).toEqual({
      ...before,
      envelopes: before.envelopes + 1,
      deliveries: before.deliveries + 1,
    });
  });

  it('refuses another envelope with an id already used with ENVELOPE_ID_CONFLICT', async () => {
    const env = seal(sn, [ke]);
    expect((await submit(env)).statusCode).toBe(200);
    const other = seal(sn, [ke], {
      id: env.id,
      content: '{"type":"message","subject":"other","body":"other"}',
    });
    expect(other.id).toBe(env.id);
    await refused(relay, () => submit(other), 409, 'ENVELOPE_ID_CONFLICT');
    const stored = relay.relay.store.db
      .prepare<[string], { body: string }>('SELECT body FROM "Envelope" WHERE id = ?')
      .get(env.id)!;
    expect(JSON.parse(stored.body)).toEqual(env);
  });

  it('refuses an envelope past its time to live with ENVELOPE_EXPIRED', async () => {
    const env = seal(sn, [ke], { sentAt: new Date(Date.now() - 2 * 86_400_000), ttl: 3600 });
    await refused(relay, () => submit(env), 422, 'ENVELOPE_EXPIRED');
  });

  it('refuses an envelope whose sentAt matches the RFC 3339 pattern but is no date (month 13) with SCHEMA_INVALID', async () => {
    const env = seal(sn, [ke]);
    const sentAt = env.sentAt.replace(/^(\d{4})-\d{2}-\d{2}T\d{2}/, '$1-13-45T99');
    expect(Number.isNaN(Date.parse(sentAt))).toBe(true);
    await refused(
      relay,
      () => submit(resign({ ...env, sentAt }, sn.identity.secretKey)),
      400,
      'SCHEMA_INVALID',
    );
  });

  it('refuses an envelope dated beyond the allowed clock skew with ENVELOPE_CLOCK_SKEW', async () => {
    const env = seal(sn, [ke], { sentAt: new Date(Date.now() + (LIMITS.maxClockSkewSeconds + 600) * 1000) });
    await refused(relay, () => submit(env), 422, 'ENVELOPE_CLOCK_SKEW');
  });
});

describe('HTTP query strings and path parameters', () => {
  function get(url: string, token = sn.token): Promise<LightMyRequestResponse> {
    return relay.relay.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  }

  it('refuses a delivery-state lookup by an id that is not a UUIDv7 with SCHEMA_INVALID', async () => {
    await refused(relay, () => get('/v1/envelopes/not-a-uuid'), 400, 'SCHEMA_INVALID');
  });

  it.each(['0', '501', 'ten', '1&extra=1'])(
    'refuses /v1/inbox?limit=%s with SCHEMA_INVALID',
    async (limit) => {
      await refused(relay, () => get(`/v1/inbox?limit=${limit}`), 400, 'SCHEMA_INVALID');
    },
  );

  it('refuses a directory lookup of a malformed authority address with SCHEMA_INVALID', async () => {
    await refused(relay, () => get('/v1/directory/SN.MOJ'), 400, 'SCHEMA_INVALID');
  });

  it.each([
    ['no ids', { ids: [] }],
    ['an id that is not a UUIDv7', { ids: ['nope'] }],
    [
      'the same id twice',
      { ids: ['01890a5d-ac96-774b-bcce-b302099a8057', '01890a5d-ac96-774b-bcce-b302099a8057'] },
    ],
  ])('refuses an inbox acknowledgement with %s with SCHEMA_INVALID', async (_name, body) => {
    await refused(relay, () => postJson(relay, '/v1/inbox/ack', body, sn.token), 400, 'SCHEMA_INVALID');
  });
});

describe('HTTP enrolment: invitations', () => {
  it('refuses an invitation used a second time with INVITATION_USED', async () => {
    const code = await invite(relay, 'ci.moj');
    const first = enrolmentFor(relay.domain, 'ci.moj', code);
    expect((await postJson(relay, '/v1/enrol', first.request)).statusCode).toBe(200);
    const again = enrolmentFor(relay.domain, 'ci.moj', code, 'desk2');
    await refused(relay, () => postJson(relay, '/v1/enrol', again.request), 409, 'INVITATION_USED');
  });

  it('refuses an expired invitation with INVITATION_EXPIRED', async () => {
    const code = toBase64url(random(24));
    const past = new Date(Date.now() - 2 * 86_400_000);
    await relay.relay.store.createInvitation(
      hashInvitation(code),
      'ml.moj',
      past,
      new Date(past.getTime() + 3600_000),
    );
    const e = enrolmentFor(relay.domain, 'ml.moj', code);
    await refused(relay, () => postJson(relay, '/v1/enrol', e.request), 410, 'INVITATION_EXPIRED');
  });

  it('refuses an invitation once the relay clock passes its lifetime with INVITATION_EXPIRED', async () => {
    let clock = Date.now();
    const timed = await startTestRelay({ now: () => new Date(clock) });
    try {
      const code = await invite(timed, 'ml.moj'); // issued now, valid for LIMITS.invitationLifetimeSeconds
      // The invitation was stamped with the wall clock when it was made, however long the relay
      // took to start: move the relay's clock past its lifetime from there.
      clock = Date.now() + (LIMITS.invitationLifetimeSeconds + 1) * 1000;
      // The certificate is issued at the relay's (advanced) time, so that only the invitation is stale.
      const e = enrolmentFor(timed.domain, 'ml.moj', code, 'desk1', new Date(clock));
      await refused(timed, () => postJson(timed, '/v1/enrol', e.request), 410, 'INVITATION_EXPIRED');
    } finally {
      await timed.close();
    }
  });

  it('refuses an invitation issued for another authority id with INVITATION_INVALID', async () => {
    const code = await invite(relay, 'bj.moj');
    const e = enrolmentFor(relay.domain, 'tg.moj', code);
    await refused(relay, () => postJson(relay, '/v1/enrol', e.request), 403, 'INVITATION_INVALID');
    // ...and it still works for the authority it was issued to.
    expect(
      (await postJson(relay, '/v1/enrol', enrolmentFor(relay.domain, 'bj.moj', code).request)).statusCode,
    ).toBe(200);
  });

  it('refuses an invitation code the relay never issued with INVITATION_INVALID', async () => {
    const e = enrolmentFor(relay.domain, 'ne.moj', toBase64url(random(24)));
    await refused(relay, () => postJson(relay, '/v1/enrol', e.request), 403, 'INVITATION_INVALID');
  });

  it('refuses to enrol an authority twice with AUTHORITY_EXISTS and leaves the invitation unused', async () => {
    const code = await invite(relay, 'sn.moj');
    const e = enrolmentFor(relay.domain, 'sn.moj', code, 'desk2');
    await refused(relay, () => postJson(relay, '/v1/enrol', e.request), 409, 'AUTHORITY_EXISTS');
    const row = relay.relay.store.db
      .prepare<[string], { usedAt: string | null }>('SELECT usedAt FROM "Invitation" WHERE codeHash = ?')
      .get(hashInvitation(code));
    expect(row).toEqual({ usedAt: null });
  });

  it('refuses an enrolment proof signed by another key with BAD_SIGNATURE and leaves the invitation usable', async () => {
    const code = await invite(relay, 'gm.moj');
    const e = enrolmentFor(relay.domain, 'gm.moj', code);
    const proof = signObject(
      CONTEXTS.enrolment,
      { relay: relay.domain, authority: e.authority, masterKey: e.request.masterKey, node: e.address },
      generateSigningKeyPair(random).secretKey,
    );
    await refused(relay, () => postJson(relay, '/v1/enrol', { ...e.request, proof }), 422, 'BAD_SIGNATURE');
    expect((await postJson(relay, '/v1/enrol', e.request)).statusCode).toBe(200);
  });
});
