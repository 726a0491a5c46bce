/**
 * The coordinator's roster routes of the node's service (client/service/routes-roster.ts) between
 * real nodes on two federated relays: members and coordinators added and removed through the route,
 * each version received by the members; an authority new to the network refused until the officer
 * confirms it (its safety code was never verified); malformed, empty, oversized and forbidden
 * changes refused with their codes and nothing signed; every version listed with its change, and a
 * member that joined later holding the versions from its own. Only the service's token or an
 * officer's session opens them, never an auditor's session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor } from '../../client/audit/auditor.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { startAuditService, type RunningAuditService } from '../../client/service/audit-serve.ts';
import { MAX_CHANGE_ITEMS, ROSTER_CHANGES_PER_MINUTE } from '../../client/service/routes-roster.ts';
import { startService, type RunningService } from '../../client/service/serve.ts';
import type { RosterVersion } from '../../shared/meetings/roster-history.ts';
import {
  enrolHome,
  enrolNode,
  PASSPHRASE,
  startPeeredRelays,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { serviceCall } from '../support/service-call.ts';
import { pollUntil } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
const AUDITOR_PASS = 'auditor service passphrase';

const call = serviceCall;

describe('the coordinator’s roster routes of the node’s service', { timeout: 120_000 }, () => {
  let a: TestRelay;
  let b: TestRelay;
  let sn: RunningService;
  let audit: RunningAuditService;
  let ng: AuthorityNode;
  let ke: AuthorityNode;
  let gh: AuthorityNode;
  const api = (path: string, o: { method?: string; body?: unknown } = {}) =>
    call(sn.file.url, `/api/v1${path}`, { token: sn.file.token, ...o });
  const change = (body: unknown, network = 'wacap') =>
    api(`/networks/${network}/roster`, { method: 'POST', body });
  const versions = async () =>
    (await api('/networks/wacap/versions')).body.versions as RosterVersion[] | undefined;
  /** Polls `m` until it holds version `version` of wacap. */
  const receives = async (m: AuthorityNode, version: number) =>
    pollUntil(
      async () => {
        await m.fetchInbox();
        return m.networks.roster('wacap')?.version ?? 0;
      },
      (v) => v >= version,
      { intervalMs: 100, timeoutMs: 15_000 },
    );

  /** A refusal: its status and code, and the roster left at the version it was. */
  async function refused(body: unknown, status: number, code: string, network = 'wacap') {
    const before = await versions();
    const r = await change(body, network);
    expect([r.status, r.body.error?.code], JSON.stringify(body).slice(0, 200)).toEqual([status, code]);
    expect(await versions()).toEqual(before);
    return r;
  }

  beforeAll(async () => {
    [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], { outbox: fast });
    const home = tempDir('entraide-roster-');
    await enrolHome(a, 'sn.moj', 'desk1', home);
    sn = await startService({ home, passphrase: PASSPHRASE, port: 0 });
    ng = await enrolNode(a, 'ng.moj');
    ke = await enrolNode(b, 'ke.ag');
    gh = await enrolNode(b, 'gh.moj');
    await sn.node.networks.create('wacap', 'West African Network', ['fr', 'en']);
    await sn.node.networks.change('wacap', { add: [ng.authority, ke.authority] });
    // A network Nigeria coordinates, of which Senegal is only a member.
    await ng.networks.create('ecowas', 'ECOWAS Network');
    await ng.networks.change('ecowas', { add: [sn.node.authority] });
    const held = await pollUntil(
      async () => (await api('/networks/ecowas')).status,
      (s) => s === 200,
      { intervalMs: 100, timeoutMs: 15_000 },
    );
    expect(held, 'Nigeria’s network held by Senegal').toBe(200);
    const auditorHome = tempDir('entraide-roster-auditor-');
    const creds = await createAuditor(auditorHome, {
      name: 'alice',
      relayUrl: a.url,
      passphrase: AUDITOR_PASS,
    });
    await a.relay.store.addAuditor('alice', creds.publicKey, new Date());
    audit = await startAuditService({ home: auditorHome, passphrase: AUDITOR_PASS, port: 0 });
  }, 90_000);
  afterAll(async () => {
    await audit?.close();
    await sn?.close();
    for (const m of [ng, ke, gh]) await m?.close();
    await a?.close();
    await b?.close();
  });

  it('answers the token or an officer’s session only, never an auditor’s', async () => {
    const base = sn.file.url;
    for (const [method, path] of [
      ['POST', '/api/v1/networks/wacap/roster'],
      ['GET', '/api/v1/networks/wacap/versions'],
    ] as const) {
      const body = method === 'POST' ? { add: [gh.authority] } : undefined;
      expect((await call(base, path, { method, body })).body.error?.code, path).toBe('AUTH_REQUIRED');
      expect((await call(base, path, { method, body, token: 'x'.repeat(43) })).status, path).toBe(401);
    }
    const auditor = await call(audit.file.url, '/api/v1/session', {
      method: 'POST',
      body: { officer: 'Alice Auditor', passphrase: AUDITOR_PASS },
    });
    expect(auditor.status, JSON.stringify(auditor.body)).toBe(200);
    const officer = await call(base, '/api/v1/session', {
      method: 'POST',
      body: { officer: 'Aminata Diop', passphrase: PASSPHRASE },
    });
    expect(officer.status).toBe(200);
    const path = '/api/v1/networks/wacap/versions';
    expect((await call(base, path, { cookie: auditor.cookie! })).body.error?.code).toBe('AUTH_REQUIRED');
    expect((await call(audit.file.url, path, { cookie: auditor.cookie! })).status).toBe(404);
    expect((await call(base, path, { cookie: officer.cookie! })).status).toBe(200);
  });

  it('refuses malformed, empty and oversized changes before anything is signed', async () => {
    for (const bad of ['Ghana', 'GH.moj@relay.b.test', 'gh.moj@', 'desk1/gh.moj@relay.b.test'])
      await refused({ add: [bad] }, 400, 'ADDRESS_INVALID');
    await refused({ addCoordinators: [gh.authority, 'gh moj@relay.b.test'] }, 400, 'ADDRESS_INVALID');
    await refused({}, 400, 'SCHEMA_INVALID');
    await refused({ add: [ng.authority], remove: ['cv.mj@relay.b.test'] }, 400, 'SCHEMA_INVALID');
    await refused({ add: ['x'.repeat(310) + '@relay.b.test'] }, 400, 'SCHEMA_INVALID');
    const many = Array.from({ length: MAX_CHANGE_ITEMS + 1 }, (_, i) => `a${i}@relay.b.test`);
    await refused({ add: many }, 400, 'SCHEMA_INVALID');
    await refused({ add: [gh.authority], members: [] }, 400, 'SCHEMA_INVALID');
  });

  it('adds an unverified authority only once the officer confirms it, and it receives the roster', async () => {
    const r = await refused({ add: [gh.authority] }, 409, 'UNVERIFIED_COUNTERPART');
    expect(r.body.error?.unverified?.map((u) => u.authority)).toEqual([gh.authority]);
    const ok = await change({ add: [gh.authority], confirmed: [gh.authority] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({
      view: {
        network: 'wacap',
        version: 3,
        members: [sn.node.authority, ng.authority, ke.authority, gh.authority],
      },
      diff: {
        addedMembers: [gh.authority],
        removedMembers: [],
        addedCoordinators: [],
        removedCoordinators: [],
      },
    });
    expect(await receives(gh, 3)).toBe(3);
    expect(gh.networks.show('wacap').members).toContain(gh.authority);
  });

  it('gives and ends a coordinator role, removes a member, and refuses what the roster rules refuse', async () => {
    const made = await change({ addCoordinators: [ng.authority] });
    expect(made.body).toMatchObject({ view: { version: 4 }, diff: { addedCoordinators: [ng.authority] } });
    expect(await receives(ng, 4)).toBe(4);
    expect(ng.networks.show('wacap').coordinators).toEqual([sn.node.authority, ng.authority]);
    const ended = await change({ removeCoordinators: [ng.authority] });
    expect(ended.body).toMatchObject({ view: { version: 5 }, diff: { removedCoordinators: [ng.authority] } });
    const removed = await change({ remove: [gh.authority] });
    expect(removed.body).toMatchObject({ view: { version: 6 }, diff: { removedMembers: [gh.authority] } });
    // The authority removed is told.
    expect(await receives(gh, 6)).toBe(6);
    expect(gh.networks.show('wacap').members).not.toContain(gh.authority);
    // The last coordinator cannot leave the role, nor the network.
    await refused({ removeCoordinators: [sn.node.authority] }, 422, 'ROSTER_INVALID');
    await refused({ remove: [sn.node.authority] }, 422, 'ROSTER_INVALID');
    await refused({ add: [ke.authority] }, 403, 'NOT_COORDINATOR', 'ecowas');
    expect((await change({ add: [gh.authority] }, 'nowhere')).body.error?.code).toBe('NOT_FOUND');
  });

  it('lists every version held, newest first, with what each changed', async () => {
    const [SN, NG, KE, GH] = [sn.node.authority, ng.authority, ke.authority, gh.authority];
    const none = { addedMembers: [], removedMembers: [], addedCoordinators: [], removedCoordinators: [] };
    const list = (await versions())!;
    expect(list.map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(list.map((v) => v.diff)).toEqual([
      { ...none, removedMembers: [GH] },
      { ...none, removedCoordinators: [NG] },
      { ...none, addedCoordinators: [NG] },
      { ...none, addedMembers: [GH] },
      { ...none, addedMembers: [KE, NG].sort() },
      { ...none, addedMembers: [SN], addedCoordinators: [SN] },
    ]);
    expect(list[0]).toMatchObject({ issuedBy: sn.node.address, members: [SN, NG, KE], coordinators: [SN] });
    expect(Date.parse(list[0]!.at)).toBeGreaterThanOrEqual(Date.parse(list[5]!.at));
    // Ghana joined at version 3: the change that version made is unknown to its node.
    expect(gh.networks.versions('wacap').map((v) => [v.version, v.diff === null])).toEqual([
      [6, false],
      [5, false],
      [4, false],
      [3, true],
    ]);
    expect((await api('/networks/nowhere/versions')).body.error?.code).toBe('NOT_FOUND');
  });

  it('keeps to its budget of roster versions a minute', async () => {
    const codes = new Set<string>();
    for (let i = 0; i <= ROSTER_CHANGES_PER_MINUTE; i++) {
      const r = await change({ add: ['Not An Address'] });
      codes.add(r.body.error?.code ?? String(r.status));
    }
    expect(codes).toContain('RATE_LIMITED');
    expect((await versions())?.[0]?.version).toBe(6);
  });
});
