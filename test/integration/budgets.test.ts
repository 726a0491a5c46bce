/**
 * Rate budgets on a real relay in this process: per source address on routes without a session
 * (X-Forwarded-For believed only from the configured proxy), per node on session routes and socket
 * events, a cap on a node's sockets, WebSocket only; refusals answered 429 RATE_LIMITED with
 * Retry-After, and counted in the audit log per code and source, not one entry each.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { applyOverrides, relayLimits, type RelayLimits } from '../../server/limits.ts';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import type { ErrorBody } from '../../shared/errors.ts';
import { startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { enrolByHand, seal, type HandNode } from '../support/hand-built-node.ts';

const relays: TestRelay[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});
afterAll(async () => {
  for (const r of relays.splice(0)) await r.close();
});

function limits(overrides: unknown): RelayLimits {
  return applyOverrides(relayLimits('default'), overrides, 'test');
}

async function relayWith(overrides: unknown): Promise<TestRelay> {
  const relay = await startTestRelay({ limits: limits(overrides) });
  relays.push(relay);
  return relay;
}

function get(relay: TestRelay, url: string, from: string, headers: Record<string, string> = {}) {
  return relay.relay.app.inject({ method: 'GET', url, remoteAddress: from, headers });
}

function expectLimited(res: LightMyRequestResponse): void {
  expect(res.statusCode).toBe(429);
  const body = res.json<ErrorBody>();
  expect(body.error.code).toBe('RATE_LIMITED');
  const after = Number(res.headers['retry-after']);
  expect(Number.isInteger(after) && after >= 1).toBe(true);
  expect(body.error.retryAfter).toBe(after);
}

function auditEvents(relay: TestRelay): AuditEvent[] {
  return relay.relay.store.audit.entries(0, 100_000).map((e) => JSON.parse(e.leaf) as AuditEvent);
}

describe('budgets of routes without a session', () => {
  it('counts per source address: one address over its budget gets 429, another is served', async () => {
    const relay = await relayWith({ rate: { anonymous: { max: 5 } } });
    for (let i = 0; i < 5; i++) expect((await get(relay, '/v1/relay', '203.0.113.7')).statusCode).toBe(200);
    expectLimited(await get(relay, '/v1/relay', '203.0.113.7'));
    expect((await get(relay, '/v1/relay', '203.0.113.8')).statusCode).toBe(200);
    // The health check is never counted: a load balancer polls it.
    for (let i = 0; i < 10; i++) expect((await get(relay, '/healthz', '203.0.113.7')).statusCode).toBe(200);
  });

  it('believes X-Forwarded-For only from the configured proxy', async () => {
    const behind = await relayWith({ rate: { anonymous: { max: 3 } }, trustedProxies: ['127.0.0.1'] });
    const viaProxy = (client: string) => get(behind, '/v1/relay', '127.0.0.1', { 'x-forwarded-for': client });
    for (let i = 0; i < 3; i++) expect((await viaProxy('198.51.100.1')).statusCode).toBe(200);
    expectLimited(await viaProxy('198.51.100.1'));
    // Clients behind the proxy do not share one budget.
    expect((await viaProxy('198.51.100.2')).statusCode).toBe(200);

    // A relay with no proxy configured counts the real source, whatever the header says.
    const direct = await relayWith({ rate: { anonymous: { max: 3 } } });
    for (let i = 0; i < 3; i++)
      expect(
        (await get(direct, '/v1/relay', '203.0.113.9', { 'x-forwarded-for': `198.51.100.${i}` })).statusCode,
      ).toBe(200);
    expectLimited(await get(direct, '/v1/relay', '203.0.113.9', { 'x-forwarded-for': '198.51.100.99' }));
  });

  it('counts probes of unknown paths and forged tokens under their source, and logs them as counts', async () => {
    const relay = await relayWith({ rate: { anonymous: { max: 20 } } });
    relay.relay.audit.flushRefusals();
    const before = relay.relay.store.audit.size;
    const answers: number[] = [];
    for (let i = 0; i < 30; i++)
      answers.push((await get(relay, `/v1/no-such-${i}`, '203.0.113.7')).statusCode);
    for (let i = 0; i < 5; i++)
      answers.push(
        (await get(relay, '/v1/inbox', '203.0.113.7', { authorization: 'Bearer forged' })).statusCode,
      );
    expect(answers.filter((s) => s === 404)).toHaveLength(20);
    expect(answers.filter((s) => s === 429)).toHaveLength(15);
    expect(relay.relay.store.audit.size).toBe(before); // nothing yet: counted in memory for the interval
    relay.relay.audit.flushRefusals();
    const added = auditEvents(relay).slice(before);
    expect(added.map((e) => [e.kind, e.reason, e.count, e.source]).sort()).toEqual(
      [
        ['rejected', 'NOT_FOUND', 20, '203.0.113.7'],
        ['rejected', 'RATE_LIMITED', 15, '203.0.113.7'],
      ].sort(),
    );
    expect(added.find((e) => e.reason === 'NOT_FOUND')!.detail).toBe('GET /v1/no-such-0');
    for (const e of added) expect(Date.parse(e.since!)).toBeLessThanOrEqual(Date.parse(e.at));
  });
});

describe('budgets of a node', () => {
  it('counts session routes per node: one node over budget, another served', async () => {
    const relay = await relayWith({ rate: { session: { max: 10 } } });
    const [a, b] = [await enrolByHand(relay, 'sn.moj'), await enrolByHand(relay, 'ke.ag')];
    const inbox = (n: HandNode) =>
      relay.relay.app.inject({
        method: 'GET',
        url: '/v1/inbox',
        headers: { authorization: `Bearer ${n.token}` },
      });
    for (let i = 0; i < 10; i++) expect((await inbox(a)).statusCode).toBe(200);
    expectLimited(await inbox(a));
    expect((await inbox(b)).statusCode).toBe(200);
    // Past its budget even a known node is counted, not written once per refusal.
    expect(auditEvents(relay).filter((e) => e.reason === 'RATE_LIMITED')).toEqual([]);
    relay.relay.audit.flushRefusals();
    const counted = auditEvents(relay).filter((e) => e.reason === 'RATE_LIMITED');
    expect(counted.map((e) => [e.count, e.source])).toEqual([[1, '127.0.0.1']]);
  });

  function connect(relay: TestRelay, token: string, transports = ['websocket']): Socket {
    const socket = io(relay.url, {
      auth: { token },
      transports,
      reconnection: false,
      forceNew: true,
      timeout: 5_000,
    });
    sockets.push(socket);
    return socket;
  }

  function outcome(socket: Socket): Promise<{ connected: true } | { error: Error & { data?: ErrorBody } }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('neither connected nor refused within 5 s')), 5_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve({ connected: true });
      });
      socket.once('connect_error', (error: Error & { data?: ErrorBody }) => {
        clearTimeout(timer);
        resolve({ error });
      });
    });
  }

  it('counts socket.io submissions per node, answers RATE_LIMITED in the acknowledgement, and caps sockets', async () => {
    const relay = await relayWith({ rate: { socketEvents: { max: 6 } }, socketsPerNode: 2 });
    const [a, b] = [await enrolByHand(relay, 'sn.moj'), await enrolByHand(relay, 'ke.ag')];
    const first = connect(relay, a.token);
    expect(await outcome(first)).toEqual({ connected: true });
    const answers: unknown[] = [];
    for (let i = 0; i < 6; i++)
      answers.push(await first.timeout(5_000).emitWithAck('envelope:submit', seal(a, [b])));
    // The handshake spent one event: five envelopes accepted, the sixth refused.
    expect(answers.slice(0, 5).every((x) => (x as { status?: string }).status === 'accepted')).toBe(true);
    const refusal = answers[5] as ErrorBody;
    expect(refusal.error.code).toBe('RATE_LIMITED');
    expect(refusal.error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(relay.relay.store.pendingFor(b.address, 0, 100)).toHaveLength(5);

    const capped = await relayWith({ socketsPerNode: 2 });
    const c = await enrolByHand(capped, 'sn.moj');
    expect(await outcome(connect(capped, c.token))).toEqual({ connected: true });
    expect(await outcome(connect(capped, c.token))).toEqual({ connected: true });
    const third = await outcome(connect(capped, c.token));
    expect('error' in third && third.error.data?.error.code).toBe('RATE_LIMITED');
    // Once one closes, a socket may open again.
    sockets[sockets.length - 3]!.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(await outcome(connect(capped, c.token))).toEqual({ connected: true });
  });

  it('serves socket.io over WebSocket only: no long-polling session opens', async () => {
    const relay = await relayWith({});
    const a = await enrolByHand(relay, 'sn.moj');
    const polling = await outcome(connect(relay, a.token, ['polling']));
    expect('error' in polling).toBe(true);
    const res = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('"sid"');
  });
});

describe('the limits file', () => {
  it('changes single values and refuses what the relay does not know', () => {
    const dir = tempDir();
    const file = join(dir, 'limits.json');
    writeFileSync(file, JSON.stringify({ quota: { senderBytes: 1024 }, rate: { anonymous: { max: 7 } } }));
    const l = relayLimits('default', file);
    expect(l.quota.senderBytes).toBe(1024);
    expect(l.rate.anonymous).toEqual({ max: 7, windowSeconds: 60 });
    expect(l.rate.session).toEqual(relayLimits().rate.session);
    for (const bad of [
      { rate: { anonymus: { max: 1 } } },
      { quota: { senderBytes: -1 } },
      { enforced: false },
      [1],
    ]) {
      writeFileSync(file, JSON.stringify(bad));
      expect(() => relayLimits('default', file)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
    expect(() => relayLimits('lenient')).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(relayLimits('unlimited').enforced).toBe(false);
  });
});
