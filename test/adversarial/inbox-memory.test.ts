/**
 * An inbox of large envelopes does not fill the relay's memory (DESIGN.md, "At the edge": pages
 * bounded in bytes). Sixty envelopes of about 740 kB each (some 44 MB) wait for one node on a real
 * relay process; one inbox fetch makes the process's resident memory grow by at most twice the
 * page budget (limits.pages.inboxBytes), measured both as the resident size after the fetch and as
 * its peak during it (VmHWM, reset just before through /proc/<pid>/clear_refs). The answer holds
 * `more: true` and at most the page budget of bytes, and page after page (each acknowledged) the
 * node gets all sixty, each once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope, InboxPage } from '../../shared/protocol/schemas.ts';
import { removeDir, tempDir } from '../support/fixtures.ts';
import {
  enrolOverHttp,
  logInOverHttp,
  postOverHttp,
  seal,
  type HandNode,
} from '../support/hand-built-node.ts';
import { spawnRelay, type RelayProcess } from '../support/processes.ts';

const DOMAIN = 'relay.test';
const MiB = 1024 * 1024;
const PAGE_BYTES = 8 * MiB;
const COUNT = 60;
const work = tempDir('entraide-inbox-memory-');
const data = join(work, 'relay');
const limitsFile = join(work, 'limits.json');
let relay: RelayProcess;

beforeAll(async () => {
  writeFileSync(limitsFile, JSON.stringify({ pages: { inboxBytes: PAGE_BYTES } }));
  relay = await spawnRelay(data, 0, DOMAIN, { ENTRAIDE_RELAY_LIMITS_FILE: limitsFile });
});
afterAll(async () => {
  await relay?.stop('SIGKILL');
  removeDir(work);
});

const post = (path: string, body: unknown, token?: string) => postOverHttp(relay.url, path, body, token);
const logIn = (e: HandNode) => logInOverHttp({ url: relay.url, domain: DOMAIN }, e);
const enrol = (authorityId: string) =>
  enrolOverHttp({ url: relay.url, dataDir: data, domain: DOMAIN }, authorityId);

async function fetchInbox(node: HandNode, query = ''): Promise<{ text: string; page: InboxPage }> {
  const res = await fetch(`${relay.url}/v1/inbox${query}`, {
    headers: { authorization: `Bearer ${node.token}` },
    signal: AbortSignal.timeout(30_000),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, page: JSON.parse(text) as InboxPage };
}

/** The relay process's resident memory now and its peak, in bytes (/proc/<pid>/status). */
function memory(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${relay.child.pid}/status`, 'utf8');
  const kB = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kB('VmRSS'), peak: kB('VmHWM') };
}

describe('an inbox of large envelopes', () => {
  it('is served a page at a time, the relay growing by at most twice the page budget', async () => {
    const sn = await enrol('sn.moj');
    const ke = await enrol('ke.ag');
    const sent: string[] = [];
    let largest = 0;
    for (let i = 0; i < COUNT; i += 4) {
      const batch: Envelope[] = [];
      for (let j = i; j < Math.min(COUNT, i + 4); j++) {
        const body = String(j % 10).repeat(550_000);
        batch.push(seal(sn, [ke], { content: JSON.stringify({ type: 'message', subject: `m${j}`, body }) }));
      }
      const answers = await Promise.all(batch.map((env) => post('/v1/envelopes', env, sn.token)));
      expect(answers.map((a) => a.status)).toEqual(batch.map(() => 200));
      sent.push(...batch.map((e) => e.id));
      largest = Math.max(largest, ...batch.map((e) => JSON.stringify(e).length));
    }
    expect(largest).toBeGreaterThan(700_000);

    // A relay started afresh on this data, so that what it holds is the inbox and not the uploads,
    // and warmed up by a page of one envelope.
    await relay.stop('SIGTERM');
    relay = await spawnRelay(data, 0, DOMAIN, { ENTRAIDE_RELAY_LIMITS_FILE: limitsFile });
    ke.token = await logIn(ke);
    expect((await fetchInbox(ke, '?limit=1')).page.envelopes).toHaveLength(1);

    writeFileSync(`/proc/${relay.child.pid}/clear_refs`, '5'); // resets VmHWM to VmRSS
    const before = memory();
    const { text, page } = await fetchInbox(ke, '?limit=500');
    const after = memory();
    const measured = JSON.stringify({ before, after });
    expect(page.more).toBe(true);
    expect(text.length).toBeLessThanOrEqual(PAGE_BYTES);
    // As many as fit: at least the page budget over the largest envelope.
    expect(page.envelopes.length).toBeGreaterThanOrEqual(Math.floor((PAGE_BYTES - 29) / (largest + 1)));
    expect(after.rss - before.rss, measured).toBeLessThanOrEqual(2 * PAGE_BYTES);
    expect(after.peak - before.rss, measured).toBeLessThanOrEqual(2 * PAGE_BYTES);

    // Page after page, each acknowledged: all sixty, each once.
    const received: string[] = [];
    for (let round = 0; round < COUNT; round++) {
      const { page: next } = await fetchInbox(ke, '?limit=500');
      received.push(...next.envelopes.map((e) => e.id));
      if (next.envelopes.length > 0) {
        const acked = await post('/v1/inbox/ack', { ids: next.envelopes.map((e) => e.id) }, ke.token);
        expect(acked.status).toBe(200);
      }
      if (!next.more) break;
    }
    expect(received).toHaveLength(COUNT);
    expect(new Set(received)).toEqual(new Set(sent));
  });
});
