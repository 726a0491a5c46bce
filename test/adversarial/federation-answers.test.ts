/**
 * Federation answers are signed by the answering relay, for the request they answer. A man in the
 * middle between relay A and its peer B (an adversary double: an HTTP proxy that A takes for B)
 * strips the signature, alters the answer or replays an earlier one: A uses none of it, the
 * envelope stays in its outbox, and it is forwarded once the path is honest again.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { ANSWER_HEADER } from '../../server/federation/s2s-token.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

type Mode = 'honest' | 'strip' | 'alter' | 'replay';

let a: TestRelay;
let b: TestRelay;
let sn: AuthorityNode; // on relay.a.test
let ke: AuthorityNode; // on relay.b.test
let proxy: Server;
let mode: Mode = 'honest';
/** The last signed answer seen to a forward, for the replay. */
let captured: { status: number; body: string; signature: string } | undefined;
const fast = { baseDelayMs: 50, maxDelayMs: 300, pollMs: 100, timeoutMs: 2_000 };

/** Forwards to B, then does to the answer what `mode` says. */
async function relayThrough(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers[k] = v;
  const answer = await fetch(new URL(req.url!, b.url), {
    method: req.method,
    headers,
    body: chunks.length ? Buffer.concat(chunks) : undefined,
  });
  let body = await answer.text();
  let signature = answer.headers.get(ANSWER_HEADER) ?? '';
  const isForward = req.url === '/v1/federation/envelopes';
  if (isForward && mode === 'honest' && !captured) captured = { status: answer.status, body, signature };
  if (isForward && mode === 'strip') signature = '';
  if (isForward && mode === 'alter') body = body.replace('"accepted"', '"duplicate"');
  if (isForward && mode === 'replay' && captured) ({ body, signature } = captured);
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    ...(signature ? { [ANSWER_HEADER]: signature } : {}),
  });
  res.end(body);
}

beforeAll(async () => {
  a = await startTestRelay({ domain: 'relay.a.test', outbox: fast });
  b = await startTestRelay({ domain: 'relay.b.test', outbox: fast });
  proxy = createServer((req, res) => {
    relayThrough(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  // A reaches B only through the proxy; B reaches A directly.
  await a.relay.store.addPeer({
    domain: b.domain,
    url: proxyUrl,
    publicKey: b.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
  await b.relay.store.addPeer({
    domain: a.domain,
    url: a.url,
    publicKey: a.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
  await a.relay.ctx.federation.peers.load();
  await b.relay.ctx.federation.peers.load();
  sn = await enrolNode(a, 'sn.moj');
  ke = await enrolNode(b, 'ke.ag');
});

afterAll(async () => {
  await sn?.close();
  await ke?.close();
  await a?.close();
  await b?.close();
  proxy?.close();
});

async function forwardState(id: string) {
  return (await sn.deliveryState(id)).forwards[0];
}

describe('signed federation answers', () => {
  it('forwards through an honest path, and signs the answer for its request', async () => {
    mode = 'honest';
    const sent = await sn.send({ to: ['ke.ag@relay.b.test'], subject: 'honest', body: 'path' });
    await waitFor(async () => (await forwardState(sent.id))?.state === 'forwarded', 10_000, 'the forward');
    expect(captured?.signature).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  for (const [m, why] of [
    ['strip', /is not signed/],
    ['alter', /was altered on the way/],
    ['replay', /answers another request/],
  ] as const) {
    it(`uses no answer whose signature was ${m === 'strip' ? 'stripped' : m === 'alter' ? 'broken by an altered body' : 'replayed'}, and forwards once the path is honest`, async () => {
      mode = m;
      const sent = await sn.send({ to: ['ke.ag@relay.b.test'], subject: m, body: 'path' });
      await waitFor(
        async () => why.test((await forwardState(sent.id))?.lastError ?? ''),
        10_000,
        `the outbox to note the ${m}ped answer`,
      );
      // Not taken for forwarded on a forged word; B did store it (at least once), which is harmless.
      expect((await forwardState(sent.id))?.state).toBe('pending');
      mode = 'honest';
      await waitFor(async () => (await forwardState(sent.id))?.state === 'forwarded', 10_000, 'the forward');
      await waitFor(
        async () => {
          await ke.fetchInbox();
          return ke.inbox().some((x) => x.id === sent.id);
        },
        10_000,
        'the delivery',
      );
    });
  }
});
