/**
 * What a session token may say (server/auth/tokens.ts): the protected header holds `alg` and `typ`
 * only, `exp` and `iat` are required, `exp - iat` is at most 15 minutes, `nbf` and `iat` are not
 * in the future. Every token below is signed with the relay's own key and claims, so that only the
 * rule under test can refuse it; each is refused with its code on an HTTP session route, on the
 * audit API (an auditor's token) and at the socket.io handshake, and each refusal is in the audit log.
 */
import { randomUUID, sign } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import type { ErrorBody, ErrorCode } from '../../shared/errors.ts';
import { AUDIT_TOKEN_TYPE, audienceFor, SESSION_TOKEN_TYPE } from '../../server/auth/tokens.ts';
import { relayLimits } from '../../server/limits.ts';
import { enrolByHand, type HandNode } from '../support/hand-built-node.ts';
import { startTestRelay, type TestRelay } from '../support/fixtures.ts';

let relay: TestRelay;
let sn: HandNode;
const sockets: Socket[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ limits: relayLimits('test') });
  sn = await enrolByHand(relay, 'sn.moj');
  await relay.relay.store.addAuditor('alice', 'A'.repeat(43), new Date());
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await relay?.close();
});

// ---- helpers ------------------------------------------------------------------------------

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * A JWS signed with the relay's own key over exactly this header and these claims (built by hand,
 * so that no library drops or checks a field). `undefined` claims are left out.
 */
function forge(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const input = `${segment(header)}.${segment(claims)}`;
  const sig = sign(null, Buffer.from(input), relay.relay.identity.privateKeyObject);
  return `${input}.${sig.toString('base64url')}`;
}

/** The relay's own claims for `sub`, valid for ten minutes, with `changes` applied. */
function claims(sub: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = nowSeconds();
  return {
    iss: relay.domain,
    aud: audienceFor(relay.domain),
    sub,
    iat,
    exp: iat + 600,
    jti: randomUUID(),
    ...changes,
  };
}

const sessionToken = (header: Record<string, unknown> = {}, changes: Record<string, unknown> = {}) =>
  forge({ alg: 'EdDSA', typ: SESSION_TOKEN_TYPE, ...header }, claims(sn.address, changes));
const auditorToken = (header: Record<string, unknown> = {}, changes: Record<string, unknown> = {}) =>
  forge({ alg: 'EdDSA', typ: AUDIT_TOKEN_TYPE, ...header }, claims('auditor:alice', changes));

async function get(path: string, token: string): Promise<{ status: number; code?: ErrorCode }> {
  const res = await relay.relay.app.inject({
    method: 'GET',
    url: path,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: res.statusCode,
    code: res.statusCode === 200 ? undefined : res.json<ErrorBody>().error.code,
  };
}

/** The code of the handshake's connect_error, or 'connected'. */
function handshake(token: string): Promise<string> {
  const socket = io(relay.url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to the handshake within 5 s')), 5_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.disconnect();
      resolve('connected');
    });
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      clearTimeout(timer);
      resolve((err.data as ErrorBody | undefined)?.error.code ?? `no code: ${err.message}`);
    });
  });
}

/** Writes out refusals counted so far (anonymous ones may be counted per interval). */
function flush(): void {
  (relay.relay.audit as { flushRefusals?: () => void }).flushRefusals?.();
}

/** The audit entries `act` adds, refusals written out. */
async function entriesOf(act: () => Promise<unknown>): Promise<AuditEvent[]> {
  flush();
  const before = relay.relay.store.audit.size;
  await act();
  flush();
  return relay.relay.store.audit.entries(before, 100_000).map((e) => JSON.parse(e.leaf) as AuditEvent);
}

// ---- the cases ------------------------------------------------------------------------------

const HOUR = 3600;
/** Each with the claims it changes, or the header fields it adds, and the code it gets. */
const REFUSED: {
  name: string;
  header?: () => Record<string, unknown>;
  changes?: Record<string, unknown>;
  code: ErrorCode;
}[] = [
  {
    name: 'a jwk header (the relay’s own key embedded)',
    header: () => ({ jwk: relay.relay.identity.publicKeyObject.export({ format: 'jwk' }) }),
    code: 'TOKEN_INVALID',
  },
  {
    name: 'a jku header',
    header: () => ({ jku: 'https://attacker.example/keys.json' }),
    code: 'TOKEN_INVALID',
  },
  {
    name: 'an x5u header',
    header: () => ({ x5u: 'https://attacker.example/cert.pem' }),
    code: 'TOKEN_INVALID',
  },
  { name: 'an x5c header', header: () => ({ x5c: ['MIIB'] }), code: 'TOKEN_INVALID' },
  { name: 'a kid header', header: () => ({ kid: 'relay' }), code: 'TOKEN_INVALID' },
  { name: 'a crit header', header: () => ({ crit: ['exp'] }), code: 'TOKEN_INVALID' },
  { name: 'a lifetime of 16 minutes', changes: { exp: nowSeconds() + 16 * 60 }, code: 'TOKEN_INVALID' },
  { name: 'no exp', changes: { exp: undefined }, code: 'TOKEN_INVALID' },
  { name: 'no iat', changes: { iat: undefined }, code: 'TOKEN_INVALID' },
  { name: 'an nbf in the future', changes: { nbf: nowSeconds() + HOUR }, code: 'TOKEN_INVALID' },
  {
    name: 'an iat in the future',
    changes: { iat: nowSeconds() + 300, exp: nowSeconds() + 600 },
    code: 'TOKEN_INVALID',
  },
  {
    name: 'an exp in the past',
    changes: { iat: nowSeconds() - 700, exp: nowSeconds() - 100 },
    code: 'TOKEN_EXPIRED',
  },
];

const headerOf = (c: (typeof REFUSED)[number]) => c.header?.() ?? {};
/** An entry as the checks below compare it: a refusal counted per interval has a count. */
const summary = (e: AuditEvent) => [e.kind, e.reason, e.detail, (e as { count?: number }).count ?? 1];

describe('session token claims and header', () => {
  it('accepts the control tokens: the relay’s header and claims, a past nbf, exactly 15 minutes', async () => {
    const iat = nowSeconds();
    for (const token of [
      sessionToken(),
      sessionToken({}, { nbf: iat - 10 }),
      sessionToken({}, { iat, exp: iat + 15 * 60 }),
    ]) {
      expect(await get('/v1/inbox', token)).toEqual({ status: 200, code: undefined });
      expect(await handshake(token)).toBe('connected');
    }
    expect(await get('/v1/audit/head', auditorToken())).toEqual({ status: 200, code: undefined });
  });

  for (const c of REFUSED) {
    it(`refuses ${c.name} with ${c.code} over HTTP, and logs it`, async () => {
      const token = sessionToken(headerOf(c), c.changes);
      let answer: Awaited<ReturnType<typeof get>> | undefined;
      const added = await entriesOf(async () => (answer = await get('/v1/inbox', token)));
      expect(answer).toEqual({ status: 401, code: c.code });
      expect(added.map(summary)).toEqual([['auth_failed', c.code, 'GET /v1/inbox', 1]]);
    });

    it(`refuses ${c.name} with ${c.code} at the socket.io handshake, and logs it`, async () => {
      const token = sessionToken(headerOf(c), c.changes);
      let code = '';
      const added = await entriesOf(async () => (code = await handshake(token)));
      expect(code).toBe(c.code);
      expect(added.map(summary)).toEqual([['auth_failed', c.code, 'socket.io handshake', 1]]);
    });

    it(`refuses an auditor’s token with ${c.name} with ${c.code}, and logs it`, async () => {
      const token = auditorToken(headerOf(c), c.changes);
      let answer: Awaited<ReturnType<typeof get>> | undefined;
      const added = await entriesOf(async () => (answer = await get('/v1/audit/head', token)));
      expect(answer).toEqual({ status: 401, code: c.code });
      expect(added.map(summary)).toEqual([['auth_failed', c.code, 'GET /v1/audit/head', 1]]);
    });
  }
});
