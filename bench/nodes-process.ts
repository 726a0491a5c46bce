/**
 * SDK nodes of scenarios (a) and (d) in a process of their own, as each authority's node runs on
 * its own machine in reality: enrolled here with invitations that the parent passes, opened with
 * AuthorityNode.open, each listening. Prints `{ pid }` as one JSON line once ready.
 *
 *   node dist/bench/nodes-process.js <role>
 *
 * Commands on stdin (see child-protocol.ts):
 *   `open` { relayUrl, root, ids: string[], invitations: { [authorityId]: code } } creates one node
 *     per authority id under root, in order, and listens on each; answers { nodes: [{ authority, address }] };
 *   `resolve` { pairs: [[node index, authority], …] }: each node resolves (verifies and pins) that
 *     authority's keys, one after the other, before any load (see full-path.ts); answers { resolved };
 *   `clock` answers { now } (wallNow(), see load.ts), for the parent to check that both clocks agree;
 *   `commits`: the nodes' storage commits since the last call (instrument.ts);
 *   `counts`: flushes the pending events, then answers what was received, rejected and sent;
 *   `stats`, `profile-start`, `profile-stop`.
 * Events to the parent, batched (every 5 ms or 200 items, so that IPC stays cheap):
 *   `delivered` [[subject, envelope id, wallNow() when onReceive fired], …] for each message received;
 *   `accepted` [[key, envelope id], …] and `failed` [[key, reason], …] for the sends the parent asked for.
 * Event from the parent: `send` [[key, sender index, recipient authority], …]: node `sender index`
 * sends a 1 KiB body to that authority, with the key as subject.
 * Closing stdin closes the nodes.
 */
import type { AuthorityNode } from '../client/node.ts';
import { emit, reply, serveCommands } from './child-protocol.ts';
import { openBenchNode } from './full-path.ts';
import { CommitStats } from './instrument.ts';
import { wallNow } from './load.ts';
import { BODY_1KIB } from './wire.ts';

/** Collects items and emits them as one event when `maxItems` are waiting or `maxDelayMs` after the first. */
class Batcher<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly event: string,
    private readonly maxItems = 200,
    private readonly maxDelayMs = 5,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.maxItems) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    emit(this.event, items);
  }
}

const MAX_ERRORS = 20;

async function main(): Promise<void> {
  const role = process.argv[2] ?? 'nodes';
  const nodes: AuthorityNode[] = [];
  const commits = new CommitStats();
  const delivered = new Batcher<[string, string, number]>('delivered');
  const accepted = new Batcher<[string, string]>('accepted');
  const failed = new Batcher<[string, string]>('failed');
  const counts = { received: 0, duplicates: 0, rejected: 0, sent: 0, sendFailures: 0 };
  const errors: string[] = [];
  const note = (msg: string) => {
    if (errors.length < MAX_ERRORS) errors.push(msg);
  };
  const flushAll = () => {
    delivered.flush();
    accepted.flush();
    failed.flush();
  };

  serveCommands(
    {
      open: async (c) => {
        if (nodes.length > 0) return { error: 'the nodes are already open' };
        const relayUrl = String(c.relayUrl);
        const root = String(c.root);
        const ids = Array.isArray(c.ids) ? c.ids.map(String) : [];
        const invitations = (c.invitations ?? {}) as Record<string, string>;
        for (const id of ids) {
          const invite = invitations[id];
          if (!invite) throw new Error(`no invitation for ${id}`);
          nodes.push(await openBenchNode(root, relayUrl, id, invite, commits));
        }
        for (const node of nodes) {
          await node.listen({
            onReceive: (o) => {
              if (o.kind === 'message') {
                counts.received++;
                if (o.duplicate) counts.duplicates++;
                delivered.push([o.message.subject, o.message.id, wallNow()]);
              } else if (o.kind === 'rejected') {
                counts.rejected++;
                note(`${node.address} rejected ${o.rejection.envelopeId}: ${o.rejection.code}`);
              }
            },
            onError: (e) => note(`${node.address}: ${e.code} ${e.message}`),
          });
        }
        return { nodes: nodes.map((n) => ({ authority: n.authority, address: n.address })) };
      },
      resolve: async (c) => {
        const pairs = Array.isArray(c.pairs) ? (c.pairs as [number, string][]) : [];
        for (const [i, authority] of pairs) {
          const node = nodes[i];
          if (!node) throw new Error(`${role}: no node ${i}`);
          await node.trust.authority(String(authority));
        }
        return { resolved: pairs.length };
      },
      clock: () => ({ now: wallNow() }),
      commits: () => commits.snapshot(),
      counts: () => {
        flushAll();
        return { ...counts, ...(errors.length ? { errors } : {}) };
      },
    },
    async () => {
      flushAll();
      for (const node of nodes) await node.close().catch(() => undefined);
    },
    {
      send: (data) => {
        for (const [key, from, to] of data as [string, number, string][]) {
          const node = nodes[from];
          if (!node) {
            failed.push([key, `${role}: no node ${from}`]);
            continue;
          }
          node.send({ to: [to], subject: key, body: BODY_1KIB }).then(
            (r) => {
              counts.sent++;
              accepted.push([key, r.id]);
            },
            (err: unknown) => {
              counts.sendFailures++;
              failed.push([key, `send failed: ${err instanceof Error ? err.message : String(err)}`]);
            },
          );
        }
      },
    },
  );
  reply({ role, pid: process.pid });
}

main().catch((err: unknown) => {
  console.error('nodes-process failed:', err);
  process.exit(1);
});
