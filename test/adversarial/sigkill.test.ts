/**
 * Nothing acknowledged is lost across kill -9: the relay answers `accepted` only after its commit,
 * and a node acknowledges a push only after its own commit.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import { EntraideError } from '../../shared/errors.ts';
import { PASSPHRASE, tempDir } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { BIN, ROOT, cli, spawnRelay, type RelayProcess } from '../support/processes.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function relayWithNodes(): Promise<{
  relay: RelayProcess;
  dataDir: string;
  a: AuthorityNode;
  bHome: string;
}> {
  const dataDir = tempDir('entraide-kill-relay-');
  const relay = await spawnRelay(dataDir);
  cleanup.push(() => relay.stop('SIGKILL'));
  const inviteFor = async (id: string) =>
    JSON.parse((await cli(['relay', 'invite', id, '--data', dataDir, '--json'])).stdout).code as string;
  const aHome = tempDir('entraide-kill-a-');
  const bHome = tempDir('entraide-kill-b-');
  await initNode({
    home: aHome,
    relayUrl: relay.url,
    invite: await inviteFor('sn.moj'),
    authorityId: 'sn.moj',
    nodeName: 'desk1',
    passphrase: PASSPHRASE,
  });
  await initNode({
    home: bHome,
    relayUrl: relay.url,
    invite: await inviteFor('ke.ag'),
    authorityId: 'ke.ag',
    nodeName: 'desk1',
    passphrase: PASSPHRASE,
  });
  const a = await AuthorityNode.open(aHome, PASSPHRASE);
  cleanup.push(() => a.close());
  return { relay, dataDir, a, bHome };
}

describe('kill -9', () => {
  it('the relay loses no envelope it has accepted', async () => {
    const { relay, dataDir, a, bHome } = await relayWithNodes();
    const accepted: string[] = [];
    // Sent while the relay was down: sealed and kept in the node's outbox, not acknowledged.
    const queued: string[] = [];
    let refused = 0;
    let killed = false;
    // Waves of concurrent sends; the relay is killed while a wave is in flight.
    for (let wave = 0; wave < 40 && !killed; wave++) {
      const sends = Array.from({ length: 10 }, (_, i) =>
        a.send({ to: ['ke.ag@relay.test'], subject: `wave ${wave}.${i}`, body: 'x'.repeat(1024) }).then(
          (r) => (r.queued ? queued : accepted).push(r.id),
          (err: unknown) => {
            expect(err).toBeInstanceOf(EntraideError);
            refused++;
          },
        ),
      );
      if (wave === 5) {
        await new Promise((r) => setTimeout(r, 2));
        await relay.stop('SIGKILL');
        killed = true;
      }
      await Promise.all(sends);
    }
    expect(killed).toBe(true);
    expect(accepted.length).toBeGreaterThanOrEqual(50);

    const again = await spawnRelay(dataDir, relay.port);
    cleanup.push(() => again.stop('SIGKILL'));
    const b = await AuthorityNode.open(bHome, PASSPHRASE);
    cleanup.push(() => b.close());
    await b.fetchInbox();
    const stored = new Set(b.inbox(10_000).map((m) => m.id));
    const lost = accepted.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    expect(refused + accepted.length + queued.length).toBe(60);

    // What waited in the outbox goes out once the relay is back, each item once.
    expect(a.outbox.size).toBe(queued.length);
    await a.resendPending(0);
    expect(a.outbox.size).toBe(0);
    await b.fetchInbox();
    const ids = b.inbox(10_000).map((m) => m.id);
    expect(queued.filter((id) => !ids.includes(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a node loses no envelope it has acknowledged', async () => {
    const { dataDir, a, bHome } = await relayWithNodes();
    const sent: string[] = [];
    for (let i = 0; i < 60; i++)
      sent.push((await a.send({ to: ['ke.ag@relay.test'], subject: `n ${i}`, body: 'y'.repeat(1024) })).id);

    const listener = spawn(process.execPath, [BIN, '--home', bHome, 'listen', '--json'], {
      cwd: ROOT,
      env: { ...process.env, ENTRAIDE_PASSPHRASE: PASSPHRASE },
    });
    let lines = 0;
    listener.stdout.on(
      'data',
      (d: Buffer) =>
        (lines += d
          .toString()
          .split('\n')
          .filter((l) => l.includes('"message"')).length),
    );
    await waitFor(() => lines >= 10, 20_000, 'the listener to receive some messages');
    listener.kill('SIGKILL');
    await new Promise((r) => listener.once('exit', r));

    // What the relay records as delivered must be on the node's disk.
    const relayDb = new Database(join(dataDir, 'relay.db'), { readonly: true });
    const delivered = (
      relayDb.prepare(`SELECT envelopeId FROM "Delivery" WHERE state = 'delivered'`).all() as {
        envelopeId: string;
      }[]
    ).map((r) => r.envelopeId);
    relayDb.close();
    expect(delivered.length).toBeGreaterThan(0);

    const b = await AuthorityNode.open(bHome, PASSPHRASE); // takes over the dead process's lock
    cleanup.push(() => b.close());
    const stored = new Set(b.inbox(10_000).map((m) => m.id));
    expect(delivered.filter((id) => !stored.has(id))).toEqual([]);

    await b.fetchInbox();
    expect(new Set(b.inbox(10_000).map((m) => m.id))).toEqual(new Set(sent));
  });
});
