/**
 * No lock-out at login: an attacker without credentials asks a real relay process for 10,000 login
 * challenges for one known node of authority A, over many connections at once. The relay keeps
 * nothing for a challenge it issues (server/auth/challenges.ts), so a node of authority B logs in
 * and reads its inbox during and after the flood, A's own node does too, and the relay's memory
 * does not grow with the challenges handed out. The relay runs the `test` limits so that the flood
 * is answered rather than cut short by the rate budgets, which would hide a lock-out.
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import { PASSPHRASE, removeDir, tempDir } from '../support/fixtures.ts';
import { cli, spawnRelay, type RelayProcess } from '../support/processes.ts';

const CHALLENGES = 10_000;
const CONNECTIONS = 16;
const DEADLINE_MS = 10_000;
const WARM_UP = 3_000;
/**
 * Measured on a 2-core machine, the relay's resident memory climbs by ~15 MiB (up to ~26) per
 * 10,000 requests of any kind, garbage awaiting a full collection, then falls back (a probe of
 * 80,000 challenges ended where 10,000 did). So the bound is generous: it catches a leak of some
 * 5 KiB a challenge, not the ~0.2 KiB a table of them would take, which
 * test/integration/login-challenges.test.ts checks exactly (nothing is kept for an issued challenge).
 */
const MAX_GROWTH_BYTES = 48 * 2 ** 20;
const A_NODE = 'desk1/sn.moj@relay.test';

const work = tempDir('entraide-login-flood-');
const data = join(work, 'relay');
const home = { a: join(work, 'a'), b: join(work, 'b') };
const env = { ENTRAIDE_RELAY_DATA: data, ENTRAIDE_PASSPHRASE: PASSPHRASE };
let relay: RelayProcess | undefined;
const nodes: { a?: AuthorityNode; b?: AuthorityNode } = {};

beforeAll(async () => {
  relay = await spawnRelay(data, 0, 'relay.test', { ENTRAIDE_RELAY_LIMITS: 'test' });
  await Promise.all(
    (
      [
        ['a', 'sn.moj'],
        ['b', 'ke.ag'],
      ] as const
    ).map(async ([who, authority]) => {
      const invited = await cli(['relay', 'invite', authority, '--json'], env);
      expect(invited.code, invited.stderr).toBe(0);
      const { code } = JSON.parse(invited.stdout) as { code: string };
      await initNode({
        home: home[who],
        relayUrl: relay!.url,
        invite: code,
        authorityId: authority,
        nodeName: 'desk1',
        passphrase: PASSPHRASE,
      });
      nodes[who] = await AuthorityNode.open(home[who], PASSPHRASE);
    }),
  );
}, 20_000);

afterAll(async () => {
  await nodes.a?.close();
  await nodes.b?.close();
  await relay?.stop('SIGKILL');
  removeDir(work);
});

/** The relay process's resident memory, in bytes. */
function rss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

/**
 * The least resident memory seen over a short quiet spell: one sample may catch the heap just
 * before a collection, tens of MB above what the process holds.
 */
async function settledRss(pid: number): Promise<number> {
  let least = rss(pid);
  for (let i = 0; i < 8; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    least = Math.min(least, rss(pid));
  }
  return least;
}

/** `count` anonymous challenge requests for `node` over CONNECTIONS kept-alive connections; the statuses seen. */
async function flood(node: string, count: number): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const body = JSON.stringify({ node });
  const statuses = new Map<number, number>();
  const url = new URL('/v1/auth/challenge', relay!.url);
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' }, timeout: DEADLINE_MS },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('a challenge request took over 10 s')));
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const status = await one();
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  } finally {
    agent.destroy();
  }
  return statuses;
}

/** Logs `node` in afresh (the client's own login) and reads its inbox; how long it took. */
async function loginAndInbox(node: AuthorityNode): Promise<number> {
  node.relay.invalidate();
  const start = Date.now();
  await node.fetchInbox();
  const took = Date.now() - start;
  expect(took).toBeLessThan(DEADLINE_MS);
  return took;
}

describe('a flood of anonymous login challenges', () => {
  it('locks nobody out, and costs the relay no memory per challenge', { timeout: 60_000 }, async () => {
    const [a, b] = [nodes.a!, nodes.b!];
    const pid = relay!.child.pid!;
    // Warm up first (JIT, heap sizes, connections), so that what is measured is what stays.
    const warmUp = flood(A_NODE, WARM_UP);
    const during: number[] = [await loginAndInbox(b)];
    expect(await warmUp).toEqual(new Map([[200, WARM_UP]]));
    const before = await settledRss(pid);

    const started = Date.now();
    let flooding = true;
    const flooded = flood(A_NODE, CHALLENGES).finally(() => (flooding = false));
    while (flooding) {
      during.push(await loginAndInbox(b));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const statuses = await flooded;
    const floodMs = Date.now() - started;
    const grown = (await settledRss(pid)) - before;
    expect(statuses).toEqual(new Map([[200, CHALLENGES]]));
    expect(floodMs).toBeLessThan(30_000);

    const afterB = await loginAndInbox(b);
    const afterA = await loginAndInbox(a);
    console.info(
      `login flood: ${CHALLENGES} challenges in ${floodMs} ms; B logged in and read its inbox ` +
        `${during.length} times during the floods (${Math.max(...during)} ms at most), in ${afterB} ms after; ` +
        `A in ${afterA} ms; relay RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(grown).toBeLessThan(MAX_GROWTH_BYTES);
  });
});
