/**
 * Requests and receipts when the relay is away or a node is killed: an update made while the relay
 * is down is sealed to the counterpart's keys verified before and waits in the outbox (one for an
 * authority never contacted is refused with nothing stored); one stored before the link broke, and a receipt made
 * while the relay does not answer, stay queued, go out once it is back, and arrive exactly once; a listening node killed with SIGKILL right after storing a request loses
 * neither the request nor its delivery receipt.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { sleep, waitFor } from '../support/wait.ts';
import { BIN, ROOT, cli } from '../support/processes.ts';
import { preservationDraft } from '../support/requests.ts';

const NG = 'ng.moj@relay.test';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

/** A relay on a fixed data folder that can be stopped and started again on the same port. */
async function restartableRelay(): Promise<{
  current: () => TestRelay;
  url: string;
  stop: () => Promise<void>;
  restart: () => Promise<void>;
}> {
  const dataDir = tempDir('entraide-offline-relay-');
  let relay = await startTestRelay({ dataDir, port: 0 });
  let running = true;
  const port = Number(new URL(relay.url).port);
  expect(port).toBeGreaterThan(0);
  cleanup.push(async () => {
    if (running) await relay.close();
  });
  return {
    current: () => relay,
    url: relay.url,
    async stop() {
      await relay.close();
      running = false;
    },
    async restart() {
      relay = await startTestRelay({ dataDir, port });
      running = true;
      expect(relay.url).toBe(`http://127.0.0.1:${port}`);
    },
  };
}

async function twoNodes(relay: TestRelay): Promise<{ senegal: AuthorityNode; nigeria: AuthorityNode }> {
  const senegal = await enrolNode(relay, 'sn.moj');
  cleanup.push(() => senegal.close());
  const nigeria = await enrolNode(relay, 'ng.moj');
  cleanup.push(() => nigeria.close());
  return { senegal, nigeria };
}

describe('the relay is unreachable', () => {
  it('an update made while the relay is down waits in the outbox and goes out once when it is back', async () => {
    const r = await restartableRelay();
    const { senegal, nigeria } = await twoNodes(r.current());
    const ghana = await enrolNode(r.current(), 'gh.moj');
    cleanup.push(() => ghana.close());
    const created = await senegal.requests.create({
      type: 'expedited_preservation',
      to: NG,
      draft: preservationDraft(),
    });
    await nigeria.fetchInbox();
    expect(nigeria.requests.show(created.id).state).toBe('delivered');

    await r.stop();
    await sleep(500); // past the node's key-log freshness window: the node must ask the relay
    const later = new Date(Date.now() + 60_000).toISOString();
    // An authority whose keys this node never fetched cannot be sealed to: refused, nothing stored.
    await expect(
      nigeria.send({ to: ['gh.moj@relay.test'], subject: 'hello', body: 'first' }),
    ).rejects.toMatchObject({
      code: 'RELAY_UNREACHABLE',
    });
    expect(nigeria.store.unaccepted(later)).toEqual([]);
    expect(nigeria.sent()).toEqual([]);

    // Senegal's keys were verified when its request arrived: sealed to them, kept in the outbox.
    const queued = await nigeria.requests.update(created.id, 'acknowledged');
    expect(queued.sent).toMatchObject({ queued: true, acceptedAt: null });
    expect(nigeria.store.requests.updates(created.id)).toHaveLength(1);
    expect(nigeria.requests.show(created.id).state).toBe('acknowledged');
    expect(nigeria.store.unaccepted(later).map((u) => u.id)).toEqual([queued.sent.id]);
    expect(nigeria.sent().map((m) => [m.id, m.state])).toEqual([[queued.sent.id, 'queued']]);

    await r.restart();
    expect(await nigeria.resendPending(0)).toBe(1);
    await nigeria.store.flush();
    expect(nigeria.sent().map((m) => [m.id, m.state])).toEqual([[queued.sent.id, 'sent']]);
    expect(await nigeria.resendPending(0)).toBe(0);
    await senegal.fetchInbox();
    const acks = senegal.requests.show(created.id).story.filter((e) => e.status === 'acknowledged');
    expect(acks).toHaveLength(1);
    expect(await senegal.fetchInbox()).toEqual([]);
  });

  it('an update stored before the link broke is shown, and sent exactly once when the relay is back', async () => {
    const r = await restartableRelay();
    const { senegal, nigeria } = await twoNodes(r.current());
    const created = await senegal.requests.create({
      type: 'expedited_preservation',
      to: NG,
      draft: preservationDraft(),
    });
    await nigeria.fetchInbox();
    await nigeria.receipts.flush();

    // A broken link at the worst moment: the update is sealed and stored, then the relay goes away
    // before the submission reaches it.
    const submit = nigeria.submit.bind(nigeria);
    let broken = false;
    nigeria.submit = async (env) => {
      if (!broken) {
        broken = true;
        await r.stop();
      }
      return submit(env);
    };
    const madeAt = Date.now();
    const queued = await nigeria.requests.update(created.id, 'acknowledged');
    expect(queued.sent.queued).toBe(true);
    expect(nigeria.requests.show(created.id).state).toBe('acknowledged');

    await r.restart();
    // resendPending leaves alone what is younger than two seconds (a send may still be in flight).
    await sleep(Math.max(0, 2_100 - (Date.now() - madeAt)));
    await nigeria.fetchInbox();
    expect(await nigeria.resendPending(0)).toBe(0);

    await senegal.fetchInbox();
    const atSenegal = senegal.requests.show(created.id);
    expect(atSenegal.state).toBe('acknowledged');
    const acks = atSenegal.story.filter((e) => e.what === 'status' && e.status === 'acknowledged');
    expect(acks).toHaveLength(1);
    expect(acks[0]!.standing).toBeUndefined();
    expect(acks[0]!.by).toBe(nigeria.address);

    // Nothing more goes out, and nothing arrives twice.
    expect(await nigeria.resendPending(0)).toBe(0);
    await nigeria.fetchInbox();
    expect(await senegal.fetchInbox()).toEqual([]);
  });

  it('a read receipt issued offline stays queued and goes out once the relay is back', async () => {
    const r = await restartableRelay();
    const { senegal, nigeria } = await twoNodes(r.current());
    const sent = await senegal.send({ to: [NG], subject: 'hearing', body: 'on 3 March' });
    const got = await nigeria.fetchInbox(); // stores it and sends its delivery receipt
    expect(got.map((o) => o.kind === 'message' && o.message.id)).toEqual([sent.id]);

    await r.stop();
    expect(nigeria.read(sent.id).body).toBe('on 3 March');
    await sleep(400); // the background flush the first opening schedules fails meanwhile
    await expect(nigeria.receipts.flush()).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' });
    const queued = nigeria.store.requests.unsentReceipts();
    expect(queued.map((q) => [q.envelopeId, q.kind])).toEqual([[sent.id, 'read']]);

    await r.restart();
    expect(await nigeria.receipts.flush()).toBe(1);
    expect(nigeria.store.requests.unsentReceipts()).toEqual([]);
    expect(await nigeria.receipts.flush()).toBe(0);

    await senegal.fetchInbox();
    const evidence = senegal.receipts.evidence(sent.id);
    const reads = evidence.receipts.filter((x) => x.kind === 'read');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ valid: true, problem: null, node: nigeria.address });
    expect(evidence.receipts.filter((x) => x.kind === 'delivered' && x.valid)).toHaveLength(1);
    expect(evidence.undelivered).toEqual([]);
  });
});

describe('kill -9 of a listening node', () => {
  it('right after it stored a request: the request is kept once and delivered is receipted once', async () => {
    const relay = await startTestRelay();
    cleanup.push(() => relay.close());
    const senegal = await enrolNode(relay, 'sn.moj');
    cleanup.push(() => senegal.close());
    const ngHome = tempDir('entraide-kill-ng-');
    await initNode({
      home: ngHome,
      relayUrl: relay.url,
      invite: await invite(relay, 'ng.moj'),
      authorityId: 'ng.moj',
      nodeName: 'desk1',
      passphrase: PASSPHRASE,
    });
    const ngNode = `desk1/${NG}`;
    const env = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
    const requests: { id: string; envelope: string }[] = [];

    for (let round = 0; round < 3; round++) {
      const listener = spawn(process.execPath, [BIN, '--home', ngHome, 'listen', '--json'], {
        cwd: ROOT,
        env: { ...process.env, ...env },
      });
      const exited = new Promise((r) => listener.once('exit', r));
      cleanup.push(async () => {
        if (listener.exitCode === null && listener.signalCode === null) listener.kill('SIGKILL');
        await exited;
      });
      let buffer = '';
      let stderr = '';
      const events: { event: string; message?: { id: string; requestId: string | null } }[] = [];
      let killedOn: string | undefined;
      let wanted: string | undefined = undefined;
      listener.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      listener.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines.filter((l) => l.startsWith('{'))) {
          const e = JSON.parse(line) as (typeof events)[number];
          events.push(e);
          // Killed as soon as the line for the request is printed (the node has just stored it).
          if (wanted && e.event === 'message' && e.message?.id === wanted && !killedOn) {
            killedOn = wanted;
            listener.kill('SIGKILL');
          }
        }
      });
      await waitFor(
        () => events.some((e) => e.event === 'drained') || listener.exitCode !== null,
        20_000,
        `the listener to connect (round ${round})`,
      );
      expect(listener.exitCode, stderr).toBeNull();

      const created = await senegal.requests.create({
        type: 'expedited_preservation',
        to: NG,
        draft: preservationDraft({
          title: `Preservation ${round}`,
          references: { requesting: `SN-K-${round}` },
        }),
      });
      wanted = created.sent!.id;
      requests.push({ id: created.id, envelope: wanted });
      await waitFor(() => killedOn === wanted, 20_000, `the request line (round ${round})`);
      await exited;
      expect(listener.signalCode).toBe('SIGKILL');
      const line = events.find((e) => e.message?.id === wanted)!;
      expect(line.message!.requestId).toBe(created.id);

      // A fresh process takes over the dead one's folder and sends what is still queued.
      const inbox = await cli(['--home', ngHome, 'inbox', '--json'], env);
      expect(inbox.code, inbox.stderr).toBe(0);
      const held = (JSON.parse(inbox.stdout) as { messages: { id: string }[] }).messages;
      expect(held.filter((m) => m.id === wanted)).toHaveLength(1);

      let delivered: { valid: boolean; node: string }[] = [];
      await waitFor(
        async () => {
          await senegal.fetchInbox();
          delivered = senegal.receipts
            .evidence(wanted!)
            .receipts.filter((x) => x.kind === 'delivered' && x.node === ngNode);
          return delivered.length > 0;
        },
        10_000,
        `the delivery receipt (round ${round})`,
      );
      await sleep(300); // a duplicate sent late would show now
      await senegal.fetchInbox();
      delivered = senegal.receipts
        .evidence(wanted)
        .receipts.filter((x) => x.kind === 'delivered' && x.node === ngNode);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]!.valid).toBe(true);
      expect(senegal.requests.show(created.id).state).toBe('delivered');
    }

    const list = await cli(['--home', ngHome, 'request', 'list', '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { id: string; direction: string; state: string }[];
    for (const r of requests) {
      const mine = rows.filter((x) => x.id === r.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ direction: 'in', state: 'delivered' });
    }
    expect(rows).toHaveLength(3);
  }, 120_000);
});
