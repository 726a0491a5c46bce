/// <reference lib="dom" />
/**
 * The coordinator's Networks page end to end: Senegal's node (`entraide serve`, a real process)
 * coordinates a network of three authorities on two federated relays whose members declared their
 * working hours in Dakar, Lagos and Nairobi. In headless Chromium (Africa/Dakar) the coordinator
 * reads the roster, finds the heat map's cells where everyone is within their hours, picks one with
 * the keyboard, reads each member's local time, schedules the meeting (confirming the members
 * whose safety code was never compared), and the members' nodes receive the invitation at the
 * start picked. axe-core and screenshots in the seven languages.
 * Needs the build: `npx tsc -p tsconfig.build.json` and `npx vite build --config client/web/vite.config.ts`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorityNode } from '../../client/node.ts';
import { axeCheck, launchBrowser, newOfficerContext, screenshot, watchErrors } from '../support/browser.ts';
import {
  enrolHome,
  enrolNode,
  PASSPHRASE,
  startPeeredRelays,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { ROOT } from '../support/processes.ts';
import { serve, stop, type Served } from '../support/served-node.ts';
import { pollUntil } from '../support/wait.ts';

const STEP = 15_000;
const LANGS = ['ar', 'zh', 'en', 'fr', 'ru', 'es', 'pt'] as const;
const byTest = (page: Page, id: string) => page.getByTestId(id);

describe('the coordinator’s Networks page', { timeout: 180_000 }, () => {
  let a: TestRelay;
  let b: TestRelay;
  let ng: AuthorityNode;
  let ke: AuthorityNode;
  let tg: AuthorityNode;
  let served: Served | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let errors: ReturnType<typeof watchErrors>;
  const home = join(tempDir('entraide-web-coord-'), 'sn');

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/web/index.html')))
      throw new Error('build the web app first: npx vite build --config client/web/vite.config.ts');
    [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test']);
    await enrolHome(a, 'sn.moj', 'desk1', home);
    ng = await enrolNode(a, 'ng.moj');
    ke = await enrolNode(b, 'ke.ag');
    // Togo joins through the page (the roster's own step).
    tg = await enrolNode(b, 'tg.mj');
    // The network is built with Senegal's node open here, then its service takes the folder.
    const sn = await AuthorityNode.open(home, PASSPHRASE);
    await sn.networks.create('wacap', 'West African Network', ['fr', 'en']);
    await sn.networks.change('wacap', { add: [ng.authority, ke.authority] });
    await sn.networks.setHours({ tz: 'Africa/Dakar', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' });
    for (const [m, hours] of [
      [ng, { tz: 'Africa/Lagos', days: [1, 2, 3, 4, 5], start: '08:00', end: '16:00' }],
      [ke, { tz: 'Africa/Nairobi', days: [1, 2, 3, 4, 5], start: '08:30', end: '17:30' }],
    ] as const) {
      await pollUntil(
        async () => {
          await m.fetchInbox();
          return m.networks.roster('wacap') !== null;
        },
        (held) => held,
        { intervalMs: 100, timeoutMs: STEP },
      );
      await m.networks.setHours({ ...hours, days: [...hours.days] });
    }
    const held = await pollUntil(
      async () => {
        await sn.fetchInbox();
        return Object.keys(sn.networks.show('wacap').hours).length;
      },
      (n) => n === 3,
      { intervalMs: 100, timeoutMs: STEP },
    );
    expect(held).toBe(3);
    await sn.close();
    [served, browser] = await Promise.all([serve(home), launchBrowser()]);
    const ctx = await newOfficerContext(browser, { locale: 'en-GB', timezoneId: 'Africa/Dakar' });
    page = await ctx.newPage();
    errors = watchErrors(page, 'coordinator');
    errors.allow(/401/);
    // UNVERIFIED_COUNTERPART (409) is the answer that brings the page's confirmation prompt.
    errors.allow(/status of 409/);
    await page.goto(served.file.url);
    await byTest(page, 'unlock-officer').fill('Aminata Diop');
    await byTest(page, 'unlock-passphrase').fill(PASSPHRASE);
    await byTest(page, 'unlock-submit').click();
    await byTest(page, 'lock-button').waitFor({ timeout: STEP });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (served) await stop(served);
    await ng?.close();
    await ke?.close();
    await tg?.close();
    await a?.close();
    await b?.close();
  });

  it('shows the roster and a heat map whose full cells fit every member’s hours', async () => {
    await byTest(page, 'nav-networks').click();
    await expect.poll(() => byTest(page, 'roster-member').count(), { timeout: STEP }).toBe(3);
    await byTest(page, 'heatmap').waitFor({ timeout: STEP });
    const cells = await page.locator('[data-testid="heatmap"] td[data-count]').evaluateAll((tds) =>
      tds.map((td) => ({
        start: Number(td.getAttribute('data-start')),
        count: Number(td.getAttribute('data-count')),
      })),
    );
    expect(cells.length).toBeGreaterThan(600);
    // Lagos 08:00–16:00 (UTC+1), Dakar 09:00–17:00 (UTC), Nairobi 08:30–17:30 (UTC+3), Monday to
    // Friday: a one-hour meeting fits all three when it starts from 09:00 to 13:30 UTC on a weekday.
    for (const { start, count } of cells) {
      const d = new Date(start);
      const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
      const weekday = d.getUTCDay() >= 1 && d.getUTCDay() <= 5;
      expect(count === 3, d.toISOString()).toBe(weekday && minute >= 9 * 60 && minute <= 13 * 60 + 30);
    }
    await axeCheck(page, 'en-networks');
    errors.check();
  });

  it('adds a fourth authority from the keyboard, confirmed, which receives the roster, then makes it a coordinator', async () => {
    await byTest(page, 'roster-add-address').focus();
    await page.keyboard.type(tg.authority);
    await page.keyboard.press('Enter');
    // Togo's safety code was never compared: the page asks before anything is signed.
    const prompt = byTest(page, 'unverified-prompt');
    await prompt.waitFor({ timeout: STEP });
    expect(await prompt.textContent()).toContain(tg.authority);
    await byTest(page, 'send-anyway').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => byTest(page, 'roster-member').count(), { timeout: STEP }).toBe(4);
    const held = await pollUntil(
      async () => {
        await tg.fetchInbox();
        return tg.networks.roster('wacap')?.version ?? 0;
      },
      (v) => v === 3,
      { intervalMs: 100, timeoutMs: STEP },
    );
    expect(held).toBe(3);
    expect(tg.networks.show('wacap').members).toEqual([
      'sn.moj@relay.a.test',
      ng.authority,
      ke.authority,
      tg.authority,
    ]);
    // The Versions table: version 3 on top, with Togo added.
    const newest = byTest(page, 'roster-version').first();
    await expect.poll(() => newest.locator('td').first().textContent(), { timeout: STEP }).toBe('3');
    expect(await newest.locator('[data-change="addedMembers"]').textContent()).toContain(tg.authority);
    expect(await byTest(page, 'roster-version').count()).toBe(3);
    // Togo's row: the coordinator role, confirmed from the keyboard (the focus moves to Confirm).
    await page.getByRole('button', { name: `Make coordinator: ${tg.authority}` }).focus();
    await page.keyboard.press('Enter');
    await byTest(page, 'roster-confirm').waitFor({ timeout: STEP });
    await axeCheck(page, 'en-networks-roster-confirm');
    await page.keyboard.press('Enter');
    await expect.poll(() => newest.locator('td').first().textContent(), { timeout: STEP }).toBe('4');
    expect(await newest.locator('[data-change="addedCoordinators"]').textContent()).toContain(tg.authority);
    await axeCheck(page, 'en-networks-roster');
    errors.check();
  });

  it('picks a start with the keyboard and schedules the meeting the members receive', async () => {
    // The grid's one focusable cell is the first start that suits everyone: Enter picks it.
    const first = page.locator('[data-testid="heatmap"] td[tabindex="0"]');
    await first.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    const start = Number(await first.getAttribute('data-start'));
    expect(Number(await first.getAttribute('data-count'))).toBe(3);
    await byTest(page, 'slot-panel').waitFor({ timeout: STEP });
    await expect.poll(() => byTest(page, 'slot-member').count()).toBe(4);
    await byTest(page, 'slot-title').fill('WACAP plenary');
    await byTest(page, 'slot-schedule').click();
    // Neither member's safety code was compared: the page asks, as the CLI does.
    await byTest(page, 'unverified-prompt').waitFor({ timeout: STEP });
    await axeCheck(page, 'en-networks-unverified');
    await byTest(page, 'send-anyway').click();
    await page.waitForURL(/#\/meetings$/, { timeout: STEP });
    for (const m of [ng, ke]) {
      const n = await pollUntil(
        async () => {
          await m.fetchInbox();
          return m.meetings.list().length;
        },
        (x) => x === 1,
        { intervalMs: 100, timeoutMs: STEP },
      );
      expect(n).toBe(1);
      expect(Date.parse(m.meetings.list()[0]!.startUtc)).toBe(start);
    }
    errors.check();
  });

  it('shows the Networks page in the seven languages, Arabic right to left', async () => {
    for (const lang of LANGS) {
      await page.evaluate((l) => localStorage.setItem('entraide.locale', l), lang);
      await page.goto(`${served!.file.url}/#/networks`);
      await page.reload();
      await byTest(page, 'heatmap').waitFor({ timeout: STEP });
      expect(await page.evaluate(() => document.documentElement.dir)).toBe(lang === 'ar' ? 'rtl' : 'ltr');
      await axeCheck(page, `${lang}-networks`);
      await screenshot(page, `coordinator/${lang}-networks`);
    }
    errors.check();
  });
});
