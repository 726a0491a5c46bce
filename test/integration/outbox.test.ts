/**
 * The node's outbox against a real relay on loopback: an item whose acceptance the node never
 * wrote down (it crashed between the relay's answer and its own commit) is submitted again under
 * the id fixed when it was sealed, the relay answers it as a duplicate, and it arrives once; the
 * outbox survives the node closing and opening again, and a round stops at a relay that does not
 * answer without losing anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthorityNode } from '../../client/node.ts';
import type { SubmitResult } from '../../shared/protocol/schemas.ts';
import { enrolNode, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';

const NG = 'ng.moj@relay.test';
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function pair(relay: TestRelay, snHome = tempDir('entraide-outbox-sn-')) {
  const senegal = await enrolNode(relay, 'sn.moj', 'desk1', snHome);
  const nigeria = await enrolNode(relay, 'ng.moj');
  cleanup.push(() => nigeria.close());
  return { senegal, nigeria, snHome };
}

/** Forgets that the relay accepted `id`, as a crash before the lazy write of the acceptance does. */
function loseAcceptance(node: AuthorityNode, id: string): void {
  node.store.flush();
  node.store.db.prepare('UPDATE "Message" SET acceptedAt = NULL WHERE id = ?').run(id);
}

describe('the outbox', () => {
  it('sends again an item whose acceptance was lost: the relay deduplicates it by id, it arrives once', async () => {
    const relay = await startTestRelay();
    cleanup.push(() => relay.close());
    const { senegal, nigeria } = await pair(relay);
    cleanup.push(() => senegal.close());
    const sent = await senegal.send({ to: [NG], subject: 'hearing', body: 'on 3 March' });
    expect(sent).toMatchObject({ queued: false, acceptedAt: expect.any(String) as string });

    loseAcceptance(senegal, sent.id);
    expect(senegal.sent().map((m) => [m.id, m.state])).toEqual([[sent.id, 'queued']]);
    expect(senegal.outbox.size).toBe(1);

    const answers: SubmitResult[] = [];
    const submit = senegal.submit.bind(senegal);
    senegal.submit = async (env) => {
      const answer = await submit(env);
      answers.push(answer);
      return answer;
    };
    expect(await senegal.resendPending(0)).toBe(1);
    expect(answers).toEqual([expect.objectContaining({ id: sent.id, duplicate: true })]);
    senegal.store.flush();
    expect(senegal.sent().map((m) => [m.id, m.state])).toEqual([[sent.id, 'sent']]);
    expect(senegal.outbox.size).toBe(0);

    const arrived = await nigeria.fetchInbox();
    expect(arrived.map((o) => o.kind === 'message' && o.message.id)).toEqual([sent.id]);
    expect(await nigeria.fetchInbox()).toEqual([]);
  });

  it('keeps what waits across closing and opening; a round stops at a relay that does not answer', async () => {
    const dataDir = tempDir('entraide-outbox-relay-');
    let relay = await startTestRelay({ dataDir });
    const port = Number(new URL(relay.url).port);
    cleanup.push(() => relay.close());
    const { senegal, nigeria, snHome } = await pair(relay);
    await senegal.send({ to: [NG], subject: 'first', body: 'keys fetched' });
    await nigeria.fetchInbox();

    await relay.close();
    const queued = [
      await senegal.send({ to: [NG], subject: 'second', body: 'queued' }),
      await senegal.send({ to: [NG], subject: 'third', body: 'queued too' }),
    ];
    expect(queued.map((q) => q.queued)).toEqual([true, true]);
    await expect(senegal.resendPending(0)).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' });
    await senegal.close();

    const reopened = await AuthorityNode.open(snHome, PASSPHRASE);
    cleanup.push(() => reopened.close());
    expect(reopened.outbox.size).toBe(2);
    const states = new Map(reopened.sent().map((m) => [m.subject, m.state]));
    expect(Object.fromEntries(states)).toEqual({ first: 'sent', second: 'queued', third: 'queued' });

    relay = await startTestRelay({ dataDir, port });
    expect(await reopened.resendPending(0)).toBe(2);
    reopened.store.flush();
    expect(reopened.outbox.size).toBe(0);
    const arrived = await nigeria.fetchInbox();
    expect(arrived.map((o) => o.kind === 'message' && o.message.subject).sort()).toEqual(['second', 'third']);
  });
});
