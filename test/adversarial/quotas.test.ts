/**
 * A node that sends at ten times its quota, against a real relay process (DESIGN.md, "At the
 * edge": quotas per sending node and recipient authority). The relay accepts exactly its quota
 * (a burst in one group commit does not overshoot) and answers the rest 429 QUOTA_EXCEEDED with
 * Retry-After, storing none of them; meanwhile two nodes of other authorities, sending five
 * messages a second each, are never refused and every one of their messages is delivered once.
 * Once the recipient has fetched its mail the sender may send again. A recipient authority with
 * its quota of mail waiting is refused more, from any sender, while others are still served.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayStore } from '../../server/storage/relay-store.ts';
import type { ErrorBody } from '../../shared/errors.ts';
import type { Envelope, InboxPage, SubmitResult } from '../../shared/protocol/schemas.ts';
import { removeDir, tempDir } from '../support/fixtures.ts';
import { enrolOverHttp, postOverHttp, seal, type HandNode } from '../support/hand-built-node.ts';
import { spawnRelay, type RelayProcess } from '../support/processes.ts';
import { sleep } from '../support/wait.ts';

const DOMAIN = 'relay.test';
const SENDER_QUOTA = 20;
const RECIPIENT_QUOTA = 60;
const work = tempDir('entraide-quotas-');
const data = join(work, 'relay');
let relay: RelayProcess;

beforeAll(async () => {
  const limitsFile = join(work, 'limits.json');
  writeFileSync(
    limitsFile,
    JSON.stringify({ quota: { senderEnvelopes: SENDER_QUOTA, recipientEnvelopes: RECIPIENT_QUOTA } }),
  );
  relay = await spawnRelay(data, 0, DOMAIN, { ENTRAIDE_RELAY_LIMITS_FILE: limitsFile });
});
afterAll(async () => {
  await relay?.stop('SIGKILL');
  removeDir(work);
});

const post = (path: string, body: unknown, token?: string) => postOverHttp(relay.url, path, body, token);
const enrol = (authorityId: string) =>
  enrolOverHttp({ url: relay.url, dataDir: data, domain: DOMAIN }, authorityId);

interface Answer {
  id: string;
  status: number;
  body: SubmitResult | ErrorBody;
  retryAfter: string | null;
}

async function submit(from: HandNode, env: Envelope): Promise<Answer> {
  const res = await post('/v1/envelopes', env, from.token);
  return {
    id: env.id,
    status: res.status,
    body: (await res.json()) as SubmitResult | ErrorBody,
    retryAfter: res.headers.get('retry-after'),
  };
}

/** Fetches and acknowledges the whole inbox of `node`, page after page; the ids in order received. */
async function drainInbox(node: HandNode): Promise<string[]> {
  const ids: string[] = [];
  for (let round = 0; round < 100; round++) {
    const res = await fetch(`${relay.url}/v1/inbox?limit=500`, {
      headers: { authorization: `Bearer ${node.token}` },
      signal: AbortSignal.timeout(15_000),
    });
    expect(res.status).toBe(200);
    const page = (await res.json()) as InboxPage;
    if (page.envelopes.length === 0) break;
    ids.push(...page.envelopes.map((e) => e.id));
    const acked = await post('/v1/inbox/ack', { ids: page.envelopes.map((e) => e.id) }, node.token);
    expect(acked.status).toBe(200);
    if (!page.more) break;
  }
  return ids;
}

function expectQuotaRefusal(a: Answer, mention: RegExp): void {
  expect({ status: a.status, code: 'error' in a.body ? a.body.error.code : 'accepted' }).toEqual({
    status: 429,
    code: 'QUOTA_EXCEEDED',
  });
  const error = (a.body as ErrorBody).error;
  expect(error.retryAfter).toBe(60);
  expect(a.retryAfter).toBe('60');
  expect(error.message).toMatch(mention);
}

/** Sends `count` messages from `from` to `to`, `perSecond` a second; every answer. */
async function steady(from: HandNode, to: HandNode, count: number, perSecond: number): Promise<Answer[]> {
  const answers: Promise<Answer>[] = [];
  for (let i = 0; i < count; i++) {
    answers.push(submit(from, seal(from, [to])));
    await sleep(1000 / perSecond);
  }
  return Promise.all(answers);
}

describe('storage quotas on a real relay', () => {
  it('accepts exactly its quota from a flooding sender, stores none of the rest, and serves everyone else', async () => {
    const [flooder, ke, ma, fr] = await Promise.all([
      enrol('sn.moj'),
      enrol('ke.ag'),
      enrol('ma.mj'),
      enrol('fr.mj'),
    ]);

    // Ten times the quota, in bursts of fifty submissions in flight at once, while ma and fr
    // each send five messages a second for two seconds.
    const flood = (async () => {
      const answers: Answer[] = [];
      for (let burst = 0; burst < 4; burst++) {
        const envelopes = Array.from({ length: (SENDER_QUOTA * 10) / 4 }, () => seal(flooder, [ke]));
        answers.push(...(await Promise.all(envelopes.map((env) => submit(flooder, env)))));
      }
      return answers;
    })();
    const [flooded, fromMa, fromFr] = await Promise.all([
      flood,
      steady(ma, ke, 10, 5),
      steady(fr, ke, 10, 5),
    ]);

    const accepted = flooded.filter((a) => a.status === 200).map((a) => a.id);
    const refused = flooded.filter((a) => a.status !== 200);
    expect(accepted).toHaveLength(SENDER_QUOTA);
    expect(refused).toHaveLength(SENDER_QUOTA * 9);
    for (const a of refused)
      expectQuotaRefusal(a, /sent by desk1\/sn\.moj@relay\.test .*quota of 20 envelopes/);
    for (const a of [...fromMa, ...fromFr])
      expect({ id: a.id, status: a.status }).toEqual({ id: a.id, status: 200 });

    // The recipient gets exactly the accepted envelopes, each once; the refused ones were never stored.
    const others = [...fromMa, ...fromFr].map((a) => a.id);
    const received = await drainInbox(ke);
    expect(new Set(received).size).toBe(received.length);
    expect(new Set(received)).toEqual(new Set([...accepted, ...others]));
    const store = RelayStore.open(data);
    try {
      for (const a of refused) expect(store.envelopeMeta(a.id)).toBeUndefined();
      for (const id of [...accepted, ...others]) expect(store.envelopeMeta(id)).toBeDefined();
    } finally {
      await store.close();
    }

    // Fetched and acknowledged: nothing waits for the flooder any more, so it may send again.
    const again = await submit(flooder, seal(flooder, [ke]));
    expect(again.status).toBe(200);
    expect(await drainInbox(ke)).toEqual([again.id]);
  });

  it('refuses more mail for a recipient authority with its quota waiting, from any sender, and serves other recipients', async () => {
    const tz = await enrol('tz.moj');
    const other = await enrol('ug.moj');
    const senders = await Promise.all([enrol('sn.dpp'), enrol('ke.dpp'), enrol('ma.dpp')]);
    // Three senders, each within its own quota, fill tz's quota of waiting mail.
    for (const s of senders) {
      const answers = await Promise.all(
        Array.from({ length: RECIPIENT_QUOTA / senders.length }, () => submit(s, seal(s, [tz]))),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    }
    const late = await enrol('rw.moj');
    expectQuotaRefusal(
      await submit(late, seal(late, [tz])),
      /for tz\.moj@relay\.test .*quota of 60 envelopes/,
    );
    expect((await submit(late, seal(late, [other]))).status).toBe(200);
    // tz fetches its mail: there is room again.
    expect(await drainInbox(tz)).toHaveLength(RECIPIENT_QUOTA);
    expect((await submit(late, seal(late, [tz]))).status).toBe(200);
  });
});
