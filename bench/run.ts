/**
 * entraide benchmark: `npm run bench` (= build, then node dist/bench/run.js).
 *
 *   (a) full path through the real SDK: N sender nodes to N recipient nodes through one relay
 *       (encrypt → submit → commit → push → decrypt → store → acknowledge);
 *   (b) the relay alone: pre-sealed envelopes replayed over socket.io `envelope:submit`, each
 *       ack after the durable commit; recipients acknowledge pushes without decrypting;
 *   (c) the ceiling: the same envelope objects through a bare socket.io forwarder.
 *
 * The relay and the bare server each run in their own child process; the drivers run here. In (a),
 * the recipient nodes run in a child process of their own (bench/nodes-process.ts), and the
 * sender nodes here (or in a second child with BENCH_SENDERS=child).
 * Each scenario: a warm-up, sustained throughput in a closed loop (bounded window, fixed count),
 * then latency at a fixed open-loop rate for a bounded time. Prints a table and writes
 * bench/results/latest.json.
 *
 * Environment: BENCH_N (4), BENCH_COUNT (20000, for b and c), BENCH_COUNT_FULL (6000, for a;
 * defaults to min(6000, BENCH_COUNT) when only BENCH_COUNT is set), BENCH_WINDOW (256),
 * BENCH_RATE (300), BENCH_SECONDS (5), BENCH_WARMUP (1000), BENCH_ONLY (e.g. "b,c"),
 * BENCH_PROFILE=1 (CPU-profile the relay during each throughput phase, into bench/results/),
 * BENCH_STEPS=0 (skip the per-step cost table, bench/steps.ts), BENCH_TIMEOUT_S (180, per throughput phase),
 * BENCH_SENDERS (driver: where the sender nodes of (a) run, "driver" or "child").
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { BenchChild } from './child.ts';
import { FullPath, recipientId, senderId, type SenderPlacement } from './full-path.ts';
import { closedLoop, openLoop, type ClosedLoopResult, type OpenLoopResult, type StartFn } from './load.ts';
import { CommitStats } from './instrument.ts';
import { startCpuProfile } from './profiler.ts';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile-summary.ts';
import { fmtInt, fmtMs, round, table } from './stats.ts';
import { formatSteps, measureSteps, type StepCost } from './steps.ts';
import {
  WireDriver,
  createRawNode,
  enrolRawNode,
  login,
  sealMany,
  type RawEnrolment,
  type SealedItem,
} from './wire.ts';

const TARGETS = { fullThroughput: 1500, relayThroughput: 4000, p99Ms: 50 } as const;

interface Config {
  n: number;
  count: number;
  countFull: number;
  window: number;
  rate: number;
  seconds: number;
  warmup: number;
  only: Set<string>;
  profile: boolean;
  steps: boolean;
  throughputTimeoutMs: number;
  senders: SenderPlacement;
}

function envInt(name: string, fallback: number, min = 1): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min) throw new Error(`${name} must be a number ≥ ${min}, not "${v}"`);
  return x;
}

function readConfig(): Config {
  const senders = process.env.BENCH_SENDERS || 'driver';
  if (senders !== 'driver' && senders !== 'child')
    throw new Error(`BENCH_SENDERS must be "driver" or "child", not "${senders}"`);
  const count = envInt('BENCH_COUNT', 20_000);
  const countFull = envInt('BENCH_COUNT_FULL', process.env.BENCH_COUNT ? Math.min(6_000, count) : 6_000);
  return {
    n: Math.floor(envInt('BENCH_N', 4)),
    count: Math.floor(count),
    countFull: Math.floor(countFull),
    window: Math.floor(envInt('BENCH_WINDOW', 256)),
    rate: envInt('BENCH_RATE', 300),
    seconds: envInt('BENCH_SECONDS', 5, 0.1),
    warmup: Math.floor(envInt('BENCH_WARMUP', 1_000, 0)),
    only: new Set((process.env.BENCH_ONLY ?? 'a,b,c').split(',').map((s) => s.trim().toLowerCase())),
    profile: process.env.BENCH_PROFILE === '1',
    steps: process.env.BENCH_STEPS !== '0',
    throughputTimeoutMs: envInt('BENCH_TIMEOUT_S', 180) * 1000,
    senders,
  };
}

interface ServerStats {
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  cpuShare: number;
  eventLoopUtilization: number;
  rssMb: number;
}

/** A process of SDK nodes other than the driver, in scenario (a). */
interface NodeProcessResult {
  /** Its CPU and event loop in each phase. */
  throughput?: ServerStats;
  latency?: ServerStats;
  /** Its CPU time per completed message in the throughput phase. */
  cpuUsPerMsg?: number;
  commitsThroughput?: CommitSnapshot;
  commitsLatency?: CommitSnapshot;
  profile?: ProfileSummary;
}

interface ScenarioResult {
  key: 'a' | 'b' | 'c';
  label: string;
  throughput?: ClosedLoopResult;
  latency?: OpenLoopResult;
  /** Server process CPU during the throughput phase (1.0 = one core). */
  serverDuringThroughput?: ServerStats;
  serverDuringLatency?: ServerStats;
  /** This (driver) process's CPU and event-loop utilisation during the throughput phase. */
  driverCpuShare?: number;
  driverEventLoopUtilization?: number;
  /** Server CPU time per completed message in the throughput phase, and the rate one whole core would give. */
  serverCpuUsPerMsg?: number;
  serverMsgPerCoreSecond?: number;
  /** CPU time per completed message of the driver plus its node processes (a), the load it puts on the machine. */
  driverCpuUsPerMsg?: number;
  /** CPU time per completed message of this driver process alone. */
  driverProcessCpuUsPerMsg?: number;
  /** (a): the node processes besides the driver, by role ('recipients', and 'senders' with BENCH_SENDERS=child). */
  nodeProcesses?: Record<string, NodeProcessResult>;
  /** (a): where the sender nodes ran. */
  senders?: SenderPlacement;
  /** 1-minute load average when the scenario started (other work on the machine skews the figures). */
  loadAverage?: number;
  /** Storage commits (statements + fsync) timed from outside, per phase: relay process and driver's nodes. */
  commits?: {
    relayThroughput?: CommitSnapshot;
    relayLatency?: CommitSnapshot;
    nodesThroughput?: CommitSnapshot;
    nodesLatency?: CommitSnapshot;
  };
  checks?: Record<string, unknown>;
  profile?: ProfileSummary;
  /** With BENCH_PROFILE=1 in (a): the driver process (the sender nodes) during the throughput phase. */
  driverProfile?: ProfileSummary;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bounds a set-up step in time. */
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

const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));

type CommitSnapshot = ReturnType<CommitStats['snapshot']>;

/**
 * Warm-up, throughput (closed loop), latency (open loop) against one server. `nodeProcesses`: the
 * child processes of SDK nodes (a), whose CPU and commits are measured over the same phases.
 */
async function measure(
  res: ScenarioResult,
  server: BenchChild<unknown>,
  cfg: Config,
  count: number,
  starter: (phase: 'warm' | 'thr' | 'lat') => StartFn,
  nodeCommits?: CommitStats,
  nodeProcesses: { role: string; child: BenchChild<unknown> }[] = [],
): Promise<void> {
  const isRelay = res.key !== 'c';
  const relayCommits = async () => (isRelay ? server.command<CommitSnapshot>({ cmd: 'commits' }) : undefined);
  const peers = nodeProcesses.map((p) => ({ ...p, result: {} as NodeProcessResult }));
  /** Each node process's CPU and commits since the previous call. */
  const peerStats = () =>
    Promise.all(
      peers.map(async (p) => ({
        stats: await p.child.command<ServerStats>({ cmd: 'stats' }),
        commits: await p.child.command<CommitSnapshot>({ cmd: 'commits' }),
      })),
    );
  if (peers.length) res.nodeProcesses = Object.fromEntries(peers.map((p) => [p.role, p.result]));
  res.commits = {};
  res.loadAverage = loadavg()[0];
  if (cfg.warmup > 0) {
    const w = await closedLoop({
      count: cfg.warmup,
      window: cfg.window,
      timeoutMs: 60_000,
      start: starter('warm'),
    });
    if (w.completed < w.count)
      throw new Error(`warm-up completed ${w.completed}/${w.count}: ${w.firstFailure ?? 'timed out'}`);
  }
  await sleep(300);
  await server.command({ cmd: 'stats' });
  await relayCommits();
  nodeCommits?.snapshot();
  await peerStats();
  const profileFile = cfg.profile ? join(resultsDir, `relay-${res.key}.cpuprofile`) : undefined;
  if (profileFile && res.key !== 'c') await server.command({ cmd: 'profile-start' });
  if (profileFile) for (const p of peers) await p.child.command({ cmd: 'profile-start' });
  const driverProfiler = profileFile && res.key === 'a' ? await startCpuProfile() : undefined;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  res.throughput = await closedLoop({
    count,
    window: cfg.window,
    timeoutMs: cfg.throughputTimeoutMs,
    start: starter('thr'),
  });
  const cpu = process.cpuUsage(cpu0);
  res.driverCpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
  res.driverEventLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
  res.serverDuringThroughput = await server.command<ServerStats>({ cmd: 'stats' });
  res.commits.relayThroughput = await relayCommits();
  res.commits.nodesThroughput = nodeCommits?.snapshot();
  const peersThr = await peerStats();
  const cpuUs = (st: ServerStats) => (st.cpuUserMs + st.cpuSystemMs) * 1000;
  peers.forEach((p, i) => {
    p.result.throughput = peersThr[i]!.stats;
    p.result.commitsThroughput = peersThr[i]!.commits;
  });
  const done = res.throughput.completed;
  if (done > 0) {
    const st = res.serverDuringThroughput;
    res.serverCpuUsPerMsg = cpuUs(st) / done;
    res.serverMsgPerCoreSecond = 1e6 / res.serverCpuUsPerMsg;
    res.driverProcessCpuUsPerMsg = (cpu.user + cpu.system) / done;
    for (const p of peers) p.result.cpuUsPerMsg = cpuUs(p.result.throughput!) / done;
    res.driverCpuUsPerMsg = peers.reduce(
      (sum, p) => sum + p.result.cpuUsPerMsg!,
      res.driverProcessCpuUsPerMsg,
    );
  }
  if (profileFile && res.key !== 'c') {
    await server.command({ cmd: 'profile-stop', file: profileFile });
    res.profile = summariseProfile(profileFile);
  }
  if (profileFile) {
    for (const p of peers) {
      const file = join(resultsDir, `${p.role}-${res.key}.cpuprofile`);
      await p.child.command({ cmd: 'profile-stop', file });
      p.result.profile = summariseProfile(file, 25, / dist\/(client|shared|prisma)\//);
    }
  }
  if (driverProfiler) {
    const file = join(resultsDir, `driver-${res.key}.cpuprofile`);
    await driverProfiler.stop(file);
    res.driverProfile = summariseProfile(file, 25, / dist\/(client|shared|prisma)\//);
  }
  await sleep(500);
  await server.command({ cmd: 'stats' });
  await relayCommits();
  nodeCommits?.snapshot();
  await peerStats();
  res.latency = await openLoop({
    rate: cfg.rate,
    durationMs: cfg.seconds * 1000,
    drainTimeoutMs: 15_000,
    start: starter('lat'),
  });
  res.serverDuringLatency = await server.command<ServerStats>({ cmd: 'stats' });
  res.commits.relayLatency = await relayCommits();
  res.commits.nodesLatency = nodeCommits?.snapshot();
  const peersLat = await peerStats();
  peers.forEach((p, i) => {
    p.result.latency = peersLat[i]!.stats;
    p.result.commitsLatency = peersLat[i]!.commits;
  });
}

type RelayReady = { url: string; domain: string; pid: number };

async function startRelay(
  root: string,
  name: string,
  children: Set<BenchChild<unknown>>,
): Promise<BenchChild<RelayReady>> {
  const relay = await BenchChild.start<RelayReady>(`relay (${name})`, {
    entry: 'relay-process.js',
    args: [join(root, `relay-${name}`)],
  });
  children.add(relay);
  return relay;
}

async function scenarioFull(
  cfg: Config,
  root: string,
  children: Set<BenchChild<unknown>>,
): Promise<ScenarioResult> {
  const res: ScenarioResult = {
    key: 'a',
    label: `(a) full path, SDK, ${cfg.n}→${cfg.n} nodes`,
    senders: cfg.senders,
  };
  const relay = await startRelay(root, 'a', children);
  let fp: FullPath | undefined;
  try {
    const ids = Array.from({ length: cfg.n }, (_, i) => [senderId(i), recipientId(i)]).flat();
    const { invitations } = await relay.command<{ invitations: Record<string, string> }>({
      cmd: 'invite',
      authorities: ids,
    });
    const opening = FullPath.open(relay.ready.url, invitations, cfg.n, root, cfg.senders, children);
    fp = await withTimeout('enrolling and connecting the SDK nodes', 120_000, opening).catch(
      async (err: unknown) => {
        // A late success still holds open nodes: close them.
        void opening.then(
          (late) => late.close(),
          () => undefined,
        );
        throw err;
      },
    );
    const path = fp;
    await measure(
      res,
      relay,
      cfg,
      cfg.countFull,
      (phase) => path.starter(phase),
      path.placement === 'driver' ? path.commits : undefined,
      path.nodeProcesses,
    );
    await sleep(300);
    const nodeCounts: Record<string, { rejected: number; errors?: string[] }> = {};
    for (const { role, child } of path.nodeProcesses)
      nodeCounts[role] = await child.command<{ rejected: number; errors?: string[] }>({ cmd: 'counts' });
    res.checks = {
      relay: await relay.command({ cmd: 'counts' }),
      rejectedAtRecipients: nodeCounts.recipients?.rejected,
      unexpectedDeliveries: path.flight.unexpected,
      exactlyOnce: path.deliveryCheck(),
      nodeProcesses: nodeCounts,
      clockOffsetsMs: path.clocks,
      ...(path.errors.length ? { nodeErrors: path.errors } : {}),
    };
  } finally {
    await fp?.close();
    await relay.stop();
    children.delete(relay);
  }
  return res;
}

interface Sealed {
  senders: RawEnrolment[];
  recipients: RawEnrolment[];
  warm: SealedItem[];
  thr: SealedItem[];
  lat: SealedItem[];
  sealMs: number;
}

function sealAll(cfg: Config): Sealed {
  const senders = Array.from({ length: cfg.n }, (_, i) => createRawNode('relay.bench', senderId(i), 'desk1'));
  const recipients = Array.from({ length: cfg.n }, (_, i) =>
    createRawNode('relay.bench', recipientId(i), 'desk1'),
  );
  const s = senders.map((x) => x.node);
  const r = recipients.map((x) => x.node);
  const t0 = performance.now();
  const warm = sealMany(s, r, cfg.warmup, 'warm');
  const thr = sealMany(s, r, cfg.count, 'thr');
  const lat = sealMany(s, r, Math.max(1, Math.round(cfg.rate * cfg.seconds)), 'lat');
  return { senders, recipients, warm, thr, lat, sealMs: performance.now() - t0 };
}

function wireStarter(driver: WireDriver, sealed: Sealed): (phase: 'warm' | 'thr' | 'lat') => StartFn {
  return (phase) => driver.starter(sealed[phase]);
}

async function scenarioRelay(
  cfg: Config,
  root: string,
  sealed: Sealed,
  children: Set<BenchChild<unknown>>,
): Promise<ScenarioResult> {
  const res: ScenarioResult = { key: 'b', label: `(b) relay alone, pre-sealed, ${cfg.n}→${cfg.n}` };
  const relay = await startRelay(root, 'b', children);
  let driver: WireDriver | undefined;
  try {
    const all = [...sealed.senders, ...sealed.recipients];
    const { invitations } = await relay.command<{ invitations: Record<string, string> }>({
      cmd: 'invite',
      authorities: all.map((x) => x.node.authority.split('@')[0]!),
    });
    const tokens = new Map<string, string>();
    await withTimeout(
      'enrolling and logging in the raw nodes',
      60_000,
      (async () => {
        for (const x of all) {
          await enrolRawNode(relay.ready.url, x, invitations[x.node.authority.split('@')[0]!]!);
          tokens.set(x.node.address, await login(relay.ready.url, relay.ready.domain, x.node));
        }
      })(),
    );
    driver = await WireDriver.open(relay.ready.url, cfg.n, (i, role) => {
      const node = (role === 'sender' ? sealed.senders : sealed.recipients)[i]!.node;
      return { token: tokens.get(node.address)! };
    });
    await measure(res, relay, cfg, cfg.count, wireStarter(driver, sealed));
    await sleep(500);
    res.checks = {
      relay: await relay.command({ cmd: 'counts' }),
      expectedEnvelopes: sealed.warm.length + sealed.thr.length + sealed.lat.length,
      unexpectedDeliveries: driver.flight.unexpected,
      disconnects: driver.disconnects,
    };
  } finally {
    driver?.close();
    await relay.stop();
    children.delete(relay);
  }
  return res;
}

async function scenarioBare(
  cfg: Config,
  sealed: Sealed,
  children: Set<BenchChild<unknown>>,
): Promise<ScenarioResult> {
  const res: ScenarioResult = { key: 'c', label: '(c) ceiling: bare socket.io forward' };
  const bare = await BenchChild.start<{ url: string; pid: number }>('bare socket.io', {
    entry: 'bare-process.js',
  });
  children.add(bare);
  let driver: WireDriver | undefined;
  try {
    driver = await WireDriver.open(bare.ready.url, cfg.n, (i, role) => ({
      node: (role === 'sender' ? sealed.senders : sealed.recipients)[i]!.node.address,
    }));
    await measure(res, bare, cfg, cfg.count, wireStarter(driver, sealed));
    res.checks = {
      server: await bare.command({ cmd: 'counts' }),
      unexpectedDeliveries: driver.flight.unexpected,
      disconnects: driver.disconnects,
    };
  } finally {
    driver?.close();
    await bare.stop();
    children.delete(bare);
  }
  return res;
}

function formatCommits(s: CommitSnapshot): string {
  const kinds = Object.entries(s.kinds)
    .sort((x, y) => y[1].wallMs - x[1].wallMs)
    .map(([k, v]) => {
      const items = s.items[k];
      const per =
        items !== undefined && v.commits > 0 ? `, ${(items / v.commits).toFixed(1)} items/commit` : '';
      const off = v.offCpuMs === null ? '' : ` (${(v.offCpuMs / v.commits).toFixed(2)} off-CPU)`;
      return (
        `${k} ${v.commits} commits${per}, ${(v.wallMs / v.commits).toFixed(2)} ms each${off}, max ${v.maxWallMs.toFixed(1)} ms ` +
        `(${v.over5ms} > 5 ms, ${v.over20ms} > 20 ms), loop blocked ${(v.blockedShare * 100).toFixed(0)}% of the phase`
      );
    });
  return kinds.length ? kinds.join('; ') : 'none';
}

function nodesLabel(role: string): string {
  return role === 'recipients' ? 'recipient nodes' : role === 'senders' ? 'sender nodes' : `${role} nodes`;
}

function pct(x: number | undefined): string {
  return x === undefined ? '—' : `${(x * 100).toFixed(0)}%`;
}

/** Share of one core / event-loop utilisation. */
function share(st: ServerStats | undefined): string {
  return st ? `${pct(st.cpuShare)} / ${pct(st.eventLoopUtilization)}` : '—';
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? '' : ok ? 'PASS' : 'MISS';
}

function report(
  cfg: Config,
  results: ScenarioResult[],
  sealMs: number | undefined,
  startedAt: Date,
  steps: StepCost[] | undefined,
): Record<string, unknown> {
  const byKey = new Map(results.map((r) => [r.key, r]));
  const ceiling = byKey.get('c')?.throughput?.throughput;
  const ratio = (k: 'a' | 'b') => {
    const t = byKey.get(k)?.throughput?.throughput;
    return t !== undefined && ceiling ? t / ceiling : undefined;
  };
  const thrTarget = (k: string) =>
    k === 'a' ? TARGETS.fullThroughput : k === 'b' ? TARGETS.relayThroughput : undefined;
  const rows: string[][] = [
    [
      'scenario',
      'msgs',
      'msg/s',
      'target',
      '',
      'ratio/(c)',
      `p50 ms @${cfg.rate}/s`,
      'p99 ms',
      'max ms',
      'target',
      '',
      'server CPU/loop',
      'server µs/msg',
      'driver µs/msg',
      'rcpt CPU/loop',
      'load',
    ],
  ];
  const verdicts: Record<string, { throughput?: string; p99?: string }> = {};
  for (const r of results) {
    const t = r.throughput;
    const l = r.latency;
    const tt = thrTarget(r.key);
    const complete = t !== undefined && t.completed === t.count && !t.timedOut;
    const thrOk = tt !== undefined && t ? complete && t.throughput >= tt : undefined;
    const latComplete = l !== undefined && l.completed === l.offered && !l.timedOut;
    const p99Ok = tt !== undefined && l ? latComplete && l.latency.p99 <= TARGETS.p99Ms : undefined;
    verdicts[r.key] = {
      ...(thrOk !== undefined ? { throughput: verdict(thrOk) } : {}),
      ...(p99Ok !== undefined ? { p99: verdict(p99Ok) } : {}),
    };
    const rt = r.key === 'c' ? 1 : ratio(r.key);
    rows.push([
      r.label + (r.error ? ' — FAILED' : ''),
      t ? `${fmtInt(t.completed)}/${fmtInt(t.count)}` : '—',
      t ? fmtInt(t.throughput) : '—',
      tt ? `≥ ${fmtInt(tt)}` : '',
      verdict(thrOk),
      rt === undefined ? '—' : rt.toFixed(3),
      l ? fmtMs(l.latency.p50) : '—',
      l ? fmtMs(l.latency.p99) : '—',
      l ? fmtMs(l.latency.max) : '—',
      tt ? `≤ ${TARGETS.p99Ms}` : '',
      verdict(p99Ok),
      r.serverDuringThroughput ? share(r.serverDuringThroughput) : '—',
      r.serverCpuUsPerMsg !== undefined ? fmtInt(r.serverCpuUsPerMsg) : '—',
      r.driverCpuUsPerMsg !== undefined ? fmtInt(r.driverCpuUsPerMsg) : '—',
      share(r.nodeProcesses?.recipients?.throughput),
      r.loadAverage !== undefined ? r.loadAverage.toFixed(1) : '—',
    ]);
  }
  console.log('');
  console.log(
    `entraide benchmark — ${startedAt.toISOString()} — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
  );
  console.log(
    `N=${cfg.n} senders → ${cfg.n} recipients, 1 KiB bodies, window ${cfg.window}, throughput counts (a) ${cfg.countFull} / (b,c) ${cfg.count}, ` +
      `latency: open loop ${cfg.rate} msg/s for ${cfg.seconds} s, warm-up ${cfg.warmup}`,
  );
  if (cfg.profile)
    console.log(
      'BENCH_PROFILE=1: the throughput phases ran under the CPU profiler, whose overhead lowers their figures.',
    );
  console.log('');
  console.log(table(rows));
  console.log('');
  console.log(
    'msgs: completed/started in the throughput phase (complete = sender acked after commit AND recipient got the push).',
  );
  console.log('latency: from just before send()/emit to the recipient receiving the message.');
  console.log(
    'server CPU/loop: share of one core the relay/bare process used in the throughput phase / its event-loop utilisation',
  );
  console.log(
    '(loop busy but CPU idle = blocked in a synchronous call such as fsync); µs/msg: CPU time per completed message',
  );
  console.log(
    '(server, and the driver: in (a) this process plus its child processes of SDK nodes); rcpt CPU/loop: the same as',
  );
  console.log(
    'server CPU/loop for the recipient nodes’ process of (a); load: 1-min load average at the start of the scenario',
  );
  console.log(`(${cpus().length} cores; other work skews results).`);
  for (const r of results) {
    if (r.serverMsgPerCoreSecond !== undefined && r.key !== 'c') {
      console.log(
        `${r.label}: relay CPU alone would allow ≈ ${fmtInt(r.serverMsgPerCoreSecond)} msg/s on one whole core; time not spent on CPU is waiting (fsync, network, the driver).`,
      );
    }
    if (r.nodeProcesses && r.driverProcessCpuUsPerMsg !== undefined) {
      const here = r.senders === 'child' ? 'load generator only' : `load generator and ${cfg.n} sender nodes`;
      const parts = [
        `relay ${fmtInt(r.serverCpuUsPerMsg)}`,
        `driver (${here}) ${fmtInt(r.driverProcessCpuUsPerMsg)} at ${pct(r.driverCpuShare)} / ${pct(r.driverEventLoopUtilization)} CPU/loop`,
        ...Object.entries(r.nodeProcesses).map(
          ([role, p]) =>
            `${cfg.n} ${nodesLabel(role)} (own process) ${fmtInt(p.cpuUsPerMsg)} at ${share(p.throughput)} CPU/loop`,
        ),
      ];
      console.log(`${r.label}: CPU µs per message, throughput phase: ${parts.join('; ')}.`);
    }
  }
  if (sealMs !== undefined) {
    const n = cfg.warmup + cfg.count + Math.round(cfg.rate * cfg.seconds);
    console.log(
      `pre-sealing for (b)/(c): ${n} envelopes in ${(sealMs / 1000).toFixed(1)} s (${((sealMs * 1000) / n).toFixed(0)} µs each, in the driver).`,
    );
  }
  for (const r of results) {
    if (r.error) console.log(`${r.label}: ERROR ${r.error}`);
    if (r.throughput?.firstFailure)
      console.log(`${r.label}: first failure in throughput phase: ${r.throughput.firstFailure}`);
    if (r.latency?.firstFailure)
      console.log(`${r.label}: first failure in latency phase: ${r.latency.firstFailure}`);
    if (r.latency && r.latency.maxStartLagMs > 5)
      console.log(
        `${r.label}: the open-loop driver started a message up to ${fmtMs(r.latency.maxStartLagMs)} ms late.`,
      );
    if (r.checks) console.log(`${r.label}: checks ${JSON.stringify(r.checks)}`);
  }
  for (const r of results) {
    const c = r.commits;
    if (!c) continue;
    const parts: [string, CommitSnapshot | undefined][] = [
      ['relay, throughput phase', c.relayThroughput],
      ['relay, latency phase', c.relayLatency],
      ['sender nodes (driver), throughput phase', c.nodesThroughput],
      ['sender nodes (driver), latency phase', c.nodesLatency],
      ...Object.entries(r.nodeProcesses ?? {}).flatMap(
        ([role, p]): [string, CommitSnapshot | undefined][] => [
          [`${nodesLabel(role)} (own process), throughput phase`, p.commitsThroughput],
          [`${nodesLabel(role)} (own process), latency phase`, p.commitsLatency],
        ],
      ),
    ];
    for (const [what, snap] of parts)
      if (snap) console.log(`${r.label}: commits, ${what}: ${formatCommits(snap)}`);
  }
  for (const r of results) {
    if (r.profile) {
      console.log('');
      console.log(`${r.label}: relay process`);
      console.log(formatProfile(r.profile, r.throughput?.completed));
    }
    if (r.driverProfile) {
      console.log('');
      console.log(
        `${r.label}: driver process (${r.senders === 'child' ? 'the load generator' : `the ${cfg.n} sender nodes`})`,
      );
      console.log(formatProfile(r.driverProfile, r.throughput?.completed));
    }
    for (const [role, p] of Object.entries(r.nodeProcesses ?? {})) {
      if (!p.profile) continue;
      console.log('');
      console.log(`${r.label}: process of the ${cfg.n} ${nodesLabel(role)}`);
      console.log(formatProfile(p.profile, r.throughput?.completed));
    }
  }

  if (steps) {
    console.log('');
    console.log(
      'cost of each step, in isolation (bench/steps.ts; CPU µs is not inflated by other work on the machine):',
    );
    console.log(formatSteps(steps));
  }

  const ratios = { aOverC: ratio('a'), bOverC: ratio('b') };
  return {
    startedAt: startedAt.toISOString(),
    machine: {
      node: process.version,
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      platform: process.platform,
    },
    config: { ...cfg, only: [...cfg.only] },
    targets: TARGETS,
    verdicts,
    ratios: {
      aOverC: ratios.aOverC === undefined ? null : round(ratios.aOverC, 4),
      bOverC: ratios.bOverC === undefined ? null : round(ratios.bOverC, 4),
    },
    sealMs: sealMs ?? null,
    loadAverageAtEnd: loadavg()[0],
    steps: steps ?? null,
    scenarios: Object.fromEntries(results.map((r) => [r.key, r])),
  };
}

async function main(): Promise<number> {
  const cfg = readConfig();
  await loadSodium();
  const startedAt = new Date();
  mkdirSync(resultsDir, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), 'entraide-bench-'));
  const children = new Set<BenchChild<unknown>>();
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const c of children) c.kill();
    rmSync(root, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: stopping the benchmark`);
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', cleanup);

  const results: ScenarioResult[] = [];
  let sealMs: number | undefined;
  try {
    const run = async (key: 'a' | 'b' | 'c', label: string, fn: () => Promise<ScenarioResult>) => {
      if (!cfg.only.has(key)) return;
      console.error(`[bench] ${label} …`);
      try {
        results.push(await fn());
      } catch (err) {
        console.error(`[bench] ${label} failed:`, err);
        results.push({ key, label, error: err instanceof Error ? err.message : String(err) });
      }
    };
    await run('a', `(a) full path, SDK, ${cfg.n}→${cfg.n} nodes`, () => scenarioFull(cfg, root, children));
    let sealed: Sealed | undefined;
    if (cfg.only.has('b') || cfg.only.has('c')) {
      console.error(
        `[bench] sealing ${cfg.warmup + cfg.count + Math.round(cfg.rate * cfg.seconds)} envelopes for (b) and (c) …`,
      );
      sealed = sealAll(cfg);
      sealMs = sealed.sealMs;
    }
    const s = sealed;
    if (s) {
      await run('b', `(b) relay alone, pre-sealed, ${cfg.n}→${cfg.n}`, () =>
        scenarioRelay(cfg, root, s, children),
      );
      await run('c', '(c) ceiling: bare socket.io forward', () => scenarioBare(cfg, s, children));
    }
  } finally {
    // Children still registered here were not stopped cleanly by their scenario.
    for (const c of children) await c.stop(5_000).catch(() => c.kill());
    cleanup();
  }
  let steps: StepCost[] | undefined;
  if (cfg.steps) {
    console.error('[bench] cost of each step …');
    steps = await measureSteps().catch((err: unknown) => {
      console.error('[bench] step costs failed:', err);
      return undefined;
    });
  }
  const json = report(cfg, results, sealMs, startedAt, steps);
  const out = join(resultsDir, 'latest.json');
  writeFileSync(out, JSON.stringify(json, null, 2) + '\n');
  console.log(`\nwritten ${out}`);
  return results.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
