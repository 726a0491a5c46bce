/**
 * Federation under faults, with real relay processes on loopback peered by the operator's CLI, and
 * a TCP proxy (test/support/tcp-proxy.ts) on the link from one relay to its peer: three relays
 * exchanging in every direction; the link blackholed, then cut, in the middle of a run of 1,000
 * envelopes; answers slower than the peer timeout; the sending relay killed (SIGKILL) while its
 * outbox drains. Every envelope a relay accepted must reach its recipient exactly once, in each
 * sender's order.
 *
 * The relays and nodes are set up once for the file (about half its time); each test counts only
 * the envelopes it sent, from the outbox and delivery sequence numbers it read when it began.
 * Arrival order is what `fetchInbox()` returns, page after page (the relay hands out a node's
 * envelopes in the order it stored them): `inbox()` sorts by sentAt, not by arrival.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode, type ReceiveOutcome } from '../../client/node.ts';
import { EntraideError } from '../../shared/errors.ts';
import { PASSPHRASE, removeDir, tempDir } from '../support/fixtures.ts';
import { sleep, waitFor } from '../support/wait.ts';
import { cli, spawnRelay, type RelayProcess } from '../support/processes.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/** Short outbox timing, so that retries and drains fit in a test. */
const OUTBOX_ENV = {
  ENTRAIDE_OUTBOX_BASE_MS: '50',
  ENTRAIDE_OUTBOX_MAX_MS: '1000',
  ENTRAIDE_OUTBOX_POLL_MS: '200',
  ENTRAIDE_PEER_TIMEOUT_MS: '2000',
};

const WACAP = 'relay.wacap.example';
const GREAT_LAKES = 'relay.great-lakes.example';
const CASC = 'relay.casc.example';

/** Undone in reverse order after the last test: processes, nodes, the proxy, temporary folders. */
const cleanup: (() => Promise<void> | void)[] = [];

interface Relay {
  domain: string;
  dir: string;
  process: RelayProcess;
  url: string;
  publicKey: string;
}

interface PeerState {
  domain: string;
  url: string;
  reachable: boolean;
  queued: number;
  lastError: string | null;
}

function dir(prefix: string): string {
  const d = tempDir(prefix);
  cleanup.push(() => removeDir(d));
  return d;
}

async function run(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`entraide ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function startRelay(domain: string): Promise<Relay> {
  const data = dir('entraide-fed-relay-');
  const proc = await spawnRelay(data, 0, domain, OUTBOX_ENV);
  const relay: Relay = { domain, dir: data, process: proc, url: proc.url, publicKey: '' };
  cleanup.push(() => relay.process.stop('SIGKILL'));
  const info = JSON.parse(await run(['relay', 'info', '--data', data, '--json'])) as {
    domain: string;
    url: string;
    publicKey: string;
  };
  expect(info).toMatchObject({ domain, url: proc.url });
  relay.publicKey = info.publicKey;
  return relay;
}

/** `entraide relay peer add` on `on`'s data folder: `on` reaches `peer` at `url`. */
async function addPeer(on: Relay, peer: Relay, url = peer.url): Promise<void> {
  await run([
    'relay',
    'peer',
    'add',
    '--domain',
    peer.domain,
    '--url',
    url,
    '--key',
    peer.publicKey,
    '--data',
    on.dir,
  ]);
}

async function peersOf(relay: Relay): Promise<PeerState[]> {
  return JSON.parse(await run(['relay', 'peers', '--data', relay.dir, '--json'])) as PeerState[];
}

/** Enrols `desk1/<authorityId>@<relay>` with an invitation from the CLI, and opens it. */
async function enrol(relay: Relay, authorityId: string): Promise<AuthorityNode> {
  const home = dir('entraide-fed-node-');
  const invite = JSON.parse(await run(['relay', 'invite', authorityId, '--data', relay.dir, '--json'])) as {
    code: string;
  };
  await initNode({
    home,
    relayUrl: relay.url,
    invite: invite.code,
    authorityId,
    nodeName: 'desk1',
    passphrase: PASSPHRASE,
  });
  const node = await AuthorityNode.open(home, PASSPHRASE);
  cleanup.push(() => node.close());
  return node;
}

/** What a node received, in the order it received it, over every fetch. */
class Received {
  readonly order: { id: string; sender: string; subject: string }[] = [];
  duplicates = 0;
  rejections: string[] = [];

  constructor(readonly node: AuthorityNode) {}

  ids(): Set<string> {
    return new Set(this.order.map((m) => m.id));
  }

  async fetch(): Promise<void> {
    this.take(await this.node.fetchInbox());
  }

  take(outcomes: ReceiveOutcome[]): void {
    for (const o of outcomes) {
      if (o.kind === 'rejected') this.rejections.push(`${o.rejection.envelopeId}: ${o.rejection.code}`);
      else if (o.kind !== 'message') continue;
      else if (o.duplicate) this.duplicates++;
      else this.order.push({ id: o.message.id, sender: o.message.sender, subject: o.message.subject });
    }
  }

  /** Fetches until every id of `expected` arrived (anything else that comes is kept, for the test to see). */
  async until(expected: Iterable<string>, timeoutMs: number, what: string): Promise<void> {
    const want = [...expected];
    let missing = want.length;
    await waitFor(
      async () => {
        await this.fetch();
        const have = this.ids();
        missing = want.filter((id) => !have.has(id)).length;
        return missing === 0;
      },
      timeoutMs,
      `${what} (${want.length - missing} of ${want.length} arrived)`,
    );
  }
}

/** What arrives for `authority` from now on: whatever waited in its inbox before is fetched and set aside. */
async function inboxFromNow(authority: string): Promise<Received> {
  await new Received(nodes.get(authority)!).fetch();
  return new Received(nodes.get(authority)!);
}

/** Each id exactly once: no id repeated, none missing, none extra. */
function expectExactlyOnce(received: { id: string }[], expected: Iterable<string>): void {
  const ids = received.map((m) => m.id);
  const want = new Set(expected);
  expect(ids.length - new Set(ids).size, 'ids received more than once').toBe(0);
  expect(
    [...want].filter((id) => !ids.includes(id)),
    'accepted but never received',
  ).toEqual([]);
  expect(
    ids.filter((id) => !want.has(id)),
    'received but never sent',
  ).toEqual([]);
}

/** A read-only look at a relay's database (WAL: the relay keeps writing while we read). */
function readDb<T>(relay: Relay, fn: (db: Database.Database) => T): T {
  const db = new Database(join(relay.dir, 'relay.db'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

interface OutboxRow {
  seq: number;
  envelopeId: string;
  state: string;
  attempts: number;
  sender: string;
}

/** The outbox rows of `relay` for `peer` after `afterSeq`, in acceptance order. */
function outboxRows(relay: Relay, peer: string, afterSeq: number): OutboxRow[] {
  return readDb(
    relay,
    (db) =>
      db
        .prepare(
          `SELECT o.seq AS seq, o.envelopeId AS envelopeId, o.state AS state, o.attempts AS attempts, e.sender AS sender
         FROM "Outbox" o JOIN "Envelope" e ON e.id = o.envelopeId
         WHERE o.peer = ? AND o.seq > ? ORDER BY o.seq`,
        )
        .all(peer, afterSeq) as OutboxRow[],
  );
}

function lastOutboxSeq(relay: Relay): number {
  return readDb(
    relay,
    (db) => (db.prepare('SELECT coalesce(max(seq), 0) AS n FROM "Outbox"').get() as { n: number }).n,
  );
}

/** Deliveries stored by `relay` for `node` after `afterSeq`, in the order it stored them. */
function deliveryRows(
  relay: Relay,
  node: string,
  afterSeq: number,
): { envelopeId: string; sender: string }[] {
  return readDb(
    relay,
    (db) =>
      db
        .prepare(
          `SELECT d.envelopeId AS envelopeId, e.sender AS sender FROM "Delivery" d
         JOIN "Envelope" e ON e.id = d.envelopeId WHERE d.node = ? AND d.seq > ? ORDER BY d.seq`,
        )
        .all(node, afterSeq) as { envelopeId: string; sender: string }[],
  );
}

function lastDeliverySeq(relay: Relay): number {
  return readDb(
    relay,
    (db) => (db.prepare('SELECT coalesce(max(seq), 0) AS n FROM "Delivery"').get() as { n: number }).n,
  );
}

/** Envelope ids grouped by sender, keeping the order they come in. */
function bySender(rows: { id: string; sender: string }[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) m.set(r.sender, [...(m.get(r.sender) ?? []), r.id]);
  return m;
}

// ---- the network: three relays peered by the CLI, two authorities on each ----------------------

const AUTHORITIES: Record<string, string[]> = {
  [WACAP]: ['sn.moj', 'gh.ag'],
  [GREAT_LAKES]: ['ke.ag', 'rw.moj'],
  [CASC]: ['kz.gp', 'am.moj'],
};
const SN = `sn.moj@${WACAP}`;
const GH = `gh.ag@${WACAP}`;
const KE = `ke.ag@${GREAT_LAKES}`;
const KE_NODE = `desk1/${KE}`;
const KZ = `kz.gp@${CASC}`;

let relays: Relay[] = [];
const byDomain = new Map<string, Relay>();
const nodes = new Map<string, AuthorityNode>();
/** Between wacap and its peer great-lakes, once `throughProxy()` pointed wacap at it. */
let proxy: TcpProxy;
let proxied = false;

beforeAll(async () => {
  const started = Date.now();
  relays = await Promise.all([startRelay(WACAP), startRelay(GREAT_LAKES), startRelay(CASC)]);
  for (const r of relays) byDomain.set(r.domain, r);
  proxy = await startTcpProxy({ port: byDomain.get(GREAT_LAKES)!.process.port });
  cleanup.push(() => proxy.close());
  // Both operators of each pair add each other, with the real CLI, while the relays run.
  await Promise.all(relays.flatMap((r) => relays.filter((o) => o !== r).map((o) => addPeer(r, o))));
  await Promise.all(
    relays.flatMap((r) =>
      AUTHORITIES[r.domain]!.map(async (a) => nodes.set(`${a}@${r.domain}`, await enrol(r, a))),
    ),
  );
  console.info(`setup: three relays, six peerings, six nodes in ${Date.now() - started} ms`);
}, 150_000);

afterAll(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
}, 60_000);

/**
 * Points `from` at great-lakes through `via`, as its operator would (`relay peer add` again updates
 * the URL), and waits until envelopes from `sender` take that way (the relay reads its peers again
 * every 2 s). The messages sent to check it are fetched, so ke.ag's inbox is empty afterwards.
 */
async function routeThrough(from: Relay, via: TcpProxy, sender: string): Promise<void> {
  await addPeer(from, byDomain.get(GREAT_LAKES)!, via.url);
  const ke = await inboxFromNow(KE);
  const sent: string[] = [];
  const before = via.stats().forwarded;
  await waitFor(
    async () => {
      sent.push((await nodes.get(sender)!.send({ to: [KE], subject: 'through the proxy?', body: '' })).id);
      await ke.until(sent, 10_000, 'the check messages');
      return via.stats().forwarded > before;
    },
    20_000,
    `${from.domain} to reach great-lakes through the proxy`,
  );
  expectExactlyOnce(ke.order, sent);
}

/** wacap reaches great-lakes through `proxy` from the second test on. */
async function throughProxy(): Promise<void> {
  if (proxied) return;
  await routeThrough(byDomain.get(WACAP)!, proxy, SN);
  proxied = true;
}

interface SendRun {
  authority: string;
  /** In the order the sends were answered (with one worker: the order the relay accepted them). */
  accepted: { id: string; seq: number }[];
  failures: { seq: number; code: string; at: number }[];
}

/**
 * `concurrency` workers send from `authority` to ke.ag, subjects numbered in the order the sends
 * start, until `stop()` says so or `maxSends` were tried. A refused send is recorded, not retried.
 */
async function sendRun(
  authority: string,
  opts: {
    stop: () => boolean;
    maxSends: number;
    concurrency?: number;
    onAccepted?: () => void;
  },
): Promise<SendRun> {
  const node = nodes.get(authority)!;
  const run: SendRun = { authority, accepted: [], failures: [] };
  let next = 0;
  const worker = async () => {
    while (!opts.stop() && next < opts.maxSends) {
      const seq = next++;
      try {
        const { id } = await node.send({ to: [KE], subject: `${authority} #${seq}`, body: 'x'.repeat(256) });
        run.accepted.push({ id, seq });
        opts.onAccepted?.();
      } catch (err) {
        if (!(err instanceof EntraideError)) throw err;
        run.failures.push({ seq, code: err.code, at: Date.now() });
        await sleep(100); // as a client would, rather than spin while the link is down
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));
  return run;
}

describe('federation faults with real relay processes', () => {
  it('three relays deliver in all six directions, each envelope exactly once, and show their peers reachable', async () => {
    const started = Date.now();
    // Every authority writes to every authority homed on another relay (4 each: 24, covering each
    // ordered pair of relays 4 times), and once to an authority on each of the two other relays at
    // once (one envelope, an outbox row for each peer).
    const expected = new Map<string, string[]>([...nodes.keys()].map((a) => [a, []]));
    const domainOf = (a: string) => a.slice(a.indexOf('@') + 1);
    const pairs = new Set<string>();
    await Promise.all(
      [...nodes].map(async ([from, node]) => {
        const remote = [...nodes.keys()].filter((a) => domainOf(a) !== domainOf(from));
        for (const to of remote) {
          const { id } = await node.send({ to: [to], subject: `${from} to ${to}`, body: 'one' });
          expected.get(to)!.push(id);
          pairs.add(`${domainOf(from)} > ${domainOf(to)}`);
        }
        const both = relays
          .filter((r) => r.domain !== domainOf(from))
          .map((r) => remote.find((a) => domainOf(a) === r.domain)!);
        const { id } = await node.send({ to: both, subject: `${from} to two relays`, body: 'two' });
        for (const to of both) expected.get(to)!.push(id);
      }),
    );
    expect(pairs.size).toBe(6);
    const sentMs = Date.now() - started;

    const received = new Map([...nodes].map(([a, n]) => [a, new Received(n)]));
    await Promise.all([...received].map(([a, r]) => r.until(expected.get(a)!, 30_000, `messages for ${a}`)));
    // One more fetch each: anything delivered again would show up now.
    await sleep(300);
    for (const [a, r] of received) {
      await r.fetch();
      expectExactlyOnce(r.order, expected.get(a)!);
      expect(r.duplicates, `envelopes delivered twice to ${a}`).toBe(0);
      expect(r.rejections).toEqual([]);
    }
    const deliveredMs = Date.now() - started;

    await Promise.all(
      relays.map(async (r) => {
        const others = relays
          .filter((o) => o !== r)
          .map((o) => o.domain)
          .sort();
        let peers: PeerState[] = [];
        await waitFor(
          async () => {
            peers = await peersOf(r);
            return peers.length === 2 && peers.every((p) => p.reachable && p.queued === 0);
          },
          20_000,
          `${r.domain}'s peers to be reachable with nothing queued`,
        );
        expect(peers.map((p) => p.domain).sort()).toEqual(others);
        for (const p of peers) expect(p).toMatchObject({ reachable: true, queued: 0, lastError: null });
      }),
    );
    console.info(
      `six directions: ${[...expected.values()].flat().length} deliveries; sent in ${sentMs} ms, ` +
        `all received in ${deliveredMs} ms, peers checked in ${Date.now() - started} ms`,
    );
  }, 90_000);

  it('a blackholed peer: every envelope wacap accepted arrives once after the link returns, in each sender’s order', async () => {
    const started = Date.now();
    await throughProxy();
    const wacap = byDomain.get(WACAP)!;
    const lakes = byDomain.get(GREAT_LAKES)!;
    const outboxFrom = lastOutboxSeq(wacap);
    const deliveryFrom = lastDeliverySeq(lakes);
    const ke = await inboxFromNow(KE);

    const TARGET = 1_000;
    const deadline = Date.now() + 100_000;
    let phase: 'before' | 'blackholed' | 'cut' | 'restored' = 'before';
    let total = 0;
    const runs = Promise.all(
      [SN, GH].map((a) =>
        sendRun(a, {
          stop: () => (phase === 'restored' && total >= TARGET) || Date.now() > deadline,
          maxSends: 2 * TARGET,
          onAccepted: () => total++,
        }),
      ),
    );
    await waitFor(() => total >= 300, 60_000, '300 envelopes accepted before the fault');
    // Each sender has verified the peer's key log before the fault: while the peer does not
    // answer, sends use those keys and the envelopes wait in the outbox.
    await Promise.all([SN, GH].map((a) => nodes.get(a)!.trust.authority(KE, true)));
    proxy.blackhole();
    phase = 'blackholed';
    const blackholedAt = Date.now();
    const acceptedBefore = total;

    let seen: PeerState | undefined;
    await waitFor(
      async () => {
        seen = (await peersOf(wacap)).find((p) => p.domain === GREAT_LAKES);
        return seen !== undefined && !seen.reachable && seen.queued > 0 && seen.lastError !== null;
      },
      20_000,
      'wacap to show great-lakes unreachable with envelopes queued',
    );
    await sleep(Math.max(0, 3_000 - (Date.now() - blackholedAt)));
    // Then the link flaps: connections refused (reset) for a while, before it comes back.
    proxy.cut();
    phase = 'cut';
    await sleep(1_500);
    const acceptedDuring = total - acceptedBefore;
    proxy.restore();
    phase = 'restored';
    const restoredAt = Date.now();

    const [sn, gh] = await runs;
    const sendsDoneAt = Date.now();
    expect(total).toBeGreaterThanOrEqual(TARGET);

    // What wacap accepted for great-lakes, from its own database, is what ke.ag must receive.
    let rows: OutboxRow[] = [];
    await waitFor(
      () => {
        rows = outboxRows(wacap, GREAT_LAKES, outboxFrom);
        return rows.every((r) => r.state !== 'pending');
      },
      60_000,
      'wacap’s outbox to drain',
    );
    await ke.until(
      rows.map((r) => r.envelopeId),
      60_000,
      'every accepted envelope to reach ke.ag',
    );
    const drainedAt = Date.now();
    await sleep(300);
    await ke.fetch();

    const acceptedIds = [...sn!.accepted, ...gh!.accepted].map((a) => a.id);
    expect(new Set(rows.map((r) => r.envelopeId))).toEqual(new Set(acceptedIds));
    expect(rows.filter((r) => r.state !== 'forwarded')).toEqual([]);
    expectExactlyOnce(ke.order, acceptedIds);
    expect(ke.duplicates, 'envelopes delivered twice to ke.ag').toBe(0);
    expect(ke.rejections).toEqual([]);

    // Each sender's order, as its sends were accepted (one at a time, so by subject number), is the
    // order in which wacap queued them, great-lakes stored them and ke.ag received them.
    for (const run of [sn!, gh!]) {
      const sender = `desk1/${run.authority}`;
      const sent = run.accepted.map((a) => a.id);
      expect(run.accepted.map((a) => a.seq)).toEqual(
        [...run.accepted.map((a) => a.seq)].sort((x, y) => x - y),
      );
      const queued = bySender(rows.map((r) => ({ id: r.envelopeId, sender: r.sender }))).get(sender);
      const stored = bySender(
        deliveryRows(lakes, KE_NODE, deliveryFrom).map((r) => ({ id: r.envelopeId, sender: r.sender })),
      ).get(sender);
      const arrived = bySender(ke.order).get(sender);
      expect(queued, `order in wacap's outbox for ${sender}`).toEqual(sent);
      expect(stored, `order of great-lakes' deliveries for ${sender}`).toEqual(sent);
      expect(arrived, `order of arrival at ke.ag for ${sender}`).toEqual(sent);
      expect(ke.order.filter((m) => m.sender === sender).map((m) => m.subject)).toEqual(
        run.accepted.map((a) => `${run.authority} #${a.seq}`),
      );
    }

    // The refusals: only while the link was down (give or take one peer timeout), each with a code.
    const failures = [...sn!.failures, ...gh!.failures];
    const failedAfter = failures.map((f) => f.at - blackholedAt);
    for (const f of failures) {
      expect(f.at).toBeGreaterThanOrEqual(blackholedAt);
      expect(f.at).toBeLessThanOrEqual(restoredAt + 2_500);
    }
    const after = (await peersOf(wacap)).find((p) => p.domain === GREAT_LAKES);
    expect(after).toMatchObject({ reachable: true, queued: 0, lastError: null });
    console.info(
      `blackhole: ${rows.length} accepted (${acceptedBefore} before the fault, ${acceptedDuring} during it, the rest after); ` +
        `refused during the fault: ${JSON.stringify(countBy(failures.map((f) => f.code)))} ` +
        `at ${JSON.stringify(failedAfter)} ms into it; ` +
        `seen while blackholed: ${JSON.stringify(seen)}; ` +
        `blackholed then cut ${restoredAt - blackholedAt} ms; sends done ${sendsDoneAt - started} ms, drained ${drainedAt - started} ms, total ${Date.now() - started} ms`,
    );
  }, 150_000);

  it('answers lost to the peer timeout: great-lakes stores, wacap sends again, each envelope is stored and received once', async () => {
    const started = Date.now();
    await throughProxy();
    const wacap = byDomain.get(WACAP)!;
    const lakes = byDomain.get(GREAT_LAKES)!;
    const outboxFrom = lastOutboxSeq(wacap);
    const deliveryFrom = lastDeliverySeq(lakes);
    const ke = await inboxFromNow(KE);

    // A round trip now takes 2.2 s, longer than the 2 s wacap waits for a peer's answer: every
    // batch reaches great-lakes, and every answer comes too late.
    proxy.delay(1_100);
    const deadline = Date.now() + 40_000;
    const runs = await Promise.all(
      [SN, GH].map((a) => sendRun(a, { stop: () => Date.now() > deadline, maxSends: 30, concurrency: 5 })),
    );
    const sentAt = Date.now();
    let lost: OutboxRow[] = [];
    await waitFor(
      () => {
        const stored = new Set(deliveryRows(lakes, KE_NODE, deliveryFrom).map((r) => r.envelopeId));
        lost = outboxRows(wacap, GREAT_LAKES, outboxFrom).filter(
          (r) => r.state === 'pending' && r.attempts > 0 && stored.has(r.envelopeId),
        );
        return lost.length > 0;
      },
      20_000,
      'an envelope stored by great-lakes whose answer wacap did not get',
    );
    proxy.restore();
    const restoredAt = Date.now();

    let rows: OutboxRow[] = [];
    await waitFor(
      () => {
        rows = outboxRows(wacap, GREAT_LAKES, outboxFrom);
        return rows.every((r) => r.state !== 'pending');
      },
      30_000,
      'wacap’s outbox to drain',
    );
    await ke.until(
      rows.map((r) => r.envelopeId),
      30_000,
      'every envelope to reach ke.ag',
    );
    await sleep(300);
    await ke.fetch();

    const acceptedIds = runs.flatMap((r) => r.accepted.map((a) => a.id));
    expect(runs.flatMap((r) => r.failures)).toEqual([]);
    expect(acceptedIds.length).toBe(60);
    expect(new Set(rows.map((r) => r.envelopeId))).toEqual(new Set(acceptedIds));
    expect(rows.filter((r) => r.state !== 'forwarded')).toEqual([]);
    expectExactlyOnce(ke.order, acceptedIds);
    expect(ke.duplicates, 'envelopes delivered twice to ke.ag').toBe(0);
    const stored = deliveryRows(lakes, KE_NODE, deliveryFrom);
    expect(stored.length, 'great-lakes stored each envelope once').toBe(rows.length);
    const queuedBy = bySender(rows.map((r) => ({ id: r.envelopeId, sender: r.sender })));
    const storedBy = bySender(stored.map((r) => ({ id: r.envelopeId, sender: r.sender })));
    for (const [sender, ids] of queuedBy) expect(storedBy.get(sender), `order for ${sender}`).toEqual(ids);
    console.info(
      `lost answers: 60 sent over the slow link in ${sentAt - started} ms; ${lost.length} stored by great-lakes ` +
        `while wacap still retried them (attempts ${JSON.stringify([...new Set(lost.map((r) => r.attempts))])}); ` +
        `drained ${Date.now() - restoredAt} ms after the link was restored; total ${Date.now() - started} ms`,
    );
  }, 90_000);

  // A node's look at the peer's key log goes through its relay, which gives up on the peer after
  // ENTRAIDE_PEER_TIMEOUT_MS; the node then uses the keys it verified before, and the envelope waits
  // in the outbox: nothing is refused or lost while a peer is down.
  it('a send to an authority on a blackholed peer is accepted within the peer timeout, and waits in the outbox', async () => {
    await throughProxy();
    const sn = nodes.get(SN)!;
    const ke = await inboxFromNow(KE);
    proxy.blackhole();
    let settled: Promise<string> | undefined;
    let id: string | undefined;
    try {
      await sleep(1_200); // the sender's last look at the peer's key log is now over a second old
      const begun = Date.now();
      settled = sn.send({ to: [KE], subject: 'into the dark', body: '' }).then(
        (r) => {
          id = r.id;
          return 'accepted';
        },
        (err: unknown) => (err instanceof EntraideError ? err.code : String(err)),
      );
      const outcome = await Promise.race([settled, sleep(6_000).then(() => 'still waiting after 6 s')]);
      expect({ outcome, withinMs: Date.now() - begun < 6_000 }).toEqual({
        outcome: 'accepted',
        withinMs: true,
      });
    } finally {
      proxy.restore(); // resets the hung connection: the send ends now
      await settled;
    }
    // Once the link is back, the outbox delivers it (and the next test starts from a clean inbox).
    await ke.until([id!], 15_000, 'the envelope sent while the peer was down');
    expectExactlyOnce(ke.order, [id!]);
  }, 30_000);

  it('SIGKILL of the sending relay mid-drain: restarted on the same data, every envelope arrives exactly once', async () => {
    const started = Date.now();
    await throughProxy();
    const wacap = byDomain.get(WACAP)!;
    const lakes = byDomain.get(GREAT_LAKES)!;
    const outboxFrom = lastOutboxSeq(wacap);
    const deliveryFrom = lastDeliverySeq(lakes);
    const ke = await inboxFromNow(KE);

    // A backlog: the link is congested (16 KiB/s per connection). The senders' small key-log
    // requests still pass, but a batch of envelopes no longer fits in wacap's 2 s peer timeout.
    proxy.throttle(16 * 1024);
    const deadline = Date.now() + 40_000;
    let total = 0;
    const runs = await Promise.all(
      [SN, GH].map((a) =>
        sendRun(a, {
          stop: () => total >= 500 || Date.now() > deadline,
          maxSends: 800,
          concurrency: 6,
          onAccepted: () => total++,
        }),
      ),
    );
    const sentIds = runs.flatMap((r) => r.accepted.map((a) => a.id));
    const backlog = outboxRows(wacap, GREAT_LAKES, outboxFrom).filter((r) => r.state === 'pending');
    const inBacklog = new Set(backlog.map((r) => r.envelopeId));
    const builtAt = Date.now();
    expect(runs.flatMap((r) => r.failures)).toEqual([]);
    expect(backlog.length, 'a backlog of at least two batches').toBeGreaterThanOrEqual(200);

    // The link returns, slowly enough that the drain takes several round trips: kill wacap when
    // great-lakes holds between 10 % and 90 % of the backlog.
    proxy.restore();
    proxy.delay(400);
    let atKill = 0;
    await waitFor(
      () => {
        atKill = deliveryRows(lakes, KE_NODE, deliveryFrom).filter((r) => inBacklog.has(r.envelopeId)).length;
        return atKill >= 0.1 * backlog.length;
      },
      30_000,
      'the drain to start',
    );
    await wacap.process.stop('SIGKILL');
    const killedAt = Date.now();
    const port = wacap.process.port;
    expect(atKill / backlog.length).toBeLessThanOrEqual(0.9);
    const storedAtKill = new Set(deliveryRows(lakes, KE_NODE, deliveryFrom).map((r) => r.envelopeId));
    const pendingAtKill = outboxRows(wacap, GREAT_LAKES, outboxFrom).filter((r) => r.state === 'pending');
    // Envelopes great-lakes stored whose answer wacap never recorded: they go again, and must be
    // recognised as duplicates.
    const resent = pendingAtKill.filter((r) => storedAtKill.has(r.envelopeId)).length;
    // The answer for the batch great-lakes stored was held by the slow link when wacap died.
    expect(resent, 'envelopes stored by great-lakes but still pending at wacap').toBeGreaterThan(0);

    proxy.restore();
    wacap.process = await spawnRelay(wacap.dir, port, WACAP, OUTBOX_ENV);
    const restartedAt = Date.now();
    let rows: OutboxRow[] = [];
    await waitFor(
      () => {
        rows = outboxRows(wacap, GREAT_LAKES, outboxFrom);
        return rows.every((r) => r.state !== 'pending');
      },
      60_000,
      'the restarted relay’s outbox to drain',
    );
    await ke.until(sentIds, 60_000, 'every envelope to reach ke.ag');
    const drainedAt = Date.now();
    await sleep(300);
    await ke.fetch();

    expect(new Set(rows.map((r) => r.envelopeId))).toEqual(new Set(sentIds));
    expect(rows.filter((r) => r.state !== 'forwarded')).toEqual([]);
    expectExactlyOnce(ke.order, sentIds);
    expect(ke.duplicates, 'envelopes delivered twice to ke.ag').toBe(0);
    expect(ke.rejections).toEqual([]);
    const stored = deliveryRows(lakes, KE_NODE, deliveryFrom);
    expect(stored.length, 'great-lakes stored each envelope once').toBe(rows.length);
    // Order per sender survives the crash too: as wacap queued them, great-lakes stored them.
    const queuedBy = bySender(rows.map((r) => ({ id: r.envelopeId, sender: r.sender })));
    const storedBy = bySender(stored.map((r) => ({ id: r.envelopeId, sender: r.sender })));
    const arrivedBy = bySender(ke.order);
    for (const [sender, ids] of queuedBy) {
      expect(storedBy.get(sender), `great-lakes' order for ${sender}`).toEqual(ids);
      expect(arrivedBy.get(sender), `ke.ag's order for ${sender}`).toEqual(ids);
    }
    const after = (await peersOf(wacap)).find((p) => p.domain === GREAT_LAKES);
    expect(after).toMatchObject({ reachable: true, queued: 0, lastError: null });
    console.info(
      `sigkill: ${sentIds.length} sent over a congested link, backlog ${backlog.length} built in ${builtAt - started} ms; ` +
        `killed with ${atKill} (${Math.round((100 * atKill) / backlog.length)} %) stored at great-lakes, ` +
        `${pendingAtKill.length} pending at wacap of which ${resent} already stored (sent again); ` +
        `restart took ${restartedAt - killedAt} ms; drained ${drainedAt - restartedAt} ms after; total ${Date.now() - started} ms`,
    );
  }, 150_000);

  /** Set by the test below for the one after it: three large envelopes waiting at casc. */
  let large: { ids: string[]; queued: number } | undefined;

  it('large envelopes queue behind a congested link: each alone is under the peer’s body limit', async () => {
    const started = Date.now();
    const casc = byDomain.get(CASC)!;
    // casc gets its own way to great-lakes, so that what happens here touches no other link.
    const second = await startTcpProxy({ port: byDomain.get(GREAT_LAKES)!.process.port });
    cleanup.push(() => second.close());
    await routeThrough(casc, second, KZ);
    const outboxFrom = lastOutboxSeq(casc);
    // At 16 KiB/s the first large envelope cannot reach great-lakes within casc's 2 s peer timeout,
    // so the next ones queue behind it, and the next attempt carries them all in one batch.
    second.throttle(16 * 1024);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const body = `${i}`.repeat(400 * 1024); // 400 KiB: an envelope of about 550 KB
      ids.push((await nodes.get(KZ)!.send({ to: [KE], subject: `large ${i}`, body })).id);
    }
    const rows = outboxRows(casc, GREAT_LAKES, outboxFrom);
    expect(rows.map((r) => r.envelopeId)).toEqual(ids);
    expect(rows.every((r) => r.state === 'pending')).toBe(true);
    // The link is repaired: casc's operator points it straight at great-lakes again. (Not through
    // the proxy: it loses a peer's early answer to a request the peer refuses to read, such as a
    // 413; see tcp-proxy.ts.)
    await addPeer(casc, byDomain.get(GREAT_LAKES)!);
    second.restore();
    large = { ids, queued: rows.length };
    // casc reads its peers again within 2 s and retries within 1 s; the next test waits for the
    // envelopes themselves (with the 4 s this test used to sleep added to its budget).
    const repairedAt = Date.now();
    const peer = (await peersOf(casc)).find((p) => p.domain === GREAT_LAKES);
    expect(peer?.url).toBe(byDomain.get(GREAT_LAKES)!.url);
    console.info(
      `large envelopes: 3 queued; ${Date.now() - repairedAt} ms after the link was repaired, casc says of great-lakes: ` +
        `${JSON.stringify({ reachable: peer?.reachable, queued: peer?.queued, lastError: peer?.lastError })}; ` +
        `total ${Date.now() - started} ms`,
    );
  }, 60_000);

  // Batches are bounded in bytes (as many envelopes as fit under the peer's body limit, at least
  // one): three envelopes of 550 KB queued together go one by one, not as one refused request.
  it('large envelopes queued together reach the peer once the link is back', async () => {
    expect(large, 'the envelopes of the test above').toBeDefined();
    const ke = new Received(nodes.get(KE)!); // the envelopes above were not fetched yet
    await ke.until(large!.ids, 14_000, 'the three large envelopes');
    expectExactlyOnce(ke.order, large!.ids);
  }, 30_000);
});

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
