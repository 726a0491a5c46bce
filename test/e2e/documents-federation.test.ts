/**
 * Documents across two federated relay processes: Senegal (relay.one) sends a request with its
 * letter to Kenya (relay.two) while relay.two is down. The request and its file arrive once
 * relay.two returns, the file before the request (relay.two's audit log has the blob whole before
 * it received the envelope), so the request is never shown before its file can be fetched; Kenya's
 * node downloads it, verified, and relay.one logs the blob as forwarded.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import { documentsOf } from '../../client/service/desk-documents.ts';
import { PASSPHRASE, removeDir, tempDir } from '../support/fixtures.ts';
import { cli, spawnRelay, type RelayProcess } from '../support/processes.ts';
import { preservationDraft } from '../support/requests.ts';
import { waitFor } from '../support/wait.ts';

const OUTBOX_ENV = {
  ENTRAIDE_OUTBOX_BASE_MS: '50',
  ENTRAIDE_OUTBOX_MAX_MS: '1000',
  ENTRAIDE_OUTBOX_POLL_MS: '200',
  ENTRAIDE_PEER_TIMEOUT_MS: '2000',
};
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

interface Relay {
  domain: string;
  dir: string;
  process: RelayProcess;
  publicKey: string;
}

function dir(prefix: string): string {
  const d = tempDir(prefix);
  cleanup.push(async () => removeDir(d));
  return d;
}

async function run(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`entraide ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function startRelay(domain: string, data = dir('entraide-docfed-relay-'), port = 0): Promise<Relay> {
  const proc = await spawnRelay(data, port, domain, OUTBOX_ENV);
  const relay: Relay = { domain, dir: data, process: proc, publicKey: '' };
  cleanup.push(() => relay.process.stop('SIGKILL'));
  relay.publicKey = (
    JSON.parse(await run(['relay', 'info', '--data', data, '--json'])) as { publicKey: string }
  ).publicKey;
  return relay;
}

async function peer(on: Relay, other: Relay): Promise<void> {
  await run([
    'relay',
    'peer',
    'add',
    '--domain',
    other.domain,
    '--url',
    other.process.url,
    '--key',
    other.publicKey,
    '--data',
    on.dir,
  ]);
}

async function enrol(relay: Relay, authorityId: string): Promise<AuthorityNode> {
  const home = dir('entraide-docfed-node-');
  const invite = JSON.parse(await run(['relay', 'invite', authorityId, '--data', relay.dir, '--json'])) as {
    code: string;
  };
  await initNode({
    home,
    relayUrl: relay.process.url,
    invite: invite.code,
    authorityId,
    nodeName: 'desk1',
    passphrase: PASSPHRASE,
  });
  const node = await AuthorityNode.open(home, PASSPHRASE);
  cleanup.push(() => node.close());
  return node;
}

/** Relay `relay`'s audit entries, in order (read beside the running process). */
function audit(relay: Relay): { kind: string; blob?: string; envelope?: string; peer?: string }[] {
  const db = new Database(join(relay.dir, 'relay.db'), { readonly: true });
  try {
    return db
      .prepare<[], { leaf: string }>('SELECT leaf FROM "AuditEntry" ORDER BY seq')
      .all()
      .map((r) => JSON.parse(r.leaf) as { kind: string; blob?: string; envelope?: string; peer?: string });
  } finally {
    db.close();
  }
}

describe('documents across federated relays', { timeout: 120_000 }, () => {
  it('forwards a request’s file before the request once the peer returns, and the file arrives whole', async () => {
    const one = await startRelay('relay.one.test');
    let two = await startRelay('relay.two.test');
    await peer(one, two);
    await peer(two, one);
    const sn = await enrol(one, 'sn.moj');
    const ke = await enrol(two, 'ke.ag');
    const KE = 'ke.ag@relay.two.test';

    // A first exchange: Senegal's node learns Kenya's keys and what relay.two reads.
    await sn.send({ to: [KE], subject: 'Hello', body: 'First contact.' });
    await waitFor(async () => (await ke.fetchInbox()).length > 0, 30_000, 'the first message');

    // relay.two goes down; the request and its letter are sealed, uploaded to relay.one, accepted.
    const port = two.process.port;
    await two.process.stop('SIGKILL');
    const letter = join(dir('entraide-docfed-file-'), 'demande.pdf');
    writeFileSync(letter, randomBytes(3 * 1024 * 1024 + 12_345));
    const created = await sn.requests.create({
      type: 'expedited_preservation',
      to: KE,
      draft: preservationDraft(),
      attachments: [{ path: letter, role: 'request_letter', language: 'fr' }],
    });
    expect(created.sent).toMatchObject({ queued: false });
    const blob = sn.documents.of(created.sent!.id)[0]!.blob;

    // relay.two returns on the same port and data: relay.one's outbox sends the file, then the request.
    two = await startRelay('relay.two.test', two.dir, port);
    let arrived = false;
    await waitFor(
      async () => {
        await ke.fetchInbox();
        arrived = ke.requests.list().some((r) => r.id === created.id);
        return arrived;
      },
      60_000,
      'the request at Kenya',
    );
    const onTwo = audit(two);
    const blobWhole = onTwo.findIndex((e) => e.kind === 'blob_uploaded' && e.blob === blob);
    const received = onTwo.findIndex((e) => e.kind === 'received' && e.envelope === created.sent!.id);
    expect(blobWhole).toBeGreaterThanOrEqual(0);
    expect(onTwo[blobWhole]!.peer).toBe('relay.one.test');
    expect(received).toBeGreaterThan(blobWhole);
    expect(
      audit(one).some((e) => e.kind === 'blob_forwarded' && e.blob === blob && e.peer === 'relay.two.test'),
    ).toBe(true);

    const out = dir('entraide-docfed-out-');
    const [path] = await ke.documents.exportItem(created.sent!.id, out);
    const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('base64url');
    expect(sha(path!)).toBe(sha(letter));
    expect(documentsOf(ke, created.sent!.id).map((d) => [d.role, d.state])).toEqual([
      ['request_letter', 'held'],
    ]);
    // Senegal hears of it through its own relay: Kenya's node holds the letter, verified.
    await waitFor(async () => {
      await sn.fetchInbox();
      return documentsOf(sn, created.sent!.id)[0]!.downloadedBy?.[0]?.node === ke.address;
    }, 30_000);
  });
});
