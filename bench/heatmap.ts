/// <reference lib="dom" />
/**
 * Scenario (h): the coordinator's heat map (issue 19): a network of 14 authorities in 14 time zones
 * (some with daylight-saving changes in the window), each having declared its working hours, held
 * by the coordinator's node under `entraide serve`. Target: the heat map over 8 weeks renders in
 * ≤ 300 ms: in headless Chromium, from choosing 8 weeks on the Networks page to all its cells in the
 * page (median of 5, switching between 2 and 8 weeks); the service's own answer (GET
 * /networks/:id/heatmap, 8 weeks) reported beside it.
 * Run alone: `node dist/bench/heatmap.js`, or BENCH_ONLY=h.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import chromium from '@sparticuz/chromium';
import { chromium as pw, type Browser, type Page } from 'playwright-core';
import { AuthorityNode } from '../client/node.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { round, summarise, table } from './stats.ts';
import { enrol, PASSPHRASE, serve, startRelay, type Served } from './web-setup.ts';

export const HEATMAP_TARGETS = { renderMs: 300 } as const;

const ZONES = [
  'Africa/Dakar',
  'Africa/Lagos',
  'Africa/Nairobi',
  'Africa/Johannesburg',
  'Europe/Paris',
  'Europe/Moscow',
  'America/New_York',
  'America/Sao_Paulo',
  'America/Mexico_City',
  'Asia/Tashkent',
  'Asia/Kolkata',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Sydney',
];
const RUNS = 5;

export interface HeatmapBench {
  members: number;
  weeks: number;
  cells: number;
  apiMedianMs: number;
  renderMs: number[];
  renderMedianMs: number;
  verdict: 'PASS' | 'FAIL';
}

async function launch(): Promise<Browser> {
  const executablePath = process.env.ENTRAIDE_CHROMIUM || (await chromium.executablePath());
  const args = chromium.args.filter((a) => a !== '--single-process');
  return pw.launch({ executablePath, args, headless: true, timeout: 60_000 });
}

/** Chooses `weeks` in the page's select and resolves with the ms until `cells` cells are in the page. */
async function choose(page: Page, weeks: number, cells: number): Promise<number> {
  await page.getByTestId('heatmap-weeks').click();
  const option = page.getByRole('option', { name: new RegExp(`^${weeks}\\b`) });
  const t0 = performance.now();
  await option.click();
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="heatmap"] td[data-count]').length >= n,
    cells,
    { timeout: 30_000, polling: 'raf' },
  );
  return performance.now() - t0;
}

export async function measureHeatmap(log: (line: string) => void = () => undefined): Promise<HeatmapBench> {
  await loadSodium();
  const dir = mkdtempSync(join(tmpdir(), 'entraide-bench-heatmap-'));
  const stage = await startRelay(dir);
  let served: Served | undefined;
  let browser: Browser | undefined;
  const nodes: AuthorityNode[] = [];
  try {
    const ids = ZONES.map((_, i) => `m${String(i).padStart(2, '0')}.moj`);
    const homes = ids.map((id) => join(dir, id));
    for (let i = 0; i < ids.length; i++) await enrol(stage.relay, stage.url, ids[i]!, homes[i]!);
    for (const h of homes) nodes.push(await AuthorityNode.open(h, PASSPHRASE));
    const [coordinator, ...members] = nodes as [AuthorityNode, ...AuthorityNode[]];
    await coordinator.networks.create('bench', 'Benchmark network', ['en']);
    await coordinator.networks.change('bench', { add: members.map((m) => m.authority) });
    await coordinator.networks.setHours({
      tz: ZONES[0]!,
      days: [1, 2, 3, 4, 5],
      start: '09:00',
      end: '17:00',
    });
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      for (let tries = 0; m.networks.roster('bench') === null && tries < 100; tries++) {
        await m.fetchInbox();
        if (m.networks.roster('bench') === null) await new Promise((r) => setTimeout(r, 100));
      }
      await m.networks.setHours({ tz: ZONES[i + 1]!, days: [1, 2, 3, 4, 5], start: '08:30', end: '17:30' });
    }
    for (let tries = 0; tries < 100; tries++) {
      await coordinator.fetchInbox();
      if (Object.keys(coordinator.networks.show('bench').hours).length === ZONES.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const held = Object.keys(coordinator.networks.show('bench').hours).length;
    if (held !== ZONES.length) throw new Error(`the coordinator holds the hours of ${held} members only`);
    for (const n of nodes) await n.close();
    nodes.length = 0;
    served = await serve(homes[0]!);

    const api: number[] = [];
    let cells = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const res = await fetch(`${served.file.url}/api/v1/networks/bench/heatmap?duration=60&weeks=8`, {
        headers: { authorization: `Bearer ${served.file.token}` },
      });
      const body = (await res.json()) as { counts: number[] };
      api.push(performance.now() - t);
      cells = body.counts.length;
    }
    log(`[bench] (h) heat map API: ${cells} starts, median ${summarise(api).p50.toFixed(1)} ms`);

    browser = await launch();
    const page = await (
      await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: ZONES[0]! })
    ).newPage();
    await page.goto(served.file.url);
    await page.getByTestId('unlock-officer').fill('Bench Coordinator');
    await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('unlock-submit').click();
    await page.getByTestId('nav-networks').click();
    await page.getByTestId('heatmap').waitFor({ timeout: 30_000 });
    const renderMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await choose(page, 2, 14 * 48 - 48);
      renderMs.push(await choose(page, 8, cells));
    }
    const median = summarise(renderMs).p50;
    return {
      members: ZONES.length,
      weeks: 8,
      cells,
      apiMedianMs: round(summarise(api).p50, 1),
      renderMs: renderMs.map((x) => round(x, 1)),
      renderMedianMs: round(median, 1),
      verdict: median <= HEATMAP_TARGETS.renderMs ? 'PASS' : 'FAIL',
    };
  } finally {
    for (const n of nodes) await n.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await served?.stop();
    await stage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatHeatmap(b: HeatmapBench): string {
  return table([
    ['measure', 'figure', 'target', 'verdict'],
    [
      `heat map, ${b.members} members, ${b.weeks} weeks (${b.cells} starts): choice to cells in the page, median`,
      `${b.renderMedianMs} ms (${b.renderMs.join(', ')})`,
      `≤ ${HEATMAP_TARGETS.renderMs} ms`,
      b.verdict,
    ],
    ['the service’s answer (GET …/heatmap), median', `${b.apiMedianMs} ms`, '', ''],
  ]);
}

export async function runHeatmap(): Promise<HeatmapBench | { error: string }> {
  console.error('[bench] (h) the coordinator’s heat map …');
  try {
    const b = await measureHeatmap((l) => console.error(l));
    console.log('');
    console.log('(h) the coordinator’s heat map (bench/heatmap.ts):');
    console.log(formatHeatmap(b));
    return b;
  } catch (err) {
    console.error('[bench] (h) failed:', err);
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const b = await runHeatmap();
  process.exit('error' in b ? 1 : 0);
}
