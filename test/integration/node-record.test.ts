/**
 * Each node's own record: what it sent, received and opened, and the receipts it holds, as a
 * Merkle log whose heads the node signs. It verifies after real traffic and across a restart of the
 * node, and a direct edit of the node's database is caught.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorityNode } from '../../client/node.ts';
import { recordEvents, verifyRecord } from '../../client/record.ts';
import { enrolNode, PASSPHRASE, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { preservationDraft } from '../support/requests.ts';

describe('a node’s own record', () => {
  let relay: TestRelay;
  let sn: AuthorityNode;
  let ke: AuthorityNode;
  const sent: string[] = [];
  let request = '';

  beforeAll(async () => {
    relay = await startTestRelay();
    sn = await enrolNode(relay, 'sn.moj');
    ke = await enrolNode(relay, 'ke.ag');
    for (let i = 0; i < 2; i++)
      sent.push((await sn.send({ to: [ke.authority], subject: `s${i}`, body: 'b' })).id);
    request = (
      await sn.requests.create({
        type: 'expedited_preservation',
        to: ke.authority,
        draft: preservationDraft(),
      })
    ).id;
    await ke.fetchInbox();
    ke.read(sent[0]!);
    await ke.receipts.flush();
    await waitFor(
      async () => {
        await sn.fetchInbox();
        return recordEvents(sn).filter((e) => e.kind === 'receipt').length >= 4;
      },
      10_000,
      'the receipts at Senegal',
    );
  });
  afterAll(async () => {
    await sn?.close();
    await ke?.close();
    await relay?.close();
  });

  it('records what was sent, received, opened, and each receipt held', () => {
    const mine = recordEvents(sn);
    expect(mine.filter((e) => e.kind === 'sent').map((e) => e.item)).toEqual([
      'message',
      'message',
      'request',
    ]);
    const receipts = mine
      .filter((e) => e.kind === 'receipt')
      .map((e) => [e.envelope, e.receipt!.kind, e.receipt!.node]);
    expect(receipts).toEqual(
      expect.arrayContaining([
        [sent[0], 'delivered', ke.address],
        [sent[1], 'delivered', ke.address],
        [sent[0], 'read', ke.address],
      ]),
    );
    const theirs = recordEvents(ke);
    expect(theirs.filter((e) => e.kind === 'received')).toHaveLength(3);
    expect(theirs.find((e) => e.kind === 'received' && e.item === 'request')?.counterparts).toEqual([
      sn.address,
    ]);
    expect(theirs.filter((e) => e.kind === 'opened').map((e) => e.envelope)).toEqual([sent[0]]);
    expect(theirs.every((e) => e.node === ke.address)).toBe(true);
    expect(JSON.stringify(theirs)).not.toMatch(/Preservation|fraud/);
    expect(request).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('verifies against every head the node signed, also after the node is closed and opened again', async () => {
    expect(verifyRecord(sn).problem).toBeNull();
    const home = ke.home;
    await ke.close();
    ke = await AuthorityNode.open(home, PASSPHRASE);
    await sn.send({ to: [ke.authority], subject: 'after', body: 'b' });
    await ke.fetchInbox();
    const r = verifyRecord(ke);
    expect(r.problem).toBeNull();
    expect(r.heads).toBeGreaterThanOrEqual(2);
    expect(r.size).toBe(recordEvents(ke).length);
  });

  it('catches a direct edit of the node’s database', () => {
    ke.recordHead(); // the node has signed what it holds now
    const db = new Database(join(ke.home, 'node.db'));
    try {
      db.prepare(
        `UPDATE "NodeLogEntry" SET leaf = replace(leaf, '"opened"', '"received"') WHERE kind = 'opened'`,
      ).run();
    } finally {
      db.close();
    }
    const r = verifyRecord(ke);
    expect(r.problem).not.toBeNull();
  });
});
