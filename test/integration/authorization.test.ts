/**
 * Authorization of every route. The route list comes from the relay's own OpenAPI description,
 * so a route added later without a session check (or without being declared public here) fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';

/** Routes that need no session, each for a stated reason. */
const PUBLIC = new Set([
  'GET /healthz', // readiness probe
  'GET /v1/relay', // the relay's identity, needed before enrolment
  'POST /v1/enrol', // guarded by the one-time invitation
  'POST /v1/auth/challenge', // login, step 1
  'POST /v1/auth/token', // login, step 2: guarded by the node's signature
  'POST /v1/keylog/events', // guarded by the event's own signature (master key or node identity key)
  'POST /v1/joins', // a new node has no session yet; guarded by its signature, approval needs the master key
  'POST /v1/audit/auth/challenge', // an auditor's login, step 1: only for auditors the operator registered
  'POST /v1/audit/auth/token', // an auditor's login, step 2: guarded by the auditor's signature
]);

const SAMPLE_ID = '01a21cb6-b785-7894-9eb7-100693676dda';

function concrete(path: string): string {
  return path
    .replace('{authority}', 'ke.ag@relay.test')
    .replace('{id}', SAMPLE_ID)
    .replace('{code}', 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01');
}

describe('authorization', () => {
  let relay: TestRelay;
  let sn: AuthorityNode;
  let ke: AuthorityNode;
  let ng: AuthorityNode;
  let routes: { method: string; path: string; secured: boolean }[];

  beforeAll(async () => {
    relay = await startTestRelay();
    sn = await enrolNode(relay, 'sn.moj');
    ke = await enrolNode(relay, 'ke.ag');
    ng = await enrolNode(relay, 'ng.moj');
    const spec = JSON.parse((await relay.relay.app.inject({ method: 'GET', url: '/openapi.json' })).body) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    routes = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        secured: (op.security ?? []).length > 0,
      })),
    );
  });
  afterAll(async () => {
    for (const n of [sn, ke, ng]) await n?.close();
    await relay?.close();
  });

  it('knows every route, and every route is public by intent or secured', () => {
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      expect(PUBLIC.has(key) || r.secured, `${key} is neither public by intent nor secured`).toBe(true);
    }
  });

  it('refuses every secured route without a token, and with a forged one', async () => {
    const secured = routes.filter((r) => !PUBLIC.has(`${r.method} ${r.path}`));
    expect(secured.length).toBeGreaterThanOrEqual(5);
    for (const r of secured) {
      const payload = r.method === 'POST' ? {} : undefined;
      const none = await relay.relay.app.inject({
        method: r.method as 'GET' | 'POST' | 'HEAD' | 'PATCH',
        url: concrete(r.path),
        payload,
      });
      expect(none.statusCode, `${r.method} ${r.path}`).toBe(401);
      // An answer to HEAD has no body (HTTP): its status says it all.
      if (r.method !== 'HEAD') expect(JSON.parse(none.body).error.code).toBe('AUTH_REQUIRED');
      const forged = await relay.relay.app.inject({
        method: r.method as 'GET' | 'POST' | 'HEAD' | 'PATCH',
        url: concrete(r.path),
        payload,
        headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
      });
      expect(forged.statusCode, `${r.method} ${r.path}`).toBe(401);
      if (r.method !== 'HEAD') expect(JSON.parse(forged.body).error.code).toBe('TOKEN_INVALID');
    }
  });

  it('lets only the sending authority see an envelope’s delivery state', async () => {
    const { id } = await sn.send({ to: [ke.authority], subject: 'state', body: 'who may see this' });
    await expect(sn.deliveryState(id)).resolves.toMatchObject({ id });
    await expect(ke.deliveryState(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ng.deliveryState(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('serves a node only its own inbox, and lets it acknowledge only its own deliveries', async () => {
    const { id } = await sn.send({ to: [ke.authority], subject: 'for ke only', body: 'not for ng' });
    expect(await ng.fetchInbox()).toEqual([]);
    // ng acknowledging ke's envelope changes nothing.
    const token = await ng.relay.token();
    const ack = await relay.relay.app.inject({
      method: 'POST',
      url: '/v1/inbox/ack',
      payload: { ids: [id] },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ack.statusCode).toBe(200);
    expect(JSON.parse(ack.body)).toEqual({ acknowledged: 0 });
    expect(relay.relay.store.deliveries(id)).toEqual([
      expect.objectContaining({ node: ke.address, state: 'pending' }),
    ]);
    const atKe = await ke.fetchInbox();
    expect(atKe.map((o) => o.kind === 'message' && o.message.id)).toContain(id);
  });
});
