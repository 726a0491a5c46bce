/**
 * The node's content columns sealed under its database key, on a real SQLite file: a value opens
 * only in the row and column it was sealed for and under the key it was sealed with (otherwise
 * STORE_CORRUPT, naming the row, never the content); a database written before sealing is sealed
 * in place at its first opening, all in one transaction, and reads the same afterwards.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeStore, type NewMessage } from '../../client/store/node-store.ts';
import { SealedColumns } from '../../client/store/sealed-columns.ts';
import { migrate } from '../../prisma/migrate.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { EntraideError } from '../../shared/errors.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { removeDir, tempDir } from '../support/fixtures.ts';

const canary = (what: string) => `${what}-${randomBytes(8).toString('hex')}`;

function message(over: Partial<NewMessage> = {}): NewMessage {
  const at = new Date().toISOString();
  return {
    id: uuidv7(Date.now(), randomBytes(10)),
    direction: 'in',
    sender: 'desk1/sn.moj@relay.test',
    recipients: ['ke.ag@relay.test'],
    subject: canary('SUBJECT'),
    body: canary('BODY'),
    language: null,
    sentAt: at,
    receivedAt: at,
    acceptedAt: null,
    envelope: '{}',
    kind: 'message',
    requestId: null,
    handling: null,
    content: null,
    ...over,
  };
}

/** The code of what `fn` throws (and its message), or fails the test when it throws nothing. */
function refusal(fn: () => unknown): EntraideError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EntraideError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

function fileBytes(file: string): Buffer {
  return Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
}

let dir: string;
let stores: NodeStore[] = [];
const open = (file: string, key: Uint8Array) => {
  const s = NodeStore.open(file, key);
  stores.push(s);
  return s;
};

beforeAll(async () => {
  await loadSodium();
});
afterEach(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  stores = [];
  if (dir) removeDir(dir);
});

describe('sealed columns', () => {
  it('open a value only in its own row and column, under its own key', async () => {
    dir = tempDir('entraide-sealed-');
    const file = join(dir, 'node.db');
    const key = randomBytes(32);
    const store = open(file, key);
    const [a, b] = [message(), message()];
    await store.saveMessage(a);
    await store.saveMessage(b);
    expect(store.message(b.id)).toMatchObject({ subject: b.subject, body: b.body });

    // A's body copied into B's row, then A's subject into A's body: neither opens.
    const raw = store.db;
    raw
      .prepare('UPDATE "Message" SET body = (SELECT body FROM "Message" WHERE id = ?) WHERE id = ?')
      .run(a.id, b.id);
    const moved = refusal(() => store.message(b.id));
    expect(moved.code).toBe('STORE_CORRUPT');
    expect(moved.message).toContain(`Message.body of row "${b.id}"`);
    expect(moved.message).not.toContain(a.body);
    // A listing opens each body when it is first read (JSON included), and refuses it the same way.
    const listed = store.list('in');
    expect(JSON.parse(JSON.stringify(listed.find((m) => m.id === a.id)))).toMatchObject({ body: a.body });
    expect(refusal(() => listed.map((m) => m.body)).code).toBe('STORE_CORRUPT');
    raw.prepare('UPDATE "Message" SET body = subject WHERE id = ?').run(a.id);
    expect(refusal(() => store.message(a.id)).code).toBe('STORE_CORRUPT');

    // A clear value where a sealed one belongs, and a damaged one, are refused the same way.
    const c = message();
    await store.saveMessage(c);
    raw.prepare('UPDATE "Message" SET subject = ? WHERE id = ?').run('written by hand', c.id);
    expect(refusal(() => store.message(c.id)).message).toMatch(/is not sealed/);
    const d = message();
    await store.saveMessage(d);
    const sealed = raw
      .prepare<[string], { subject: string }>('SELECT subject FROM "Message" WHERE id = ?')
      .get(d.id)!;
    const flipped = sealed.subject.slice(0, -2) + (sealed.subject.endsWith('AA') ? 'AB' : 'AA');
    raw.prepare('UPDATE "Message" SET subject = ? WHERE id = ?').run(flipped, d.id);
    expect(refusal(() => store.message(d.id)).code).toBe('STORE_CORRUPT');
    await store.close();

    // Another key is refused at opening, before anything is read or written.
    const wrong = refusal(() => NodeStore.open(file, randomBytes(32)));
    expect(wrong.code).toBe('STORE_CORRUPT');
    expect(wrong.message).toMatch(/does not open its content/);
  });

  it('seals in the sealer’s own form, and refuses a key that is not 32 bytes', () => {
    const sealer = new SealedColumns(randomBytes(32));
    const v = sealer.seal('Request.title', 'r1', 'Preservation — fraud ring');
    expect(v).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealer.seal('Request.title', 'r1', 'Preservation — fraud ring')).not.toBe(v); // fresh nonce
    expect(sealer.open('Request.title', 'r1', v)).toBe('Preservation — fraud ring');
    expect(refusal(() => sealer.open('Request.title', 'r2', v)).code).toBe('STORE_CORRUPT');
    expect(refusal(() => sealer.open('Request.content', 'r1', v)).code).toBe('STORE_CORRUPT');
    expect(refusal(() => new SealedColumns(randomBytes(31))).code).toBe('INTERNAL');
  });

  it('seals a database written before sealing at its first opening, all or nothing, and reads the same', async () => {
    dir = tempDir('entraide-sealed-');
    const file = join(dir, 'node.db');
    // A node.db as the release before sealing left it: every migration but 0007, content in clear.
    const old = new Database(file);
    migrate(old, 'node');
    old.exec(`DROP TABLE "ContentSeal"; DELETE FROM "_entraide_migrations" WHERE name LIKE '0007_%';`);
    const m = message();
    const content = JSON.stringify({ type: 'request', note: canary('CONTENT') });
    const req = {
      id: uuidv7(Date.now(), randomBytes(10)),
      title: canary('TITLE'),
      content: JSON.stringify({
        title: 'x',
        references: { requesting: canary('REF') },
        facts: canary('FACTS'),
      }),
    };
    const clear = {
      signed: JSON.stringify({ status: 'refused', note: canary('NOTE') }),
      state: JSON.stringify({ uid: 'm1', event: { title: canary('MEETING') } }),
      roster: JSON.stringify({ name: canary('NETWORK') }),
      reason: canary('REASON'),
    };
    old
      .prepare(
        `INSERT INTO "Message" (id, direction, sender, recipients, subject, body, sentAt, receivedAt, envelope, kind, content)
         VALUES (?, 'in', ?, '[]', ?, ?, ?, ?, '{}', 'message', ?)`,
      )
      .run(m.id, m.sender, m.subject, m.body, m.sentAt, m.receivedAt, content);
    old
      .prepare(
        `INSERT INTO "Request" (id, direction, requestType, requesting, requested, title, urgency, content, requestHash, createdAt, state, seq, tip)
         VALUES (?, 'in', 'mla', 'sn.moj@relay.test', 'ke.ag@relay.test', ?, 'routine', ?, 'h', ?, 'delivered', 0, 't')`,
      )
      .run(req.id, req.title, req.content, m.sentAt);
    old
      .prepare(
        `INSERT INTO "StatusUpdate" (hash, requestId, seq, status, byNode, at, signed, receivedAt) VALUES ('u1', ?, 1, 'refused', 'n', ?, ?, ?)`,
      )
      .run(req.id, m.sentAt, clear.signed, m.sentAt);
    old
      .prepare(
        `INSERT INTO "Meeting" (uid, organizer, startUtc, endUtc, sequence, state, updatedAt) VALUES ('m1', 'sn.moj@relay.test', ?, ?, 0, ?, ?)`,
      )
      .run(m.sentAt, m.sentAt, clear.state, m.sentAt);
    old
      .prepare(
        `INSERT INTO "Roster" (network, version, hash, signed, receivedAt) VALUES ('wacap', 2, 'h', ?, ?)`,
      )
      .run(clear.roster, m.sentAt);
    old
      .prepare(
        `INSERT INTO "HandlingOverride" (at, item, action, reason, node) VALUES (?, ?, 'read', ?, 'n')`,
      )
      .run(m.sentAt, m.id, clear.reason);
    // A sealing that fails half-way (here: on the last table) leaves everything as it was.
    old.exec(
      `CREATE TRIGGER stop BEFORE UPDATE ON "HandlingOverride" BEGIN SELECT RAISE(ABORT, 'disk full'); END;`,
    );
    old.close();
    expect(() => NodeStore.open(file, randomBytes(32))).toThrow(/disk full/);
    const still = new Database(file);
    expect(still.prepare('SELECT subject, body FROM "Message"').get()).toEqual({
      subject: m.subject,
      body: m.body,
    });
    expect(still.prepare('SELECT count(*) AS n FROM "ContentSeal"').get()).toEqual({ n: 0 });
    still.exec('DROP TRIGGER stop');
    still.close();

    const key = randomBytes(32);
    const expectSame = (store: NodeStore) => {
      expect(store.message(m.id)).toMatchObject({ subject: m.subject, body: m.body });
      expect(store.envelopeOf(m.id)?.content).toBe(content);
      expect(store.requests.requestById(req.id)).toMatchObject({ title: req.title, content: req.content });
      const ref = (JSON.parse(req.content) as { references: { requesting: string } }).references.requesting;
      expect(store.requests.request(ref)?.id).toBe(req.id);
      expect(store.requests.updates(req.id)[0]?.signed).toBe(clear.signed);
      expect(store.meetings.meeting('m1')?.state).toBe(clear.state);
      expect(store.meetings.latestRoster('wacap')?.signed).toBe(clear.roster);
      expect(store.requests.overrides(m.id)[0]?.reason).toBe(clear.reason);
    };
    const first = open(file, key);
    expectSame(first);
    await first.close();
    const bytes = fileBytes(file);
    expect(bytes.includes(Buffer.from(m.id))).toBe(true); // ids stay clear: the scan reads the rows
    for (const text of [m.subject, m.body, content, req.title, req.content, ...Object.values(clear)])
      expect(bytes.includes(Buffer.from(text)), `clear text left: ${text.slice(0, 12)}`).toBe(false);
    // Sealed once: the next opening finds the mark and reads the same.
    expectSame(open(file, key));
  });
});
