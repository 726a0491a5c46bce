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
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorityNode } from '../../client/node.ts';
import { signedStatisticsExport } from '../../client/stats-export.ts';
import type { MergedRow, NetworkMerge } from '../../shared/requests/statistics-merge.ts';
import { axeCheck, launchBrowser, newOfficerContext, screenshot, watchErrors } from '../support/browser.ts';
import {
  enrolHome,
  enrolNode,
  PASSPHRASE,
  startPeeredRelays,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { hasPythonIcalendar, pythonReadIcs, readIcs } from '../support/ics-check.ts';
import { cli, ROOT } from '../support/processes.ts';
import { mlaDraft } from '../support/requests.ts';
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
    for (const m of [ng, ke, tg]) {
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

  // ---- the Meetings page: replies live, the calendar, the .ics file, update and cancel ----------
  let uid = '';
  /** Each member's in-process node with the answer it gives: accept, decline, then tentative. */
  const answering = () =>
    [ng, ke, tg].map((node, i) => ({ node, answer: (['accept', 'decline', 'tentative'] as const)[i % 3]! }));
  const card = () => page.locator(`[data-testid="meeting-card"][data-uid="${uid}"]`);
  const replyOf = (authority: string) =>
    card().locator(`[data-testid="reply-row"][data-authority="${authority}"]`).getAttribute('data-answer');
  /** Fetches at `node` until its copy of the meeting satisfies `ok` (bounded). */
  const received = (node: AuthorityNode, ok: (m: ReturnType<AuthorityNode['meetings']['show']>) => boolean) =>
    pollUntil(
      async () => {
        await node.fetchInbox();
        return node.meetings.show(uid);
      },
      ok,
      { intervalMs: 100, timeoutMs: STEP },
    );

  it('shows each member’s reply arrive live in the replies at a glance', async () => {
    await byTest(page, 'meeting-card').first().waitFor({ timeout: STEP });
    uid = (await byTest(page, 'meeting-card').first().getAttribute('data-uid'))!;
    expect(uid).toBe(ng.meetings.list()[0]!.uid);
    for (const { node } of answering()) expect(await replyOf(node.authority)).toBe('none');
    // A mark on the window: gone if the page reloaded.
    await page.evaluate(() => ((window as { unreloaded?: boolean }).unreloaded = true));
    for (const { node, answer } of answering()) {
      await node.meetings.rsvp(uid, answer);
      await expect.poll(() => replyOf(node.authority), { timeout: STEP }).toBe(answer);
    }
    const count = (k: string) => card().getByTestId(`reply-count-${k}`).getAttribute('data-count');
    expect(await count('accept')).toBe('1');
    expect(await count('decline')).toBe('1');
    expect(await count('tentative')).toBe('1');
    expect(await page.evaluate(() => (window as { unreloaded?: boolean }).unreloaded)).toBe(true);
    errors.check();
  });

  it('places the meeting on its day in the week and month calendars, with each member’s local time', async () => {
    const start = Date.parse(ng.meetings.show(uid).startUtc);
    const day = new Date(start).toISOString().slice(0, 10); // Africa/Dakar is UTC all year
    const inCalendar = page.locator(`[data-testid="calendar-meeting"][data-uid="${uid}"]`);
    for (const mode of ['week', 'month'] as const) {
      await byTest(page, 'calendar-mode')
        .getByText(mode === 'week' ? 'Week' : 'Month')
        .click();
      await byTest(page, 'calendar-today').click();
      // The meeting is at most a few days ahead: today's week or month, or the next one.
      const cell = page.locator(`[data-testid="calendar-day"][data-date="${day}"][data-outside="false"]`);
      if ((await cell.count()) === 0) await byTest(page, 'calendar-next').click();
      await expect.poll(() => cell.locator(`[data-uid="${uid}"]`).count(), { timeout: STEP }).toBe(1);
      expect(await inCalendar.count()).toBe(1);
    }
    // Reached with the keyboard (a tooltip opens on keyboard focus, not on a script's).
    await inCalendar.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await inCalendar.evaluate((el) => el === document.activeElement)).toBe(true);
    const tip = page.getByTestId('calendar-local-times');
    await tip.waitFor({ timeout: STEP });
    const text = (await tip.innerText()).replace(/\s+/g, ' ');
    for (const tz of ['Africa/Dakar', 'Africa/Lagos', 'Africa/Nairobi']) expect(text).toContain(tz);
    const hm = (offsetH: number) => new Date(start + offsetH * 3_600_000).toISOString().slice(11, 16);
    const twelve = (t: string) =>
      `${String(((Number(t.slice(0, 2)) + 11) % 12) + 1).padStart(2, '0')}${t.slice(2)}`;
    for (const offset of [1, 3]) expect(text).toContain(twelve(hm(offset)));
    await axeCheck(page, 'en-meetings-calendar');
    await screenshot(page, 'coordinator/en-meetings-calendar-month');
    errors.check();
  });

  it('downloads the .ics from the page: ical.js reads its UID, SEQUENCE, DTSTART and each reply', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: STEP }),
      card().getByTestId('ics-link').click(),
    ]);
    const text = readFileSync((await download.path())!, 'utf8');
    const startUtc = ng.meetings.show(uid).startUtc.replace('.000', '');
    const partstat = { accept: 'ACCEPTED', decline: 'DECLINED', tentative: 'TENTATIVE' };
    const readings = [readIcs(text), ...(hasPythonIcalendar() ? [pythonReadIcs(text)] : [])];
    for (const r of readings) {
      expect(r).toMatchObject({
        method: 'REQUEST',
        uid: `${uid}@entraide`,
        sequence: 0,
        dtstart_utc: startUtc,
      });
      for (const { node, answer } of answering()) {
        const a = r.attendees.find((x) => x.address === `urn:entraide:${node.authority}`);
        expect(a?.partstat, node.authority).toBe(partstat[answer]);
      }
    }
    errors.check();
  });

  it('updates the time from the page, then cancels: the members’ nodes receive each version', async () => {
    const before = Date.parse(ng.meetings.show(uid).startUtc);
    const later = new Date(before + 24 * 3_600_000).toISOString().slice(0, 16); // Dakar: UTC
    await card().getByTestId('meeting-update').click();
    await byTest(page, 'update-start').fill(later);
    await axeCheck(page, 'en-meetings-update');
    await byTest(page, 'update-send').click();
    await expect.poll(() => card().getAttribute('data-sequence'), { timeout: STEP }).toBe('1');
    for (const { node } of answering()) {
      const m = await received(node, (x) => x.sequence === 1);
      expect(m.startUtc).toBe(`${later}:00.000Z`);
    }
    await card().getByTestId('meeting-cancel').click();
    await byTest(page, 'cancel-reason').fill('Postponed to the plenary session.');
    await byTest(page, 'cancel-send').click();
    await expect.poll(() => card().getAttribute('data-cancelled'), { timeout: STEP }).toBe('true');
    for (const { node } of answering()) {
      const m = await received(node, (x) => x.cancelled);
      expect(m.cancelReason).toBe('Postponed to the plenary session.');
    }
    errors.check();
  });

  it('merges the members’ signed statistics exports into charts whose tables hold `stats merge --json`', async () => {
    // Nigeria asks Kenya for evidence, which Kenya executes; Kenya asks Nigeria, which refuses.
    const held = (node: AuthorityNode, id: string) =>
      pollUntil(
        async () => {
          await node.fetchInbox();
          return node.requests.records().length;
        },
        () => node.requests.list().some((r) => r.id === id),
        { intervalMs: 100, timeoutMs: STEP },
      );
    const asked = await ng.requests.create({
      type: 'mutual_legal_assistance',
      to: ke.authority,
      draft: mlaDraft(),
    });
    const refused = await ke.requests.create({
      type: 'mutual_legal_assistance',
      to: ng.authority,
      draft: mlaDraft(),
    });
    await held(ke, asked.id);
    await held(ng, refused.id);
    await ke.requests.update(asked.id, 'acknowledged', { reference: 'KE-2026-7' });
    await ke.requests.update(asked.id, 'in_execution');
    await ke.requests.update(asked.id, 'executed', { note: 'Records provided.' });
    await ng.requests.update(refused.id, 'refused', {
      ground: 'no_dual_criminality',
      note: 'Not an offence here.',
    });
    await pollUntil(
      async () => {
        await Promise.all([ng.fetchInbox(), ke.fetchInbox()]);
        return [ng.requests.records(), ke.requests.records()]
          .flat()
          .filter((r) => r.state === 'executed' || r.state === 'refused').length;
      },
      (n) => n === 4,
      { intervalMs: 100, timeoutMs: STEP },
    );
    const dir = tempDir('entraide-web-stats-');
    const files = [ng, ke].map((node) => {
      const file = join(dir, `${node.authority.split('@')[0]}-wacap.json`);
      writeFileSync(file, JSON.stringify(signedStatisticsExport(node, node.requests.records(), 'wacap')));
      return file;
    });
    // The CLI on the coordinator's folder (through its service, which holds it).
    const merged = await cli(['--home', home, 'stats', 'merge', ...files, '--network', 'wacap', '--json'], {
      ENTRAIDE_PASSPHRASE: PASSPHRASE,
    });
    expect(merged.code, merged.stderr).toBe(0);
    const [s] = (JSON.parse(merged.stdout) as { networks: NetworkMerge[] }).networks;
    expect([s!.requests, s!.exportedByBothSides]).toEqual([2, 2]);

    await page.goto(`${served!.file.url}/#/statistics`);
    await byTest(page, 'stats-tab-network').click();
    await byTest(page, 'merge-network').click();
    await page.getByRole('option', { name: /\(wacap\)/ }).click();
    await page.locator('input[type="file"]').setInputFiles(files);
    await byTest(page, 'merge-own').uncheck();
    await byTest(page, 'merge-run').click();
    const section = byTest(page, 'merged-section');
    await section.waitFor({ timeout: STEP });
    const rows = (figure: string) =>
      section
        .getByTestId(figure)
        .getByTestId('figure-row')
        .evaluateAll((trs) =>
          trs.map((r) => ({
            key: r.querySelector('[data-key]')?.getAttribute('data-key'),
            total: Number(r.querySelector('[data-field="total"]')?.textContent),
            count: Number(r.querySelector('[data-field="count"]')?.textContent),
            seconds: Array.from(r.querySelectorAll('[data-seconds]')).map((e) =>
              e.getAttribute('data-seconds'),
            ),
          })),
        );
    const times = (r: MergedRow) =>
      [
        r.acknowledge.medianSeconds,
        r.acknowledge.p90Seconds,
        r.execute.medianSeconds,
        r.execute.p90Seconds,
      ].map((v) => (v === null ? '' : String(v)));
    expect(
      (await rows('figure-counterpart')).map(({ key, total, seconds }) => ({ key, total, seconds })),
    ).toEqual(s!.byRequested.map((r) => ({ key: r.requested, total: r.total, seconds: times(r) })));
    expect((await rows('figure-type')).map(({ key, total }) => ({ key, total }))).toEqual(
      s!.byType.map((r) => ({ key: r.requestType, total: r.total })),
    );
    expect((await rows('figure-refusals')).map(({ key, count }) => ({ key, count }))).toEqual(
      s!.totals.breakdowns.refusalGround.counts.map((c) => ({ key: c.code, count: c.requests })),
    );
    expect(s!.totals.breakdowns.refusalGround.counts).toEqual([{ code: 'no_dual_criminality', requests: 1 }]);
    await axeCheck(page, 'en-statistics-network');
    await screenshot(page, 'coordinator/en-statistics-network');
    // An export changed after signing is refused, naming the file; nothing is shown merged.
    const edited = join(dir, 'ke-wacap-edited.json');
    writeFileSync(edited, readFileSync(files[1]!, 'utf8').replace('"executed"', '"refused"'));
    await page.locator('input[type="file"]').setInputFiles([files[0]!, edited]);
    errors.allow(/status of 422/);
    await byTest(page, 'merge-run').click();
    const refusal = byTest(page, 'error');
    await refusal.waitFor({ timeout: STEP });
    expect(await refusal.getAttribute('data-code'), (await refusal.textContent()) ?? '').toBe(
      'STATS_EXPORT_INVALID',
    );
    expect(await refusal.textContent()).toContain('ke-wacap-edited.json is refused');
    expect(await section.count()).toBe(0);
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
      await page.goto(`${served!.file.url}/#/meetings`);
      await byTest(page, 'calendar-day').first().waitFor({ timeout: STEP });
      await axeCheck(page, `${lang}-meetings`);
      await screenshot(page, `coordinator/${lang}-meetings-calendar`);
    }
    errors.check();
  });
});
