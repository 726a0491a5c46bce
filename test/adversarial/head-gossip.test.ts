/**
 * Key-log heads gossiped between nodes inside signed content (client/head-gossip.ts). A relay
 * operator holds the relay key, so it can show node A one correctly signed history and node B
 * another; each node's own checks pass. What catches it is the head each node carries to the
 * other in its messages and receipts: both raise KEYLOG_SPLIT_VIEW after one exchange. Honest logs
 * seen at different sizes raise nothing, and a head the relay did not sign is noted and ignored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { EntraideError } from '../../shared/errors.ts';
import { makeLeaf } from '../../shared/keys/key-log-leaf.ts';
import { declareAuthority } from '../../shared/keys/statements.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import type { SignedTreeHead } from '../../shared/protocol/key-log.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  startPeeredRelays,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { MaliciousRelay } from '../support/malicious-relay.ts';
import { random } from '../support/random.ts';
import { rowCounts } from '../support/refusals.ts';
import { waitFor } from '../support/wait.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
});

async function relayWithProxy(): Promise<{ relay: TestRelay; proxy: MaliciousRelay }> {
  const relay = await startTestRelay();
  open.push(relay);
  const proxy = await MaliciousRelay.start(relay);
  open.push(proxy);
  return { relay, proxy };
}

async function direct(relay: TestRelay, authorityId: string): Promise<AuthorityNode> {
  const node = await enrolNode(relay, authorityId);
  open.push(node);
  return node;
}

/** A node of `authorityId` on `relay`, reaching it through `proxy`. */
async function behind(relay: TestRelay, proxy: MaliciousRelay, authorityId: string): Promise<AuthorityNode> {
  const home = tempDir('entraide-node-');
  await initNode({
    home,
    relayUrl: proxy.url,
    relayKey: relay.relay.identity.publicKeyB64,
    invite: await invite(relay, authorityId),
    authorityId,
    nodeName: 'desk1',
    passphrase: PASSPHRASE,
  });
  const node = await AuthorityNode.open(home, PASSPHRASE);
  open.push(node);
  return node;
}

async function alarms(node: AuthorityNode, kind: string) {
  return (await node.store.alarms()).filter((a) => a.kind === kind && !a.resolvedAt);
}

async function refusal(work: Promise<unknown>): Promise<EntraideError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof EntraideError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

/** The next operation reads the key log again, as it would a moment later. */
function lookAgain(...nodes: AuthorityNode[]): void {
  for (const n of nodes) n.trust.forget();
}

async function headOf(node: AuthorityNode): Promise<SignedTreeHead> {
  const head = await node.monitor.head();
  expect(head).not.toBeNull();
  return head!;
}

// Real relays and nodes: generous under a loaded machine, never a timed assertion.
describe('key-log heads gossiped between nodes', { timeout: 60_000 }, () => {
  it('a relay that shows two nodes different logs of the same size is caught by both after one exchange', async () => {
    const { relay, proxy } = await relayWithProxy();
    const a = await direct(relay, 'sn.moj');
    const b = await behind(relay, proxy, 'ke.ag');
    await direct(relay, 'fr.mj'); // the log grows past what b has seen
    // To b the operator shows a log of the real size whose last entry is one it made up, signed with
    // the relay key: b's own checks all pass (a consistent extension of what b verified).
    const real = proxy.realLeaves();
    const fake = declareAuthority('zz.fake@relay.test', generateSigningKeyPair(random), new Date());
    const shownToB = proxy.serveLog([
      ...real.slice(0, -1),
      makeLeaf({ type: 'authority-enrolled', declaration: fake }, new Date()),
    ]);
    lookAgain(a, b);

    const sent = await a.send({ to: [b.authority], subject: 'hello', body: 'heads ride along' });
    const shownToA = await headOf(a);
    expect(shownToA.size).toBe(shownToB.size);
    expect(shownToA.root).not.toBe(shownToB.root);

    // b stores the message (gossip never rejects an item), then finds the two heads cannot both be true.
    expect((await b.fetchInbox()).map((o) => o.kind)).toEqual(['message']);
    expect(b.inbox().map((m) => m.id)).toContain(sent.id);
    const [atB, ...moreAtB] = await alarms(b, 'keylog-split-view');
    expect(moreAtB).toEqual([]);
    expect(atB).toMatchObject({ relay: relay.domain, idx: shownToA.size });
    for (const part of [
      a.address,
      `relay ${relay.domain}`,
      shownToA.root,
      shownToB.root,
      `size ${shownToA.size}`,
    ])
      expect(atB!.message).toContain(part);

    // b's receipt carries b's head back: a sees it too.
    await a.fetchInbox();
    expect(a.receipts.evidence(sent.id).receipts.map((r) => [r.kind, r.node, r.valid])).toEqual([
      ['delivered', b.address, true],
    ]);
    const [atA, ...moreAtA] = await alarms(a, 'keylog-split-view');
    expect(moreAtA).toEqual([]);
    for (const part of [b.address, shownToA.root, shownToB.root]) expect(atA!.message).toContain(part);

    // The evidence: both heads as the relay signed them, and who carried the other.
    const evidence = async (n: AuthorityNode) =>
      (await n.store.splitViews(relay.domain)).map((v) => ({
        sender: v.sender,
        ours: JSON.parse(v.ours) as SignedTreeHead,
        theirs: JSON.parse(v.theirs) as SignedTreeHead,
      }));
    expect(await evidence(b)).toEqual([{ sender: a.address, ours: shownToB, theirs: shownToA }]);
    expect(await evidence(a)).toEqual([{ sender: b.address, ours: shownToA, theirs: shownToB }]);

    // Neither sends to the relay's authorities until an officer resolves it.
    const before = rowCounts(relay).envelopes;
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const err = await refusal(from.send({ to: [to.authority], subject: 'later', body: 'must not go' }));
      expect(err.code).toBe('KEYLOG_SPLIT_VIEW');
      expect(err.message).toContain(relay.domain);
    }
    expect(rowCounts(relay).envelopes).toBe(before);

    // Resolved as an inconsistent log is (`entraide keys check --resolve`); the evidence stays.
    expect(await a.monitor.resolve()).toBe(1);
    await a.send({ to: [b.authority], subject: 'after', body: 'the operator explained' });
    expect(await alarms(a, 'keylog-split-view')).toEqual([]);
    expect(await evidence(a)).toHaveLength(1);
  });

  it('logs seen at different sizes raise nothing when the older is a prefix or proven; a frozen node is not fooled', async () => {
    const { relay, proxy } = await relayWithProxy();
    const a = await behind(relay, proxy, 'sn.moj');
    const b = await direct(relay, 'ke.ag');
    await direct(relay, 'fr.mj');
    // a's relay lags (an older head, honestly signed) but proves the rest when asked.
    const real = proxy.realLeaves();
    proxy.serveLog(real.slice(0, -1), { proofsFromRelay: true });
    lookAgain(a, b);

    await a.send({ to: [b.authority], subject: 'hello', body: 'an older head' });
    expect((await headOf(a)).size).toBe(real.length - 1);
    expect((await b.fetchInbox()).map((o) => o.kind)).toEqual(['message']);
    expect((await headOf(b)).size).toBe(real.length);
    await a.fetchInbox(); // b's receipt: a newer head, which a has proven against its copy

    expect(proxy.requests).toContain(`GET /v1/keylog/consistency?from=${real.length - 1}&to=${real.length}`);
    for (const n of [a, b]) {
      expect(await alarms(n, 'keylog-split-view')).toEqual([]);
      expect(await alarms(n, 'gossip-head-invalid')).toEqual([]);
      expect(await n.store.splitViews()).toEqual([]);
    }

    // Kept on its old head for good (a freeze), a cannot be shown the newer head proven.
    proxy.serveLog(real.slice(0, -1));
    await b.send({ to: [a.authority], subject: 'still trusted', body: 'b trusts the relay' });
    expect((await a.fetchInbox()).map((o) => o.kind)).toEqual(['message']);
    const [frozen, ...more] = await alarms(a, 'keylog-split-view');
    expect(more).toEqual([]);
    expect(frozen!.message).toContain(b.address);
    expect(frozen!.message).toContain(
      `shows this node one of size ${real.length - 1} and refuses to prove the rest`,
    );
  });

  it('a peer relay that shows its own node another log than it shows through federation is caught by both', async () => {
    const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
    const [x, y] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], { outbox: fast });
    open.push(x, y);
    const proxy = await MaliciousRelay.start(y);
    open.push(proxy);
    const a = await direct(x, 'sn.moj');
    const b = await behind(y, proxy, 'ke.ag');
    await direct(y, 'fr.mj');
    // relay.b.test shows its own node b a log of its real size that a, reading it through
    // relay.a.test, never sees.
    const real = proxy.realLeaves();
    const fake = declareAuthority('zz.fake@relay.b.test', generateSigningKeyPair(random), new Date());
    const shownToB = proxy.serveLog([
      ...real.slice(0, -1),
      makeLeaf({ type: 'authority-enrolled', declaration: fake }, new Date()),
    ]);
    lookAgain(a, b);

    const sent = await a.send({ to: [b.authority], subject: 'hello', body: 'across relays' });
    await waitFor(async () => (await b.fetchInbox()).length > 0, 10_000, 'the message to reach b');
    const [atB] = await alarms(b, 'keylog-split-view');
    expect(atB).toMatchObject({ relay: y.domain, idx: shownToB.size });
    expect(atB!.message).toContain(`${a.address} another`);
    expect(atB!.message).toContain(`gossiped in envelope ${sent.id}`);
    // a's head of its own relay agreed with b's copy of it: only relay.b.test is distrusted.
    expect((await alarms(b, 'keylog-split-view')).map((al) => al.relay)).toEqual([y.domain]);

    // b's receipt crosses back with b's head of relay.b.test, which a holds against its peer copy.
    await waitFor(
      async () => (await a.fetchInbox(), (await alarms(a, 'keylog-split-view')).length > 0),
      10_000,
      'the receipt to reach a',
    );
    const [atA, ...moreAtA] = await alarms(a, 'keylog-split-view');
    expect(moreAtA).toEqual([]);
    expect(atA).toMatchObject({ relay: y.domain });
    for (const part of [b.address, shownToB.root]) expect(atA!.message).toContain(part);
    const err = await refusal(a.send({ to: [b.authority], subject: 'later', body: 'must not go' }));
    expect(err.code).toBe('KEYLOG_SPLIT_VIEW');
    expect(err.message).toContain(y.domain);
    // Resolved for that peer relay (`entraide keys check --resolve --relay relay.b.test`).
    expect(await (await a.trust.relayView(y.domain)).monitor.resolve()).toBe(1);
    await a.send({ to: [b.authority], subject: 'after', body: 'explained' });
  });

  it('a head the relay did not sign is noted and ignored; the item is accepted', async () => {
    const relay = await startTestRelay();
    open.push(relay);
    const a = await direct(relay, 'sn.moj');
    const b = await direct(relay, 'ke.ag');
    // a (faulty or hostile) gossips its relay's head signed by some other key.
    await a.monitor.sync();
    const row = (await a.store.keyLogHead(relay.domain))!;
    const head = JSON.parse(row.head) as SignedTreeHead;
    const bogus = signTreeHead(
      {
        log: 'key',
        relay: head.relay,
        size: head.size,
        root: fromBase64url(head.root, 'root', 32),
        timestamp: new Date(head.timestamp),
      },
      generateSigningKeyPair(random).secretKey,
    );
    await a.store.appendKeyLog(relay.domain, [], { ...row, head: JSON.stringify(bogus) }, []);

    const sent = await a.send({ to: [b.authority], subject: 'hello', body: 'a bad head rides along' });
    expect((await b.fetchInbox()).map((o) => o.kind)).toEqual(['message']);
    expect(b.inbox().map((m) => m.id)).toContain(sent.id);
    const [note, ...more] = await alarms(b, 'gossip-head-invalid');
    expect(more).toEqual([]);
    expect(note).toMatchObject({ relay: relay.domain, idx: head.size });
    expect(note!.message).toContain(a.address);
    expect(note!.message).toContain(sent.id);
    expect(note!.message).toContain('PROOF_INVALID');
    expect(await alarms(b, 'keylog-split-view')).toEqual([]);
    await b.send({ to: [a.authority], subject: 'reply', body: 'b still trusts the relay' });
  });
});
