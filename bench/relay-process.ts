/**
 * The relay under test, in its own process: buildRelay on a fresh data folder, listening on
 * 127.0.0.1 with an ephemeral port. Prints `{ url, domain, pid }` as one JSON line once ready.
 *
 *   node dist/bench/relay-process.js <data-dir>
 *
 * Commands on stdin (see child-protocol.ts): `invite` { authorities: string[] } answers
 * { invitations: { [authorityId]: code } }; `commits` (storage timing since the last call,
 * see instrument.ts); `counts`; `stats`, `profile-start`, `profile-stop`.
 * Closing stdin closes the relay.
 */
import { buildRelay } from '../server/app.ts';
import { createInvitation } from '../server/domain/enrolment.ts';
import { reply, serveCommands } from './child-protocol.ts';
import { CommitStats, countCalls, instrumentTransactions } from './instrument.ts';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: relay-process.js <data-dir>');
  const relay = await buildRelay({
    dataDir,
    domain: 'relay.bench',
    create: true,
    logLevel: process.env.BENCH_RELAY_LOG ?? 'warn',
  });
  // Timing around the storage steps: every commit (statements + fsync) and every item handed over.
  const commits = new CommitStats();
  instrumentTransactions(relay.store.db, commits);
  countCalls(relay.store, 'acceptEnvelope', 'accept', commits);
  countCalls(relay.store, 'markDelivered', 'delivered', commits);
  let url: string;
  try {
    url = await relay.listen('127.0.0.1', 0);
  } catch (err) {
    await relay.close();
    throw err;
  }
  serveCommands(
    {
      invite: async (c) => {
        const ids = Array.isArray(c.authorities) ? c.authorities.map(String) : [];
        const invitations: Record<string, string> = {};
        for (const id of ids) invitations[id] = (await createInvitation(relay.store, id, new Date())).code;
        return { invitations };
      },
      commits: () => commits.snapshot(),
      /** Envelope and delivery counts, to check that the relay really stored and delivered everything. */
      counts: () => {
        const row = relay.store.db
          .prepare<[], { envelopes: number; pending: number; delivered: number }>(
            `SELECT (SELECT count(*) FROM "Envelope") AS envelopes,
                    (SELECT count(*) FROM "Delivery" WHERE state = 'pending') AS pending,
                    (SELECT count(*) FROM "Delivery" WHERE state = 'delivered') AS delivered`,
          )
          .get()!;
        return { ...row };
      },
    },
    () => relay.close(),
  );
  reply({ url, domain: relay.identity.domain, pid: process.pid });
}

main().catch((err: unknown) => {
  console.error('relay-process failed:', err);
  process.exit(1);
});
