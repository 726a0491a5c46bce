/**
 * Documents with real processes: a relay process, the `entraide` CLI on two nodes' folders.
 * - A 128 MiB file goes from Senegal to Kenya: it arrives identical, and no aligned 32-byte block of
 *   it is ever in the relay's data folder or in either node's folder (the plaintext is built from
 *   blocks that each begin with a random 8-byte marker, so that one search per file finds any of
 *   them at any offset); each process's memory stays flat (its peak no more than 48 MiB above the same
 *   command moving a file of 8 MiB: the garbage collector's noise, far below the 120 MiB more
 *   that holding the file would cost).
 * - The sender sees which recipient node holds the file, verified (a `downloaded` receipt).
 * - An upload cut by SIGKILL of the sending node at 40 % resumes from what the relay holds when the
 *   node next reaches the relay; a download cut at 40 % resumes from what the part file holds; a
 *   relay killed mid-upload keeps what it acknowledged, and the upload resumes after its restart.
 *   Transfers in these go through a throttling proxy, so that 40 % is a moment the test can catch.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import type { DocumentView } from '../../client/service/desk-documents.ts';
import { blobBytes } from '../../shared/files/file-crypto.ts';
import { PASSPHRASE, tempDir } from '../support/fixtures.ts';
import { BIN, cli, ROOT, spawnRelay, type CliResult, type RelayProcess } from '../support/processes.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { sleep, waitFor } from '../support/wait.ts';

const env = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
const KE = 'ke.ag@relay.test';
const MiB = 1024 * 1024;
/** The `test` budgets: each command logs in afresh on anonymous routes, faster than the default allows. */
const LIMITS_ENV = { ENTRAIDE_RELAY_LIMITS: 'test' };
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

interface Network {
  relay: RelayProcess;
  dataDir: string;
  sn: string;
  ke: string;
  proxy?: TcpProxy;
}

/** A relay process and two enrolled node folders; with `proxied`, the nodes reach the relay through a proxy. */
async function network(proxied = false): Promise<Network> {
  const dataDir = tempDir('entraide-docs-relay-');
  const relay = await spawnRelay(dataDir, 0, 'relay.test', LIMITS_ENV);
  cleanup.push(() => relay.stop('SIGKILL'));
  let url = relay.url;
  let proxy: TcpProxy | undefined;
  if (proxied) {
    proxy = await startTcpProxy({ port: relay.port });
    cleanup.push(() => proxy!.close());
    url = proxy.url;
  }
  const homes: string[] = [];
  for (const id of ['sn.moj', 'ke.ag']) {
    const invite = JSON.parse((await cli(['relay', 'invite', id, '--data', dataDir, '--json'])).stdout) as {
      code: string;
    };
    const home = tempDir(`entraide-docs-${id}-`);
    await initNode({
      home,
      relayUrl: url,
      invite: invite.code,
      authorityId: id,
      nodeName: 'desk1',
      passphrase: PASSPHRASE,
    });
    homes.push(home);
  }
  return { relay, dataDir, sn: homes[0]!, ke: homes[1]!, ...(proxy ? { proxy } : {}) };
}

/** A file of `size` bytes made of 32-byte blocks, each `marker` (8 bytes) then 24 random bytes. */
function plaintext(size: number, marker: Buffer): string {
  const bytes = randomBytes(size);
  for (let at = 0; at + 32 <= size; at += 32) marker.copy(bytes, at);
  const path = join(tempDir('entraide-docs-file-'), 'evidence.bin');
  writeFileSync(path, bytes);
  return path;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

/** Files under `dirs` that hold the marker anywhere (a block of the plaintext, at any offset). */
function leaks(dirs: string[], marker: Buffer): string[] {
  return dirs.flatMap(filesUnder).filter((f) => readFileSync(f).includes(marker));
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('base64url');
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs the CLI and samples its resident memory until it ends; its peak is returned with its result. */
function measured(args: string[]): Promise<CliResult & { peak: number }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(child.pid!))), 20);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearInterval(timer);
      resolve({ code: code ?? 1, stdout, stderr, peak });
    });
  });
}

async function ok(home: string, args: string[]): Promise<CliResult> {
  const r = await cli(['--home', home, ...args], env, 120_000);
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
  return r;
}

function sendArgs(home: string, file: string): string[] {
  return [
    '--home',
    home,
    'send',
    '--to',
    KE,
    '--subject',
    'Bank records',
    '--body',
    'The records asked for, certified.',
    '--attach',
    file,
    '--role',
    'execution_result',
    '--file-language',
    'fr',
    '--unverified-ok',
    '--json',
  ];
}

/** A CLI process on `home` killed with SIGKILL once `progress()` reaches `share` of `total`. */
async function killedAt(args: string[], progress: () => number, total: number, share = 0.4): Promise<number> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  const exited = new Promise((done) => child.once('exit', done));
  cleanup.push(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  await waitFor(() => progress() >= total * share || child.exitCode !== null, 60_000, `${share * 100} %`);
  child.kill('SIGKILL');
  await exited;
  return progress();
}

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);
const blobsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('documents between two nodes', { timeout: 180_000 }, () => {
  it('carries 128 MiB end to end encrypted, kept encrypted at rest, in flat memory, with a downloaded receipt', async () => {
    const net = await network();
    const marker = randomBytes(8);
    const small = plaintext(8 * MiB, marker);
    const big = plaintext(128 * MiB, marker);

    // Baselines: the same commands moving 8 MiB (enough for each process's heap to reach its working size).
    const s0 = await measured(sendArgs(net.sn, small));
    expect(s0.code, s0.stderr).toBe(0);
    const id0 = (JSON.parse(s0.stdout) as { id: string }).id;
    await ok(net.ke, ['inbox']);
    const d0 = await measured(['--home', net.ke, 'download', id0, '--out', tempDir('entraide-docs-out-')]);
    expect(d0.code, d0.stderr).toBe(0);

    const relayBase = rssOf(net.relay.child.pid!);
    let relayPeak = relayBase;
    const relayTimer = setInterval(() => (relayPeak = Math.max(relayPeak, rssOf(net.relay.child.pid!))), 20);
    cleanup.push(async () => clearInterval(relayTimer));

    const s1 = await measured(sendArgs(net.sn, big));
    expect(s1.code, s1.stderr).toBe(0);
    const id = (JSON.parse(s1.stdout) as { id: string; queued: boolean }).id;
    // On the relay now: its blob, and nothing of the plaintext anywhere in its folder.
    const relayBlobs = join(net.dataDir, 'blobs');
    expect(blobsIn(relayBlobs).map((b) => sizeOf(join(relayBlobs, b)))).toContain(blobBytes(128 * MiB));
    expect(leaks([net.dataDir], marker)).toEqual([]);

    await ok(net.ke, ['inbox']);
    const out = tempDir('entraide-docs-out-');
    const d1 = await measured(['--home', net.ke, 'download', id, '--out', out, '--json']);
    expect(d1.code, d1.stderr).toBe(0);
    clearInterval(relayTimer);
    const exported = (JSON.parse(d1.stdout) as { files: { path: string; sha256: string; role: string }[] })
      .files;
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({ role: 'execution_result', sha256: sha256(big) });
    expect(sha256(exported[0]!.path)).toBe(sha256(big));

    // Flat memory: a file sixteen times larger costs each process no more than the noise of its
    // garbage collector (measured: -17 to +27 MiB on peaks of ~210-280 MiB), never the file's
    // size (holding it once would add 120 MiB).
    const grew = { send: s1.peak - s0.peak, download: d1.peak - d0.peak, relay: relayPeak - relayBase };
    expect(grew.send, 'send').toBeLessThan(48 * MiB);
    expect(grew.download, 'download').toBeLessThan(48 * MiB);
    expect(grew.relay, 'relay').toBeLessThan(48 * MiB);

    // Neither node's folder holds a block of the plaintext: sealed files, database, journal.
    expect(leaks([net.sn, net.ke, net.dataDir], marker)).toEqual([]);

    // The recipient told the relay it holds the file: the relay deletes it.
    await waitFor(() => blobsIn(relayBlobs).length === 0, 90_000, 'the relay to delete the blobs');
    // The sender learns that Kenya's node holds exactly these bytes (its downloaded receipt).
    await waitFor(
      async () => {
        await ok(net.sn, ['inbox']);
        const read = JSON.parse((await ok(net.sn, ['read', id, '--json'])).stdout) as {
          documents: DocumentView[];
        };
        return read.documents[0]!.downloadedBy?.[0]?.node === `desk1/${KE}`;
      },
      30_000,
      'the downloaded receipt',
    );
  });

  it('resumes an upload after SIGKILL of the sending node, a download after SIGKILL, and an upload after the relay was killed', async () => {
    const net = await network(true);
    const proxy = net.proxy!;
    const marker = randomBytes(8);
    const file = plaintext(24 * MiB, marker);
    const total = blobBytes(24 * MiB);
    const relayBlobs = join(net.dataDir, 'blobs');
    const relayHolds = () => blobsIn(relayBlobs).reduce((n, b) => n + sizeOf(join(relayBlobs, b)), 0);
    proxy.throttle(8 * MiB);

    // The sending node is killed at 40 % of its upload: the item is stored, the relay holds 40 %.
    const held = await killedAt(sendArgs(net.sn, file), relayHolds, total);
    expect(held).toBeGreaterThanOrEqual(total * 0.4);
    expect(held).toBeLessThan(total);
    // The next command that reaches the relay sends what waits: the upload goes on from there.
    let lowest = Infinity;
    const watch = setInterval(() => (lowest = Math.min(lowest, relayHolds())), 20);
    await ok(net.sn, ['inbox']);
    clearInterval(watch);
    expect(lowest).toBeGreaterThanOrEqual(held);
    const sent = JSON.parse((await ok(net.sn, ['sent', '--json'])).stdout) as { id: string; state: string }[];
    expect(sent).toHaveLength(1);
    const id = sent[0]!.id;

    // The download is killed at 40 %, and goes on from the part file.
    await ok(net.ke, ['inbox']);
    const documents = join(net.ke, 'documents');
    const part = () =>
      blobsIn(documents).reduce((n, b) => (b.endsWith('.part') ? n + sizeOf(join(documents, b)) : n), 0);
    const out = tempDir('entraide-docs-out-');
    const partial = await killedAt(['--home', net.ke, 'download', id, '--out', out], part, total);
    expect(partial).toBeGreaterThanOrEqual(total * 0.4);
    expect(readdirSync(out)).toEqual([]);
    lowest = Infinity;
    const watchPart = setInterval(() => {
      const p = part();
      if (p > 0) lowest = Math.min(lowest, p);
    }, 20);
    const done = JSON.parse((await ok(net.ke, ['download', id, '--out', out, '--json'])).stdout) as {
      files: { path: string }[];
    };
    clearInterval(watchPart);
    expect(lowest).toBeGreaterThanOrEqual(partial);
    expect(sha256(done.files[0]!.path)).toBe(sha256(file));

    // The relay is killed at 40 % of an upload: the send says queued; after the restart the upload
    // resumes from what the relay had made durable, and the item arrives.
    const second = plaintext(24 * MiB, marker);
    const before = new Set(blobsIn(relayBlobs));
    const newBlob = () => blobsIn(relayBlobs).find((b) => !before.has(b));
    const sending = cli(sendArgs(net.sn, second), env, 120_000);
    await waitFor(() => {
      const b = newBlob();
      return b !== undefined && sizeOf(join(relayBlobs, b)) >= total * 0.4;
    }, 60_000);
    await net.relay.stop('SIGKILL');
    const durable = sizeOf(join(relayBlobs, newBlob()!));
    const queued = await sending;
    expect(queued.code, queued.stderr).toBe(0);
    expect(JSON.parse(queued.stdout)).toMatchObject({ queued: true, acceptedAt: null });
    const restarted = await spawnRelay(net.dataDir, net.relay.port, 'relay.test', LIMITS_ENV);
    cleanup.push(() => restarted.stop('SIGKILL'));
    proxy.restore();
    await sleep(100);
    await ok(net.sn, ['inbox']);
    expect(sizeOf(join(relayBlobs, newBlob()!))).toBeGreaterThanOrEqual(durable);
    const inbox = JSON.parse((await ok(net.ke, ['inbox', '--json'])).stdout) as {
      messages: { id: string }[];
    };
    const arrived = inbox.messages.find((m) => m.id === (JSON.parse(queued.stdout) as { id: string }).id);
    expect(arrived).toBeDefined();
    const again = JSON.parse(
      (await ok(net.ke, ['download', arrived!.id, '--out', tempDir('entraide-docs-out-'), '--json'])).stdout,
    ) as { files: { path: string }[] };
    expect(sha256(again.files[0]!.path)).toBe(sha256(second));
    expect(leaks([net.sn, net.ke, net.dataDir], marker)).toEqual([]);
  });

  it('refuses a file whose chunks were flipped, dropped, repeated or moved on the relay’s disk, and never holds it', async () => {
    const net = await network();
    const sn = await AuthorityNode.open(net.sn, PASSPHRASE);
    cleanup.push(() => sn.close());
    const ke = await AuthorityNode.open(net.ke, PASSPHRASE);
    cleanup.push(() => ke.close());
    const marker = randomBytes(8);
    const file = plaintext(5 * 65536 + 100, marker);
    const C = 65536 + 17; // a sealed chunk
    const chunk = (b: Buffer, i: number) => b.subarray(24 + i * C, 24 + (i + 1) * C);
    const damages: Record<string, (b: Buffer) => Buffer> = {
      flipped: (b) => {
        const d = Buffer.from(b);
        d[24 + C + 100]! ^= 1;
        return d;
      },
      // Each keeps the blob's length, as the relay declared it: only the bytes differ.
      dropped: (b) => Buffer.concat([b.subarray(0, 24 + C), b.subarray(24 + 2 * C), Buffer.alloc(C)]),
      repeated: (b) => Buffer.concat([b.subarray(0, 24 + 2 * C), chunk(b, 1), b.subarray(24 + 3 * C)]),
      moved: (b) => Buffer.concat([b.subarray(0, 24 + C), chunk(b, 2), chunk(b, 1), b.subarray(24 + 3 * C)]),
    };
    for (const [what, damage] of Object.entries(damages)) {
      const sent = await sn.send({
        to: [KE],
        subject: `Records (${what})`,
        body: 'Attached.',
        attachments: [{ path: file, role: 'execution_result' }],
      });
      const blob = sn.documents.of(sent.id)[0]!.blob;
      const onRelay = join(net.dataDir, 'blobs', blob);
      const original = readFileSync(onRelay);
      const damaged = damage(original);
      expect(damaged.length, what).toBe(original.length);
      writeFileSync(onRelay, damaged);

      await ke.fetchInbox();
      const rows = await ke.documents.fetch(sent.id);
      expect(
        rows.map((r) => [r.state, r.error]),
        what,
      ).toEqual([['damaged', 'FILE_DAMAGED']]);
      const out = tempDir('entraide-docs-out-');
      await expect(ke.documents.exportItem(sent.id, out), what).rejects.toMatchObject({
        code: 'FILE_DAMAGED',
      });
      expect(readdirSync(out), what).toEqual([]);
      // Not held: no .part left, nothing under its name, no downloaded receipt, not reported to the relay.
      expect(
        blobsIn(join(net.ke, 'documents')).filter((f) => f.startsWith(blob)),
        what,
      ).toEqual([]);
      expect(
        ke.store.requests.hasReceipt({ id: sent.id, sender: sn.address }, ke.address, 'downloaded'),
      ).toBe(false);
      expect(existsSync(onRelay), what).toBe(true);
    }
  });
});
