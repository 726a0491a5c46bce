/**
 * Scenario (v): a read command of the CLI while the node's service runs (`entraide serve`), as an
 * officer types it: a real relay (in this process), one node enrolled on it, one `entraide serve`
 * process, and `entraide --home H inbox` / `request list` run as processes N times each:
 * - served: through the served path (client/cli/fast.ts, bin/entraide.js);
 * - served, full CLI: through the service too, but loading the whole CLI first (dist main.js: the
 *   path before the served one existed), to show what the served path saves;
 * - direct: the service stopped, the CLI opening the node itself (passphrase KDF, database, login).
 * Medians in ms and the ratio direct / served. Target: a served read command ≤ 1 s (aim 0.4 s).
 * BENCH_CLI_N (10). Run alone: `node dist/bench/cli-served.js`, or BENCH_ONLY=v with the others.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { initNode } from '../client/init.ts';
import { buildRelay } from '../server/app.ts';
import { createInvitation } from '../server/domain/enrolment.ts';
import { relayLimits } from '../server/limits.ts';
import { fmtMs, round, table } from './stats.ts';
import { PASSPHRASE, ROOT, serve } from './web-setup.ts';

export const CLI_SERVED_TARGETS = { servedReadMs: 1000 } as const;

const BIN = join(ROOT, 'bin/entraide.js');
const MAIN = pathToFileURL(join(ROOT, 'dist/client/cli/main.js')).href;
const COMMANDS = [['inbox'], ['request', 'list']];

type Mode = 'served' | 'servedFullCli' | 'direct';

export interface CliServedBench {
  n: number;
  /** Median wall time of one command, ms, per command line and mode. */
  medians: Record<string, Record<Mode, number>>;
  /** direct / served, per command line. */
  ratios: Record<string, number>;
  servedMaxMedianMs: number;
  target: string;
}

/** The CLI as the mode runs it: bin/entraide.js, or main.js imported directly (the full CLI). */
function argvOf(mode: Mode, home: string, command: string[]): string[] {
  const args = ['--home', home, ...command];
  if (mode !== 'servedFullCli') return [BIN, ...args];
  const script = `const { main } = await import(${JSON.stringify(MAIN)}); await main(process.argv);`;
  return ['--input-type=module', '-e', script, 'entraide', ...args];
}

/** One command to completion: its wall time in ms; a failure stops the bench. */
function timed(argv: string[]): Promise<number> {
  const env = { ...process.env, ENTRAIDE_PASSPHRASE: PASSPHRASE };
  const t = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { cwd: ROOT, env, timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${argv.slice(-3).join(' ')} failed: ${stderr || err.message}`));
      else resolve(performance.now() - t);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function measureCliServed(
  log: (line: string) => void = () => undefined,
): Promise<CliServedBench> {
  const n = Number(process.env.BENCH_CLI_N) || 10;
  const dir = mkdtempSync(join(tmpdir(), 'entraide-cli-bench-'));
  const relay = await buildRelay({
    dataDir: join(dir, 'relay'),
    domain: 'relay.bench',
    create: true,
    limits: relayLimits('test'),
  });
  const home = join(dir, 'node');
  const samples = new Map<string, number[]>();
  const sample = async (mode: Mode) => {
    for (let i = 0; i < n; i++) {
      for (const command of COMMANDS) {
        const key = `${command.join(' ')}|${mode}`;
        samples.set(key, [...(samples.get(key) ?? []), await timed(argvOf(mode, home, command))]);
      }
    }
    log(`[bench] (v) ${mode}: ${n} × ${COMMANDS.length} commands`);
  };
  try {
    const url = await relay.listen('127.0.0.1', 0);
    const invitation = await createInvitation(relay.store, 'sn.moj', new Date());
    await initNode({
      home,
      relayUrl: url,
      relayKey: relay.identity.publicKeyB64,
      invite: invitation.code,
      authorityId: 'sn.moj',
      nodeName: 'desk1',
      passphrase: PASSPHRASE,
    });
    const { stop } = await serve(home);
    try {
      await sample('served');
      await sample('servedFullCli');
    } finally {
      await stop();
    }
    await sample('direct');
  } finally {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const medians: CliServedBench['medians'] = {};
  const ratios: CliServedBench['ratios'] = {};
  for (const command of COMMANDS) {
    const c = command.join(' ');
    const m = (mode: Mode) => round(median(samples.get(`${c}|${mode}`)!), 0);
    medians[c] = { served: m('served'), servedFullCli: m('servedFullCli'), direct: m('direct') };
    ratios[c] = round(medians[c].direct / medians[c].served, 1);
  }
  return {
    n,
    medians,
    ratios,
    servedMaxMedianMs: Math.max(...Object.values(medians).map((m) => m.served)),
    target: `served read command ≤ ${CLI_SERVED_TARGETS.servedReadMs} ms`,
  };
}

export function formatCliServed(b: CliServedBench): string {
  const rows = [['command', 'served', 'served, full CLI', 'direct', 'direct / served']];
  for (const [c, m] of Object.entries(b.medians))
    rows.push([c, fmtMs(m.served), fmtMs(m.servedFullCli), fmtMs(m.direct), `${b.ratios[c]}×`]);
  const met = b.servedMaxMedianMs <= CLI_SERVED_TARGETS.servedReadMs;
  return `${table(rows)}\nmedians of ${b.n} runs, ms; target ${b.target}: ${met ? 'met' : 'MISSED'} (${fmtMs(b.servedMaxMedianMs)})`;
}

/** Scenario (v) as the bench runs it: measured, printed, kept in bench/results/cli-served.json. */
export async function runCliServed(): Promise<void> {
  console.error('[bench] (v) CLI read commands through the node’s service …');
  const b = await measureCliServed((l) => console.error(l));
  console.log('');
  console.log('(v) CLI read commands, served vs direct (bench/cli-served.ts):');
  console.log(formatCliServed(b));
  const results = join(ROOT, 'bench/results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'cli-served.json'), JSON.stringify(b, null, 2) + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runCliServed();
