/// <reference lib="dom" />
/**
 * The auditor's web view end to end: a real relay process whose audit log holds 10^5 entries, an
 * auditor's folder made by `audit keygen` and registered with `relay auditor add`, `entraide serve`
 * on that folder, and a headless Chromium. The auditor verifies the log with the progress bar
 * advancing and ending green; after a direct edit of one entry in the relay's database the same page
 * fails and names the index `entraide audit verify` names. The log table holds the 10^5 entries,
 * scrolls to the last and filters by kind; an envelope's proof downloads and `audit check` verifies
 * it offline; the heads kept show. A node enrolled on the relay exports its record, which the
 * Reconcile page sets against the relay's log: no differences, then an entry the relay never
 * accepted is listed, and the report downloads as JSON (the same as `audit reconcile --json`) and
 * CSV. axe-core and screenshots in the seven languages.
 * Needs the build: `npx tsc -p tsconfig.build.json` and `npx vite build --config client/web/vite.config.ts`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordReport } from '../../client/audit/record-reconcile.ts';
import { AuthorityNode } from '../../client/node.ts';
import { random } from '../../client/random.ts';
import { exportRecord } from '../../client/record.ts';
import { RelayStore } from '../../server/storage/relay-store.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { axeCheck, launchBrowser, newOfficerContext, screenshot, watchErrors } from '../support/browser.ts';
import { tempDir } from '../support/fixtures.ts';
import { cli, ROOT, spawnRelay, type RelayProcess } from '../support/processes.ts';
import { serve, stop, type Served } from '../support/served-node.ts';

const PASS = { ENTRAIDE_PASSPHRASE: 'auditor web passphrase' };
const DOMAIN = 'relay.audit.test';
const ENTRIES = 100_000;
const STEP = 15_000;
const LANGS = ['ar', 'zh', 'en', 'fr', 'ru', 'es', 'pt'] as const;
const ENVELOPE = '01a21dc1-3e21-71ea-984d-537ec6028e64';

const byTest = (page: Page, id: string) => page.getByTestId(id);

describe('the auditor’s web view', { timeout: 240_000 }, () => {
  const work = tempDir('entraide-web-audit-');
  const data = join(work, 'relay');
  const home = join(work, 'auditor');
  const env = { ENTRAIDE_RELAY_DATA: data, ...PASS };
  let relay: RelayProcess | undefined;
  let served: Served | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let errors: ReturnType<typeof watchErrors>;

  const ok = async (args: string[]) => {
    const r = await cli(args, env);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };

  /** Starts a check from the page and waits for its end; the `data-done` values seen on the way. */
  const verifyInPage = async (): Promise<{ state: string; seen: number[] }> => {
    await byTest(page, 'nav-verify').click();
    await byTest(page, 'verify-start').click();
    const seen: number[] = [];
    const deadline = Date.now() + 120_000;
    for (;;) {
      const job = byTest(page, 'verify-job');
      const state = (await job.getAttribute('data-state').catch(() => null)) ?? 'none';
      const done = Number((await job.getAttribute('data-done').catch(() => null)) ?? -1);
      if (seen.at(-1) !== done) seen.push(done);
      if (state !== 'running' && state !== 'none') return { state, seen };
      if (Date.now() > deadline) throw new Error(`the check did not end: ${seen.join(', ')}`);
      await page.waitForTimeout(50);
    }
  };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/web/index.html')))
      throw new Error('build the web app first: npx vite build --config client/web/vite.config.ts');
    // The relay creates its folder and keys, then stops while its log grows to 10^5 entries.
    relay = await spawnRelay(data, 0, DOMAIN);
    await relay.stop();
    const store = RelayStore.open(data);
    store.setLocalDomain(DOMAIN);
    const audit = store.audit;
    while (audit.size < ENTRIES)
      audit.transaction(() => {
        for (let i = 0; i < 2_000 && audit.size < ENTRIES; i++)
          audit.append(
            i % 500 === 7
              ? { kind: 'auth_failed', reason: 'TOKEN_INVALID', detail: 'test' }
              : {
                  kind: 'accepted',
                  envelope:
                    i === 3 && audit.size < 2_000
                      ? ENVELOPE
                      : `01a21dc1-3e21-71ea-984d-${String(audit.size).padStart(12, '0')}`,
                  sender: `desk1/sn.moj@${DOMAIN}`,
                  recipients: [`ke.ag@${DOMAIN}`],
                  size: 1_000 + (i % 1_000),
                  ciphertextHash: 'F0zggPXozIJ67Ey8ckmc9_U24EFo0upbUgPLwVLdfz0',
                },
          );
      });
    await store.close();
    relay = await spawnRelay(data, 0, DOMAIN);
    const { fingerprint } = JSON.parse(await ok(['relay', 'info', '--json'])) as { fingerprint: string };
    const gen = await ok([
      '--home',
      home,
      'audit',
      'keygen',
      '--relay',
      relay.url,
      '--relay-key',
      fingerprint,
      '--name',
      'alice',
    ]);
    const key = /^Public key: ([A-Za-z0-9_-]{43})$/m.exec(gen)![1]!;
    await ok(['relay', 'auditor', 'add', 'alice', '--key', key]);
    [served, browser] = await Promise.all([serve(home, PASS), launchBrowser()]);
    const ctx = await newOfficerContext(browser, { locale: 'en-GB', timezoneId: 'Europe/Vienna' });
    page = await ctx.newPage();
    errors = watchErrors(page, 'auditor');
    errors.allow(/401/);
    await page.goto(served.file.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (served) await stop(served);
    await relay?.stop();
  });

  it('opens the auditor’s view, and nothing of an officer’s', async () => {
    await byTest(page, 'unlock-officer').fill('Alice Auditor');
    await byTest(page, 'unlock-passphrase').fill(PASS.ENTRAIDE_PASSPHRASE);
    await byTest(page, 'unlock-submit').click();
    await byTest(page, 'lock-button').waitFor({ timeout: STEP });
    await expect.poll(() => byTest(page, 'auditor').textContent()).toContain('alice');
    expect(await byTest(page, 'nav-inbox').count()).toBe(0);
    // The page's own session cannot reach an officer's API: this service does not serve one.
    const inbox = await page.context().request.get(`${served!.file.url}/api/v1/inbox`);
    expect(inbox.status()).toBe(404);
  });

  it('verifies 10^5 entries with the progress bar advancing, and ends green', async () => {
    const { state, seen } = await verifyInPage();
    expect(state).toBe('ok');
    const total = Number(await byTest(page, 'verify-job').getAttribute('data-total'));
    expect(total).toBeGreaterThanOrEqual(ENTRIES);
    expect(seen.at(-1)).toBe(total);
    // Seen on the way: at least one count strictly between nothing and everything, never going back.
    expect(
      seen.some((n) => n > 0 && n < total),
      seen.join(', '),
    ).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(await byTest(page, 'verify-progress').getAttribute('data-value')).toBe('100');
    await axeCheck(page, 'en-verify');
    errors.check();
  });

  it('browses the 10^5 entries: scrolls to the last, filters by kind, opens an envelope’s proof', async () => {
    await byTest(page, 'nav-log').click();
    const table = byTest(page, 'log-table');
    await expect
      .poll(async () => Number(await byTest(page, 'log-count').getAttribute('data-total')), {
        timeout: 60_000,
      })
      .toBeGreaterThanOrEqual(ENTRIES);
    await table.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await expect
      .poll(
        async () =>
          page
            .locator('[data-testid="log-row"][data-seq]')
            .evaluateAll((rows) => Math.max(...rows.map((r) => Number(r.getAttribute('data-seq'))))),
        { timeout: STEP },
      )
      .toBeGreaterThanOrEqual(ENTRIES - 1);
    await axeCheck(page, 'en-log');

    await byTest(page, 'filter-code').fill('TOKEN_INVALID');
    await expect
      .poll(async () => Number(await byTest(page, 'log-count').getAttribute('data-total')), { timeout: STEP })
      .toBe(ENTRIES / 500);
    await byTest(page, 'filter-code').fill('');
    await byTest(page, 'filter-envelope').fill(ENVELOPE);
    await expect
      .poll(async () => Number(await byTest(page, 'log-count').getAttribute('data-total')), { timeout: STEP })
      .toBe(1);
    await page.locator('[data-testid="log-row"] a').first().click();
    await byTest(page, 'proof').waitFor({ timeout: STEP });
    expect(await byTest(page, 'proof-event').count()).toBe(1);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      byTest(page, 'proof-download').click(),
    ]);
    const file = join(work, 'proof.json');
    await download.saveAs(file);
    const checked = await cli(['--home', home, 'audit', 'check', file], env);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/^ok: 1 event\(s\) proven/);
    await axeCheck(page, 'en-proof');
    errors.check();
  });

  it('sets a node’s exported record against the relay’s log, and lists what differs', async () => {
    // Kenya's node is enrolled on the relay and sends to France; its officer exports its record.
    const keHome = join(work, 'ke');
    for (const [id, h] of [
      ['ke.ag', keHome],
      ['fr.mj', join(work, 'fr')],
    ] as const) {
      const invitation = /^\s+(entraide:\S+)$/m.exec(await ok(['relay', 'invite', id]))![1]!;
      await ok(['--home', h, 'init', '--invite', invitation, '--authority', id, '--node', 'desk1']);
    }
    await ok([
      '--home',
      keHome,
      'send',
      '--unverified-ok',
      '--to',
      `fr.mj@${DOMAIN}`,
      '--subject',
      's',
      '--body',
      'b',
    ]);
    const clean = join(work, 'ke-record.json');
    await ok(['--home', keHome, 'record', 'export', '--out', clean]);

    await byTest(page, 'nav-reconcile').click();
    await byTest(page, 'page-title').waitFor({ timeout: STEP });
    // One relay in this folder: the two-relay reconciliation says what it needs instead.
    await byTest(page, 'reconcile-relays-need-two').waitFor({ timeout: STEP });
    const fileInput = page.locator('input[type="file"][name="record"]');
    const reconcileInPage = async (file: string) => {
      await fileInput.setInputFiles(file);
      await byTest(page, 'record-run').click();
      await byTest(page, 'record-result').waitFor({ timeout: 120_000 });
      return Number(await byTest(page, 'record-result').getAttribute('data-differences'));
    };
    expect(await reconcileInPage(clean)).toBe(0);
    await byTest(page, 'record-no-differences').waitFor({ timeout: STEP });
    await axeCheck(page, 'en-reconcile-none');

    // The node's record holds a sending the relay never accepted (written into its store here).
    const ghost = uuidv7(Date.now(), random(10));
    const ke = await AuthorityNode.open(keHome, PASS.ENTRAIDE_PASSPHRASE);
    const differing = join(work, 'ke-record-differing.json');
    try {
      ke.store.record.transaction(() =>
        ke.store.record.append({
          kind: 'sent',
          envelope: ghost,
          item: 'message',
          counterparts: [`fr.mj@${DOMAIN}`],
        }),
      );
      writeFileSync(differing, JSON.stringify(exportRecord(ke)) + '\n');
    } finally {
      await ke.close();
    }
    expect(await reconcileInPage(differing)).toBe(1);
    await byTest(page, 'record-differ').waitFor({ timeout: STEP });
    const kind = page.locator('[data-testid="record-kind"][data-kind="sentNotAccepted"]');
    expect(await kind.getAttribute('data-count')).toBe('1');
    expect(await kind.getByTestId('record-difference').textContent()).toContain(ghost);
    expect(await page.locator('[data-testid="record-kind"]').count()).toBe(1);
    await axeCheck(page, 'en-reconcile-differ');
    await screenshot(page, 'auditor/en-reconcile-differ');

    const save = async (testId: string, name: string) => {
      const [download] = await Promise.all([page.waitForEvent('download'), byTest(page, testId).click()]);
      const file = join(work, name);
      await download.saveAs(file);
      return readFileSync(file, 'utf8');
    };
    const report = JSON.parse(await save('record-download-json', 'report.json')) as RecordReport;
    // The CLI on the same file finds the same differences (and exits RECONCILE_MISMATCH).
    const r = await cli(
      ['--home', home, 'audit', 'reconcile', '--relay', DOMAIN, '--record', differing, '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('RECONCILE_MISMATCH');
    const byCli = (JSON.parse(r.stdout) as { nodes: RecordReport[] }).nodes[0]!;
    // All but the log's size and the time compared up to, which move on between the two runs.
    const differences = ({ log: _log, until: _until, ...x }: RecordReport) => x;
    expect(differences(report)).toEqual(differences(byCli));
    expect(report.sentNotAccepted).toEqual([ghost]);
    const csv = (await save('record-download-csv', 'differences.csv')).trimEnd().split('\r\n');
    expect(csv).toEqual(['node,kind,envelope,receiptFrom', `${report.node},sentNotAccepted,${ghost},`]);
    errors.check();
  });

  it('fails after an edit in the relay’s database, naming the entry, as the CLI does', async () => {
    const db = new Database(join(data, 'relay.db'));
    const seq = 54_321;
    const row = db.prepare('SELECT leaf FROM "AuditEntry" WHERE seq = ?').get(seq) as { leaf: string };
    db.prepare('UPDATE "AuditEntry" SET leaf = ? WHERE seq = ?').run(
      row.leaf.replace('"size":', '"size":1'),
      seq,
    );
    db.close();
    const { state } = await verifyInPage();
    expect(state).toBe('failed');
    const index = Number(await byTest(page, 'verify-index').getAttribute('data-index'));
    // The check names the entry itself, not only the span between two heads that holds it.
    expect(index).toBe(seq);
    const r = await cli(['--home', home, 'audit', 'verify'], env);
    expect(r.code).toBe(1);
    expect(Number(/from index (\d+)/.exec(r.stderr)?.[1])).toBe(index);
    await screenshot(page, 'auditor/en-verify-failed');
    errors.check();
  });

  it('shows each page in the seven languages, Arabic right to left, without a serious axe violation', async () => {
    for (const lang of LANGS) {
      await page.evaluate((l) => localStorage.setItem('entraide.locale', l), lang);
      await page.reload();
      for (const nav of ['log', 'verify', 'proof', 'heads', 'reconcile']) {
        await byTest(page, `nav-${nav}`).click();
        await byTest(page, 'page-title').waitFor({ timeout: STEP });
        await page.waitForFunction((l) => document.documentElement.lang === l, lang);
        expect(await page.evaluate(() => document.documentElement.dir)).toBe(lang === 'ar' ? 'rtl' : 'ltr');
        await axeCheck(page, `${lang}-${nav}`);
        await screenshot(page, `auditor/${lang}-${nav}`);
      }
    }
    expect(readFileSync(join(home, `heads-${DOMAIN}.json`), 'utf8')).toContain(DOMAIN);
    errors.check();
  });
});
