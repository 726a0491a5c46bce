import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { buildRelay } from '../../server/app.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function setup(
  opts: Parameters<typeof startTestRelay>[0] = {},
): Promise<{ relay: TestRelay; a: AuthorityNode; b: AuthorityNode }> {
  const relay = await startTestRelay(opts);
  open.push(relay);
  const a = await enrolNode(relay, 'sn.moj');
  open.push(a);
  const b = await enrolNode(relay, 'ke.ag');
  open.push(b);
  return { relay, a, b };
}

describe('delivery guarantees', () => {
  it('an offline recipient receives everything on reconnect, each once', async () => {
    const { relay, a, b } = await setup();
    const sent: string[] = [];
    for (let i = 0; i < 30; i++)
      sent.push((await a.send({ to: [b.authority], subject: `offline ${i}`, body: `n° ${i}` })).id);

    // First connection: take some, then drop the connection before the rest are acknowledged.
    const first: string[] = [];
    await b.listen({ onReceive: (o) => o.kind === 'message' && first.push(o.message.id) });
    await waitFor(() => first.length > 0, 10_000, 'a first delivery');
    b.stopListening();

    const second: string[] = [];
    let drained = false;
    await b.listen({
      onReceive: (o) => o.kind === 'message' && !o.duplicate && second.push(o.message.id),
      onDrained: () => (drained = true),
    });
    await waitFor(() => drained, 10_000, 'the backlog to drain');
    b.stopListening();

    const stored = b.inbox(1000).map((m) => m.id);
    expect(stored.sort()).toEqual([...sent].sort());
    // Each envelope reached the application once: no id appears twice as new.
    const fresh = [...first, ...second];
    expect(new Set(fresh).size).toBe(fresh.length);
    // The relay holds nothing pending for b any more.
    expect(relay.relay.store.countPending(b.address)).toBe(0);
    // A later pull finds nothing new.
    expect(await b.fetchInbox()).toEqual([]);
  });

  it('redelivers an envelope whose acknowledgement was lost, and the node deduplicates it', async () => {
    const { relay, a, b } = await setup();
    const { id } = await a.send({ to: [b.authority], subject: 'twice', body: 'deduplicate me' });
    const page = await relay.relay.app.inject({ method: 'GET', url: '/v1/inbox' });
    expect(page.statusCode).toBe(401);
    const first = await b.fetchInbox();
    expect(first).toHaveLength(1);
    // Make the relay believe the acknowledgement never arrived.
    relay.relay.store.db
      .prepare(`UPDATE "Delivery" SET state = 'pending', deliveredAt = NULL WHERE envelopeId = ?`)
      .run(id);
    const again = await b.fetchInbox();
    expect(again).toEqual([expect.objectContaining({ kind: 'message', duplicate: true })]);
    expect(b.inbox().filter((m) => m.id === id)).toHaveLength(1);
  });

  it('the relay database and its WAL contain no plaintext', async () => {
    const { relay, a, b } = await setup();
    const canary = `CANARY-${randomBytes(12).toString('hex')}`;
    const subject = `SUBJECT-${randomBytes(12).toString('hex')}`;
    const { id } = await a.send({
      to: [b.authority],
      subject,
      body: `The account of ${canary} must be preserved.`,
    });
    await b.fetchInbox();
    expect(b.inbox()[0]!.body).toContain(canary);
    const files = readdirSync(relay.dataDir);
    expect(files).toContain('relay.db');
    expect(files).toContain('relay.db-wal');
    let scanned = 0;
    for (const f of files) {
      const bytes = readFileSync(join(relay.dataDir, f));
      scanned += bytes.length;
      for (const needle of [canary, subject]) {
        expect(bytes.includes(Buffer.from(needle, 'utf8')), `${needle} found in ${f}`).toBe(false);
        expect(bytes.includes(Buffer.from(needle, 'utf16le')), `${needle} (UTF-16) found in ${f}`).toBe(
          false,
        );
      }
    }
    expect(scanned).toBeGreaterThan(4096);
    // The search itself works: the relay's files do hold what the relay may know, the envelope id.
    // (The node's own database seals the content too: test/integration/sealed-content.test.ts.)
    expect(files.some((f) => readFileSync(join(relay.dataDir, f)).includes(Buffer.from(id, 'utf8')))).toBe(
      true,
    );
  });

  it('expires envelopes past their TTL: the ciphertext is dropped and the sender sees it', async () => {
    let offsetMs = 0;
    const { relay, a, b } = await setup({ now: () => new Date(Date.now() + offsetMs) });
    const { id } = await a.send({ to: [b.authority], subject: 'short-lived', body: 'expires', ttl: 60 });
    offsetMs = 61_000;
    expect(relay.relay.store.expire(new Date(Date.now() + offsetMs))).toBe(1);
    const row = relay.relay.store.db
      .prepare('SELECT body, expiredAt FROM "Envelope" WHERE id = ?')
      .get(id) as { body: string | null; expiredAt: string | null };
    expect(row.body).toBeNull();
    expect(row.expiredAt).not.toBeNull();
    expect(await b.fetchInbox()).toEqual([]);
    const state = await a.deliveryState(id);
    expect(state.deliveries).toEqual([expect.objectContaining({ node: b.address, state: 'expired' })]);
  });

  it('keeps a listening node connected across session-token expiry', async () => {
    const { a, b } = await setup({ tokenLifetimeSeconds: 2 });
    const got: string[] = [];
    let disconnects = 0;
    await b.listen({
      onReceive: (o) => o.kind === 'message' && got.push(o.message.id),
      onDisconnect: () => disconnects++,
    });
    try {
      await waitFor(() => disconnects > 0, 10_000, 'the relay to close the expired session');
      const { id } = await a.send({ to: [b.authority], subject: 'after expiry', body: 'still delivered' });
      await waitFor(() => got.includes(id), 10_000, 'delivery after the node reconnected');
    } finally {
      b.stopListening();
    }
  });

  it('a listening node reconnects by itself after the relay restarts', async () => {
    const relay = await startTestRelay();
    const a = await enrolNode(relay, 'sn.moj');
    open.push(a);
    const b = await enrolNode(relay, 'ke.ag');
    open.push(b);
    const got: string[] = [];
    let connects = 0;
    await b.listen({
      onReceive: (o) => o.kind === 'message' && got.push(o.message.id),
      onConnect: () => connects++,
    });
    try {
      const port = Number(new URL(relay.url).port);
      await relay.close();
      const again = await buildRelay({ dataDir: relay.dataDir, domain: relay.domain });
      await again.listen('127.0.0.1', port);
      open.push({ close: () => again.close() });
      await waitFor(() => connects >= 2, 15_000, 'the node to reconnect');
      const { id } = await a.send({ to: [b.authority], subject: 'after restart', body: 'delivered' });
      await waitFor(() => got.includes(id), 10_000, 'delivery after the restart');
    } finally {
      b.stopListening();
    }
  });

  it('delivers to every node a sender names, and never to another authority’s nodes', async () => {
    const { relay, a, b } = await setup();
    const c = await enrolNode(relay, 'ng.moj');
    open.push(c);
    await a.send({ to: [b.authority, c.authority], subject: 'to two', body: 'both' });
    await a.send({ to: [b.authority], subject: 'to one', body: 'only b' });
    expect((await b.fetchInbox()).length).toBe(2);
    const atC = await c.fetchInbox();
    expect(atC.map((o) => o.kind === 'message' && o.message.subject)).toEqual(['to two']);
  });
});
