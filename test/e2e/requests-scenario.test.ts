/**
 * The request scenario of test/integration/requests.test.ts with real processes only: `entraide relay start`
 * runs the relay, and every step is an `entraide` CLI command run by Senegal's or Nigeria's officer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evidence } from '../../client/receipts.ts';
import type { RequestDetail, RequestSummary } from '../../client/requests.ts';
import type { Statistics, StatsRow } from '../../shared/requests/statistics.ts';
import { refusedWith } from '../support/cli-refusals.ts';
import { tempDir } from '../support/fixtures.ts';
import { cli, spawnRelay, type RelayProcess } from '../support/processes.ts';
import { dayFromNow, mlaDraft, preservationDraft } from '../support/requests.ts';
import { pollUntil } from '../support/wait.ts';

const PASS = { ENTRAIDE_PASSPHRASE: 'requests scenario passphrase' };
const SN = 'sn.moj@relay.local';
const NG = 'ng.moj@relay.local';
const NG_NODE = `desk1/${NG}`;
const PRESERVATION = 'expedited_preservation';
const MLA = 'mutual_legal_assistance';

/** The same request in Arabic, Chinese and Russian: every free-text field in the language's script. */
const SCRIPTS = {
  ar: {
    title: 'طلب مساعدة قانونية متبادلة — تهريب المهاجرين',
    summaryOfFacts: 'شهد شهودٌ مقيمون في لاغوس صعود مهاجرين إلى قارب في عام ٢٠٢٥.',
    purpose: 'تحديد دور كل مهرّب',
    measures: [
      { kind: 'taking_evidence', description: 'سماع شاهدَين' },
      { kind: 'providing_records', description: 'إرسال المحاضر' },
    ],
    offence: { description: 'تهريب المهاجرين عن طريق البحر' },
  },
  zh: {
    title: '请求司法协助——海上偷运移民',
    summaryOfFacts: '居住在拉各斯的证人于2025年目睹移民登船。',
    purpose: '查明每名偷运者的作用',
    measures: [
      { kind: 'taking_evidence', description: '询问两名证人' },
      { kind: 'providing_records', description: '转交笔录' },
    ],
    offence: { description: '经海路偷运移民' },
  },
  ru: {
    title: 'Допрос свидетелей — незаконный ввоз мигрантов',
    summaryOfFacts: 'Свидетели, проживающие в Лагосе, видели посадку мигрантов на судно в 2025 году «ночью».',
    purpose: 'Установить роль каждого перевозчика',
    measures: [
      { kind: 'taking_evidence', description: 'Допросить двух свидетелей' },
      { kind: 'providing_records', description: 'Передать протоколы допросов' },
    ],
    offence: { description: 'Незаконный ввоз мигрантов морским путём' },
  },
} as const;

describe('requests between Senegal and Nigeria, through the CLI', { timeout: 240_000 }, () => {
  let relay: RelayProcess | undefined;
  const work = tempDir('entraide-e2e-requests-');
  const data = join(work, 'relay');
  const senegal = join(work, 'sn');
  const nigeria = join(work, 'ng');
  const env = { ENTRAIDE_RELAY_DATA: data, ...PASS };

  /** What Senegal sent, with the state each request must end up in. */
  const sent = new Map<string, { type: string; state: string }>();
  let id = ''; // the preservation request
  let fresh = ''; // a second preservation request, left delivered, for the refusals

  // ---- helpers ------------------------------------------------------------------------------

  /** Runs `entraide --home home ...`: `cmd` is split at spaces, `rest` are arguments that hold spaces. */
  const run = (home: string, cmd: string, ...rest: string[]) =>
    cli(['--home', home, ...cmd.split(' ').filter(Boolean), ...rest], env);
  /** Runs a command that must succeed, and parses its --json output. */
  async function ok<T>(home: string, cmd: string, ...rest: string[]): Promise<T> {
    const r = await run(home, cmd, ...rest);
    expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  }
  const list = (home: string) => ok<RequestSummary[]>(home, 'request list --json');
  const show = (home: string, rid: string) => ok<RequestDetail>(home, `request show ${rid} --json`);
  async function both(rid: string, state: string): Promise<void> {
    const [sn, ng] = await Promise.all([show(senegal, rid), show(nigeria, rid)]);
    expect(sn.state, `Senegal's view of ${rid}`).toBe(state);
    expect(ng.state, `Nigeria's view of ${rid}`).toBe(state);
  }
  /** Polls for up to 5 s, 250 ms apart; returns the last value, for the assertions. */
  const poll = <T>(get: () => Promise<T>, done: (v: T) => boolean): Promise<T> =>
    pollUntil(get, done, { intervalMs: 250, timeoutMs: 5_000 });
  /** A command refused with exit code 1 and [code], after which the node holds nothing new. */
  const refused = (home: string, code: string, cmd: string, ...rest: string[]) =>
    refusedWith(run, home, code, cmd, ...rest);
  let files = 0;
  /** Senegal sends a request written to a file; `extra` adds flags such as --despite-warnings. */
  async function send(type: string, draft: Record<string, unknown>, extra = '') {
    const r = await ok<{ id: string; state: string; warnings: { code: string }[] }>(
      senegal,
      `request new --type ${type} --to ${NG} --file ${draftFile(draft)} --unverified-ok --json ${extra}`,
    );
    expect(r.state).toBe('sent');
    expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    sent.set(r.id, { type, state: 'delivered' });
    return r;
  }
  function draftFile(draft: Record<string, unknown>): string {
    const file = join(work, `request-${++files}.json`);
    writeFileSync(file, JSON.stringify(draft, null, 2));
    return file;
  }

  // ---- relay and nodes ----------------------------------------------------------------------

  beforeAll(async () => {
    // The `test` budgets: each command here logs in afresh (a challenge and a token, anonymous
    // routes), and the file runs commands faster than the default 120 anonymous requests a minute
    // per address allow on an idle machine. An officer's CLI goes through the service instead.
    relay = await spawnRelay(data, 0, 'relay.local', { ENTRAIDE_RELAY_LIMITS: 'test' });

    for (const [home, authority] of [
      [senegal, 'sn.moj'],
      [nigeria, 'ng.moj'],
    ] as const) {
      const inv = await cli(['relay', 'invite', authority], env);
      expect(inv.code, inv.stderr).toBe(0);
      const invitation = /^\s+(entraide:\S+)$/m.exec(inv.stdout)![1]!;
      const init = await run(home, `init --invite ${invitation} --authority ${authority} --node desk1`);
      expect(init.code, init.stderr).toBe(0);
      expect(init.stdout).toContain(`desk1/${authority}@relay.local`);
    }
  });

  afterAll(async () => {
    await relay?.stop();
  });

  // ---- the scenario -------------------------------------------------------------------------

  it('delivers a preservation request, with signed delivery and read receipts', async () => {
    ({ id } = await send(PRESERVATION, preservationDraft()));

    const inbox = await list(nigeria);
    const mine = inbox.find((r) => r.id === id);
    expect(mine, JSON.stringify(inbox)).toBeDefined();
    expect(mine).toMatchObject({ state: 'delivered', direction: 'in', requestType: PRESERVATION });
    expect(mine!.counterpart).toBe(SN);
    const opened = await show(nigeria, id);
    expect(opened.side).toBe('requested');
    expect(opened.next).toContain('acknowledged');
    expect(opened.content.title).toBe(preservationDraft().title);

    const receipted = (d: RequestDetail) =>
      ['delivered', 'read'].every((w) => d.story.some((e) => e.what === w && e.by === NG_NODE));
    const atSenegal = await poll(() => show(senegal, id), receipted);
    expect(atSenegal.state).toBe('delivered');
    expect(atSenegal.direction).toBe('out');
    expect(atSenegal.story.filter((e) => e.what === 'delivered').map((e) => e.by)).toEqual([NG_NODE]);
    expect(atSenegal.story.filter((e) => e.what === 'read').map((e) => e.by)).toEqual([NG_NODE]);

    const evidence = await ok<Evidence>(senegal, `evidence ${id} --json`);
    expect(evidence.kind).toBe('request');
    expect(evidence.envelope.to).toEqual([NG]);
    expect(evidence.receipts.map((r) => r.kind).sort()).toEqual(['delivered', 'read']);
    for (const r of evidence.receipts) {
      expect(r, JSON.stringify(r)).toMatchObject({ valid: true, problem: null, node: NG_NODE });
      expect(r.receipt.ciphertextHash).toBe(evidence.ciphertextHash);
    }
    expect(evidence.undelivered).toEqual([]);
  });

  it('goes through its lifecycle, each status seen on both sides', async () => {
    await ok(nigeria, `request update ${id} acknowledged --reference NG-CA-2026-77 --json`);
    await both(id, 'acknowledged');
    const question = 'Which time zone are the login times in?';
    await ok(nigeria, `request update ${id} additional_info_requested --json --note`, question);
    await both(id, 'additional_info_requested');

    await ok(senegal, `request supplement ${id} --json --text`, 'All times are UTC.');
    await both(id, 'additional_info_requested');
    const withSupplement = await show(nigeria, id);
    expect(withSupplement.story.filter((e) => e.what === 'supplement').map((e) => e.text)).toEqual([
      'additional information: All times are UTC.',
    ]);

    await ok(nigeria, `request update ${id} in_execution --json`);
    await both(id, 'in_execution');
    await ok(nigeria, `request update ${id} executed --json --note`, 'Data preserved for 90 days.');
    await both(id, 'executed');
    const done = await show(senegal, id);
    expect(done.references).toEqual({ requesting: 'SN-MJ-2026-0142', requested: 'NG-CA-2026-77' });
    expect(done.next).toContain('closed');

    await ok(senegal, `request update ${id} closed --json`);
    await both(id, 'closed');
    sent.get(id)!.state = 'closed';
    const story = (await show(nigeria, id)).story.filter((e) => e.what === 'status').map((e) => e.status);
    expect(story).toEqual([
      'acknowledged',
      'additional_info_requested',
      'in_execution',
      'executed',
      'closed',
    ]);
  });

  it('refuses updates a side does not own, bad statuses, and updates to closed or unknown requests', async () => {
    ({ id: fresh } = await send(PRESERVATION, preservationDraft({ title: 'Preservation — second account' })));
    expect((await show(nigeria, fresh)).state).toBe('delivered');
    const delivered = (d: RequestDetail) => d.state === 'delivered';
    expect((await poll(() => show(senegal, fresh), delivered)).state).toBe('delivered');

    await refused(senegal, 'TRANSITION_NOT_OWNED', `request update ${fresh} acknowledged`);
    await refused(nigeria, 'TRANSITION_NOT_OWNED', `request update ${fresh} withdrawn --note x`);
    await refused(nigeria, 'UPDATE_INCOMPLETE', `request update ${fresh} refused --note`, 'Not an offence.');
    await refused(senegal, 'STATUS_UNKNOWN', `request update ${fresh} finished`);
    await refused(senegal, 'REQUEST_CLOSED', `request update ${id} withdrawn --note`, 'Too late.');
    await refused(nigeria, 'REQUEST_CLOSED', `request update ${id} in_execution`);
    await refused(senegal, 'REQUEST_CLOSED', `request supplement ${id} --text`, 'One more thing.');
    const unknown = '01900000-0000-7000-8000-000000000000';
    await refused(senegal, 'REQUEST_NOT_FOUND', `request update ${unknown} acknowledged`);
    // Nothing of the refused updates reached either side.
    await both(fresh, 'delivered');
    await both(id, 'closed');
    expect((await show(nigeria, fresh)).story.filter((e) => e.what === 'status')).toEqual([]);
  });

  it('refuses an unknown type, a past deadline, the wrong script, and an incomplete request', async () => {
    const atNigeria = (await list(nigeria)).length;
    const newRequest = (type: string, draft: Record<string, unknown>) =>
      `request new --type ${type} --to ${NG} --file ${draftFile(draft)} --unverified-ok --json`;
    await refused(senegal, 'REQUEST_TYPE_UNKNOWN', newRequest('espionage', preservationDraft()));
    const pastDraft = mlaDraft({ deadline: dayFromNow(-3) });
    const past = await refused(senegal, 'DEADLINE_PAST', newRequest(MLA, pastDraft));
    expect(past).toContain('deadline');
    const cyrillic = mlaDraft({
      ...SCRIPTS.ar,
      language: 'ar',
      summaryOfFacts: 'Свидетели видели посадку мигрантов на судно.',
    });
    const script = await refused(senegal, 'FIELD_SCRIPT_MISMATCH', newRequest(MLA, cyrillic));
    expect(script).toContain('summaryOfFacts');

    const noBasis = preservationDraft({ legalBasis: undefined, title: 'Preservation — no legal basis' });
    const incomplete = await refused(senegal, 'REQUEST_INCOMPLETE', newRequest(PRESERVATION, noBasis));
    expect(incomplete).toContain('legalBasis');
    expect((await list(nigeria)).length, 'nothing refused reached Nigeria').toBe(atNigeria);
    const before = (await list(senegal)).length;
    const despite = await send(PRESERVATION, noBasis, '--despite-warnings');
    expect(despite.warnings.map((w) => w.code)).toEqual(['legal_basis_missing']);
    expect((await list(senegal)).length).toBe(before + 1);
    expect((await show(nigeria, despite.id)).state).toBe('delivered');
  });

  it('carries Arabic, Chinese and Russian text unchanged', async () => {
    for (const [language, text] of Object.entries(SCRIPTS)) {
      const draft = mlaDraft({ ...text, language, references: { requesting: `SN-MJ-2026-${language}` } });
      const { id: rid } = await send(MLA, draft);
      const there = await show(nigeria, rid);
      expect(there.state).toBe('delivered');
      expect(there.title).toBe(text.title);
      expect(there.content.language).toBe(language);
      expect(there.content.title).toBe(text.title);
      expect(there.content.summaryOfFacts).toBe(text.summaryOfFacts);
      expect(there.content.measures).toEqual(text.measures);
      expect(there.content.offence?.description).toBe(text.offence.description);
      expect(there.references.requesting).toBe(`SN-MJ-2026-${language}`);
      expect((await list(nigeria)).find((r) => r.id === rid)?.title).toBe(text.title);
    }
  });

  it('withdraws a second request', async () => {
    const { id: id2 } = await send(MLA, mlaDraft());
    await ok(senegal, `request update ${id2} withdrawn --json --note`, 'Witnesses located in Senegal.');
    sent.get(id2)!.state = 'withdrawn';
    await both(id2, 'withdrawn');
    const story = (await show(nigeria, id2)).story.find((e) => e.status === 'withdrawn');
    expect(story?.text).toContain('Witnesses located in Senegal.');
  });

  it('counts what was sent and received in the statistics', async () => {
    // Nigeria fetches everything (and sends its delivery receipts); Senegal then sees every request delivered.
    await list(nigeria);
    const states = await poll(
      async () => (await list(senegal)).map((r) => [r.id, r.state]),
      (v) => v.every(([rid, s]) => s === sent.get(rid!)?.state),
    );
    expect(Object.fromEntries(states)).toEqual(
      Object.fromEntries([...sent].map(([rid, s]) => [rid, s.state])),
    );

    const expectRow = (row: StatsRow | undefined, type: string | null) => {
      const mine = [...sent.values()].filter((s) => type === null || s.type === type);
      expect(row, `row for ${type}`).toBeDefined();
      expect(row!.total).toBe(mine.length);
      for (const state of ['delivered', 'closed', 'withdrawn', 'sent', 'acknowledged', 'executed'] as const)
        expect(row!.byStatus[state], state).toBe(mine.filter((s) => s.state === state).length);
    };
    const s = await ok<Statistics>(senegal, 'stats --json');
    expect(s.totals.map((r) => r.direction)).toEqual(['out']);
    const total = s.totals.find((r) => r.direction === 'out');
    expectRow(total, null);
    expect(total!.total).toBe(7);
    expect(total!.byStatus.closed).toBe(1);
    expect(total!.byStatus.withdrawn).toBe(1);
    const preservation = s.rows.find((r) => r.requestType === PRESERVATION && r.counterpart === NG);
    expectRow(preservation, PRESERVATION);
    expect(preservation!.direction).toBe('out');
    expect(preservation!.acknowledge.count).toBe(1);
    expect(preservation!.execute.count).toBe(1);
    expect(preservation!.acknowledge.medianSeconds).toBeGreaterThanOrEqual(0);
    expect(preservation!.execute.medianSeconds).toBeGreaterThanOrEqual(
      preservation!.acknowledge.medianSeconds!,
    );
    const mla = s.rows.find((r) => r.requestType === MLA && r.counterpart === NG);
    expectRow(mla, MLA);

    const csv = await run(senegal, 'stats --csv');
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^direction,counterpart,request_type,/);
    expect(lines.some((l) => l.startsWith(`out,${NG},${PRESERVATION},${preservation!.total},`))).toBe(true);
    expect(lines).toHaveLength(1 + s.rows.length);

    const file = join(work, 'stats.json');
    const exported = await run(senegal, `stats --export ${file}`);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`${sent.size} request(s) exported`);
    const dump = JSON.parse(readFileSync(file, 'utf8')) as {
      format: string;
      authority: string;
      records: { direction: string; state: string }[];
    };
    expect(dump.format).toBe('entraide-statistics');
    expect(dump.authority).toBe(SN);
    expect(dump.records).toHaveLength(sent.size);
    expect(dump.records.every((r) => r.direction === 'out')).toBe(true);

    const n = await ok<Statistics>(nigeria, 'stats --json');
    expect(n.totals.map((r) => [r.direction, r.total])).toEqual([['in', sent.size]]);
    expectRow(n.totals[0], null);
    const received = n.rows.find((r) => r.requestType === PRESERVATION && r.counterpart === SN);
    expect(received?.direction).toBe('in');
    expect(received?.byStatus.closed).toBe(1);
    expect(received?.acknowledge.count).toBe(1);
    expect(received?.execute.count).toBe(1);
  });
});
