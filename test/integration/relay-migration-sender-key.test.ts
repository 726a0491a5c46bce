/**
 * Migration relay/0008_envelope_sender_key on a relay database that holds what a running relay
 * leaves behind: envelopes keyed by id alone, deliveries pending and done, an outbox row, delivery
 * reports. After it, every row names its envelope by (id, sender), nothing waiting is lost, the
 * sequences go on from where they were, and another sender may use a stored id.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listMigrations } from '../../prisma/migrate.ts';
import { RelayStore, type NewEnvelope } from '../../server/storage/relay-store.ts';
import { envelopeKey } from '../../server/storage/waiting.ts';
import { removeDir, tempDir } from '../support/fixtures.ts';

const S1 = 'desk1/sn.moj@relay.a.test';
const S2 = 'desk1/ke.ag@relay.b.test';
const N1 = 'desk1/gh.moj@relay.a.test';
const N2 = 'desk2/gh.moj@relay.a.test';
const E1 = '0190a000-0000-7000-8000-000000000001';
const E2 = '0190a000-0000-7000-8000-000000000002';
const body = (id: string, from: string) => JSON.stringify({ id, from, ciphertext: 'AAAAAAAAAAAAAAAAAAAAAA' });

const dirs: string[] = [];
const stores: RelayStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

/** A relay database at migration 0007, as a relay of the previous version left it. */
function relayBefore0008(dir: string): void {
  const db = new Database(join(dir, 'relay.db'));
  db.pragma('foreign_keys = ON');
  db.exec(`CREATE TABLE "_entraide_migrations" (
    "name" TEXT NOT NULL PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`);
  for (const m of listMigrations('relay').filter((m) => m.name < '0008')) {
    db.exec(m.sql);
    db.prepare('INSERT INTO "_entraide_migrations" VALUES (?, ?, ?)').run(m.name, m.checksum, 'then');
  }
  const at = new Date().toISOString();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const envelope = db.prepare(
    'INSERT INTO "Envelope" (id, sender, hash, size, body, acceptedAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  envelope.run(E1, S1, 'h1', 10, body(E1, S1), at, later);
  envelope.run(E2, S2, 'h2', 10, body(E2, S2), at, later);
  const delivery = db.prepare(
    'INSERT INTO "Delivery" (envelopeId, node, state, deliveredAt) VALUES (?, ?, ?, ?)',
  );
  delivery.run(E1, N1, 'pending', null);
  delivery.run(E1, N2, 'delivered', at);
  delivery.run(E2, N1, 'delivered', at);
  db.prepare(
    `INSERT INTO "Outbox" (peer, envelopeId, state, attempts, nextAttemptAt) VALUES ('relay.b.test', ?, 'pending', 2, ?)`,
  ).run(E1, at);
  db.prepare(
    `INSERT INTO "DeliveryReport" (peer, envelopeId, node, deliveredAt, state, attempts, nextAttemptAt)
     VALUES ('relay.b.test', ?, ?, ?, 'pending', 0, ?)`,
  ).run(E2, N1, at, at);
  db.close();
}

describe('relay migration 0008: envelopes keyed by sender and id', () => {
  it('keeps every row, names each envelope by its pair, and lets another sender use a stored id', async () => {
    const dir = tempDir('entraide-migrate-0008-');
    dirs.push(dir);
    relayBefore0008(dir);
    const store = RelayStore.open(dir);
    stores.push(store);
    store.setLocalDomain('relay.a.test');

    expect(store.deliveries(E1, S1).map((d) => [d.node, d.state])).toEqual([
      [N1, 'pending'],
      [N2, 'delivered'],
    ]);
    expect(store.pendingPage(N1, 0, 10, 1e6).envelopes).toEqual([
      { seq: 1, envelopeId: E1, sender: S1, body: body(E1, S1) },
    ]);
    expect(store.outboxBatch('relay.b.test', 10, 1e6)).toEqual([
      expect.objectContaining({ envelopeId: E1, sender: S1, attempts: 2, body: body(E1, S1) }),
    ]);
    expect(store.reportsDue('relay.b.test', 10)).toEqual([
      expect.objectContaining({ envelopeId: E2, sender: S2, node: N1 }),
    ]);
    expect([...store.waitingEnvelopes()].map((w) => [w.key, w.node])).toEqual([
      [envelopeKey(S1, E1), N1],
      [envelopeKey(S1, E1), null],
    ]);

    // Another sender under E1: stored beside it, its delivery numbered after the old ones.
    const squat: NewEnvelope = {
      id: E1,
      sender: 'desk1/ma.mj@relay.a.test',
      hash: 'h3',
      body: body(E1, 'desk1/ma.mj@relay.a.test'),
      acceptedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      recipientNodes: [N1],
      peers: [],
      to: ['gh.moj@relay.a.test'],
      ciphertextHash: 'x'.repeat(43),
      fromPeer: null,
    };
    expect(await store.acceptEnvelope(squat)).toMatchObject({
      kind: 'accepted',
      conflicts: [{ otherSender: S1 }],
    });
    expect(store.pendingPage(N1, 0, 10, 1e6).envelopes.map((e) => [e.seq, e.sender])).toEqual([
      [1, S1],
      [4, squat.sender],
    ]);
    // The same sender reusing E1 for something else is still refused, and stores nothing.
    await expect(store.acceptEnvelope({ ...squat, hash: 'h4' })).rejects.toMatchObject({
      code: 'ENVELOPE_ID_CONFLICT',
    });
    expect(store.envelopesUnder(E1).map((e) => e.sender)).toEqual([S1, squat.sender]);
  });
});
