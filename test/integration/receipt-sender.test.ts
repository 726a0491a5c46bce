/**
 * Receipts on the node name their envelope by (id, sender), as relays do: when a co-recipient
 * squats the id of another sender's envelope, the recipient node signs, keeps and sends a delivery
 * and a read receipt for each of the two, whichever it stored first, and each sender holds the
 * receipts for its own envelope as evidence. Keyed by (id, node, kind) alone, the receipt for the
 * second envelope was dropped: the genuine sender lost its receipts when the squatter's came first.
 *
 * relay.a.test: sn.moj (sender), ma.mj (a co-recipient that squats), gh.moj (recipient).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keptIdOf } from '../../client/inbound.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { canonicalBytes } from '../../shared/canonical.ts';
import { sealEnvelope } from '../../shared/crypto/envelope.ts';
import { SubmitResult, type Envelope } from '../../shared/protocol/schemas.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { random } from '../support/random.ts';

let a: TestRelay;
let sn: AuthorityNode;
let ma: AuthorityNode;
let gh: AuthorityNode;

beforeAll(async () => {
  a = await startTestRelay({ domain: 'relay.a.test', gossipIntervalMs: 3_600_000 });
  sn = await enrolNode(a, 'sn.moj');
  ma = await enrolNode(a, 'ma.mj');
  gh = await enrolNode(a, 'gh.moj');
}, 60_000);

afterAll(async () => {
  for (const n of [sn, ma, gh]) await n?.close();
  await a?.close();
});

/** ma.mj's own envelope for gh.moj under `id`, sealed by hand and submitted to the relay. */
async function squat(id: string): Promise<void> {
  const recipients = (await ma.trust.recipients(gh.authority)).map((r) => ({
    node: r.node,
    encryptionKey: fromBase64url(r.encryptionKey),
  }));
  const env = sealEnvelope(
    {
      id,
      from: ma.address,
      to: [gh.authority],
      sentAt: new Date(),
      ttl: 3600,
      recipients,
      content: canonicalBytes({ type: 'message', subject: 'squatted', body: 'the squatter’s body' }),
    },
    ma.identitySecretKey,
    random,
  );
  await ma.relay.post(SubmitResult, '/v1/envelopes', env);
}

/** sn.moj sends the genuine envelope; ma.mj's squat reaches the relay first, or after ma.mj read its copy. */
async function sendGenuineAndSquat(order: 'squatter first' | 'genuine first'): Promise<string> {
  if (order === 'genuine first') {
    const sent = await sn.send({ to: [gh.authority, ma.authority], subject: 'genuine', body: 'sn’s body' });
    expect((await ma.fetchInbox()).map((o) => o.kind === 'message' && o.message.id)).toEqual([sent.id]);
    await squat(sent.id);
    return sent.id;
  }
  // ma.mj learns the id before sn.moj's node submits it (say from a relay on the path) and goes first.
  const submit = sn.submit.bind(sn);
  vi.spyOn(sn, 'submit').mockImplementationOnce(async (env: Envelope) => {
    await squat(env.id);
    return submit(env);
  });
  return (await sn.send({ to: [gh.authority], subject: 'genuine', body: 'sn’s body' })).id;
}

describe('receipts for two senders’ envelopes under one id', () => {
  it.each(['squatter first', 'genuine first'] as const)(
    'each sender gets the delivery and read receipts for its own envelope (%s)',
    async (order) => {
      const id = await sendGenuineAndSquat(order);
      const [genuine, squatted] =
        order === 'squatter first' ? [keptIdOf(sn.address, id), id] : [id, keptIdOf(ma.address, id)];

      // gh.moj stores both, the second under an id derived from its sender, and opens the squatter's first.
      const got = await gh.fetchInbox();
      const stored = got.map((o) => o.kind === 'message' && [o.message.id, o.message.sender]);
      const expected = [
        [genuine, sn.address],
        [squatted, ma.address],
      ];
      expect(stored).toEqual(order === 'squatter first' ? expected.reverse() : expected);
      expect(gh.read(squatted).body).toBe('the squatter’s body');
      expect(gh.read(genuine).body).toBe('sn’s body');
      await gh.sendQueued();
      // Four receipts, each for its own envelope and sent to its sender: none dropped as a duplicate
      // of the other sender's.
      expect(
        [sn, ma]
          .flatMap((s) => gh.store.requests.receiptsFromAuthority(id, s.authority))
          .map((r) => [r.sender, r.kind, r.direction, r.target, r.sentIn !== null]),
      ).toEqual([
        [sn.address, 'delivered', 'out', sn.authority, true],
        [sn.address, 'read', 'out', sn.authority, true],
        [ma.address, 'delivered', 'out', ma.authority, true],
        [ma.address, 'read', 'out', ma.authority, true],
      ]);
      await ma.sendQueued(); // ma.mj's delivery receipt for its copy of the genuine one, if any
      await sn.fetchInbox();
      await ma.fetchInbox();

      // sn.moj's evidence names gh.moj's receipts, valid for the bytes it sent.
      const evidence = sn.receipts.evidence(id);
      expect(evidence.envelope.from).toBe(sn.address);
      expect(
        evidence.receipts
          .filter((r) => r.node === gh.address)
          .map((r) => [r.kind, r.valid, r.receipt.sender]),
      ).toEqual([
        ['delivered', true, sn.address],
        ['read', true, sn.address],
      ]);
      expect(evidence.undelivered).toEqual([]);
      // ma.mj holds gh.moj's receipts for its own envelope (it kept no copy of what it sealed by hand).
      expect(ma.store.requests.receiptsFor({ id, sender: ma.address }).map((r) => [r.kind, r.node])).toEqual([
        ['delivered', gh.address],
        ['read', gh.address],
      ]);
    },
  );
});
