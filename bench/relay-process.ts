/**
 * The relay under test, in its own process: buildRelay on a fresh data folder, listening on
 * 127.0.0.1 with an ephemeral port. Prints `{ url, domain, publicKey, pid }` as one JSON line once
 * ready.
 *
 *   node dist/bench/relay-process.js <data-dir> [domain]
 *
 * The relay runs the limits profile named by BENCH_RELAY_LIMITS (default `test`). `domain` defaults to relay.bench; scenario (d) runs two relays, relay.one.bench and
 * relay.two.bench, peered both ways. The federation outbox keeps the product's default timing.
 *
 * Commands on stdin (see child-protocol.ts): `invite` { authorities: string[] } answers
 * { invitations: { [authorityId]: code } }; `peer` { domain, url, publicKey } adds (or updates)
 * a peer relay and reloads the peer registry at once, answers { ok }; `commits` (storage timing
 * since the last call, see instrument.ts); `counts`; `stats`, `profile-start`, `profile-stop`.
 * Closing stdin closes the relay.
 */
import { buildRelay } from '../server/app.ts';
import { relayLimits } from '../server/limits.ts';
import { createInvitation } from '../server/domain/enrolment.ts';
import { reply, serveCommands } from './child-protocol.ts';
import { CommitStats, countCalls, instrumentTransactions } from './instrument.ts';

/** What `counts` answers: envelopes and deliveries, and the federation queues. */
export interface RelayCounts {
  envelopes: number;
  /** Deliveries to this relay's nodes (and, on a sending relay, remote ones its peers reported). */
  pending: number;
  delivered: number;
  /** Envelopes waiting in the outbox for a peer relay, forwarded, or given up (refused, expired). */
  outboxPending: number;
  outboxForwarded: number;
  outboxOther: number;
  /** Delivery reports this relay owes its peers (pending) or has sent them. */
  reportsPending: number;
  reportsSent: number;
}

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  const domain = process.argv[3] ?? 'relay.bench';
  if (!dataDir) throw new Error('usage: relay-process.js <data-dir> [domain]');
  const relay = await buildRelay({
    dataDir,
    domain,
    create: true,
    logLevel: process.env.BENCH_RELAY_LOG ?? 'warn',
    // A benchmark drives thousands of messages a second from one address: the `test` budgets, with
    // every check of the default profile; `unlimited` turns them off, to measure what they cost.
    limits: relayLimits(process.env.BENCH_RELAY_LIMITS ?? 'test'),
  });
  // Timing around the storage steps: every commit (statements + fsync) and every item handed over.
  const commits = new CommitStats();
  instrumentTransactions(relay.store.db, commits);
  countCalls(relay.store, 'acceptEnvelope', 'accept', commits);
  countCalls(relay.store, 'markDelivered', 'delivered', commits);
  // Federation (scenario d): envelopes per outbox batch recorded, delivery reports per batch sent.
  const length = (args: unknown[]) => (Array.isArray(args[0]) ? args[0].length : 0);
  countCalls(relay.store, 'recordForwarding', 'forward', commits, length);
  countCalls(relay.store, 'recordReports', 'reports', commits, length);
  let url: string;
  try {
    url = await relay.listen('127.0.0.1', 0);
  } catch (err) {
    await relay.close();
    throw err;
  }
  const countsQuery = relay.store.db.prepare<[], RelayCounts>(
    `SELECT (SELECT count(*) FROM "Envelope") AS envelopes,
            (SELECT count(*) FROM "Delivery" WHERE state = 'pending') AS pending,
            (SELECT count(*) FROM "Delivery" WHERE state = 'delivered') AS delivered,
            (SELECT count(*) FROM "Outbox" WHERE state = 'pending') AS outboxPending,
            (SELECT count(*) FROM "Outbox" WHERE state = 'forwarded') AS outboxForwarded,
            (SELECT count(*) FROM "Outbox" WHERE state NOT IN ('pending', 'forwarded')) AS outboxOther,
            (SELECT count(*) FROM "DeliveryReport" WHERE state = 'pending') AS reportsPending,
            (SELECT count(*) FROM "DeliveryReport" WHERE state = 'sent') AS reportsSent`,
  );
  serveCommands(
    {
      invite: async (c) => {
        const ids = Array.isArray(c.authorities) ? c.authorities.map(String) : [];
        const invitations: Record<string, string> = {};
        for (const id of ids) invitations[id] = (await createInvitation(relay.store, id, new Date())).code;
        return { invitations };
      },
      peer: async (c) => {
        await relay.store.addPeer({
          domain: String(c.domain),
          url: String(c.url),
          publicKey: String(c.publicKey),
          addedAt: new Date(),
        });
        // The accept path only looks at the cached registry: make the new peer known now.
        await relay.ctx.federation.peers.load();
        return { ok: true };
      },
      commits: () => commits.snapshot(),
      /** Envelope, delivery and federation counts, to check that the relay stored and delivered everything. */
      counts: () => ({ ...countsQuery.get()! }),
    },
    () => relay.close(),
  );
  reply({ url, domain: relay.identity.domain, publicKey: relay.identity.publicKeyB64, pid: process.pid });
}

main().catch((err: unknown) => {
  console.error('relay-process failed:', err);
  process.exit(1);
});
