/**
 * The stage of scenario (w): a relay in this process, two authority nodes enrolled on it, their
 * inboxes filled through the node's store before their services start, and `entraide serve`
 * processes on loopback. Nothing here measures.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initNode } from '../client/init.ts';
import { AuthorityNode } from '../client/node.ts';
import { random } from '../client/random.ts';
import { readServiceFile, type ServiceFile } from '../client/service/service-file.ts';
import { buildRelay, type Relay } from '../server/app.ts';
import { createInvitation } from '../server/domain/enrolment.ts';
import { relayLimits } from '../server/limits.ts';
import { uuidv7 } from '../shared/uuid.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/entraide.js');
export const PASSPHRASE = 'bench passphrase, long enough';
export const RELAY_DOMAIN = 'relay.bench';

/** Counterparts an inbox hears from: central authorities on this relay and on others. */
const SENDERS = [
  'desk1/fr.mj@relay.bench',
  'desk2/fr.mj@relay.bench',
  'desk1/de.bfj@relay.bench',
  'desk1/es.mjus@relay.bench',
  'desk1/it.giustizia@relay.bench',
  'desk1/br.mj@relay.two.bench',
  'desk1/ma.justice@relay.bench',
  'desk1/ca.iag@relay.two.bench',
  'desk1/jp.moj@relay.two.bench',
  'desk3/pt.pgr@relay.bench',
  'desk1/ch.bj@relay.bench',
  'desk1/ar.mrecic@relay.two.bench',
];
const TOPICS = [
  'Request for preservation of e-mail account data',
  'Hearing of a witness by videoconference',
  'Service of judicial documents',
  'Bank records: account statements 2019–2024',
  'Extradition: supplementary information requested',
  'Freezing of assets: status of execution',
  'Transfer of criminal proceedings',
  'Search and seizure: execution report',
  'Subscriber information for a mobile number',
  'Cross-border surveillance: prior notice',
];

/**
 * The subject of inbox message `i`: distinct per message (so one thread each), ending in a case
 * number `<year>-<5 digits>`, so that `2026-0123` matches exactly ten messages (01230 to 01239).
 */
export const subjectOf = (i: number): string =>
  `${TOPICS[i % TOPICS.length]!}, case ${2026}-${String(i).padStart(5, '0')}`;

export interface Stage {
  relay: Relay;
  close(): Promise<void>;
}

export async function startRelay(dir: string): Promise<Stage & { url: string }> {
  const relay = await buildRelay({
    dataDir: join(dir, 'relay'),
    domain: RELAY_DOMAIN,
    create: true,
    limits: relayLimits('test'),
  });
  const url = await relay.listen('127.0.0.1', 0);
  return { relay, url, close: () => relay.close() };
}

/** Enrols `desk1/<authority>@relay.bench` in `home` under PASSPHRASE, without opening it. */
export async function enrol(relay: Relay, url: string, authority: string, home: string): Promise<void> {
  const invitation = await createInvitation(relay.store, authority, new Date());
  await initNode({
    home,
    relayUrl: url,
    relayKey: relay.identity.publicKeyB64,
    invite: invitation.code,
    authorityId: authority,
    nodeName: 'desk1',
    passphrase: PASSPHRASE,
  });
}

/**
 * Puts `count` received messages into the inbox of the node in `home` through its store, as its
 * receiving path stores them (sealed, in group-committed transactions, each in the node's record),
 * spread over the last 90 days. Resolves with the time it took, ms. The node must not be served.
 */
export async function fillInbox(home: string, count: number): Promise<number> {
  const t = performance.now();
  const node = await AuthorityNode.open(home, PASSPHRASE);
  try {
    const now = Date.now();
    const span = 90 * 24 * 3600_000;
    const saved: Promise<boolean>[] = [];
    for (let i = 0; i < count; i++) {
      const sentAt = now - span + Math.floor((span * i) / count);
      const sender = SENDERS[(i * 7) % SENDERS.length]!;
      saved.push(
        node.store.saveMessage({
          id: uuidv7(sentAt, random(10)),
          direction: 'in',
          sender,
          recipients: [node.authority],
          subject: subjectOf(i),
          body: `Dear colleagues,\n\nPlease find our answer on ${subjectOf(i)}. The documents follow under separate cover.\n\nKind regards,\n${sender}`,
          language: 'en',
          sentAt: new Date(sentAt).toISOString(),
          receivedAt: new Date(sentAt + 1500).toISOString(),
          acceptedAt: null,
          envelope: '{}',
          content: null,
          kind: 'message',
          requestId: null,
          handling: null,
        }),
      );
    }
    const fresh = (await Promise.all(saved)).filter(Boolean).length;
    if (fresh !== count) throw new Error(`the inbox took ${fresh} of ${count} messages`);
  } finally {
    await node.close();
  }
  return performance.now() - t;
}

export interface Served {
  file: ServiceFile;
  stop(): Promise<void>;
}

/** Starts `entraide serve --port 0` on `home`; resolves once it printed its URL and wrote service.json. */
export function serve(home: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, '--home', home, 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, ENTRAIDE_PASSPHRASE: PASSPHRASE },
  });
  let output = '';
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(hard);
        done();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      void stop();
      reject(new Error(`entraide serve ${why}:\n${output.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail('did not start in 60 s'), 60_000);
    child.once('exit', (code) => fail(`exited with ${code}`));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!/url:\s+http/.test(output)) return;
      const file = readServiceFile(home);
      if (!file) return fail('printed its URL but wrote no service.json');
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ file, stop });
    });
  });
}
