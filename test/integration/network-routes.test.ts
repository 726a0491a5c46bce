/**
 * The coordinator's routes of the node's service (client/service/routes-networks.ts) between real
 * nodes on two federated relays: the roster as the node holds it; the heat map of the slot finder,
 * each start's count checked against an independent count of who is within their hours (fixed-offset
 * zones, worked out here by hand); its bounds and budget; a meeting scheduled for the network,
 * refused until the members whose safety code was never verified are confirmed, then delivered to
 * each member. Only the service's token or an officer's session opens them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { startService, type RunningService } from '../../client/service/serve.ts';
import {
  enrolHome,
  enrolNode,
  PASSPHRASE,
  startPeeredRelays,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { pollUntil } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };

/** Fixed UTC offsets (no daylight saving) of the zones used here, in minutes. */
const OFFSET: Record<string, number> = { 'Africa/Dakar': 0, 'Africa/Lagos': 60, 'Africa/Nairobi': 180 };
const HOURS = {
  'sn.moj@relay.a.test': { tz: 'Africa/Dakar', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
  'ng.moj@relay.a.test': { tz: 'Africa/Lagos', days: [1, 2, 3, 4, 5], start: '08:00', end: '16:00' },
  'ke.ag@relay.b.test': { tz: 'Africa/Nairobi', days: [1, 2, 3, 4, 6], start: '08:30', end: '17:30' },
} as const;

/** Whether [start, end) lies inside `h` on one local working day (the hours here never cross midnight). */
function within(h: (typeof HOURS)[keyof typeof HOURS], start: number, end: number): boolean {
  const local = (t: number) => new Date(t + OFFSET[h.tz]! * 60_000);
  const [s, e] = [local(start), local(end - 1)];
  if (s.getUTCDate() !== e.getUTCDate()) return false;
  const iso = ((s.getUTCDay() + 6) % 7) + 1;
  if (!(h.days as readonly number[]).includes(iso)) return false;
  const minute = (d: Date) => d.getUTCHours() * 60 + d.getUTCMinutes();
  const clock = (x: string) => Number(x.slice(0, 2)) * 60 + Number(x.slice(3));
  return minute(s) >= clock(h.start) && minute(e) + 1 <= clock(h.end);
}

describe('the coordinator’s routes of the node’s service', () => {
  let a: TestRelay;
  let b: TestRelay;
  let sn: RunningService;
  let ng: AuthorityNode;
  let ke: AuthorityNode;
  const call = async (path: string, o: { method?: string; body?: unknown; token?: string | null } = {}) => {
    const res = await fetch(`${sn.file.url}/api/v1${path}`, {
      method: o.method ?? 'GET',
      headers: {
        ...(o.token === null ? {} : { authorization: `Bearer ${o.token ?? sn.file.token}` }),
        ...(o.body ? { 'content-type': 'application/json' } : {}),
      },
      ...(o.body ? { body: JSON.stringify(o.body) } : {}),
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown> & {
      error?: { code: string; unverified?: { authority: string }[] };
    };
    return { status: res.status, body };
  };

  beforeAll(async () => {
    [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], { outbox: fast });
    const home = tempDir('entraide-coordinator-');
    await enrolHome(a, 'sn.moj', 'desk1', home);
    sn = await startService({ home, passphrase: PASSPHRASE, port: 0 });
    ng = await enrolNode(a, 'ng.moj');
    ke = await enrolNode(b, 'ke.ag');
    await sn.node.networks.create('wacap', 'West African Network', ['fr', 'en']);
    await sn.node.networks.change('wacap', { add: [ng.authority, ke.authority] });
    await sn.node.networks.setHours(HOURS['sn.moj@relay.a.test']);
    // Each member declares its hours to the coordinators of the networks it holds: the roster first.
    for (const m of [ng, ke])
      await pollUntil(
        async () => {
          await m.fetchInbox();
          return m.networks.roster('wacap') !== null;
        },
        (held) => held,
        { intervalMs: 100, timeoutMs: 15_000 },
      );
    await ng.networks.setHours(HOURS['ng.moj@relay.a.test']);
    await ke.networks.setHours(HOURS['ke.ag@relay.b.test']);
    const held = await pollUntil(
      async () => Object.keys((await call('/networks/wacap')).body.hours as object).length,
      (n) => n === 3,
      { intervalMs: 100, timeoutMs: 15_000 },
    );
    expect(held, 'every member’s hours at the coordinator').toBe(3);
  }, 60_000);
  afterAll(async () => {
    await sn?.close();
    await ng?.close();
    await ke?.close();
    await a?.close();
    await b?.close();
  });

  it('answers the token or a session only', async () => {
    expect((await call('/networks', { token: null })).body.error?.code).toBe('AUTH_REQUIRED');
    expect(
      (await call('/networks/wacap/heatmap?duration=60&weeks=1', { token: 'x'.repeat(43) })).status,
    ).toBe(401);
  });

  it('lists the networks with their rosters and members’ hours', async () => {
    const { body } = await call('/networks');
    const [n] = body.networks as {
      network: string;
      members: string[];
      coordinator: boolean;
      version: number;
    }[];
    expect(n).toMatchObject({ network: 'wacap', coordinator: true, version: 2 });
    expect(n!.members).toEqual([sn.node.authority, ng.authority, ke.authority]);
    expect((await call('/networks/nowhere')).body.error?.code).toBe('NOT_FOUND');
  });

  it('counts, at each start, the members within their hours for the whole meeting', async () => {
    const { status, body } = await call('/networks/wacap/heatmap?duration=90&weeks=2');
    expect(status).toBe(200);
    const map = body as { from: number; stepMin: number; counts: number[]; members: string[] };
    expect(map.stepMin).toBe(30);
    expect(map.counts.length).toBeGreaterThan(2 * 7 * 48 - 10);
    expect(map.members).toEqual(Object.keys(HOURS));
    const members = Object.values(HOURS);
    let everyone = 0;
    map.counts.forEach((count, i) => {
      const start = map.from + i * 30 * 60_000;
      const expected = members.filter((h) => within(h, start, start + 90 * 60_000)).length;
      expect(count, new Date(start).toISOString()).toBe(expected);
      if (count === 3) everyone++;
    });
    expect(everyone).toBeGreaterThan(0);
  });

  it('refuses a heat map beyond its bounds, and past its budget', async () => {
    for (const q of [
      'duration=60&weeks=9',
      'duration=10&weeks=2',
      'duration=60&weeks=2&step=20',
      'weeks=2',
    ]) {
      const r = await call(`/networks/wacap/heatmap?${q}`);
      expect([r.status, r.body.error?.code], q).toEqual([400, 'SCHEMA_INVALID']);
    }
    const codes = new Set<string>();
    for (let i = 0; i < 70; i++) {
      const r = await call('/networks/wacap/heatmap?duration=60&weeks=1');
      codes.add(r.status === 200 ? 'ok' : (r.body.error?.code ?? String(r.status)));
    }
    expect(codes).toContain('RATE_LIMITED');
  });

  it('schedules the network’s meeting once unverified members are confirmed, and each member receives it', async () => {
    const draft = { title: 'WACAP plenary', start: '2027-01-12T10:00', tz: 'Africa/Dakar', durationMin: 90 };
    const refused = await call('/networks/wacap/meetings', { method: 'POST', body: draft });
    expect(refused.body.error?.code).toBe('UNVERIFIED_COUNTERPART');
    expect(refused.body.error?.unverified?.map((u) => u.authority).sort()).toEqual([
      ke.authority,
      ng.authority,
    ]);
    expect(sn.node.meetings.list().length).toBe(0);
    const ok = await call('/networks/wacap/meetings', {
      method: 'POST',
      body: { ...draft, confirmed: [ng.authority, ke.authority] },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body).toMatchObject({ title: 'WACAP plenary', startUtc: '2027-01-12T10:00:00.000Z' });
    for (const m of [ng, ke]) {
      await pollUntil(
        async () => {
          await m.fetchInbox();
          return m.meetings.list().length;
        },
        (n) => n === 1,
        { intervalMs: 100, timeoutMs: 15_000 },
      );
      expect(m.meetings.list()[0]).toMatchObject({ title: 'WACAP plenary', network: 'wacap' });
    }
    const bad = await call('/networks/wacap/meetings', {
      method: 'POST',
      body: { ...draft, start: 'tomorrow' },
    });
    expect(bad.body.error?.code).toBe('SCHEMA_INVALID');
  });
});
