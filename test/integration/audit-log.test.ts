/**
 * The relay's audit log with real traffic: every accepted, delivered and refused event has one
 * entry, with metadata only; proofs read from the stored subtree hashes verify against signed
 * heads; the log survives a restart; and direct edits of the database (modify, delete, reorder,
 * insert, cut the tail) are caught by streaming verification against the heads signed before.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import { auditLeafHashOfText } from '../../shared/audit/audit-event.ts';
import { LogVerifier } from '../../shared/audit/verify-log.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { headRoot } from '../../shared/keys/tree-head.ts';
import { verifyConsistency } from '../../shared/merkle/verify-consistency.ts';
import { verifyInclusion } from '../../shared/merkle/verify-inclusion.ts';
import type { SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function relayWithTraffic(messages: number) {
  const relay = await startTestRelay();
  cleanup.push(() => relay.close());
  const sn = await enrolNode(relay, 'sn.moj');
  cleanup.push(() => sn.close());
  const ke = await enrolNode(relay, 'ke.ag');
  cleanup.push(() => ke.close());
  const ids: string[] = [];
  for (let i = 0; i < messages; i++)
    ids.push((await sn.send({ to: [ke.authority], subject: `secret subject ${i}`, body: 'secret body' })).id);
  await ke.fetchInbox();
  return { relay, sn, ke, ids };
}

function events(relay: TestRelay): AuditEvent[] {
  return relay.relay.store.audit.entries(0, 100_000).map((e) => JSON.parse(e.leaf) as AuditEvent);
}

/** What an auditor does: stream every entry's leaf hash through the verifier with the heads. */
function verify(relay: TestRelay, leaves: string[], heads: SignedTreeHead[]) {
  const v = new LogVerifier({
    log: 'audit',
    relay: relay.domain,
    relayKey: fromBase64url(relay.relay.identity.publicKeyB64, 'key', 32),
  });
  heads.forEach((h) => v.addHead(h));
  leaves.forEach((leaf, i) => v.addLeafHash(i, auditLeafHashOfText(leaf)));
  return v.finish();
}

describe('the relay audit log', () => {
  it('has one accepted and one delivered entry per message, with metadata and no content', async () => {
    const { relay, ke, ids } = await relayWithTraffic(3);
    const log = events(relay);
    for (const id of ids) {
      const mine = log.filter((e) => e.envelope === id);
      expect(mine.map((e) => e.kind)).toEqual(['accepted', 'delivered']);
      expect(mine[0]).toMatchObject({ recipients: [ke.authority], relay: relay.domain });
      expect(mine[0]!.ciphertextHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(mine[1]!.node).toBe(ke.address);
    }
    const all = relay.relay.store.audit
      .entries(0, 1000)
      .map((e) => e.leaf)
      .join('\n');
    expect(all).not.toMatch(/secret/);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i));
  });

  it('proves every entry and the consistency of two heads from the stored subtree hashes', async () => {
    const { relay, sn, ke } = await relayWithTraffic(5);
    const first = relay.relay.audit.head();
    await sn.send({ to: [ke.authority], subject: 'more', body: 'more' });
    await ke.fetchInbox();
    const second = relay.relay.audit.head();
    expect(second.size).toBeGreaterThan(first.size);
    const store = relay.relay.store.audit;
    store.entries(0, 1000).forEach((e) => {
      verifyInclusion(
        auditLeafHashOfText(e.leaf),
        e.seq,
        second.size,
        store.inclusionProof(e.seq, second.size),
        headRoot(second),
      );
    });
    verifyConsistency(
      first.size,
      second.size,
      headRoot(first),
      headRoot(second),
      store.consistencyProof(first.size, second.size),
    );
    expect(
      verify(
        relay,
        store.entries(0, 1000).map((e) => e.leaf),
        [first, second],
      ),
    ).toBeNull();
  });

  it('counts refused anonymous requests per code and source, with the first one’s path', async () => {
    const { relay } = await relayWithTraffic(1);
    relay.relay.audit.flushRefusals();
    const before = relay.relay.store.audit.size;
    for (let i = 0; i < 2; i++) {
      const bad = await fetch(`${relay.url}/v1/inbox`, { headers: { authorization: 'Bearer not-a-token' } });
      expect(bad.status).toBe(401);
    }
    const noAuth = await fetch(`${relay.url}/v1/envelopes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noAuth.status).toBe(401);
    expect(relay.relay.store.audit.size).toBe(before);
    relay.relay.audit.flushRefusals(); // the end of the interval
    const added = events(relay).slice(before);
    expect(added.map((e) => [e.kind, e.reason, e.count, e.source])).toEqual([
      ['auth_failed', 'TOKEN_INVALID', 2, '127.0.0.1'],
      ['auth_failed', 'AUTH_REQUIRED', 1, '127.0.0.1'],
    ]);
    expect(added[0]!.detail).toBe('GET /v1/inbox');
  });

  it('counts a probe of a path that does not exist, in one printable line', async () => {
    const { relay } = await relayWithTraffic(1);
    relay.relay.audit.flushRefusals();
    const before = relay.relay.store.audit.size;
    const r = await fetch(`${relay.url}/v1/nothing-here%0d%0a%1b[31mX`);
    expect(r.status).toBe(404);
    relay.relay.audit.flushRefusals();
    const added = events(relay).slice(before);
    expect(added.map((e) => [e.kind, e.reason, e.count])).toEqual([['rejected', 'NOT_FOUND', 1]]);
    for (const ch of ['\r', '\n', '\u001b']) expect(added[0]!.detail).not.toContain(ch);
  });

  it('counts a refused socket.io handshake under its source', async () => {
    const { relay } = await relayWithTraffic(1);
    relay.relay.audit.flushRefusals();
    const before = relay.relay.store.audit.size;
    const socket = io(relay.url, {
      auth: { token: 'not-a-token' },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve) => socket.once('connect_error', () => resolve()));
    socket.close();
    relay.relay.audit.flushRefusals();
    const added = events(relay).slice(before);
    expect(added.map((e) => [e.kind, e.reason, e.detail, e.count, e.source])).toEqual([
      ['auth_failed', 'TOKEN_INVALID', 'socket.io handshake', 1, '127.0.0.1'],
    ]);
  });

  it('continues the same tree after a restart', async () => {
    const relay = await startTestRelay();
    const dataDir = relay.dataDir;
    const sn = await enrolNode(relay, 'sn.moj');
    const ke = await enrolNode(relay, 'ke.ag');
    await sn.send({ to: [ke.authority], subject: 'a', body: 'b' });
    await ke.fetchInbox();
    const before = relay.relay.audit.head();
    await relay.close();
    const again = await startTestRelay({ dataDir, port: Number(new URL(relay.url).port) });
    cleanup.push(() => again.close());
    cleanup.push(() => sn.close());
    cleanup.push(() => ke.close());
    await sn.send({ to: [ke.authority], subject: 'c', body: 'd' });
    await ke.fetchInbox();
    const after = again.relay.audit.head();
    const store = again.relay.store.audit;
    expect(
      verify(
        again,
        store.entries(0, 1000).map((e) => e.leaf),
        [before, after],
      ),
    ).toBeNull();
    verifyConsistency(
      before.size,
      after.size,
      headRoot(before),
      headRoot(after),
      store.consistencyProof(before.size, after.size),
    );
  });

  describe('direct edits of the database are caught', () => {
    async function tampered(edit: (db: Database.Database) => void) {
      const { relay } = await relayWithTraffic(4);
      const heads = [relay.relay.audit.head()];
      const db = new Database(join(relay.dataDir, 'relay.db'));
      try {
        edit(db);
      } finally {
        db.close();
      }
      const reader = new Database(join(relay.dataDir, 'relay.db'), { readonly: true });
      try {
        const leaves = reader
          .prepare<[], { leaf: string }>('SELECT leaf FROM "AuditEntry" ORDER BY seq')
          .all()
          .map((r) => r.leaf);
        return verify(relay, leaves, heads);
      } finally {
        reader.close();
      }
    }

    it('a modified entry', async () => {
      const p = await tampered((db) =>
        db
          .prepare(`UPDATE "AuditEntry" SET leaf = replace(leaf, '"seq":3', '"seq":3,"x":1') WHERE seq = 3`)
          .run(),
      );
      expect(p).not.toBeNull();
    });
    it('a deleted entry', async () => {
      expect(
        await tampered((db) => db.prepare('DELETE FROM "AuditEntry" WHERE seq = 1').run()),
      ).not.toBeNull();
    });
    it('two entries swapped', async () => {
      expect(
        await tampered((db) => {
          const rows = db
            .prepare<[], { seq: number; leaf: string }>(
              'SELECT seq, leaf FROM "AuditEntry" WHERE seq IN (1, 2)',
            )
            .all();
          const set = db.prepare('UPDATE "AuditEntry" SET leaf = ? WHERE seq = ?');
          set.run(rows[1]!.leaf, rows[0]!.seq);
          set.run(rows[0]!.leaf, rows[1]!.seq);
        }),
      ).not.toBeNull();
    });
    it('an inserted entry', async () => {
      expect(
        await tampered((db) => {
          db.prepare('UPDATE "AuditEntry" SET seq = seq + 1000 WHERE seq >= 2').run();
          db.prepare('UPDATE "AuditEntry" SET seq = seq - 999 WHERE seq >= 1000').run();
          db.prepare(
            `INSERT INTO "AuditEntry" (seq, at, kind, envelopeId, leaf) SELECT 2, at, kind, envelopeId, leaf FROM "AuditEntry" WHERE seq = 0`,
          ).run();
        }),
      ).not.toBeNull();
    });
    it('a cut tail', async () => {
      const p = await tampered((db) =>
        db.prepare('DELETE FROM "AuditEntry" WHERE seq = (SELECT max(seq) FROM "AuditEntry")').run(),
      );
      expect(p?.message).toMatch(/cut off/);
    });
  });
});
