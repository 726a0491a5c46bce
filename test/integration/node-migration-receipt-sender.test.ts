/**
 * Migration node/0009_receipt_sender on a node database at 0008 that holds receipts: received as
 * evidence, issued and sent, issued and still queued. After it every receipt is kept, names the
 * sender of its envelope as the signed receipt does, still verifies, stays queued when it was, and
 * another sender's envelope under the same id may have receipts of its own.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeStore } from '../../client/store/node-store.ts';
import type { ReceiptRow } from '../../client/store/request-store.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { listMigrations } from '../../prisma/migrate.ts';
import {
  Receipt,
  receiptHash,
  signReceipt,
  verifyReceipt,
  type ReceiptKind,
} from '../../shared/receipts/receipt.ts';
import { check } from '../../shared/protocol/validate.ts';
import { removeDir, tempDir } from '../support/fixtures.ts';
import { random } from '../support/random.ts';

const SN = 'desk1/sn.moj@relay.a.test';
const MA = 'desk1/ma.mj@relay.a.test';
const GH = 'desk1/gh.moj@relay.a.test';
const E1 = '0190a000-0000-7000-8000-000000000001';
const E2 = '0190a000-0000-7000-8000-000000000002';
const E3 = '0190a000-0000-7000-8000-000000000003';
const AT = '2026-01-05T10:00:00.000Z';

const dirs: string[] = [];
const stores: NodeStore[] = [];
beforeAll(loadSodium);
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

/** A receipt row as the previous version wrote it (no `sender` column), with its signed receipt. */
function row(
  key: { secretKey: Uint8Array; publicKey: Uint8Array },
  r: { envelope: string; kind: ReceiptKind; sender: string; node: string },
  stored: { direction: 'in' | 'out'; target: string | null; sentIn: string | null },
): Omit<ReceiptRow, 'sender'> {
  const receipt = signReceipt(
    { v: 1, ...r, ciphertextHash: toBase64url(randomBytes(32)), at: AT },
    key.secretKey,
  );
  return {
    hash: receiptHash(receipt),
    envelopeId: r.envelope,
    kind: r.kind,
    node: r.node,
    at: AT,
    signed: JSON.stringify(receipt),
    identityKey: toBase64url(key.publicKey),
    storedAt: AT,
    ...stored,
  };
}

describe('node migration 0009: receipts name the sender of their envelope', () => {
  it('keeps every receipt, fills its sender from the signed receipt, and keys it by (id, sender)', async () => {
    const dir = tempDir('entraide-migrate-node-0009-');
    dirs.push(dir);
    const file = join(dir, 'node.db');
    const gh = generateSigningKeyPair(random);
    const sn = generateSigningKeyPair(random);
    // On sn.moj's node: gh.moj's receipts for what sn.moj sent; its own for what ma.mj sent it.
    const rows = [
      row(
        gh,
        { envelope: E1, kind: 'delivered', sender: SN, node: GH },
        { direction: 'in', target: null, sentIn: null },
      ),
      row(
        gh,
        { envelope: E1, kind: 'read', sender: SN, node: GH },
        { direction: 'in', target: null, sentIn: null },
      ),
      row(
        sn,
        { envelope: E2, kind: 'delivered', sender: MA, node: SN },
        { direction: 'out', target: 'ma.mj@relay.a.test', sentIn: E3 },
      ),
      row(
        sn,
        { envelope: E2, kind: 'read', sender: MA, node: SN },
        { direction: 'out', target: 'ma.mj@relay.a.test', sentIn: null },
      ),
    ];
    const old = new Database(file);
    old.exec(`CREATE TABLE "_entraide_migrations" (
      "name" TEXT NOT NULL PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`);
    for (const m of listMigrations('node').filter((m) => m.name < '0009')) {
      old.exec(m.sql);
      old.prepare('INSERT INTO "_entraide_migrations" VALUES (?, ?, ?)').run(m.name, m.checksum, AT);
    }
    const insert = old.prepare(
      `INSERT INTO "Receipt" (hash, envelopeId, kind, node, at, signed, identityKey, direction, target, sentIn, storedAt)
       VALUES (@hash, @envelopeId, @kind, @node, @at, @signed, @identityKey, @direction, @target, @sentIn, @storedAt)`,
    );
    for (const r of rows) insert.run(r);
    // A row whose signed receipt does not parse (none is written so): the sender of its Message.
    const unreadable = { ...rows[0]!, hash: 'unreadable', envelopeId: E3, signed: 'not json' };
    insert.run(unreadable);
    old
      .prepare(
        `INSERT INTO "Message" (id, direction, sender, recipients, subject, body, sentAt, envelope)
         VALUES (?, 'out', ?, '[]', 's', 'b', ?, '{}')`,
      )
      .run(E3, SN, AT);
    old.close();

    const store = NodeStore.open(file, randomBytes(32));
    stores.push(store);
    const receipts = store.requests;

    // Evidence for E1 by its sender; nothing under another sender.
    const evidence = receipts.receiptsFor({ id: E1, sender: SN });
    expect(evidence).toEqual([rows[0], rows[1]].map((r) => ({ ...r, sender: SN })));
    for (const r of evidence) {
      expect(verifyReceipt(check(Receipt, JSON.parse(r.signed), 'receipt'), r.identityKey)).toBe(true);
    }
    expect(receipts.receiptsFor({ id: E1, sender: MA })).toEqual([]);
    expect(receipts.receiptsFor({ id: E3, sender: SN })).toEqual([{ ...unreadable, sender: SN }]);
    // What sn.moj issued: kept, the one not yet sent still queued.
    expect(receipts.receiptsFromAuthority(E2, 'ma.mj@relay.a.test')).toEqual(
      [rows[2], rows[3]].map((r) => ({ ...r, sender: MA })),
    );
    expect(receipts.unsentReceipts()).toEqual([{ ...rows[3], sender: MA }]);
    expect(receipts.hasReceipt({ id: E2, sender: MA }, SN, 'read')).toBe(true);
    expect(receipts.hasReceipt({ id: E2, sender: GH }, SN, 'read')).toBe(false);

    // The key is (id, sender, node, kind): another sender's envelope under E2 gets its own receipt;
    // the same receipt again is still a duplicate.
    const squatted = row(
      sn,
      { envelope: E2, kind: 'read', sender: GH, node: SN },
      { direction: 'out', target: 'gh.moj@relay.a.test', sentIn: null },
    );
    expect(receipts.insertReceipt({ ...squatted, sender: GH, storedAt: '2026-01-05T11:00:00.000Z' })).toBe(
      true,
    );
    expect(receipts.insertReceipt({ ...squatted, hash: 'another', sender: GH })).toBe(false);
    expect(receipts.unsentReceipts().map((r) => r.sender)).toEqual([MA, GH]);
  });
});
