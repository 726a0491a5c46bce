/**
 * Reconciling two federated relays' audit logs: what relay A recorded as forwarded to B equals
 * what B recorded as received from A, both ways; an entry removed from one relay's database shows
 * up as a difference (and as a log that no longer verifies).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditorClient, createAuditor, readAuditor } from '../../client/audit/auditor.ts';
import { reconcile } from '../../client/audit/relay-reconcile.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import { enrolNode, tempDir, type TestRelay, startPeeredRelays } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
const PASS = 'auditor passphrase';

describe('audit reconcile across two relays', () => {
  let a: TestRelay;
  let b: TestRelay;
  let sn: AuthorityNode;
  let ke: AuthorityNode;
  const home = tempDir('entraide-auditor-');
  let clients: [AuditorClient, AuditorClient];
  const ids: string[] = [];

  beforeAll(async () => {
    [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], { outbox: fast });
    sn = await enrolNode(a, 'sn.moj');
    ke = await enrolNode(b, 'ke.ag');
    for (let i = 0; i < 3; i++)
      ids.push((await sn.send({ to: [ke.authority], subject: `to ke ${i}`, body: 'b' })).id);
    ids.push((await ke.send({ to: [sn.authority], subject: 'to sn', body: 'b' })).id);
    await waitFor(
      async () => (await ke.fetchInbox()).length > 0 || ke.inbox().length >= 3,
      15_000,
      'messages at ke',
    );
    await waitFor(
      async () => {
        await sn.fetchInbox();
        return sn.inbox().length >= 1;
      },
      15_000,
      'message at sn',
    );
    // One auditor, with an account on each relay, in one folder.
    for (const r of [a, b]) {
      const creds = await createAuditor(home, { name: 'alice', relayUrl: r.url, passphrase: PASS });
      await r.relay.store.addAuditor('alice', creds.publicKey, new Date());
    }
    clients = [
      new AuditorClient(readAuditor(home, PASS, a.url)),
      new AuditorClient(readAuditor(home, PASS, 'relay.b.test')),
    ];
  });
  afterAll(async () => {
    await sn?.close();
    await ke?.close();
    await a?.close();
    await b?.close();
  });

  it('matches every forwarded envelope with its reception, both ways', async () => {
    // Receipts travel back as envelopes too: wait until both outboxes are empty.
    await waitFor(
      async () => {
        const r = await reconcile(...clients);
        return (
          r.directions.every((d) => d.notReceived.length === 0 && d.notForwarded.length === 0) &&
          r.directions[0]!.matched >= 3
        );
      },
      15_000,
      'both logs to agree',
    );
    const r = await reconcile(...clients);
    expect(r.logs.map((l) => [l.relay, l.problem])).toEqual([
      ['relay.a.test', null],
      ['relay.b.test', null],
    ]);
    const [ab, ba] = r.directions;
    expect([ab!.from, ab!.to, ba!.from, ba!.to]).toEqual([
      'relay.a.test',
      'relay.b.test',
      'relay.b.test',
      'relay.a.test',
    ]);
    expect(ab!.matched).toBeGreaterThanOrEqual(3);
    expect(ba!.matched).toBeGreaterThanOrEqual(1);
  });

  it('gossips audit heads: each relay keeps the other’s, and the auditor holds each log to them', async () => {
    for (const r of [a, b]) {
      await r.relay.ctx.federation.peers.load();
      const found = await r.relay.ctx.federation.gossip.round();
      expect([...found.values()]).toEqual([null]);
    }
    const seenByA = (await clients[0].peers()).find((p) => p.domain === 'relay.b.test')!;
    expect(seenByA.auditHead).toMatchObject({ log: 'audit', relay: 'relay.b.test' });
    expect(seenByA.auditHead!.size).toBeGreaterThan(0);
    const r = await reconcile(...clients);
    expect(r.logs.map((l) => l.problem)).toEqual([null, null]);
    expect(r.alarms).toEqual([]);
  });

  it('catches a relay that showed its peer another audit history (a split view)', async () => {
    // Relay B's key signs a head of its current size over another root, and A kept it by gossip.
    const real = await clients[1].head();
    const forked = signTreeHead(
      {
        log: 'audit',
        relay: 'relay.b.test',
        size: real.size,
        root: new Uint8Array(32).fill(7),
        timestamp: new Date(),
      },
      b.relay.identity.secretKey,
    );
    await a.relay.store.peerAuditHead('relay.b.test', JSON.stringify(forked));
    const r = await reconcile(...clients);
    expect(r.logs[0]!.problem).toBeNull();
    expect(r.logs[1]!.problem?.message).toMatch(/two different|split|different root/i);
    // A's next gossip round sees B's real head of that size: a fork, kept as an alarm on B.
    await a.relay.ctx.federation.peers.load();
    const found = await a.relay.ctx.federation.gossip.round();
    expect(found.get('relay.b.test')).toMatch(/two different audit logs of size \d+: a fork/);
    const after = await reconcile(...clients);
    // A shows B the two heads; B learns that a head its key signed was never its log's.
    expect(after.alarms).toEqual([
      { relay: 'relay.a.test', peer: 'relay.b.test', alarm: expect.stringMatching(/a fork/) },
      {
        relay: 'relay.b.test',
        peer: 'relay.a.test',
        alarm: expect.stringMatching(/root our audit log never had/),
      },
    ]);
  });

  it('needs the relay named when the folder holds several accounts', () => {
    expect(() => readAuditor(home, PASS)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => readAuditor(home, PASS, 'relay.c.test')).toThrow(
      expect.objectContaining({ code: 'AUDITOR_MISSING' }),
    );
  });

  it('shows an entry deleted from one relay’s database as a difference and a broken log', async () => {
    await clients[1].head(); // a head that covers B's entries as they are
    const db = new Database(join(b.dataDir, 'relay.db'));
    try {
      db.prepare(`DELETE FROM "AuditEntry" WHERE kind = 'received' AND envelopeId = ?`).run(ids[0]);
    } finally {
      db.close();
    }
    const r = await reconcile(...clients);
    expect(r.directions[0]!.notReceived).toContain(ids[0]);
    expect(r.logs[1]!.problem).not.toBeNull();
  });
});
