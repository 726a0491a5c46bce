/**
 * Closing a relay while it works: a forward in flight to a peer that does not answer (its link
 * blackholed by test/support/tcp-proxy.ts), and a client connection that never sends a request.
 * close() must end promptly, write nothing once it has resolved, and lose nothing: the envelope
 * whose forward was aborted stays in the outbox as it was, and is delivered once after a restart.
 */
import Database from 'better-sqlite3';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { enrolNode, removeDir, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { sleep, waitFor } from '../support/wait.ts';

/** The peer timeout: a forward given up by it (rather than aborted) would be written this long after. */
const TIMEOUT_MS = 4_000;
const outbox = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: TIMEOUT_MS };
/** Generous for a loaded two-core machine; the faults below held close() for 15 s to 70 s or more. */
const CLOSE_BOUND_MS = 5_000;

let a: TestRelay; // relay.a.test, which reaches relay.b.test through the proxy
let b: TestRelay;
let proxy: TcpProxy;
let sn: AuthorityNode; // on relay.a.test
let ke: AuthorityNode; // on relay.b.test
const dirs: string[] = [];

/** Resolves with how long `close` took, or rejects once it has taken longer than `boundMs`. */
async function timed(close: () => Promise<void>, boundMs: number): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`close() still running after ${boundMs} ms`)), boundMs);
  });
  try {
    await Promise.race([close(), bound]);
  } finally {
    clearTimeout(timer);
  }
  return Date.now() - started;
}

function outboxRow(dataDir: string, envelopeId: string): unknown {
  const db = new Database(join(dataDir, 'relay.db'), { readonly: true });
  try {
    return db
      .prepare('SELECT peer, state, attempts, nextAttemptAt, lastError FROM "Outbox" WHERE envelopeId = ?')
      .all(envelopeId);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  b = await startTestRelay({ domain: 'relay.b.test', outbox });
  proxy = await startTcpProxy({ port: Number(new URL(b.url).port) });
  a = await startTestRelay({ domain: 'relay.a.test', outbox });
  dirs.push(a.dataDir, b.dataDir);
  await a.relay.store.addPeer({
    domain: b.domain,
    url: proxy.url,
    publicKey: b.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
  await b.relay.store.addPeer({
    domain: a.domain,
    url: a.url,
    publicKey: a.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
  sn = await enrolNode(a, 'sn.moj');
  ke = await enrolNode(b, 'ke.ag');
});

afterAll(async () => {
  await sn?.close();
  await ke?.close();
  await a?.close();
  await b?.close();
  await proxy?.close();
  for (const d of dirs) removeDir(d);
});

describe('closing a relay', () => {
  it('aborts a forward in flight, writes nothing after, and the envelope goes once after a restart', async () => {
    // Resolve the counterpart while the link works; the send below can then use what was verified.
    await sn.trust.authority('ke.ag@relay.b.test');
    proxy.blackhole();
    const sent = await sn.send({ to: ['ke.ag@relay.b.test'], subject: 'in flight', body: 'at close' });
    // The forward's bytes reach the blackhole: the request hangs until the peer timeout.
    await waitFor(() => proxy.stats().dropped > 0, 10_000, 'the forward to be sent into the blackhole');
    const warn = vi.spyOn(a.relay.app.log, 'warn');

    const before = outboxRow(a.dataDir, sent.id);
    expect(before).toEqual([expect.objectContaining({ peer: 'relay.b.test', state: 'pending' })]);
    const took = await timed(() => a.close(), CLOSE_BOUND_MS);
    expect(took).toBeLessThan(CLOSE_BOUND_MS);
    // Aborted, not failed: the item is as it was before close(), neither refused nor counted.
    expect(outboxRow(a.dataDir, sent.id)).toEqual(before);
    // Past the peer timeout, a drain left running would have tried to record its failure by now.
    await sleep(TIMEOUT_MS + 1_000);
    const messages = warn.mock.calls.map((c) => c[1] as unknown);
    expect(messages).not.toContain('outbox drain failed');
    expect(messages).not.toContain('delivery reports not sent');
    expect(outboxRow(a.dataDir, sent.id)).toEqual(before);

    proxy.restore();
    a = await startTestRelay({
      domain: 'relay.a.test',
      dataDir: a.dataDir,
      port: Number(new URL(a.url).port),
      outbox,
    });
    await waitFor(
      () => a.relay.store.outboxCounts().get('relay.b.test') === undefined,
      15_000,
      'the outbox to drain after the restart',
    );
    const got = [...(await ke.fetchInbox()), ...(await ke.fetchInbox())];
    expect(got.map((o) => o.kind === 'message' && o.message.id)).toEqual([sent.id]);
    expect(ke.inbox().filter((m) => m.id === sent.id)).toHaveLength(1);
  }, 60_000);

  it('does not wait for a client connection that never sends a request', async () => {
    const port = Number(new URL(b.url).port);
    const idle = connect({ host: '127.0.0.1', port });
    idle.on('error', () => undefined);
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    try {
      const took = await timed(() => b.close(), CLOSE_BOUND_MS);
      expect(took).toBeLessThan(CLOSE_BOUND_MS);
    } finally {
      idle.destroy();
    }
  }, 30_000);
});
