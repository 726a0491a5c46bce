/// <reference lib="dom" />
/**
 * The officers' web app end to end: one real relay, two `entraide serve` processes (Senegal sn.moj,
 * Kenya ke.ag) and one headless Chromium with a context per officer. Senegal's officer (French,
 * Dakar) verifies Kenya's safety code, writes to Kenya and sends an expedited preservation request
 * through the guided form; Kenya's officer (English, Nairobi) sees both arrive live, reads the
 * message (its HTML stays text), acknowledges, asks for more; Senegal supplements, Kenya executes,
 * Senegal closes; both timelines agree and the receipts verify. Then the lock, what arrives while
 * locked, a keyboard-only request, axe-core on every page and screenshots in the seven languages.
 * Needs the build: `npx tsc -p tsconfig.build.json` and `npx vite build --config client/web/vite.config.ts`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import codesFr from '../../client/web/i18n/codes/fr.json' with { type: 'json' };
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enrolHome, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { axeCheck, launchBrowser, newOfficerContext, screenshot, watchErrors } from '../support/browser.ts';
import { cli, ROOT } from '../support/processes.ts';
import { mlaDraft } from '../support/requests.ts';
import {
  TALLY_CSV_COLUMNS,
  tallyCsvCells,
  type MonthRow,
  type Statistics,
  type StatsRow,
  type Tally,
} from '../../shared/requests/statistics.ts';
import { serve, stop, type Served } from '../support/served-node.ts';
import { waitFor } from '../support/wait.ts';

const SN = 'sn.moj@relay.test';
const KE = 'ke.ag@relay.test';
const STEP = 10_000;
const HOSTILE = '<script>window.__x=1</script><img src=x onerror="window.__y=1">';
const LANGS = ['ar', 'zh', 'en', 'fr', 'ru', 'es', 'pt'] as const;

const byTest = (page: Page, id: string) => page.getByTestId(id);

const visible = (l: Locator) => l.first().waitFor({ state: 'visible', timeout: STEP });
const hidden = (l: Locator) => l.waitFor({ state: 'hidden', timeout: STEP });
const attrOf = (l: Locator, name: string) =>
  expect.poll(() => l.getAttribute(name, { timeout: STEP }), { timeout: STEP, interval: 100 });
const textOf = (l: Locator) =>
  expect.poll(async () => (await l.textContent({ timeout: STEP }))?.trim(), { timeout: STEP, interval: 100 });

async function unlock(page: Page, officer: string): Promise<void> {
  await visible(byTest(page, 'unlock-form'));
  await byTest(page, 'unlock-officer').fill(officer);
  await byTest(page, 'unlock-passphrase').fill(PASSPHRASE);
  await byTest(page, 'unlock-submit').click();
  await visible(byTest(page, 'lock-button'));
}

/** Follows a navigation link of the shell and waits for the page's heading. */
async function go(page: Page, nav: string): Promise<void> {
  await byTest(page, `nav-${nav}`).click();
  await visible(byTest(page, 'page-title'));
}

/** Opens the status dialog of `status`, fills what it asks, confirms, and waits for the new status. */
async function setStatus(page: Page, status: string, fill: { note?: string; reference?: string } = {}) {
  await byTest(page, `action-${status}`).click();
  const form = byTest(page, 'status-form');
  await visible(form);
  if (fill.reference) await byTest(page, 'status-reference').fill(fill.reference);
  if (fill.note) await byTest(page, 'status-note').fill(fill.note);
  await byTest(page, 'status-submit').click();
  await hidden(form);
  await attrOf(byTest(page, 'request-header').getByTestId('status'), 'data-status').toBe(status);
}

/** The statuses of a request page's timeline, in order (codes, not the labels of its language). */
const storyStatuses = (page: Page) =>
  page
    .locator('[data-testid="story-entry"][data-status]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));

/** Presses Tab (or Shift+Tab) until the element with this data-testid holds the focus. */
async function tabTo(page: Page, testid: string, back = false, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    const here = await page.evaluate(
      (id) =>
        document.activeElement?.closest(`[data-testid="${id}"]`) !== null ||
        document.activeElement?.getAttribute('data-testid') === id,
      testid,
    );
    if (here) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached [data-testid="${testid}"]`);
}

describe('the officers’ web app, two authorities, one browser', { timeout: 150_000 }, () => {
  let relay: TestRelay;
  let sn: Served;
  let ke: Served;
  let browser: Browser;
  let snCtx: BrowserContext;
  let keCtx: BrowserContext;
  let snPage: Page;
  let kePage: Page;
  let snErrors: ReturnType<typeof watchErrors>;
  let keErrors: ReturnType<typeof watchErrors>;
  let keSafetyCode: string;
  let requestId: string;
  const homes = { sn: join(tempDir('entraide-web-'), 'sn'), ke: join(tempDir('entraide-web-'), 'ke') };
  const checked = new Set<string>();

  /** axe once per page and language. */
  const axe = async (page: Page, label: string) => {
    if (checked.has(label)) return;
    checked.add(label);
    await axeCheck(page, label);
  };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/web/index.html')))
      throw new Error('build the web app first: npx vite build --config client/web/vite.config.ts');
    relay = await startTestRelay();
    await enrolHome(relay, 'sn.moj', 'desk1', homes.sn);
    await enrolHome(relay, 'ke.ag', 'desk1', homes.ke);
    // What Kenya's officer reads out on the telephone: its own safety code.
    const fp = await cli(['--home', homes.ke, 'fingerprint'], { ENTRAIDE_PASSPHRASE: PASSPHRASE });
    expect(fp.code, fp.stderr).toBe(0);
    keSafetyCode = fp.stdout.split('\n')[1]!.trim();
    [sn, ke, browser] = await Promise.all([serve(homes.sn), serve(homes.ke), launchBrowser()]);
    snCtx = await newOfficerContext(browser, { locale: 'fr-FR', timezoneId: 'Africa/Dakar' });
    keCtx = await newOfficerContext(browser, { locale: 'en-US', timezoneId: 'Africa/Nairobi' });
    for (const c of [snCtx, keCtx]) c.setDefaultTimeout(STEP);
    [snPage, kePage] = await Promise.all([snCtx.newPage(), keCtx.newPage()]);
    snErrors = watchErrors(snPage, 'Senegal');
    keErrors = watchErrors(kePage, 'Kenya');
    // A locked session's calls answer 401, a send to an unverified counterpart 409 (the page then
    // asks): the browser logs each such answer.
    for (const w of [snErrors, keErrors]) w.allow(/status of (401|409)/);
  }, 90_000);

  // What the pages showed when a step failed, for whoever reads the failure.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const name = ctx.task.name.replace(/\W+/g, '-').slice(0, 40);
    await Promise.all([
      snPage && screenshot(snPage, `web/failed-${name}-sn`),
      kePage && screenshot(kePage, `web/failed-${name}-ke`),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of [sn, ke]) if (s) await stop(s);
    await relay?.close();
  });

  it('Senegal verifies Kenya, writes to it and sends a request; Kenya sees both arrive live', async () => {
    await kePage.goto(ke.file.url);
    await axe(kePage, 'en-unlock');
    await unlock(kePage, 'Wanjiru Kamau');
    await attrOf(kePage.locator('html'), 'lang').toBe('en');
    await axe(kePage, 'en-inbox');
    // A mark that a reload or a new document would lose.
    await kePage.evaluate(() => ((window as { __stay?: number }).__stay = 1));

    await snPage.goto(sn.file.url);
    await attrOf(snPage.locator('html'), 'lang').toBe('fr');
    await axe(snPage, 'fr-unlock');
    await unlock(snPage, 'Aminata Diop');
    await textOf(byTest(snPage, 'authority')).toContain('sn.moj');
    await axe(snPage, 'fr-inbox');

    // The message: Kenya was never verified, so the page stops and shows the code to compare.
    await go(snPage, 'compose');
    await axe(snPage, 'fr-compose');
    const writeMessage = async () => {
      await byTest(snPage, 'compose-to').fill(KE);
      await byTest(snPage, 'compose-to').press('Enter');
      await byTest(snPage, 'compose-subject').fill('Demande urgente — conservation');
      await byTest(snPage, 'compose-body').fill(HOSTILE);
      await byTest(snPage, 'compose-send').click();
    };
    await writeMessage();
    await visible(byTest(snPage, 'unverified-prompt'));
    await textOf(byTest(snPage, 'unverified-prompt').getByTestId('safety-code')).toBe(keSafetyCode);

    // What an officer does: call Kenya, compare the code, verify it on the counterparts page.
    await go(snPage, 'counterparts');
    const row = snPage.locator(`[data-testid="counterpart-row"][data-authority="${KE}"]`);
    await textOf(row.getByTestId('safety-code')).toBe(keSafetyCode);
    await axe(snPage, 'fr-counterparts');
    await row.getByTestId('verify-button').click();
    await byTest(snPage, 'verify-code').fill(keSafetyCode);
    await byTest(snPage, 'verify-submit').click();
    await visible(byTest(snPage, 'verify-done'));
    await snPage.keyboard.press('Escape');
    await attrOf(row, 'data-state').toBe('verified');

    await go(snPage, 'compose');
    await writeMessage();
    await snPage.waitForURL(/#\/sent\?/);
    const messageId = new URLSearchParams(snPage.url().split('?')[1]).get('sent');
    expect(messageId).toBeTruthy();

    // Kenya: the message arrives in the open inbox.
    const messageRow = kePage.locator(`[data-testid="message-row"]`, { hasText: 'Demande urgente' });
    await visible(messageRow);
    await go(kePage, 'requests');
    await visible(byTest(kePage, 'empty'));
    await axe(kePage, 'en-requests');

    // The request, through the guided form.
    await go(snPage, 'requests-new');
    await axe(snPage, 'fr-new-request');
    await byTest(snPage, 'request-type').click();
    await snPage
      .getByRole('option', { name: 'conservation rapide de données informatiques stockées' })
      .click();
    await byTest(snPage, 'request-to').fill(KE);
    await byTest(snPage, 'field-title').fill('Conservation des données d’un compte de messagerie');
    await byTest(snPage, 'field-references.requesting').fill('SN-MJ-2026-0142');
    await byTest(snPage, 'field-summaryOfFacts').fill('Escroquerie en bande organisée, 140 victimes.');
    await attrOf(byTest(snPage, 'send-request'), 'data-checked').toBe('current');
    await visible(byTest(snPage, 'warnings'));
    await axe(snPage, 'fr-new-request-filled');
    await byTest(snPage, 'send-request').click();
    await snPage.waitForURL(/#\/requests\/(?!new$)[^/]+$/);
    requestId = decodeURIComponent(snPage.url().split('#/requests/')[1]!);
    await textOf(byTest(snPage, 'request-title')).toContain('Conservation des données');
    await axe(snPage, 'fr-request');

    // Kenya: the request arrives in the open list, and the page never reloaded.
    const requestRow = kePage.locator(`[data-testid="request-row"][data-id="${requestId}"]`);
    await visible(requestRow);
    expect(await kePage.evaluate(() => (window as { __stay?: number }).__stay)).toBe(1);

    // The message reads as text: its markup shows, nothing of it ran.
    await go(kePage, 'inbox');
    await messageRow.getByTestId('message-link').click();
    await textOf(byTest(kePage, 'message-body')).toBe(HOSTILE);
    expect(
      await kePage.evaluate(() => [(window as { __x?: unknown }).__x, (window as { __y?: unknown }).__y]),
    ).toEqual([undefined, undefined]);
    await axe(kePage, 'en-message');
  });

  it('runs the request to its end: acknowledged, more asked, supplemented, executed, closed', async () => {
    await go(kePage, 'requests');
    await kePage.locator(`[data-testid="request-row"][data-id="${requestId}"] a`).first().click();
    await textOf(byTest(kePage, 'request-title')).toContain('Conservation des données');
    await axe(kePage, 'en-request');
    await setStatus(kePage, 'acknowledged', { reference: 'KE-AG-2026-0031' });
    await setStatus(kePage, 'additional_info_requested', {
      note: 'Please give the account’s creation date and the victims’ complaints.',
    });

    // Senegal's open request page follows, without a reload.
    await attrOf(byTest(snPage, 'request-header').getByTestId('status'), 'data-status').toBe(
      'additional_info_requested',
    );
    await byTest(snPage, 'action-supplement').click();
    await byTest(snPage, 'text-body').fill('Compte créé le 2 mars 2026 ; 140 plaintes jointes en annexe.');
    await byTest(snPage, 'text-submit').click();
    await textOf(byTest(kePage, 'story')).toContain('140 plaintes');

    await setStatus(kePage, 'in_execution');
    // Executed, with the evidence attached in the dialog: Senegal's page lists it, downloaded and verified.
    await byTest(kePage, 'action-executed').click();
    await visible(byTest(kePage, 'status-form'));
    await byTest(kePage, 'status-note').fill('Data preserved until 2026-12-31.');
    const certificate = Buffer.from('Preservation certificate, provider X, 2026-03-04.\n'.repeat(200));
    await byTest(kePage, 'attach-input').setInputFiles({
      name: 'certificate.txt',
      mimeType: 'text/plain',
      buffer: certificate,
    });
    await attrOf(byTest(kePage, 'attach-row'), 'data-state').toBe('done');
    await byTest(kePage, 'status-submit').click();
    await hidden(byTest(kePage, 'status-form'));
    await attrOf(byTest(snPage, 'request-header').getByTestId('status'), 'data-status').toBe('executed');
    const evidence = byTest(snPage, 'request-documents').getByTestId('document-row');
    await attrOf(evidence, 'data-state').toBe('held');
    expect(await evidence.getAttribute('data-role')).toBe('execution_result');
    await setStatus(snPage, 'closed');
    await attrOf(byTest(kePage, 'request-header').getByTestId('status'), 'data-status').toBe('closed');

    const expected = ['acknowledged', 'additional_info_requested', 'in_execution', 'executed', 'closed'];
    await expect
      .poll(() => storyStatuses(snPage), { timeout: STEP })
      .toEqual(expect.arrayContaining(expected));
    const [atSn, atKe] = [await storyStatuses(snPage), await storyStatuses(kePage)];
    expect(atSn).toEqual(atKe);
    expect(atSn.filter((s) => expected.includes(s!))).toEqual(expected);

    // The evidence: every receipt Senegal holds verifies.
    const receipts = byTest(snPage, 'evidence').getByTestId('receipt-row');
    await visible(receipts.first());
    expect(await receipts.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-valid')))).not.toContain(
      'false',
    );
    await axe(snPage, 'fr-request-closed');
    await axe(kePage, 'en-request-closed');
  });

  it('shows each measure’s state, offers only the grounds a type allows, and asks why there was no consultation', async () => {
    // Senegal's page sends an assistance request with two coded measures (the service's API, as the form does).
    const created = await snPage.evaluate(
      async ({ to, draft }) => {
        const res = await fetch('/api/v1/requests', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
          body: JSON.stringify({ type: 'mutual_legal_assistance', to, draft, send: true }),
        });
        return { status: res.status, body: (await res.json()) as { id: string } };
      },
      { to: KE, draft: mlaDraft() },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    await kePage.goto(`${ke.file.url}/#/requests/${encodeURIComponent(created.body.id)}`);
    const measures = byTest(kePage, 'request-measures').getByTestId('measure-row');
    await expect.poll(() => measures.count(), { timeout: STEP }).toBe(2);
    expect(await measures.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')))).toEqual([
      'pending',
      'pending',
    ]);
    await setStatus(kePage, 'acknowledged');

    // The refusal dialog: never bank secrecy; a ground of art. 18(21) before any consultation asks why.
    await byTest(kePage, 'action-refused').click();
    await visible(byTest(kePage, 'status-form'));
    await byTest(kePage, 'status-ground').click();
    const options = byTest(kePage, 'status-form').getByRole('option');
    await visible(options.first());
    const labels = await options.allTextContents();
    expect(labels.some((l) => l.startsWith('sovereignty, security'))).toBe(true);
    expect(labels.join('|')).not.toMatch(/bank secrecy/i);
    await byTest(kePage, 'status-form')
      .getByRole('option', { name: /^sovereignty, security/ })
      .click();
    await visible(byTest(kePage, 'status-without-consultation'));
    await byTest(kePage, 'status-note').fill('The hearing would reveal a protected source.');
    await byTest(kePage, 'status-submit').click();
    // Not sent without the reason.
    await visible(byTest(kePage, 'status-form'));
    await byTest(kePage, 'status-without-consultation').fill('The witness would be warned by any contact.');
    await axe(kePage, 'en-refusal-dialog');
    await byTest(kePage, 'status-submit').click();
    await hidden(byTest(kePage, 'status-form'));
    await snPage.goto(`${sn.file.url}/#/requests/${encodeURIComponent(created.body.id)}`);
    await attrOf(byTest(snPage, 'request-header').getByTestId('status'), 'data-status').toBe('refused');
    await textOf(byTest(snPage, 'story')).toContain('The witness would be warned by any contact.');
  });

  it('shows a message’s documents held and verified, downloads one decrypted, and tells the sender', async () => {
    // Kenya's officer sends the records with the CLI, through Kenya's service.
    const records = join(tempDir('entraide-web-docs-'), 'relevés-bancaires.csv');
    const bytes = Buffer.from('compte;date;montant\n'.repeat(4000));
    writeFileSync(records, bytes);
    const sent = await cli(
      [
        '--home',
        homes.ke,
        'send',
        '--to',
        SN,
        '--subject',
        'Relevés',
        '--body',
        'Ci-joint.',
        '--attach',
        records,
      ].concat(['--role', 'execution_result', '--file-language', 'fr', '--unverified-ok', '--json']),
      { ENTRAIDE_PASSPHRASE: PASSPHRASE },
    );
    expect(sent.code, sent.stderr).toBe(0);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;

    // Senegal's service downloads and verifies it as it arrives; the page lists it in French.
    await waitFor(async () => {
      const inbox = await cli(['--home', homes.sn, 'inbox', '--json'], { ENTRAIDE_PASSPHRASE: PASSPHRASE });
      return inbox.code === 0 && inbox.stdout.includes(id);
    }, STEP);
    await snPage.goto(`${sn.file.url}/#/messages/${encodeURIComponent(id)}`);
    const row = byTest(snPage, 'document-row');
    await attrOf(row, 'data-state').toBe('held');
    await textOf(row.getByTestId('document-state')).toBe(codesFr['documentState.held']);
    expect(await row.textContent()).toContain(codesFr['fileRole.execution_result']);
    const [download] = await Promise.all([
      snPage.waitForEvent('download', { timeout: STEP }),
      byTest(snPage, 'document-download').click(),
    ]);
    expect(download.suggestedFilename()).toBe('relevés-bancaires.csv');
    expect(readFileSync((await download.path())!).equals(bytes)).toBe(true);
    await axe(snPage, 'fr-message-documents');

    // Kenya's sent item shows who holds it, verified (Senegal's downloaded receipt).
    await kePage.goto(`${ke.file.url}/#/messages/${encodeURIComponent(id)}`);
    await textOf(byTest(kePage, 'document-downloaded-by')).toContain(`desk1/${SN}`);
    // Senegal answers with a court order dropped on the compose page: uploaded to its service
    // (paused and resumed on the way), sealed there, sent; Kenya's page lists it, held and verified.
    const order = Buffer.alloc(12 * 1024 * 1024, 7);
    await snPage.goto(`${sn.file.url}/#/compose?to=${encodeURIComponent(KE)}`);
    await byTest(snPage, 'compose-subject').fill('Ordonnance');
    await byTest(snPage, 'compose-body').fill('Ci-joint l’ordonnance.');
    // A slow link (4 MiB/s up), so that the officer can pause mid-way; then resume at full speed.
    const cdp = await snCtx.newCDPSession(snPage);
    await cdp.send('Network.enable');
    const link = (uploadThroughput: number) =>
      cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput,
      });
    await link(4 * 1024 * 1024);
    // Picked from disk, as an officer would: a 12 MiB buffer sent through the browser protocol
    // took more than the step's 10 s on a busy machine.
    const orderPath = join(tempDir('picked-'), 'ordonnance.pdf');
    writeFileSync(orderPath, order);
    await byTest(snPage, 'attach-input').setInputFiles(orderPath, { timeout: 3 * STEP });
    const picked = byTest(snPage, 'attach-row');
    await attrOf(picked, 'data-state').toBe('uploading');
    await byTest(snPage, 'attach-pause').click();
    await attrOf(picked, 'data-state').toBe('paused');
    expect(await byTest(snPage, 'compose-send').isDisabled()).toBe(true);
    await link(-1);
    await byTest(snPage, 'attach-resume').click();
    await attrOf(picked, 'data-state').toBe('done');
    await byTest(snPage, 'attach-role').click();
    await snPage.getByRole('option', { name: codesFr['fileRole.court_order'] }).click();
    await axe(snPage, 'fr-compose-attachments');
    await byTest(snPage, 'compose-send').click();
    await snPage.waitForURL(/#\/sent/, { timeout: STEP });
    const sentId = new URLSearchParams(snPage.url().split('?')[1]).get('sent')!;
    await waitFor(async () => {
      const inbox = await cli(['--home', homes.ke, 'inbox', '--json'], { ENTRAIDE_PASSPHRASE: PASSPHRASE });
      return inbox.code === 0 && inbox.stdout.includes(sentId);
    }, STEP);
    await kePage.goto(`${ke.file.url}/#/messages/${encodeURIComponent(sentId)}`);
    const got = byTest(kePage, 'document-row');
    await attrOf(got, 'data-state').toBe('held');
    expect(await got.getAttribute('data-role')).toBe('court_order');
    const [file] = await Promise.all([
      kePage.waitForEvent('download', { timeout: STEP }),
      byTest(kePage, 'document-download').click(),
    ]);
    expect(readFileSync((await file.path())!).equals(order)).toBe(true);
    // Nothing of it was written in plaintext in Senegal's folder.
    expect(existsSync(join(homes.sn, 'documents'))).toBe(true);
  });

  it('locks: the page asks again, the API refuses; the service still receives', async () => {
    await byTest(snPage, 'lock-button').click();
    await visible(byTest(snPage, 'unlock-form'));
    const status = await snPage.evaluate(async () => (await fetch('/api/v1/inbox')).status);
    expect(status).toBe(401);

    // Kenya writes while Senegal is locked, confirming Senegal's code through the page's prompt.
    await go(kePage, 'compose');
    await axe(kePage, 'en-compose');
    await byTest(kePage, 'compose-to').fill(SN);
    await byTest(kePage, 'compose-to').press('Enter');
    await byTest(kePage, 'compose-subject').fill('Executed: data preserved');
    await byTest(kePage, 'compose-body').fill('The provider confirmed the preservation.');
    await byTest(kePage, 'compose-send').click();
    await byTest(kePage, 'send-anyway').click();
    await kePage.waitForURL(/#\/sent\?/);

    // Senegal's service received it, locked: its API through the CLI's token says so.
    await waitFor(
      async () => {
        const r = await fetch(`${sn.file.url}/api/v1/inbox`, {
          headers: { authorization: `Bearer ${sn.file.token}` },
        });
        const view = (await r.json()) as { messages?: { subject: string }[] };
        return (view.messages ?? []).some((m) => m.subject === 'Executed: data preserved');
      },
      STEP,
      'Senegal’s locked service to receive Kenya’s message',
    );
    await unlock(snPage, 'Aminata Diop');
    await go(snPage, 'inbox');
    await visible(snPage.locator('[data-testid="message-row"]', { hasText: 'Executed: data preserved' }));
  });

  it('creates a request with the keyboard alone', async () => {
    const page = snPage;
    await page.locator('body').focus();
    await tabTo(page, 'nav-requests-new');
    await page.keyboard.press('Enter');
    await visible(byTest(page, 'new-request-form'));
    await tabTo(page, 'request-type');
    await page.keyboard.type('conservation rapide');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await visible(byTest(page, 'field-title'));
    await tabTo(page, 'request-to');
    await page.keyboard.type(KE);
    await tabTo(page, 'field-title');
    await page.keyboard.type('Conservation — second compte');
    await tabTo(page, 'field-references.requesting');
    await page.keyboard.type('SN-MJ-2026-0143');
    await tabTo(page, 'save-draft', true);
    await page.keyboard.press('Space');
    await page.waitForURL(/#\/requests\/(?!new$)[^/]+$/);
    await attrOf(byTest(page, 'request-header').getByTestId('status'), 'data-status').toBe('draft');
    await textOf(byTest(page, 'request-title')).toContain('second compte');
  });

  it('shows statistics as charts whose tables hold the figures of `stats --json`, and exports them signed', async () => {
    const cliStats = await cli(['--home', homes.ke, 'stats', '--json'], { ENTRAIDE_PASSPHRASE: PASSPHRASE });
    expect(cliStats.code, cliStats.stderr).toBe(0);
    const s = JSON.parse(cliStats.stdout) as Statistics;
    const page = kePage;
    await go(page, 'statistics');
    // Kenya received every request of this test: the Received side.
    await byTest(page, 'stats-direction').locator('label').nth(1).click();
    const tableOf = (figure: string) =>
      byTest(page, figure)
        .getByTestId('figure-row')
        .evaluateAll((rows) =>
          rows.map((r) => ({
            key: r.querySelector('[data-key]')?.getAttribute('data-key'),
            total: Number(r.querySelector('[data-field="total"]')?.textContent),
            seconds: Array.from(r.querySelectorAll('[data-seconds]')).map((e) =>
              e.getAttribute('data-seconds'),
            ),
            overdue: Number(r.querySelector('[data-field="overdue"]')?.textContent),
          })),
        );
    const expected = (rows: Tally[], key: (r: never) => string) =>
      rows.map((r) => ({
        key: key(r as never),
        total: r.total,
        seconds: [
          r.acknowledge.medianSeconds,
          r.acknowledge.p90Seconds,
          r.execute.medianSeconds,
          r.execute.p90Seconds,
        ].map((v) => (v === null ? '' : String(v))),
        overdue: r.overdue,
      }));
    const received = <T extends { direction: string }>(rows: T[]) => rows.filter((r) => r.direction === 'in');
    expect(received(s.totals)[0]!.execute.count, 'a request executed, so times to execute').toBeGreaterThan(
      0,
    );
    await expect
      .poll(() => tableOf('figure-counterpart'), { timeout: STEP })
      .toEqual(expected(received(s.byCounterpart), (r: StatsRow) => r.counterpart!));
    expect(await tableOf('figure-type')).toEqual(
      expected(received(s.byType), (r: StatsRow) => r.requestType!),
    );
    expect(await tableOf('figure-month')).toEqual(expected(received(s.byMonth), (r: MonthRow) => r.month));
    expect(await byTest(page, 'figure-counterpart').locator('svg.recharts-surface').count()).toBeGreaterThan(
      0,
    );
    // Each chart's table as CSV: the CLI's columns, the same figures.
    const [csv] = await Promise.all([
      page.waitForEvent('download', { timeout: STEP }),
      byTest(page, 'figure-type').getByTestId('figure-csv').click(),
    ]);
    const lines = readFileSync((await csv.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(lines).toEqual([
      ['request_type', ...TALLY_CSV_COLUMNS].join(','),
      ...received(s.byType).map((r) => [r.requestType, ...tallyCsvCells(r)].join(',')),
    ]);
    // The signed export a coordinator merges, downloaded from the page.
    const [file] = await Promise.all([
      page.waitForEvent('download', { timeout: STEP }),
      byTest(page, 'stats-export').click(),
    ]);
    const exported = JSON.parse(readFileSync((await file.path())!, 'utf8')) as {
      v: number;
      authority: string;
      records: unknown[];
    };
    expect([exported.v, exported.authority]).toEqual([1, KE]);
    expect(exported.records).toHaveLength(s.totals.reduce((n, r) => n + r.total, 0));
    await axe(page, 'en-statistics');
  });

  it('passes axe on the remaining pages in French and English', async () => {
    for (const [page, lang] of [
      [snPage, 'fr'],
      [kePage, 'en'],
    ] as const) {
      for (const nav of ['inbox', 'requests', 'requests-new', 'counterparts', 'meetings', 'compose']) {
        await go(page, nav);
        await axe(page, `${lang}-${nav}`);
      }
    }
  });

  it('shows each key page in the seven languages; Arabic right to left, without overflow', async () => {
    // The unlock page, in a profile of its own (no session).
    const fresh = await newOfficerContext(browser, { locale: 'en-US', timezoneId: 'Africa/Nairobi' });
    const lockedPage = await fresh.newPage();
    const lockedErrors = watchErrors(lockedPage, 'unlock');
    lockedErrors.allow(/status of 401/);
    await lockedPage.goto(ke.file.url);
    await visible(byTest(lockedPage, 'unlock-form'));

    const page = kePage;
    const pages: [string, () => Promise<void>][] = [
      ['inbox', () => go(page, 'inbox')],
      [
        'message',
        async () => {
          await go(page, 'inbox');
          await page
            .locator('[data-testid="message-row"]', { hasText: 'Demande urgente' })
            .getByTestId('message-link')
            .click();
          await visible(byTest(page, 'message-body'));
        },
      ],
      ['requests', () => go(page, 'requests')],
      [
        'request',
        async () => {
          await page.evaluate(
            (id) => (window.location.hash = `#/requests/${encodeURIComponent(id)}`),
            requestId,
          );
          await visible(byTest(page, 'story'));
        },
      ],
      ['new-request', () => go(page, 'requests-new')],
      ['counterparts', () => go(page, 'counterparts')],
      [
        'statistics',
        async () => {
          await go(page, 'statistics');
          await byTest(page, 'stats-direction').locator('label').nth(1).click();
          await visible(byTest(page, 'figure-counterpart'));
        },
      ],
    ];
    const rtl = async (p: Page, where: string) => {
      const layout = await p.evaluate(() => ({
        dir: document.documentElement.dir,
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
      }));
      expect(layout.dir, where).toBe('rtl');
      expect(layout.scroll, `horizontal overflow on ${where}`).toBeLessThanOrEqual(layout.width + 1);
    };

    for (const lang of LANGS) {
      await byTest(lockedPage, 'language-picker').selectOption(lang);
      await attrOf(lockedPage.locator('html'), 'lang').toBe(lang);
      await screenshot(lockedPage, `web/${lang}-unlock`);
      if (lang === 'ar') await rtl(lockedPage, 'ar-unlock');

      await byTest(page, 'language-picker').selectOption(lang);
      await attrOf(page.locator('html'), 'lang').toBe(lang);
      for (const [name, open] of pages) {
        await open();
        await page.evaluate(() => document.fonts.ready);
        await screenshot(page, `web/${lang}-${name}`);
        if (lang === 'ar') {
          await rtl(page, `ar-${name}`);
          await axe(page, `ar-${name}`);
        }
      }
    }
    await byTest(page, 'language-picker').selectOption('en');
    lockedErrors.check();
    await fresh.close();
  });

  it('logged no console error, page error or CSP refusal', () => {
    snErrors.check();
    keErrors.check();
  });
});
