/// <reference lib="dom" />
/**
 * Headless Chromium for the officers' web app: playwright-core driving @sparticuz/chromium's build
 * (no download), or the browser named by ENTRAIDE_CHROMIUM; officer contexts with a locale and a
 * time zone; axe-core checks; screenshots under test/artifacts/; a guard that fails a test on any
 * console error, page error or Content-Security-Policy refusal.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import chromium from '@sparticuz/chromium';
import { chromium as pw, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ARTIFACTS = fileURLToPath(new URL('../artifacts', import.meta.url));

/** Flags for a system Chromium given by ENTRAIDE_CHROMIUM: nothing reaches out of this machine. */
const SYSTEM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * @sparticuz/chromium's flags, made for a serverless function, that a test of a web app's security
 * must not run with: no same-origin policy, mixed content allowed, no site isolation, and one
 * process, in which every browser context shares one cookie jar (a fresh context was seen sending
 * another officer's session cookie).
 */
const UNSAFE_ARGS = [
  '--single-process',
  '--disable-web-security',
  '--allow-running-insecure-content',
  '--disable-site-isolation-trials',
  '--disable-features=',
];

export async function launchBrowser(): Promise<Browser> {
  const system = process.env.ENTRAIDE_CHROMIUM;
  if (system)
    return pw.launch({ executablePath: system, args: SYSTEM_ARGS, headless: true, timeout: 30_000 });
  return pw.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((a) => !UNSAFE_ARGS.some((u) => a.startsWith(u))),
    headless: true,
    timeout: 30_000,
  });
}

/** A browser profile of its own (cookies, storage) for one officer, in their language and zone. */
export function newOfficerContext(
  browser: Browser,
  opts: { locale: string; timezoneId: string },
): Promise<BrowserContext> {
  return browser.newContext({
    locale: opts.locale,
    timezoneId: opts.timezoneId,
    viewport: { width: 1280, height: 800 },
  });
}

let axeSource: string | undefined;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core in the page and throws on any serious or critical violation, listing them. The
 * source goes in through Runtime.evaluate, which the page's CSP does not govern (a script tag would
 * be refused, rightly).
 */
export async function axeCheck(page: Page, label: string): Promise<void> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // The resting page: the pointer off whatever was last clicked (hover colours checked apart).
  await page.mouse.move(0, 0);
  // Colours mid-transition (a navigation link turning active) are not what the officer reads.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null))));
  const has = await page.evaluate(() => typeof (window as { axe?: unknown }).axe === 'object');
  if (!has) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: () => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run();
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, summary: n.failureSummary ?? '' })),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length)
    throw new Error(
      `axe: ${bad.length} serious or critical violation(s) on ${label}:\n` +
        bad
          .map(
            (v) =>
              `- [${v.impact}] ${v.id}: ${v.help} at ${v.nodes.map((n) => `${JSON.stringify(n.target)} (${n.summary.replace(/\s+/g, ' ')})`).join(', ')}`,
          )
          .join('\n'),
    );
}

/** Writes a PNG of the viewport to test/artifacts/<name>.png (folders created). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path });
  return path;
}

/**
 * Collects what must never happen in a page: console errors (CSP refusals are reported there),
 * uncaught exceptions. A 401 for a locked session is expected and `allow`ed by the caller when
 * it is; `check()` throws with the list.
 */
export function watchErrors(page: Page, label: string): { allow: (re: RegExp) => void; check: () => void } {
  const errors: string[] = [];
  const allowed: RegExp[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (!allowed.some((re) => re.test(text))) errors.push(`console: ${text} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return {
    allow: (re) => allowed.push(re),
    check: () => {
      if (errors.length) throw new Error(`errors in ${label}'s page:\n${errors.join('\n')}`);
    },
  };
}
