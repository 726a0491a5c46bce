/**
 * A node built by hand for the bad-input tests: keys generated here, not by the SDK, enrolled and
 * logged in through the relay's real routes with fastify.inject, so that enrolments, logins and
 * envelopes can be forged one field at a time.
 */
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { utf8 } from '../../shared/bytes.ts';
import { createAuthorityEnrolment } from '../../shared/crypto/enrolment.ts';
import { sealEnvelope, type RecipientKey } from '../../shared/crypto/envelope.ts';
import type { EncryptionKeyPair, SigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject } from '../../shared/crypto/signing.ts';
import type { EnrolmentRequest, Envelope } from '../../shared/protocol/schemas.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { inviteAuthority } from '../../server/admin.ts';
import { invite, type TestRelay } from './fixtures.ts';
import { random } from './random.ts';

export interface HandEnrolment {
  request: EnrolmentRequest;
  authority: string;
  address: string;
  master: SigningKeyPair;
  identity: SigningKeyPair;
  encryption: EncryptionKeyPair;
}

export interface HandNode extends HandEnrolment {
  token: string;
}

/** An enrolment request built by hand, the way client/init.ts builds it. */
export function enrolmentFor(
  domain: string,
  authorityId: string,
  invitation: string,
  nodeName = 'desk1',
  now = new Date(),
): HandEnrolment {
  const e = createAuthorityEnrolment({ domain, authorityId, nodeName, now }, random);
  return {
    request: { invitation, ...e.request },
    authority: e.authority,
    address: e.node,
    master: e.master,
    identity: e.identity,
    encryption: e.encryption,
  };
}

/** POSTs `payload` as it is (any text, any media type), with a bearer token when given. */
export function post(
  relay: TestRelay,
  url: string,
  payload: string,
  token?: string,
  contentType = 'application/json',
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return relay.relay.app.inject({ method: 'POST', url, payload, headers });
}

/** POSTs `body` as JSON, with a bearer token when given. */
export function postJson(
  relay: TestRelay,
  url: string,
  body: unknown,
  token?: string,
): Promise<LightMyRequestResponse> {
  return post(relay, url, JSON.stringify(body), token);
}

export async function challengeFor(relay: TestRelay, node: string): Promise<string> {
  const c = await postJson(relay, '/v1/auth/challenge', { node });
  expect(c.statusCode).toBe(200);
  return c.json<{ challenge: string }>().challenge;
}

export function signChallenge(
  relayDomain: string,
  node: string,
  challenge: string,
  secretKey: Uint8Array,
): string {
  return signObject(CONTEXTS.authChallenge, { relay: relayDomain, node, challenge }, secretKey);
}

/** Logs in through /v1/auth/challenge and /v1/auth/token, signing with the node identity key. */
export async function login(
  relay: TestRelay,
  node: string,
  identitySecretKey: Uint8Array,
): Promise<{ token: string; expiresAt: string }> {
  const challenge = await challengeFor(relay, node);
  const t = await postJson(relay, '/v1/auth/token', {
    node,
    challenge,
    sig: signChallenge(relay.domain, node, challenge, identitySecretKey),
  });
  expect(t.statusCode).toBe(200);
  return t.json<{ token: string; expiresAt: string }>();
}

/** Enrols an authority and its first node through the real /v1/enrol route, then logs it in. */
export async function enrolByHand(relay: TestRelay, authorityId: string): Promise<HandNode> {
  const e = enrolmentFor(relay.domain, authorityId, await invite(relay, authorityId));
  const res = await postJson(relay, '/v1/enrol', e.request);
  expect(res.statusCode).toBe(200);
  const { token } = await login(relay, e.address, e.identity.secretKey);
  return { ...e, token };
}

/** POSTs `body` as JSON to a relay process at `url`, with a bearer token when given. */
export function postOverHttp(url: string, path: string, body: unknown, token?: string): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
}

/** Logs `node` in over HTTP at a relay process: a challenge, signed with the node's identity key. */
export async function logInOverHttp(
  relay: { url: string; domain: string },
  node: HandEnrolment,
): Promise<string> {
  const c = await postOverHttp(relay.url, '/v1/auth/challenge', { node: node.address });
  const { challenge } = (await c.json()) as { challenge: string };
  const t = await postOverHttp(relay.url, '/v1/auth/token', {
    node: node.address,
    challenge,
    sig: signChallenge(relay.domain, node.address, challenge, node.identity.secretKey),
  });
  expect(t.status).toBe(200);
  return ((await t.json()) as { token: string }).token;
}

/**
 * Invites (through the relay's data folder, as `relay invite` does), enrols and logs in a node
 * built by hand, over HTTP at a relay process.
 */
export async function enrolOverHttp(
  relay: { url: string; dataDir: string; domain: string },
  authorityId: string,
): Promise<HandNode> {
  const { code } = await inviteAuthority(relay.dataDir, authorityId);
  const e = enrolmentFor(relay.domain, authorityId, code);
  expect((await postOverHttp(relay.url, '/v1/enrol', e.request)).status).toBe(200);
  return { ...e, token: await logInOverHttp(relay, e) };
}

export interface SealOptions {
  id?: string;
  from?: string;
  to?: string[];
  recipients?: RecipientKey[];
  sentAt?: Date;
  ttl?: number;
  content?: string;
  signer?: Uint8Array;
}

export function recipientKey(n: { address: string; encryption: EncryptionKeyPair }): RecipientKey {
  return { node: n.address, encryptionKey: n.encryption.publicKey };
}

/** An envelope from `sender` to `receivers`, valid unless an option says otherwise. */
export function seal(sender: HandNode, receivers: HandNode[], o: SealOptions = {}): Envelope {
  const sentAt = o.sentAt ?? new Date();
  return sealEnvelope(
    {
      id: o.id ?? uuidv7(sentAt.getTime(), random(10)),
      from: o.from ?? sender.address,
      to: o.to ?? receivers.map((r) => r.authority),
      sentAt,
      ttl: o.ttl ?? 3600,
      recipients: o.recipients ?? receivers.map(recipientKey),
      content: utf8(o.content ?? '{"type":"message","subject":"s","body":"b"}'),
    },
    o.signer ?? sender.identity.secretKey,
    random,
  );
}
