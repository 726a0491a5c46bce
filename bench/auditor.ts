/// <reference lib="dom" />
/**
 * Scenario (u): the auditor's view (issue 19), on a relay whose audit log holds BENCH_AUDITOR_ENTRIES
 * (10^6) entries, appended through the relay's own store before it listens (it signs its heads every
 * 10 s meanwhile, as in service). Targets:
 * 1. verifying the log from the web app's service (`entraide serve` on the auditor's folder, the job
 *    the Verify page starts) takes ≤ 1.2× the CLI's `entraide audit verify` on the same log in the
 *    same run: two runs each, alternated, medians of the time each reports for its check;
 * 2. the log table scrolls the 10^6 entries with frames under 50 ms: in headless Chromium, after
 *    the service's copy holds the whole log, 60 jumps to random places and 120 steps of 600 px,
 *    each given two frames; every requestAnimationFrame interval recorded (max and p95 reported),
 *    and the time from a jump to its rows filled.
 * Run alone: `node dist/bench/auditor.js`, or BENCH_ONLY=u.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import chromium from '@sparticuz/chromium';
import { chromium as pw, type Browser } from 'playwright-core';
import { createAuditor } from '../client/audit/auditor.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { round, summarise, table } from './stats.ts';
import { PASSPHRASE, ROOT, serve, startRelay, type Served } from './web-setup.ts';

export const AUDITOR_TARGETS = { verifyRatio: 1.2, frameMs: 50 } as const;

const BIN = join(ROOT, 'bin/entraide.js');
const JUMPS = 60;
const STEPS = 120;

export interface AuditorBench {
  entries: number;
  fillSeconds: number;
  cliVerifySeconds: number[];
  webVerifySeconds: number[];
  ratio: number;
  copySeconds: number;
  frames: { count: number; p95Ms: number; maxMs: number };
  jumpFilledMedianMs: number;
  verdicts: Record<'verify' | 'frames', 'PASS' | 'FAIL'>;
}

interface InPage {
  __frames?: number[];
  document: Document;
}

function cliVerify(home: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--home', home, 'audit', 'verify', '--json'], {
      cwd: ROOT,
      env: { ...process.env, ENTRAIDE_PASSPHRASE: PASSPHRASE },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`audit verify exited with ${code}: ${err.slice(-500)}`));
      resolve((JSON.parse(out) as { seconds: number }).seconds);
    });
  });
}

async function webVerify(s: Served, relay: string): Promise<number> {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.file.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${s.file.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await res.json()) as { id: string; state: string; seconds: number };
  };
  const job = await call('POST', '/audit/verify', { relay });
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const j = await call('GET', `/audit/verify/${job.id}`);
    if (j.state === 'ok') return j.seconds;
    if (j.state !== 'running') throw new Error(`the service's check ended ${j.state}`);
  }
}

async function launch(): Promise<Browser> {
  const executablePath = process.env.ENTRAIDE_CHROMIUM || (await chromium.executablePath());
  const args = chromium.args.filter((a) => a !== '--single-process');
  return pw.launch({ executablePath, args, headless: true, timeout: 60_000 });
}

export async function measureAuditor(log: (line: string) => void = () => undefined): Promise<AuditorBench> {
  await loadSodium();
  const entries = Number(process.env.BENCH_AUDITOR_ENTRIES) || 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'entraide-bench-auditor-'));
  const stage = await startRelay(dir);
  let served: Served | undefined;
  let browser: Browser | undefined;
  try {
    const t0 = performance.now();
    const audit = stage.relay.store.audit;
    while (audit.size < entries) {
      audit.transaction(() => {
        for (let i = 0; i < 1_000 && audit.size < entries; i++)
          audit.append({
            kind: 'accepted',
            envelope: `01a21dc1-3e21-71ea-984d-${String(audit.size).padStart(12, '0')}`,
            sender: 'desk1/sn.moj@relay.bench',
            recipients: ['ke.ag@relay.bench'],
            size: 1_000 + (audit.size % 1_000),
            ciphertextHash: 'F0zggPXozIJ67Ey8ckmc9_U24EFo0upbUgPLwVLdfz0',
          });
      });
      // Let the relay sign its heads on its timer, as it would while the log grew in service.
      if (audit.size % 50_000 === 0) await new Promise((r) => setImmediate(r));
    }
    const fillSeconds = (performance.now() - t0) / 1000;
    log(`[bench] (u) ${entries} entries in ${fillSeconds.toFixed(1)} s`);
    const home = join(dir, 'auditor');
    const creds = await createAuditor(home, { name: 'bench', relayUrl: stage.url, passphrase: PASSPHRASE });
    await stage.relay.store.addAuditor('bench', creds.publicKey, new Date());
    served = await serve(home);

    const cliVerifySeconds: number[] = [];
    const webVerifySeconds: number[] = [];
    for (let i = 0; i < 2; i++) {
      cliVerifySeconds.push(await cliVerify(home));
      webVerifySeconds.push(await webVerify(served, creds.relayDomain));
      log(
        `[bench] (u) verify: CLI ${cliVerifySeconds.at(-1)!.toFixed(2)} s, web ${webVerifySeconds.at(-1)!.toFixed(2)} s`,
      );
    }
    const ratio = summarise(webVerifySeconds).p50 / summarise(cliVerifySeconds).p50;

    browser = await launch();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(served.file.url);
    await page.getByTestId('unlock-officer').fill('Bench Auditor');
    await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('unlock-submit').click();
    await page.getByTestId('log-table').waitFor({ timeout: 60_000 });
    const c0 = performance.now();
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid="log-count"]')?.getAttribute('data-total')) >= n,
      entries,
      { timeout: 600_000, polling: 500 },
    );
    const copySeconds = (performance.now() - c0) / 1000;
    log(`[bench] (u) the service's copy holds the ${entries} entries after ${copySeconds.toFixed(1)} s`);

    await page.evaluate(() => {
      const w = window as unknown as InPage;
      w.__frames = [];
      let last = performance.now();
      const tick = (t: number) => {
        w.__frames!.push(t - last);
        last = t;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const twoFrames = () =>
      page.evaluate(
        () => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))),
      );
    const filled: number[] = [];
    for (let i = 0; i < JUMPS; i++) {
      const s = performance.now();
      await page.getByTestId('log-table').evaluate((el, f) => {
        el.scrollTop = f * (el.scrollHeight - el.clientHeight);
      }, Math.random());
      await twoFrames();
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="log-row"]:not([data-seq])').length === 0,
        undefined,
        { timeout: 30_000, polling: 'raf' },
      );
      filled.push(performance.now() - s);
    }
    for (let i = 0; i < STEPS; i++) {
      await page.getByTestId('log-table').evaluate((el) => el.scrollBy({ top: 600 }));
      await twoFrames();
    }
    const frames = (await page.evaluate(() => (window as unknown as InPage).__frames ?? [])).slice(1);
    const sorted = [...frames].sort((a, b) => a - b);
    const p95Ms = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? 0;
    const maxMs = sorted.at(-1) ?? 0;
    return {
      entries,
      fillSeconds: round(fillSeconds, 1),
      cliVerifySeconds: cliVerifySeconds.map((x) => round(x, 2)),
      webVerifySeconds: webVerifySeconds.map((x) => round(x, 2)),
      ratio: round(ratio, 2),
      copySeconds: round(copySeconds, 1),
      frames: { count: frames.length, p95Ms: round(p95Ms, 1), maxMs: round(maxMs, 1) },
      jumpFilledMedianMs: round(summarise(filled).p50, 1),
      verdicts: {
        verify: ratio <= AUDITOR_TARGETS.verifyRatio ? 'PASS' : 'FAIL',
        frames: maxMs < AUDITOR_TARGETS.frameMs ? 'PASS' : 'FAIL',
      },
    };
  } finally {
    await browser?.close().catch(() => undefined);
    await served?.stop();
    await stage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatAuditor(b: AuditorBench): string {
  return table([
    ['measure', 'figure', 'target', 'verdict'],
    [
      `verify ${b.entries} entries: web service / CLI (medians)`,
      `${b.webVerifySeconds.join(', ')} s / ${b.cliVerifySeconds.join(', ')} s = ${b.ratio}×`,
      `≤ ${AUDITOR_TARGETS.verifyRatio}×`,
      b.verdicts.verify,
    ],
    [
      `log table, ${b.frames.count} frames while scrolling (${JUMPS} jumps, ${STEPS} steps)`,
      `max ${b.frames.maxMs} ms, p95 ${b.frames.p95Ms} ms`,
      `< ${AUDITOR_TARGETS.frameMs} ms`,
      b.verdicts.frames,
    ],
    ['a jump to its rows filled (median)', `${b.jumpFilledMedianMs} ms`, '', ''],
    ['the service copies the log', `${b.copySeconds} s`, '', ''],
    ['the log appended (relay store)', `${b.fillSeconds} s`, '', ''],
  ]);
}

export async function runAuditor(): Promise<AuditorBench | { error: string }> {
  console.error('[bench] (u) the auditor’s view …');
  try {
    const b = await measureAuditor((l) => console.error(l));
    console.log('');
    console.log('(u) the auditor’s view (bench/auditor.ts):');
    console.log(formatAuditor(b));
    return b;
  } catch (err) {
    console.error('[bench] (u) failed:', err);
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const b = await runAuditor();
  process.exit('error' in b ? 1 : 0);
}
