/**
 * entraide benchmark: `npm run bench` (= build, then node dist/bench/run.js).
 *
 *   (a) full path through the real SDK: N sender nodes to N recipient nodes through one relay
 *       (encrypt → submit → commit → push → decrypt → store → acknowledge);
 *   (b) the relay alone: pre-sealed envelopes replayed over socket.io `envelope:submit`, each
 *       ack after the durable commit; recipients acknowledge pushes without decrypting;
 *   (c) the ceiling: the same envelope objects through a bare socket.io forwarder;
 *   (d) cross-relay full path: as (a), but the senders are enrolled on relay.one.bench and the
 *       recipients on relay.two.bench, two relay processes peered both ways: every message goes
 *       through relay 1's durable outbox to relay 2's POST /v1/federation/envelopes, and relay 2
 *       pushes it to its node. Its p99 is compared with (a)'s at the same offered load;
 *   (l) the cost of the relay's limits: (b) again on fresh relays, alternately with the budgets and
 *       quotas checked (`test` profile) and not (`unlimited`); the medians' ratio has a target;
 *   (s) the node's store with sealed content: listing 10,000 messages (target < 200 ms), storing
 *       sealed and in clear in one run (ratio), searching, sealing in place (bench/node-store.ts);
 *   (f) documents (bench/documents.ts): a file of BENCH_DOC_MIB MiB sealed, uploaded (tus) to a relay
 *       process and downloaded by a second node, next to the ceilings of the same run (secretstream
 *       alone, a raw copy through fastify and fetch); each transfer ≥ 50 % of the lower ceiling;
 *   (w) the officers' web app in Chromium against `entraide serve` (bench/web.ts): first page, the
 *       JavaScript's gzip size, an inbox of 10,000 listed and searched, a message's way to an open page;
 *   (u) the auditor's view (bench/auditor.ts): verifying 10^6 entries from the service against the
 *       CLI (≤ 1.2×), and the log table's frames while scrolling 10^6 entries (< 50 ms);
 *   (h) the coordinator's heat map (bench/heatmap.ts): 14 members over 8 weeks rendered (≤ 300 ms).
 *
 * The relay and the bare server each run in their own child process; the drivers run here. In (a) and (d),
 * the recipient nodes run in a child process of their own (bench/nodes-process.ts), and the
 * sender nodes here (or in a second child with BENCH_SENDERS=child).
 * Each scenario: a warm-up, sustained throughput in a closed loop (bounded window, fixed count),
 * then latency at a fixed open-loop rate for a bounded time. Prints a table and writes
 * bench/results/latest.json.
 *
 * Environment: BENCH_N (4), BENCH_COUNT (20000, for b and c), BENCH_COUNT_FULL (6000, for a;
 * defaults to min(6000, BENCH_COUNT) when only BENCH_COUNT is set), BENCH_WINDOW (256),
 * BENCH_RATE (300), BENCH_SECONDS (5), BENCH_WARMUP (1000), BENCH_ONLY (e.g. "b,c"; default "a,b,c,d,e,l,s,f,w,u,h"),
 * BENCH_LIMITS_RUNS (5: runs of (l) with the limits checked and as many without, interleaved),
 * BENCH_PROFILE=1 (CPU-profile the relay during each throughput phase, into bench/results/),
 * BENCH_STEPS=0 (skip the per-step cost table, bench/steps.ts), BENCH_TIMEOUT_S (180, per throughput phase),
 * BENCH_SENDERS (driver: where the sender nodes of (a) and (d) run, "driver" or "child"); BENCH_COUNT_FULL
 * applies to (d) as well; BENCH_RESOLVE=0 (let the nodes of (a)/(d) resolve each other's keys on the
 * first messages under load rather than once before it, see full-path.ts); BENCH_DOC_MIB (1024: the size
 * of the file of (f), which needs about four times that in free space under the temporary folder).
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
import { formatAudit, measureAudit, type AuditBench } from './audit.ts';
import { formatNodeStore, measureNodeStore, type NodeStoreBench } from './node-store.ts';
import { runDocuments } from './documents.ts';
import { runWeb } from './web.ts';
import { runAuditor } from './auditor.ts';
import { runHeatmap } from './heatmap.ts';
import type { RelayCounts } from './relay-process.ts';
import {
  WireDriver,
  createRawNode,
  enrolRawNode,
  login,
  sealMany,
  type RawEnrolment,
  type SealedItem,
} from './wire.ts';

/** crossOverSameP99: (d)'s p99 at most this many times (a)'s, at the same offered load. */
const TARGETS = { fullThroughput: 1500, relayThroughput: 4000, p99Ms: 50, crossOverSameP99: 2 } as const;

type ScenarioKey = 'a' | 'b' | 'c' | 'd';

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
    only: new Set(
      (process.env.BENCH_ONLY ?? 'a,b,c,d,e,l,s,f,w,u,h').split(',').map((s) => s.trim().toLowerCase()),
    ),
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

/** A process of SDK nodes other than the driver, in scenarios (a) and (d); or (d)'s second relay. */
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
  key: ScenarioKey;
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
  /** (a), (d): the node processes besides the driver, by role ('recipients', and 'senders' with BENCH_SENDERS=child). */
  nodeProcesses?: Record<string, NodeProcessResult>;
  /**
   * (d): the recipients' relay (relay 2), measured like the node processes; the `server*` and
   * `commits.relay*` figures are then those of the senders' relay (relay 1).
   */
  recipientRelay?: NodeProcessResult;
  /** (a), (d): where the sender nodes ran. */
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
  /** (a), (d): what the checks found wrong (losses, duplicates, work left pending); empty when all is well. */
  problems?: string[];
  profile?: ProfileSummary;
  /** With BENCH_PROFILE=1 in (a) and (d): the driver process (the sender nodes) during the throughput phase. */
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
 * child processes of SDK nodes (a, d), whose CPU and commits are measured over the same phases;
 * `recipientRelay`: in (d), the second relay, measured the same way (`server` is then the first).
 */
async function measure(
  res: ScenarioResult,
  server: BenchChild<unknown>,
  cfg: Config,
  count: number,
  starter: (phase: 'warm' | 'thr' | 'lat') => StartFn,
  nodeCommits?: CommitStats,
  nodeProcesses: { role: string; child: BenchChild<unknown> }[] = [],
  recipientRelay?: BenchChild<unknown>,
): Promise<void> {
  const isRelay = res.key !== 'c';
  const relayCommits = async () => (isRelay ? server.command<CommitSnapshot>({ cmd: 'commits' }) : undefined);
  const peers = [
    ...nodeProcesses.map((p) => ({ ...p, isRelay: false, result: {} as NodeProcessResult })),
    ...(recipientRelay
      ? [{ role: 'relay2', child: recipientRelay, isRelay: true, result: {} as NodeProcessResult }]
      : []),
  ];
  const nodePeers = peers.filter((p) => !p.isRelay);
  /** Each node process's (and the second relay's) CPU and commits since the previous call. */
  const peerStats = () =>
    Promise.all(
      peers.map(async (p) => ({
        stats: await p.child.command<ServerStats>({ cmd: 'stats' }),
        commits: await p.child.command<CommitSnapshot>({ cmd: 'commits' }),
      })),
    );
  if (nodePeers.length) res.nodeProcesses = Object.fromEntries(nodePeers.map((p) => [p.role, p.result]));
  const relay2 = peers.find((p) => p.isRelay);
  if (relay2) res.recipientRelay = relay2.result;
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
  const driverProfiler = profileFile && nodePeers.length > 0 ? await startCpuProfile() : undefined;
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
    res.driverCpuUsPerMsg = nodePeers.reduce(
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
      p.result.profile = p.isRelay
        ? summariseProfile(file)
        : summariseProfile(file, 25, / dist\/(client|shared|prisma)\//);
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

type RelayReady = { url: string; domain: string; publicKey: string; pid: number };

async function startRelay(
  root: string,
  name: string,
  children: Set<BenchChild<unknown>>,
  domain?: string,
  limits: 'test' | 'unlimited' = 'test',
): Promise<BenchChild<RelayReady>> {
  const relay = await BenchChild.start<RelayReady>(`relay (${name})`, {
    entry: 'relay-process.js',
    args: [join(root, `relay-${name}`), ...(domain ? [domain] : [])],
    env: { BENCH_RELAY_LIMITS: limits },
  });
  children.add(relay);
  return relay;
}

/** Where the recipients of a full-path scenario are enrolled: on the senders' relay (a) or on a peer of it (d). */
type RecipientsOn = 'same-relay' | 'peer-relay';

const CROSS_DOMAINS = { senders: 'relay.one.bench', recipients: 'relay.two.bench' } as const;

function fullPathLabel(cfg: Config, on: RecipientsOn): string {
  return on === 'same-relay'
    ? `(a) full path, SDK, ${cfg.n}→${cfg.n} nodes`
    : `(d) cross-relay full path, SDK, ${cfg.n}→${cfg.n} nodes`;
}

/** Reads `read()` every 100 ms until `done` holds or `timeoutMs` passes; answers the last reading. */
async function settle<T>(
  read: () => Promise<T>,
  done: (x: T) => boolean,
  timeoutMs: number,
): Promise<{ value: T; waitedMs: number; settled: boolean }> {
  const t0 = performance.now();
  for (;;) {
    const value = await read();
    const waitedMs = Math.round(performance.now() - t0);
    if (done(value)) return { value, waitedMs, settled: true };
    if (waitedMs >= timeoutMs) return { value, waitedMs, settled: false };
    await sleep(100);
  }
}

/**
 * (a) and (d): the full path through the SDK, the recipients enrolled on the senders' relay
 * (`same-relay`) or on a second relay peered both ways with it (`peer-relay`).
 */
async function scenarioFull(
  cfg: Config,
  root: string,
  children: Set<BenchChild<unknown>>,
  recipientsOn: RecipientsOn,
): Promise<ScenarioResult> {
  const cross = recipientsOn === 'peer-relay';
  const key = cross ? 'd' : 'a';
  const res: ScenarioResult = { key, label: fullPathLabel(cfg, recipientsOn), senders: cfg.senders };
  const relays: BenchChild<RelayReady>[] = [];
  let fp: FullPath | undefined;
  try {
    const senderRelay = await startRelay(
      root,
      cross ? 'd1' : 'a',
      children,
      cross ? CROSS_DOMAINS.senders : undefined,
    );
    relays.push(senderRelay);
    let recipientRelay = senderRelay;
    if (cross) {
      recipientRelay = await startRelay(root, 'd2', children, CROSS_DOMAINS.recipients);
      relays.push(recipientRelay);
      // Peered both ways, as two operators connect their relays: each knows the other's URL and key.
      for (const [x, y] of [
        [senderRelay, recipientRelay],
        [recipientRelay, senderRelay],
      ] as const)
        await x.command({
          cmd: 'peer',
          domain: y.ready.domain,
          url: y.ready.url,
          publicKey: y.ready.publicKey,
        });
    }
    const invite = async (relay: BenchChild<RelayReady>, authorities: string[]) =>
      (await relay.command<{ invitations: Record<string, string> }>({ cmd: 'invite', authorities }))
        .invitations;
    const ids = (id: (i: number) => string) => Array.from({ length: cfg.n }, (_, i) => id(i));
    const invitations = {
      ...(await invite(senderRelay, ids(senderId))),
      ...(await invite(recipientRelay, ids(recipientId))),
    };
    const opening = FullPath.open(
      { senders: senderRelay.ready.url, recipients: recipientRelay.ready.url },
      invitations,
      cfg.n,
      join(root, `nodes-${key}`),
      cfg.senders,
      children,
    );
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
      senderRelay,
      cfg,
      cfg.countFull,
      (phase) => path.starter(phase),
      path.placement === 'driver' ? path.commits : undefined,
      path.nodeProcesses,
      cross ? recipientRelay : undefined,
    );
    await sleep(300);
    // Every message completed at its recipient; what the relays still owe (deliveries to mark, the
    // outbox, delivery reports back to the senders' relay) must empty shortly after.
    const counts = async () => ({
      sender: await senderRelay.command<RelayCounts>({ cmd: 'counts' }),
      recipient: cross ? await recipientRelay.command<RelayCounts>({ cmd: 'counts' }) : undefined,
    });
    const relaysSettled = await settle(
      counts,
      ({ sender, recipient }) =>
        recipient === undefined
          ? sender.pending === 0
          : sender.outboxPending === 0 &&
            sender.delivered >= sender.envelopes &&
            recipient.pending === 0 &&
            recipient.reportsPending === 0,
      30_000,
    );
    const nodeCounts: Record<string, { rejected: number; errors?: string[] }> = {};
    for (const { role, child } of path.nodeProcesses)
      nodeCounts[role] = await child.command<{ rejected: number; errors?: string[] }>({ cmd: 'counts' });
    const exactlyOnce = path.deliveryCheck();
    const { sender, recipient } = relaysSettled.value;
    res.checks = {
      ...(cross ? { senderRelay: sender, recipientRelay: recipient } : { relay: sender }),
      settledAfterMs: relaysSettled.waitedMs,
      rejectedAtRecipients: nodeCounts.recipients?.rejected,
      unexpectedDeliveries: path.flight.unexpected,
      exactlyOnce,
      nodeProcesses: nodeCounts,
      clockOffsetsMs: path.clocks,
      ...(path.errors.length ? { nodeErrors: path.errors } : {}),
    };
    res.problems = fullPathProblems({
      exactlyOnce,
      unexpected: path.flight.unexpected,
      rejected: nodeCounts.recipients?.rejected ?? 0,
      nodeErrors:
        path.errors.length + Object.values(nodeCounts).reduce((n, c) => n + (c.errors?.length ?? 0), 0),
      senderRelay: { domain: senderRelay.ready.domain, counts: sender },
      recipientRelay: cross ? { domain: recipientRelay.ready.domain, counts: recipient! } : undefined,
      waitedMs: relaysSettled.waitedMs,
    });
  } catch (err) {
    // What the relays hold says where the messages stopped (not accepted, in the outbox, not pushed).
    const held = await Promise.all(
      relays.map(async (r) => {
        const c = await r.command<RelayCounts>({ cmd: 'counts' }, 5_000).catch(() => undefined);
        return `${r.ready.domain} ${c ? JSON.stringify(c) : 'did not answer'}`;
      }),
    );
    const nodes = await Promise.all(
      (fp?.nodeProcesses ?? []).map(async ({ role, child }) => {
        const c = await child.command<unknown>({ cmd: 'counts' }, 5_000).catch(() => undefined);
        return `${role} ${c ? JSON.stringify(c) : 'did not answer'}`;
      }),
    );
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`${msg} — at that point: ${[...held, ...nodes].join('; ')}`, { cause: err });
  } finally {
    await fp?.close();
    for (const relay of relays) {
      await relay.stop();
      children.delete(relay);
    }
  }
  return res;
}

/** What the checks of a full-path scenario found wrong; empty when every message arrived once and nothing is left pending. */
function fullPathProblems(c: {
  exactlyOnce: ReturnType<FullPath['deliveryCheck']>;
  unexpected: number;
  rejected: number;
  nodeErrors: number;
  senderRelay: { domain: string; counts: RelayCounts };
  /** (d) only: the recipients' relay; in (a) the sender relay is the recipients' too. */
  recipientRelay?: { domain: string; counts: RelayCounts };
  waitedMs: number;
}): string[] {
  const out: string[] = [];
  const e = c.exactlyOnce;
  const lost = e.sent - (e.delivered - e.deliveredNotSent);
  if (lost > 0) out.push(`${lost} of ${e.sent} accepted messages never reached their recipient`);
  if (e.duplicates > 0) out.push(`${e.duplicates} messages delivered more than once`);
  if (e.deliveredNotSent > 0) out.push(`${e.deliveredNotSent} messages delivered that no send() returned`);
  if (c.unexpected > 0) out.push(`${c.unexpected} deliveries of messages not in flight`);
  if (c.rejected > 0) out.push(`${c.rejected} envelopes rejected by the recipient nodes`);
  if (c.nodeErrors > 0) out.push(`${c.nodeErrors} errors reported by the nodes`);
  const s = c.senderRelay;
  const r = c.recipientRelay ?? c.senderRelay;
  const after = `${c.waitedMs} ms after the last message arrived`;
  if (s.counts.envelopes !== e.sent)
    out.push(`${s.domain} holds ${s.counts.envelopes} envelopes for ${e.sent} accepted sends`);
  if (r.counts.pending > 0) out.push(`${r.counts.pending} deliveries still pending on ${r.domain} ${after}`);
  if (r.counts.delivered !== r.counts.envelopes)
    out.push(
      `${r.domain}: ${r.counts.delivered} deliveries marked delivered for ${r.counts.envelopes} envelopes`,
    );
  if (c.recipientRelay) {
    if (s.counts.outboxPending > 0)
      out.push(`${s.counts.outboxPending} envelopes still pending in the outbox of ${s.domain} ${after}`);
    if (s.counts.outboxOther > 0)
      out.push(`${s.counts.outboxOther} outbox items of ${s.domain} refused or expired`);
    if (s.counts.outboxForwarded !== s.counts.envelopes)
      out.push(`${s.domain} forwarded ${s.counts.outboxForwarded} of ${s.counts.envelopes} envelopes`);
    if (r.counts.envelopes !== s.counts.envelopes)
      out.push(`${r.domain} holds ${r.counts.envelopes} envelopes, ${s.domain} ${s.counts.envelopes}`);
    if (r.counts.reportsPending > 0)
      out.push(`${r.counts.reportsPending} delivery reports still pending on ${r.domain} ${after}`);
    if (s.counts.delivered !== s.counts.envelopes)
      out.push(
        `${s.domain} learned of ${s.counts.delivered} remote deliveries for ${s.counts.envelopes} envelopes ${after}`,
      );
  }
  return out;
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
  limits: 'test' | 'unlimited' = 'test',
  name = 'b',
): Promise<ScenarioResult> {
  const res: ScenarioResult = { key: 'b', label: `(b) relay alone, pre-sealed, ${cfg.n}→${cfg.n}` };
  const relay = await startRelay(root, name, children, undefined, limits);
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

/** (l): the relay's CPU per message in (b) with its limits checked (`test` profile) and not (`unlimited`). */
interface LimitsCost {
  runs: { limits: 'test' | 'unlimited'; cpuUsPerMsg: number; msgPerS: number }[];
  medianOn: number;
  medianOff: number;
  /** medianOn / medianOff: the target is at most LIMITS_COST_TARGET. */
  ratio: number;
  target: number;
}

const LIMITS_COST_TARGET = 1.05;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Scenario (b) on fresh relays, alternately with the limits checked and not, BENCH_LIMITS_RUNS
 * times each (default 5): interleaved so that the machine's drift (other work, heat) falls on both.
 * Each run replays the same pre-sealed envelopes into a new relay.
 */
async function scenarioLimitsCost(
  cfg: Config,
  root: string,
  sealed: Sealed,
  children: Set<BenchChild<unknown>>,
): Promise<LimitsCost> {
  const rounds = Math.floor(envInt('BENCH_LIMITS_RUNS', 5));
  const runs: LimitsCost['runs'] = [];
  for (let i = 0; i < rounds; i++) {
    for (const limits of ['test', 'unlimited'] as const) {
      const r = await scenarioRelay(cfg, root, sealed, children, limits, `l-${limits}-${i}`);
      if (r.serverCpuUsPerMsg === undefined || !r.throughput)
        throw new Error(`run ${i} (${limits}) measured nothing${r.error ? `: ${r.error}` : ''}`);
      // A refused message is cheaper than a stored one: a run with refusals would flatter the limits.
      if (r.throughput.failed > 0)
        throw new Error(
          `run ${i} (${limits}): ${r.throughput.failed} refused (${r.throughput.firstFailure ?? '?'})`,
        );
      runs.push({
        limits,
        cpuUsPerMsg: round(r.serverCpuUsPerMsg, 1),
        msgPerS: round(r.throughput.throughput, 0),
      });
      console.error(`[bench] (l) ${limits}: ${r.serverCpuUsPerMsg.toFixed(0)} µs of relay CPU per message`);
    }
  }
  const medianOn = median(runs.filter((r) => r.limits === 'test').map((r) => r.cpuUsPerMsg));
  const medianOff = median(runs.filter((r) => r.limits === 'unlimited').map((r) => r.cpuUsPerMsg));
  return { runs, medianOn, medianOff, ratio: round(medianOn / medianOff, 3), target: LIMITS_COST_TARGET };
}

function formatLimitsCost(c: LimitsCost): string {
  const verdict = c.ratio <= c.target ? 'ok' : 'MISS';
  return [
    '(l) the cost of the limits, (b) interleaved, relay CPU per message (median):',
    `    budgets and quotas checked: ${c.medianOn} µs; not checked: ${c.medianOff} µs; ratio ${c.ratio} (target ≤ ${c.target}: ${verdict})`,
    `    runs: ${c.runs.map((r) => `${r.limits === 'test' ? 'on' : 'off'} ${r.cpuUsPerMsg}`).join(', ')}`,
  ].join('\n');
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
  const ratio = (k: 'a' | 'b' | 'd') => {
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
  const verdicts: Record<string, { throughput?: string; p99?: string; p99VsSameRelay?: string }> = {};
  const latComplete = (l: OpenLoopResult | undefined): l is OpenLoopResult =>
    l !== undefined && l.completed === l.offered && !l.timedOut;
  // (d) against (a): cross-relay p99 over same-relay p99, at the same offered load.
  const sameLat = byKey.get('a')?.latency;
  const crossLat = byKey.get('d')?.latency;
  const crossOverSame =
    sameLat && crossLat && sameLat.latency.count > 0 && crossLat.latency.count > 0
      ? crossLat.latency.p99 / sameLat.latency.p99
      : undefined;
  const crossOk =
    crossOverSame === undefined
      ? undefined
      : latComplete(sameLat) && latComplete(crossLat) && crossOverSame <= TARGETS.crossOverSameP99;
  for (const r of results) {
    const t = r.throughput;
    const l = r.latency;
    const tt = thrTarget(r.key);
    const complete = t !== undefined && t.completed === t.count && !t.timedOut;
    const thrOk = tt !== undefined && t ? complete && t.throughput >= tt : undefined;
    const p99Ok =
      r.key === 'd'
        ? crossOk
        : tt !== undefined && l
          ? latComplete(l) && l.latency.p99 <= TARGETS.p99Ms
          : undefined;
    verdicts[r.key] = {
      ...(thrOk !== undefined ? { throughput: verdict(thrOk) } : {}),
      ...(p99Ok !== undefined ? { [r.key === 'd' ? 'p99VsSameRelay' : 'p99']: verdict(p99Ok) } : {}),
    };
    const rt = r.key === 'c' ? 1 : ratio(r.key);
    const r2 = r.recipientRelay;
    const p99Target = r.key === 'd' ? `≤ ${TARGETS.crossOverSameP99}×(a)` : tt ? `≤ ${TARGETS.p99Ms}` : '';
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
      p99Target,
      verdict(p99Ok),
      (r.serverDuringThroughput ? share(r.serverDuringThroughput) : '—') +
        (r2 ? ` | ${share(r2.throughput)}` : ''),
      (r.serverCpuUsPerMsg !== undefined ? fmtInt(r.serverCpuUsPerMsg) : '—') +
        (r2 ? ` | ${fmtInt(r2.cpuUsPerMsg)}` : ''),
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
    `N=${cfg.n} senders → ${cfg.n} recipients, 1 KiB bodies, window ${cfg.window}, throughput counts (a,d) ${cfg.countFull} / (b,c) ${cfg.count}, ` +
      `latency: open loop ${cfg.rate} msg/s for ${cfg.seconds} s, warm-up ${cfg.warmup}`,
  );
  if (cfg.profile)
    console.log(
      'BENCH_PROFILE=1: the throughput phases ran under the CPU profiler, whose overhead lowers their figures.',
    );
  console.log('');
  console.log(table(rows));
  console.log('');
  if (crossLat) {
    console.log(
      crossOverSame === undefined || !sameLat
        ? `cross-relay vs same-relay p99 at ${cfg.rate} msg/s offered: no same-relay figure (run (a) too: BENCH_ONLY=a,d).`
        : `cross-relay vs same-relay p99 at ${cfg.rate} msg/s offered: (d) ${fmtMs(crossLat.latency.p99)} ms / (a) ${fmtMs(sameLat.latency.p99)} ms = ` +
            `${crossOverSame.toFixed(2)}× (target ≤ ${TARGETS.crossOverSameP99}×) ${verdict(crossOk)}` +
            (crossOk === false && !(latComplete(sameLat) && latComplete(crossLat))
              ? ' (a latency phase did not complete)'
              : ''),
    );
    console.log('');
  }
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
    '(server, and the driver: in (a)/(d) this process plus its child processes of SDK nodes); rcpt CPU/loop: the same as',
  );
  console.log(
    'server CPU/loop for the recipient nodes’ process of (a)/(d); load: 1-min load average at the start of the scenario',
  );
  console.log(
    `(${cpus().length} cores; other work skews results). (d): server figures are relay 1 (${CROSS_DOMAINS.senders}, the senders’) | ` +
      `relay 2 (${CROSS_DOMAINS.recipients}, the recipients’).`,
  );
  for (const r of results) {
    if (r.serverMsgPerCoreSecond !== undefined && r.key !== 'c') {
      const r2 = r.recipientRelay?.cpuUsPerMsg;
      console.log(
        `${r.label}: relay CPU alone would allow ≈ ${fmtInt(r.serverMsgPerCoreSecond)} msg/s on one whole core` +
          (r2 !== undefined ? ` (relay 1; relay 2 ≈ ${fmtInt(1e6 / r2)})` : '') +
          '; time not spent on CPU is waiting (fsync, network, the driver).',
      );
    }
    if (r.nodeProcesses && r.driverProcessCpuUsPerMsg !== undefined) {
      const here = r.senders === 'child' ? 'load generator only' : `load generator and ${cfg.n} sender nodes`;
      const parts = [
        r.recipientRelay
          ? `relay 1 ${fmtInt(r.serverCpuUsPerMsg)}, relay 2 ${fmtInt(r.recipientRelay.cpuUsPerMsg)} at ${share(r.recipientRelay.throughput)} CPU/loop`
          : `relay ${fmtInt(r.serverCpuUsPerMsg)}`,
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
    if (r.problems)
      console.log(
        r.problems.length === 0
          ? `${r.label}: checks PASS (every message delivered exactly once${r.key === 'd' ? ', outbox drained, delivery reports back' : ''}, nothing pending)`
          : `${r.label}: checks MISS — ${r.problems.join('; ')}`,
      );
  }
  for (const r of results) {
    const c = r.commits;
    if (!c) continue;
    const relay = r.recipientRelay ? 'relay 1' : 'relay';
    const parts: [string, CommitSnapshot | undefined][] = [
      [`${relay}, throughput phase`, c.relayThroughput],
      [`${relay}, latency phase`, c.relayLatency],
      ['relay 2, throughput phase', r.recipientRelay?.commitsThroughput],
      ['relay 2, latency phase', r.recipientRelay?.commitsLatency],
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
      console.log(`${r.label}: ${r.recipientRelay ? 'relay 1 process' : 'relay process'}`);
      console.log(formatProfile(r.profile, r.throughput?.completed));
    }
    if (r.recipientRelay?.profile) {
      console.log('');
      console.log(`${r.label}: relay 2 process`);
      console.log(formatProfile(r.recipientRelay.profile, r.throughput?.completed));
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

  const ratios = { aOverC: ratio('a'), bOverC: ratio('b'), dOverC: ratio('d') };
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
      dOverC: ratios.dOverC === undefined ? null : round(ratios.dOverC, 4),
      crossOverSameP99: crossOverSame === undefined ? null : round(crossOverSame, 3),
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
  let limitsCost: LimitsCost | undefined;
  try {
    const run = async (key: ScenarioKey, label: string, fn: () => Promise<ScenarioResult>) => {
      if (!cfg.only.has(key)) return;
      console.error(`[bench] ${label} …`);
      try {
        results.push(await fn());
      } catch (err) {
        console.error(`[bench] ${label} failed:`, err);
        results.push({ key, label, error: err instanceof Error ? err.message : String(err) });
      }
    };
    await run('a', fullPathLabel(cfg, 'same-relay'), () => scenarioFull(cfg, root, children, 'same-relay'));
    await run('d', fullPathLabel(cfg, 'peer-relay'), () => scenarioFull(cfg, root, children, 'peer-relay'));
    let sealed: Sealed | undefined;
    if (cfg.only.has('b') || cfg.only.has('c') || cfg.only.has('l')) {
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
      if (cfg.only.has('l')) {
        console.error(
          '[bench] (l) the cost of the limits: (b) with the budgets and quotas checked, and not, interleaved …',
        );
        limitsCost = await scenarioLimitsCost(cfg, root, s, children).catch((err: unknown) => {
          console.error('[bench] (l) failed:', err);
          return undefined;
        });
      }
    }
  } finally {
    // Children still registered here were not stopped cleanly by their scenario.
    for (const c of children) await c.stop(5_000).catch(() => c.kill());
    cleanup();
  }
  let audit: AuditBench | undefined;
  if (cfg.only.has('e')) {
    console.error('[bench] (e) audit log …');
    audit = await measureAudit((l) => console.error(l)).catch((err: unknown) => {
      console.error('[bench] (e) audit log failed:', err);
      return undefined;
    });
  }
  let nodeStore: NodeStoreBench | undefined;
  if (cfg.only.has('s')) {
    console.error('[bench] (s) node store, sealed content …');
    nodeStore = await measureNodeStore((l) => console.error(l)).catch((err: unknown) => {
      console.error('[bench] (s) node store failed:', err);
      return undefined;
    });
  }
  if (cfg.only.has('v')) await (await import('./cli-served.ts')).runCliServed(); // CLI through the service
  const documents = cfg.only.has('f') ? await runDocuments() : undefined; // a 1 GiB file, relay process
  const web = cfg.only.has('w') ? await runWeb() : undefined; // the web app in Chromium
  const auditor = cfg.only.has('u') ? await runAuditor() : undefined; // the auditor's view, 10^6 entries
  const heatmap = cfg.only.has('h') ? await runHeatmap() : undefined; // the coordinator's heat map
  let steps: StepCost[] | undefined;
  if (cfg.steps) {
    console.error('[bench] cost of each step …');
    steps = await measureSteps().catch((err: unknown) => {
      console.error('[bench] step costs failed:', err);
      return undefined;
    });
  }
  const json = {
    ...report(cfg, results, sealMs, startedAt, steps),
    ...(audit ? { audit } : {}),
    ...(nodeStore ? { nodeStore } : {}),
    ...(documents ? { documents } : {}),
    ...(web ? { web } : {}),
    ...(auditor ? { auditor } : {}),
    ...(heatmap ? { heatmap } : {}),
    ...(limitsCost ? { limitsCost } : {}),
  };
  if (limitsCost) {
    console.log('');
    console.log(formatLimitsCost(limitsCost));
  }
  if (audit) {
    console.log('');
    console.log('(e) audit log (bench/audit.ts):');
    console.log(formatAudit(audit));
  }
  if (nodeStore) {
    console.log('');
    console.log('(s) node store, sealed content (bench/node-store.ts):');
    console.log(formatNodeStore(nodeStore));
  }
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
