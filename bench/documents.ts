/**
 * Scenario (f): documents. One file of BENCH_DOC_MIB MiB (1024) goes from one node to another
 * through a real relay process on loopback, next to the machine's ceilings measured in the same
 * run. Target (issue): upload and download each at least 50 % of the lower ceiling of their
 * direction, with memory per transfer bounded.
 * - Ceiling A, secretstream alone: FileSealer over the file read in 256 KiB pieces (the output
 *   dropped), and FileOpener over the sealed blob (the sender node's, read back), in this process.
 * - Ceiling B, a raw copy through the same HTTP stack: a fastify 5 server on node:http in its own
 *   process (like the relay) takes a PUT body straight to a file (fsync at the end, as the relay
 *   does) and serves it back with GET; the client is fetch (undici), as client/documents/transfer.ts
 *   uses it: a file body streamed with duplex 'half', and a download piped to a file.
 * - The real path: `entraide relay start` (limits profile `test`, and a limits file when the blob
 *   passes its document quotas), two nodes enrolled and opened here. The node seals the file
 *   (documents.seal); its blob is uploaded by uploadBlob, timed alone (tus: POST, HEAD, PATCH; the
 *   relay's fsync and hash of the blob included, until its 204); then the item is sent with
 *   dispatch() naming that sealed entry, whose upload finds the blob whole (one HEAD), so that the
 *   envelope is accepted and the recipient may read the blob: the upload is measured without the
 *   seal, the envelope or a second copy of the file. The recipient fetches its inbox, then
 *   downloadBlob is timed alone into the part file the desk uses, and documents.fetch then opens,
 *   hashes, fsyncs and keeps it (verify); download + verify is their sum, which is what
 *   documents.fetch does in one call.
 * Every figure is MiB of the file per second (its size over the time): the real path moves the
 * padded blob (Padmé, up to 12 % more), and that cost is counted against it. Before measuring, a
 * small file takes both HTTP paths once (warm-up). Memory: the peak resident size of this process
 * (where the nodes run) and of the server process, sampled every 20 ms, less the size just before
 * the step. The files are fresh in the page cache: reads come from memory, writes reach the disk at
 * each fsync.
 * Run alone: `node dist/bench/documents.js`, or BENCH_ONLY=f with the others (bench/results/latest.json).
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { blobPath } from '../client/documents/seal-file.ts';
import { downloadBlob, uploadBlob, type BlobLink } from '../client/documents/transfer.ts';
import { homePaths } from '../client/home.ts';
import { initNode } from '../client/init.ts';
import { AuthorityNode } from '../client/node.ts';
import { relayLimits } from '../server/limits.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { blobBytes, FileOpener, FileSealer } from '../shared/files/file-crypto.ts';
import { MessageContent } from '../shared/protocol/content.ts';
import { check } from '../shared/protocol/validate.ts';
import { BenchChild } from './child.ts';
import { reply, serveCommands } from './child-protocol.ts';
import { round, table } from './stats.ts';

export const DOC_TARGETS = { shareOfLowerCeiling: 0.5 } as const;

const MiB = 1024 * 1024;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/entraide.js');
const PASSPHRASE = 'bench passphrase, long enough';
const DOMAIN = 'relay.bench';
const SENDER = 'sn.moj';
const RECIPIENT = 'ke.ag';
const READ_BYTES = 256 * 1024;
const WARMUP_MIB = 4;
const SAMPLE_MS = 20;
const SETUP_MS = 60_000;
/** A transfer step may take this long: a floor of 2 MiB/s, far below any healthy figure. */
const stepMs = (mib: number) => 60_000 + mib * 500;
/** Linux's USER_HZ: the unit of utime and stime in /proc/<pid>/stat on every mainstream kernel. */
const CLOCK_TICKS = 100;

type StepKey =
  | 'secretstreamSeal'
  | 'secretstreamOpen'
  | 'rawUp'
  | 'rawDown'
  | 'nodeSeal'
  | 'upload'
  | 'download'
  | 'verify'
  | 'downloadAndVerify';

export interface StepFigures {
  seconds: number;
  /** MiB of the file per second. */
  mibPerSecond: number;
  /** CPU time over wall time (1 = one whole core): this process, and the server's when one took part. */
  cpuHere: number;
  cpuServer?: number;
  /** Peak resident size during the step less the size just before it, MiB. */
  rssPeakHereMiB: number;
  rssPeakServerMiB?: number;
}

interface Ratio {
  /** The transfer's throughput over the lower of its direction's two ceilings. */
  value: number;
  over: string;
  target: number;
  verdict: 'PASS' | 'FAIL';
}

export interface DocumentsBench {
  fileMiB: number;
  blobBytes: number;
  loadAverageAtStart: number;
  loadAverageAtEnd: number;
  runSeconds: number;
  /** Whether the relay needed a limits file for a blob this large (its document quotas raised). */
  limitsFile: boolean;
  /** Of the raw upload's time, the server's final fsync, s: the disk's share, which the relay's upload pays too. */
  rawUpFsyncSeconds: number;
  steps: Record<StepKey, StepFigures>;
  ratios: { upload: Ratio; download: Ratio };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bounds a step in time (the step itself is abandoned to the cleanup that follows). */
async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function procStatus(pid: number): { rss: number; cpuMs: number } {
  try {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    // Fields after the command's name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      rss: rss ? Number(rss[1]) * 1024 : 0,
      cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS,
    };
  } catch {
    return { rss: 0, cpuMs: 0 };
  }
}

/**
 * Runs one step and measures it: wall time, CPU of this process and of the server (`serverPid`),
 * and both peaks of resident memory above their sizes at the start.
 */
async function measured<T>(
  what: string,
  fileBytes: number,
  serverPid: number | undefined,
  run: () => Promise<T>,
): Promise<{ figures: StepFigures; value: T }> {
  const rss0 = process.memoryUsage.rss();
  const server0 = serverPid ? procStatus(serverPid) : undefined;
  let peak = rss0;
  let serverPeak = server0?.rss ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
    if (serverPid) serverPeak = Math.max(serverPeak, procStatus(serverPid).rss);
  }, SAMPLE_MS);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let value: T;
  try {
    value = await withTimeout(what, stepMs(fileBytes / MiB), run());
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  peak = Math.max(peak, process.memoryUsage.rss());
  const server1 = serverPid ? procStatus(serverPid) : undefined;
  const figures: StepFigures = {
    seconds: round(ms / 1000, 3),
    mibPerSecond: round(fileBytes / MiB / (ms / 1000), 1),
    cpuHere: round((cpu.user + cpu.system) / 1000 / ms, 2),
    rssPeakHereMiB: round((peak - rss0) / MiB, 1),
  };
  if (server0 && server1) {
    figures.cpuServer = round((server1.cpuMs - server0.cpuMs) / ms, 2);
    figures.rssPeakServerMiB = round((Math.max(serverPeak, server1.rss) - server0.rss) / MiB, 1);
  }
  console.error(`[bench] (f) ${what}: ${figures.mibPerSecond} MiB/s in ${figures.seconds} s`);
  return { figures, value };
}

/** A file of random bytes, written in 1 MiB pieces. */
async function randomFile(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    const piece = Buffer.alloc(MiB);
    for (let at = 0; at < bytes; at += MiB) {
      const n = Math.min(MiB, bytes - at);
      randomFillSync(piece, 0, n);
      await handle.write(piece, 0, n);
    }
  } finally {
    await handle.close();
  }
}

// ---- ceiling A: secretstream alone ---------------------------------------------------------------

async function sealAlone(path: string, size: number): Promise<number> {
  const sealer = new FileSealer(randomBytes(32), size);
  let out = sealer.header().length;
  for await (const piece of createReadStream(path, { highWaterMark: READ_BYTES }) as AsyncIterable<Buffer>)
    for (const c of sealer.push(piece)) out += c.length;
  for (const c of sealer.finish()) out += c.length;
  return out;
}

async function openAlone(path: string, key: Uint8Array, size: number): Promise<number> {
  const opener = new FileOpener(key, size);
  let out = 0;
  for await (const piece of createReadStream(path, { highWaterMark: READ_BYTES }) as AsyncIterable<Buffer>)
    for (const c of opener.push(piece)) out += c.length;
  opener.finish();
  return out;
}

// ---- ceiling B: a raw copy through fastify on node:http, in its own process ----------------------

const RAW_NAME = /^[a-z0-9-]{1,40}$/;

/** The raw server's process: PUT /raw/:name writes the body to a file and fsyncs it; GET serves it. */
async function rawServer(dir: string): Promise<void> {
  const app = Fastify({ logger: false });
  const pathOf = (name: string) => {
    if (!RAW_NAME.test(name)) throw new Error(`no file ${name}`);
    return join(dir, name);
  };
  // Bodies go to the file as they arrive, never parsed nor buffered (as the relay's blob routes).
  app.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
  app.put<{ Params: { name: string } }>('/raw/:name', async (request, reply) => {
    const handle = await open(pathOf(request.params.name), 'w', 0o600);
    try {
      await pipeline(request.raw, createWriteStream('', { fd: handle.fd, autoClose: false }));
      const t = performance.now();
      await handle.sync();
      void reply.header('x-fsync-ms', Math.round(performance.now() - t));
    } finally {
      await handle.close();
    }
    return reply.code(204).send();
  });
  app.get<{ Params: { name: string } }>('/raw/:name', async (request, reply) => {
    const path = pathOf(request.params.name);
    const { size } = await stat(path);
    return reply
      .header('content-length', size)
      .type('application/octet-stream')
      .send(createReadStream(path, { highWaterMark: READ_BYTES }));
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  serveCommands({}, () => app.close());
  reply({ url, pid: process.pid });
}

/**
 * Uploads the file; answers how long the server's fsync took, ms. `redirect: 'error'` as in
 * transfer.ts, and needed: with any other mode, fetch (undici 6) works on a clone of the request,
 * whose streamed body is teed, and the branch never read holds every byte sent until the end.
 */
async function rawUp(url: string, path: string, name: string, timeoutMs: number): Promise<number> {
  const res = await fetch(`${url}/raw/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(createReadStream(path, { highWaterMark: READ_BYTES })) as ReadableStream,
    duplex: 'half',
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  } as RequestInit & { duplex: 'half' });
  if (res.status !== 204) throw new Error(`the raw server answered ${res.status} to the upload`);
  return Number(res.headers.get('x-fsync-ms'));
}

async function rawDown(url: string, name: string, to: string, timeoutMs: number): Promise<void> {
  const res = await fetch(`${url}/raw/${name}`, {
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status !== 200 || !res.body)
    throw new Error(`the raw server answered ${res.status} to the download`);
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(to, { mode: 0o600 }));
}

// ---- the real path: a relay process and two nodes ------------------------------------------------

interface RelayChild {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output(): string;
}

/** `entraide relay start` on a fresh folder, as test/support/processes.ts starts it; resolves on its banner. */
function startRelay(dataDir: string, limitsFile: string | undefined): Promise<RelayChild> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'relay',
      'start',
      '--data',
      dataDir,
      '--port',
      '0',
      '--domain',
      DOMAIN,
      ...(limitsFile ? ['--limits-file', limitsFile] : []),
    ],
    { cwd: ROOT, env: { ...process.env, ENTRAIDE_RELAY_LIMITS: 'test' } },
  );
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-8000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the relay did not start in ${SETUP_MS} ms:\n${out}`));
    }, SETUP_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited with ${code}:\n${out}`));
    };
    const check = () => {
      const m = /url:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m || !/\n\s*data:\s+\S.*\n/.test(out.slice(m.index))) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('exit', onExit);
      resolve({ child, url: m[1]!, output: () => out });
    };
    child.stdout.on('data', check);
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if the relay has not exited within 10 s. */
function stopRelay(r: RelayChild): Promise<void> {
  const { child } = r;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(hard);
      done();
    });
    child.kill('SIGTERM');
  });
}

function invite(dataDir: string, authority: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, 'relay', 'invite', authority, '--data', dataDir, '--json'],
      { cwd: ROOT, timeout: SETUP_MS },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`relay invite ${authority}: ${err.message}\n${stderr}`));
        resolve((JSON.parse(stdout) as { code: string }).code);
      },
    );
  });
}

/** The node's link for blob transfers, as its document desk builds it (desk.ts documentDeskOf). */
function linkOf(node: AuthorityNode): BlobLink {
  return {
    baseUrl: node.relay.http.baseUrl,
    token: () => node.relay.token(),
    invalidate: () => node.relay.invalidate(),
  };
}

interface RealPath {
  nodeSeal: StepFigures;
  upload: StepFigures;
  download: StepFigures;
  verify: StepFigures;
  /** The sender's sealed blob and its key, for ceiling A's opener. */
  blob: string;
  key: Uint8Array;
}

/** One file from `sn` to `ke`'s authority through the relay (module comment); each step measured. */
async function realPath(
  sn: AuthorityNode,
  ke: AuthorityNode,
  relayPid: number,
  path: string,
  size: number,
): Promise<RealPath> {
  const blobSize = blobBytes(size);
  const sealed = await measured('node seal', size, undefined, () =>
    sn.documents.seal([{ path, role: 'other' }]),
  );
  const entry = sealed.value[0]!;
  const upload = await measured('upload', size, relayPid, () =>
    uploadBlob(linkOf(sn), entry.blob, blobPath(homePaths(sn.home).documents, entry.blob)),
  );
  const content = check(
    MessageContent,
    { type: 'message', subject: 'Bench document', body: 'Attached.', files: [entry] },
    'message',
  );
  const sent = await withTimeout(
    'the item to be sent',
    SETUP_MS,
    sn.dispatch({
      to: [`${RECIPIENT}@${DOMAIN}`],
      content,
      record: {
        kind: 'message',
        subject: content.subject,
        body: content.body,
        language: null,
        requestId: null,
        handling: null,
      },
      files: [entry],
    }),
  );
  if (sent.queued || !sent.acceptedAt) throw new Error('the relay did not accept the item with the document');
  await withTimeout('the recipient’s inbox', SETUP_MS, ke.fetchInbox());
  const row = ke.documents.of(sent.id)[0];
  if (!row || row.state !== 'pending')
    throw new Error(`the recipient holds no pending document of ${sent.id}`);
  const part = `${blobPath(homePaths(ke.home).documents, row.blob)}.part`;
  const download = await measured('download', size, relayPid, () =>
    downloadBlob(linkOf(ke), row.blob, blobSize, part),
  );
  const verify = await measured('verify', size, relayPid, () => ke.documents.fetch(sent.id));
  const state = verify.value[0]?.state;
  if (state !== 'held') throw new Error(`the downloaded document is ${state ?? 'missing'}, not held`);
  return {
    nodeSeal: sealed.figures,
    upload: upload.figures,
    download: download.figures,
    verify: verify.figures,
    blob: entry.blob,
    key: Buffer.from(entry.key, 'base64url'),
  };
}

/** Two steps one after the other, as one: their times add up, peaks and CPU are the larger/weighted. */
function sequence(a: StepFigures, b: StepFigures, fileBytes: number): StepFigures {
  const seconds = a.seconds + b.seconds;
  const weighted = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined ? undefined : round((x * a.seconds + y * b.seconds) / seconds, 2);
  const cpuServer = weighted(a.cpuServer, b.cpuServer);
  return {
    seconds: round(seconds, 3),
    mibPerSecond: round(fileBytes / MiB / seconds, 1),
    cpuHere: weighted(a.cpuHere, b.cpuHere)!,
    rssPeakHereMiB: Math.max(a.rssPeakHereMiB, b.rssPeakHereMiB),
    ...(cpuServer !== undefined ? { cpuServer } : {}),
    ...(a.rssPeakServerMiB !== undefined && b.rssPeakServerMiB !== undefined
      ? { rssPeakServerMiB: Math.max(a.rssPeakServerMiB, b.rssPeakServerMiB) }
      : {}),
  };
}

function ratioOf(transfer: StepFigures, ceilings: [string, StepFigures][]): Ratio {
  const [over, lower] = ceilings.reduce((m, c) => (c[1].mibPerSecond < m[1].mibPerSecond ? c : m));
  const value = round(transfer.mibPerSecond / lower.mibPerSecond, 3);
  return {
    value,
    over,
    target: DOC_TARGETS.shareOfLowerCeiling,
    verdict: value >= DOC_TARGETS.shareOfLowerCeiling ? 'PASS' : 'FAIL',
  };
}

function docMiB(): number {
  const v = process.env.BENCH_DOC_MIB;
  if (v === undefined || v === '') return 1024;
  const x = Number(v);
  if (!Number.isSafeInteger(x) || x < 1)
    throw new Error(`BENCH_DOC_MIB must be a whole number ≥ 1, not "${v}"`);
  return x;
}

/** Scenario (f), measured (module comment). Cleans its folder and processes up whatever happens. */
export async function measureDocuments(log: (line: string) => void): Promise<DocumentsBench> {
  const mib = docMiB();
  const size = mib * MiB;
  const blobSize = blobBytes(size);
  await loadSodium();
  const started = performance.now();
  const loadAverageAtStart = round(loadavg()[0]!, 2);
  const root = mkdtempSync(join(tmpdir(), 'entraide-bench-docs-'));
  let raw: BenchChild<{ url: string; pid: number }> | undefined;
  let relay: RelayChild | undefined;
  const nodes: AuthorityNode[] = [];
  // Should this process end early (a signal through run.ts), its relay does not outlive it.
  const onExit = () => {
    relay?.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    log(`[bench] (f) writing a file of ${mib} MiB (blob ${(blobSize / MiB).toFixed(1)} MiB) in ${root} …`);
    const file = join(root, 'document.bin');
    const warm = join(root, 'warm.bin');
    await withTimeout('writing the file', stepMs(mib), randomFile(file, size));
    await randomFile(warm, WARMUP_MIB * MiB);

    // The relay's document quotas (test profile) must take the blob, and the warm-up's beside it.
    const limits = relayLimits('test').blobs;
    const needed = blobSize + blobBytes(WARMUP_MIB * MiB);
    let limitsFile: string | undefined;
    if (blobSize > limits.maxBlobBytes || needed > Math.min(limits.nodeBytes, limits.authorityBytes)) {
      limitsFile = join(root, 'limits.json');
      const bytes = Math.max(limits.nodeBytes, 2 * needed);
      writeFileSync(
        limitsFile,
        JSON.stringify({ blobs: { maxBlobBytes: blobSize, nodeBytes: bytes, authorityBytes: bytes } }),
      );
    }
    await mkdir(join(root, 'raw'));
    raw = await BenchChild.start<{ url: string; pid: number }>('raw http server', {
      entry: 'documents.js',
      args: ['--raw-server', join(root, 'raw')],
    });
    const relayDir = join(root, 'relay');
    relay = await startRelay(relayDir, limitsFile);
    const relayPid = relay.child.pid!;
    const homes: Record<string, string> = {};
    for (const authority of [SENDER, RECIPIENT]) {
      homes[authority] = join(root, authority);
      await withTimeout(
        `enrolling ${authority}`,
        SETUP_MS,
        initNode({
          home: homes[authority],
          relayUrl: relay.url,
          invite: await invite(relayDir, authority),
          authorityId: authority,
          nodeName: 'desk1',
          passphrase: PASSPHRASE,
        }),
      );
    }
    const sn = await AuthorityNode.open(homes[SENDER]!, PASSPHRASE);
    nodes.push(sn);
    const ke = await AuthorityNode.open(homes[RECIPIENT]!, PASSPHRASE);
    nodes.push(ke);

    log(`[bench] (f) warm-up: ${WARMUP_MIB} MiB through both HTTP paths …`);
    const rawUrl = raw.ready.url;
    const rawPid = raw.ready.pid;
    const stepTimeout = stepMs(mib);
    await rawUp(rawUrl, warm, 'warm', SETUP_MS);
    await rawDown(rawUrl, 'warm', join(root, 'warm.down'), SETUP_MS);
    await withTimeout('the warm-up', SETUP_MS, realPath(sn, ke, relayPid, warm, WARMUP_MIB * MiB));
    await sleep(500);

    const seal = await measured('secretstream seal', size, undefined, () => sealAlone(file, size));
    if (seal.value !== blobSize) throw new Error(`the sealer gave ${seal.value} bytes, not ${blobSize}`);
    const up = await measured('raw HTTP up', size, rawPid, () => rawUp(rawUrl, file, 'file', stepTimeout));
    const downTo = join(root, 'raw.down');
    const down = await measured('raw HTTP down', size, rawPid, () =>
      rawDown(rawUrl, 'file', downTo, stepTimeout),
    );
    if ((await stat(downTo)).size !== size) throw new Error('the raw download is not the whole file');
    await rm(downTo);
    await rm(join(root, 'raw', 'file'));
    await raw.stop(10_000);
    raw = undefined;

    const real = await realPath(sn, ke, relayPid, file, size);
    const opened = await measured('secretstream open', size, undefined, () =>
      openAlone(blobPath(homePaths(sn.home).documents, real.blob), real.key, size),
    );
    if (opened.value !== size) throw new Error(`the opener gave ${opened.value} bytes, not ${size}`);

    const steps: Record<StepKey, StepFigures> = {
      secretstreamSeal: seal.figures,
      secretstreamOpen: opened.figures,
      rawUp: up.figures,
      rawDown: down.figures,
      nodeSeal: real.nodeSeal,
      upload: real.upload,
      download: real.download,
      verify: real.verify,
      downloadAndVerify: sequence(real.download, real.verify, size),
    };
    return {
      fileMiB: mib,
      blobBytes: blobSize,
      loadAverageAtStart,
      loadAverageAtEnd: round(loadavg()[0]!, 2),
      runSeconds: round((performance.now() - started) / 1000, 1),
      limitsFile: limitsFile !== undefined,
      rawUpFsyncSeconds: round(up.value / 1000, 3),
      steps,
      ratios: {
        upload: ratioOf(steps.upload, [
          ['secretstream seal', steps.secretstreamSeal],
          ['raw HTTP up', steps.rawUp],
        ]),
        download: ratioOf(steps.download, [
          ['secretstream open', steps.secretstreamOpen],
          ['raw HTTP down', steps.rawDown],
        ]),
      },
    };
  } finally {
    for (const n of nodes) await withTimeout('closing a node', SETUP_MS, n.close()).catch(() => undefined);
    if (raw) await raw.stop(10_000).catch(() => raw?.kill());
    if (relay) await stopRelay(relay);
    process.off('exit', onExit);
    rmSync(root, { recursive: true, force: true });
  }
}

const STEP_LABELS: [StepKey, string][] = [
  ['secretstreamSeal', 'ceiling A: secretstream seal (FileSealer, 256 KiB reads)'],
  ['secretstreamOpen', 'ceiling A: secretstream open (FileOpener)'],
  ['rawUp', 'ceiling B: raw HTTP up (fetch PUT → fastify → file, fsync)'],
  ['rawDown', 'ceiling B: raw HTTP down (fastify GET → fetch → file)'],
  ['nodeSeal', 'node seal (documents.seal: read, seal, 2× SHA-256, write, fsync)'],
  ['upload', 'upload (uploadBlob, tus → relay: write, fsync, SHA-256)'],
  ['download', 'download (downloadBlob, HTTP range → .part)'],
  ['verify', 'verify and keep (documents.fetch: open, 2× SHA-256, fsync)'],
  ['downloadAndVerify', 'download + verify'],
];

export function formatDocuments(b: DocumentsBench): string {
  const opt = (x: number | undefined, digits = 2) => (x === undefined ? '—' : x.toFixed(digits));
  const rows = [
    ['step', 'MiB/s', 's', 'CPU here', 'CPU server', 'RSS peak Δ here, MiB', 'RSS peak Δ server, MiB'],
    ...STEP_LABELS.map(([key, label]) => {
      const s = b.steps[key];
      return [
        label,
        s.mibPerSecond.toFixed(1),
        s.seconds.toFixed(2),
        s.cpuHere.toFixed(2),
        opt(s.cpuServer),
        s.rssPeakHereMiB.toFixed(1),
        opt(s.rssPeakServerMiB, 1),
      ];
    }),
  ];
  const ratio = (what: string, r: Ratio) =>
    `${what} / lower ceiling (${r.over}) = ${r.value.toFixed(2)} (target ≥ ${r.target.toFixed(2)}) ${r.verdict}`;
  return [
    table(rows),
    ratio('upload', b.ratios.upload),
    ratio('download', b.ratios.download),
    `of the raw upload's ${b.steps.rawUp.seconds.toFixed(2)} s, the server's fsync at the end took ${b.rawUpFsyncSeconds.toFixed(2)} s.`,
    `a file of ${b.fileMiB} MiB (blob ${(b.blobBytes / MiB).toFixed(1)} MiB, padded); MiB/s: of the file, per second. ` +
      `CPU: share of one core over the step, this process (the nodes, the client) and the server process ` +
      `(the relay, or the raw server); RSS: peak less the size at the step's start, sampled every ${SAMPLE_MS} ms. ` +
      `Relay limits: test${b.limitsFile ? ', with a limits file raising its document quotas' : ''}. ` +
      `Load ${b.loadAverageAtStart} → ${b.loadAverageAtEnd}; ${b.runSeconds} s in all.`,
  ].join('\n');
}

/** Scenario (f) as the bench runs it: measured and printed; its figures for latest.json, or its error. */
export async function runDocuments(): Promise<DocumentsBench | { error: string }> {
  console.error('[bench] (f) documents …');
  try {
    const b = await measureDocuments((l) => console.error(l));
    console.log('');
    console.log('(f) documents (bench/documents.ts):');
    console.log(formatDocuments(b));
    return b;
  } catch (err) {
    console.error('[bench] (f) failed:', err);
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--raw-server') {
    await rawServer(process.argv[3]!);
  } else {
    const stop = () => process.exit(130);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const b = await runDocuments();
    process.exit('error' in b ? 1 : 0);
  }
}
