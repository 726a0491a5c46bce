/**
 * The lifecycle as practice has it, through the `entraide` CLI only, between Senegal's node on
 * relay.one and Kenya's on relay.two (two federated relay processes):
 * - Kenya publishes its profile; Senegal finds it in the directory across the two relays and
 *   reads it; a request in a language Kenya does not accept goes with a warning; Kenya's change
 *   of profile shows in its key history; an `immediate` request wakes Kenya's on-call officer
 *   through the alert webhook, which is told where it came from and nothing of what it says;
 * - a request returned for formal defects, put right by a supplement, acknowledged, transmitted
 *   to the executing authority; a refusal on bank secrecy (GROUND_PROHIBITED) and one on a ground
 *   of UNTOC art. 18(21) before any consultation (CONSULTATION_REQUIRED) are refused with nothing
 *   stored; conditions are proposed and declined, and the refusal then stands on both sides;
 * - an extradition carried along its track: provisional arrest, judicial phase, postponement,
 *   conditions accepted, extradition granted, surrender, closed by the requesting side; a second
 *   one ends in submission for domestic prosecution (art. 16(10)); a ground of art. 18(21) on an
 *   extradition is GROUND_NOT_FOR_TYPE and a step of the extradition track on an assistance
 *   request is TRANSITION_INVALID;
 * - an informal consultation: Senegal shows a draft, Kenya comments field by field, and the formal
 *   request that follows names it (and is the only one of the two in the list of requests);
 * - a preservation with a translation to follow: the translation arrives as a supplement; the
 *   preservation is executed measure by measure, and with its retention date 5 days away and no
 *   follow-up sent it shows `followup_due` until `request extend-preservation` sends the linked
 *   extension; `request list --case` finds both.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../client/requests.ts';
import { refusedWith } from '../support/cli-refusals.ts';
import { tempDir } from '../support/fixtures.ts';
import { cli, spawnRelay, type RelayProcess } from '../support/processes.ts';
import type { RequestSummary } from '../../client/requests.ts';
import { dayFromNow, extraditionDraft, mlaDraft, preservationDraft } from '../support/requests.ts';
import { pollUntil } from '../support/wait.ts';

const PASS = { ENTRAIDE_PASSPHRASE: 'requests practice passphrase' };
const RELAY_ENV = {
  // Each CLI command logs in afresh on anonymous routes: the test budgets (see requests-scenario).
  ENTRAIDE_RELAY_LIMITS: 'test',
  ENTRAIDE_OUTBOX_BASE_MS: '50',
  ENTRAIDE_OUTBOX_MAX_MS: '1000',
  ENTRAIDE_OUTBOX_POLL_MS: '100',
};
const SN = 'sn.moj@relay.one.test';
const KE = 'ke.ag@relay.two.test';

describe('requests true to practice, between two relays, through the CLI', { timeout: 300_000 }, () => {
  const work = tempDir('entraide-e2e-practice-');
  const relays: { dir: string; domain: string; process?: RelayProcess; key?: string }[] = [
    { dir: join(work, 'relay-one'), domain: 'relay.one.test' },
    { dir: join(work, 'relay-two'), domain: 'relay.two.test' },
  ];
  const senegal = join(work, 'sn');
  const kenya = join(work, 'ke');

  const run = (home: string, cmd: string, ...rest: string[]) =>
    cli(['--home', home, ...cmd.split(' ').filter(Boolean), ...rest], PASS);
  async function ok<T>(home: string, cmd: string, ...rest: string[]): Promise<T> {
    const r = await run(home, cmd, ...rest);
    expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  }
  const update = (home: string, id: string, status: string, ...rest: string[]) =>
    ok<{ status: string }>(home, `request update ${id} ${status} --json`, ...rest);
  const show = (home: string, id: string) => ok<RequestDetail>(home, `request show ${id} --json`);
  /** Polls `home`'s view of request `id` (each command fetches what waits) until it is `state`. */
  async function reaches(home: string, id: string, state: string): Promise<RequestDetail> {
    const d = await pollUntil(
      () => show(home, id),
      (r) => r.state === state,
      { intervalMs: 200, timeoutMs: 20_000 },
    );
    expect(d.state, `${home === senegal ? 'Senegal' : 'Kenya'}'s view of ${id}`).toBe(state);
    return d;
  }
  /** A command refused with exit code 1 and [code], after which the node holds nothing new. */
  const refused = (home: string, code: string, cmd: string, ...rest: string[]) =>
    refusedWith(run, home, code, cmd, ...rest);
  let files = 0;
  async function send(type: string, draft: Record<string, unknown>): Promise<string> {
    const file = join(work, `request-${++files}.json`);
    writeFileSync(file, JSON.stringify(draft, null, 2));
    const r = await ok<{ id: string; state: string }>(
      senegal,
      `request new --type ${type} --to ${KE} --file ${file} --unverified-ok --json`,
    );
    expect(r.state).toBe('sent');
    return r.id;
  }

  beforeAll(async () => {
    for (const r of relays) r.process = await spawnRelay(r.dir, 0, r.domain, RELAY_ENV);
    for (const r of relays) {
      const info = await cli(['relay', 'info', '--data', r.dir, '--json']);
      r.key = (JSON.parse(info.stdout) as { publicKey: string }).publicKey;
    }
    const [one, two] = relays as [Required<(typeof relays)[0]>, Required<(typeof relays)[0]>];
    for (const [on, other] of [
      [one, two],
      [two, one],
    ] as const) {
      const add = await cli(
        ['relay', 'peer', 'add', '--domain', other.domain, '--url', other.process.url, '--key', other.key],
        { ENTRAIDE_RELAY_DATA: on.dir },
      );
      expect(add.code, add.stderr).toBe(0);
    }
    for (const [home, authority, relay] of [
      [senegal, 'sn.moj', one],
      [kenya, 'ke.ag', two],
    ] as const) {
      const inv = await cli(['relay', 'invite', authority], { ENTRAIDE_RELAY_DATA: relay.dir });
      expect(inv.code, inv.stderr).toBe(0);
      const invitation = /^\s+(entraide:\S+)$/m.exec(inv.stdout)![1]!;
      const init = await run(home, `init --invite ${invitation} --authority ${authority} --node desk1`);
      expect(init.code, init.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    for (const r of relays) await r.process?.stop();
  });

  it('finds Kenya in the directory, warns of a language it does not accept, and wakes its on-call officer', async () => {
    const profile = {
      names: [
        { language: 'en', name: 'Office of the Attorney General' },
        { language: 'sw', name: 'Ofisi ya Mwanasheria Mkuu' },
      ],
      state: 'KE',
      competences: ['untoc_mla', 'untoc_extradition', 'electronic_evidence_24_7'],
      languages: ['en', 'sw'],
      channels: { electronicOriginal: true, originalToFollow: 'paper', interpol: true },
      onCall: { node: `desk1/${KE}`, phone: '+254 20 000 0000', hours: 'at any hour' },
      requirements: { dualCriminality: 'Required for search and seizure.' },
      treaties: [{ kind: 'untoc' }, { kind: 'harare_scheme' }],
      guide: 'https://ag.example.ke/mla',
    };
    const file = join(work, 'ke-profile.json');
    writeFileSync(file, JSON.stringify(profile));
    await ok(kenya, `authority profile set --file ${file} --json`);

    // Senegal, on the other relay, finds Kenya by language and by competence, and reads its profile.
    const bySwahili = await ok<{ hits: { authority: string; relay: string }[]; searched: string[] }>(
      senegal,
      'directory search --language sw --json',
    );
    expect(bySwahili.searched.sort()).toEqual(['relay.one.test', 'relay.two.test']);
    expect(bySwahili.hits).toEqual([expect.objectContaining({ authority: KE, relay: 'relay.two.test' })]);
    const byCompetence = await ok<{ hits: unknown[] }>(
      senegal,
      'directory search --state KE --competence asset_recovery --json',
    );
    expect(byCompetence.hits).toEqual([]);
    const shown = await ok<{ profile: { languages: string[] }; history: unknown[] }>(
      senegal,
      `authority profile show ${KE} --json`,
    );
    expect(shown.profile.languages).toEqual(['en', 'sw']);

    // A request in French: sent, with the warnings Kenya's profile gives.
    const draftFile = join(work, 'fr-request.json');
    writeFileSync(draftFile, JSON.stringify(mlaDraft({ title: 'Audition — profil du Kenya' })));
    const sent = await ok<{ id: string; state: string; warnings: { code: string }[] }>(
      senegal,
      `request new --type mutual_legal_assistance --to ${KE} --file ${draftFile} --unverified-ok --json`,
    );
    expect(sent.state).toBe('sent');
    expect(sent.warnings.map((w) => w.code)).toEqual(['language_not_accepted', 'original_required']);

    // Kenya adds French: the change is in its key history, seen from Senegal.
    writeFileSync(file, JSON.stringify({ ...profile, languages: ['en', 'sw', 'fr'] }));
    await ok(kenya, `authority profile set --file ${file} --json`);
    const changed = await ok<{ profile: { languages: string[] }; history: { accepted: boolean }[] }>(
      senegal,
      `authority profile show ${KE} --json`,
    );
    expect(changed.profile.languages).toEqual(['en', 'sw', 'fr']);
    expect(changed.history.map((h) => h.accepted)).toEqual([true, true]);

    // An immediate request wakes Kenya's on-call officer: the webhook learns who and when, no more.
    const calls: string[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((done) => hook.listen(0, '127.0.0.1', done));
    try {
      const port = (hook.address() as AddressInfo).port;
      const set = await run(kenya, `alert-hook set --webhook http://127.0.0.1:${port}/wake`);
      expect(set.code, set.stderr).toBe(0);
      const urgent = await send(
        'expedited_preservation',
        preservationDraft({
          title: 'Preservation of the chat account used last night',
          urgency: 'immediate',
          urgencyReason: 'The provider deletes the data within 24 hours',
        }),
      );
      await reaches(kenya, urgent, 'delivered');
      expect(calls).toHaveLength(1);
      const alert = JSON.parse(calls[0]!) as Record<string, string>;
      expect(Object.keys(alert).sort()).toEqual(['at', 'from', 'kind', 'node']);
      expect(alert).toMatchObject({ kind: 'immediate_request', from: SN, node: `desk1/${KE}` });
      expect(calls[0]).not.toContain('chat account');
      // A routine request wakes nobody.
      await reaches(kenya, await send('mutual_legal_assistance', mlaDraft()), 'delivered');
      expect(calls).toHaveLength(1);
    } finally {
      await new Promise((done) => hook.close(done));
    }
  });

  it('returns, transmits, consults before refusing, and never refuses on a forbidden ground', async () => {
    const id = await send('mutual_legal_assistance', mlaDraft());
    await reaches(kenya, id, 'delivered');

    // Sent back to be put in order: not a refusal. Senegal supplements; Kenya acknowledges.
    await refused(kenya, 'UPDATE_INCOMPLETE', `request update ${id} returned_for_formal_defects`);
    await update(kenya, id, 'returned_for_formal_defects', '--note', 'The request is not signed.');
    await reaches(senegal, id, 'returned_for_formal_defects');
    await ok(
      senegal,
      `request supplement ${id} --json`,
      '--text',
      'Signed letter follows: signed on 3 March.',
    );
    await update(kenya, id, 'acknowledged', '--reference', 'KE-AG-2026-77');
    await update(kenya, id, 'transmitted_to_executing_authority');
    await refused(kenya, 'TRANSITION_INVALID', `request update ${id} provisional_arrest`);

    // Bank secrecy is never a ground (art. 18(8)); a ground of art. 18(21) needs a consultation first.
    const bank = await refused(
      kenya,
      'GROUND_PROHIBITED',
      `request update ${id} refused --ground bank_secrecy`,
      '--note',
      'The accounts are covered by bank secrecy.',
    );
    expect(bank).toContain('art. 18(8)');
    const fiscal = await refused(
      kenya,
      'GROUND_PROHIBITED',
      `request update ${id} refused --ground fiscal_matters`,
      '--note',
      'The offence involves tax evasion.',
    );
    expect(fiscal).toContain('art. 18(22)');
    await refused(
      kenya,
      'CONSULTATION_REQUIRED',
      `request update ${id} refused --ground essential_interests`,
      '--note',
      'The hearing would compromise a national security case.',
    );
    await update(
      kenya,
      id,
      'conditions_proposed',
      '--note',
      'Hearing by a judge of Kenya, without the press.',
    );
    await reaches(senegal, id, 'conditions_proposed');
    await refused(
      senegal,
      'TRANSITION_NOT_OWNED',
      `request update ${id} refused --ground ne_bis_in_idem`,
      '--note',
      'Tried already.',
    );
    await update(senegal, id, 'conditions_declined', '--note', 'Our procedure requires a public hearing.');
    await reaches(kenya, id, 'conditions_declined');
    await update(
      kenya,
      id,
      'refused',
      '--ground',
      'essential_interests',
      '--note',
      'The hearing would compromise a national security case.',
    );
    const sn = await reaches(senegal, id, 'refused');
    const steps = sn.story.filter((s) => s.what === 'status').map((s) => s.status);
    expect(steps).toEqual([
      'returned_for_formal_defects',
      'acknowledged',
      'transmitted_to_executing_authority',
      'conditions_proposed',
      'conditions_declined',
      'refused',
    ]);
    expect(sn.story.at(-1)).toMatchObject({ ground: 'essential_interests' });
  });

  it('carries an extradition to surrender, and another to domestic prosecution', async () => {
    const id = await send('extradition', extraditionDraft());
    await reaches(kenya, id, 'delivered');
    await update(kenya, id, 'acknowledged');
    const scope = await refused(
      kenya,
      'GROUND_NOT_FOR_TYPE',
      `request update ${id} refused --ground essential_interests`,
      '--note',
      'Security.',
    );
    expect(scope).toContain('no_dual_criminality');
    for (const status of ['provisional_arrest', 'judicial_phase']) await update(kenya, id, status);
    await update(kenya, id, 'postponed', '--note', 'The person is on trial in Kenya until June.');
    await update(
      kenya,
      id,
      'conditions_proposed',
      '--note',
      'Surrender after the Kenyan sentence is served.',
    );
    await reaches(senegal, id, 'conditions_proposed');
    await update(senegal, id, 'conditions_accepted');
    await reaches(kenya, id, 'conditions_accepted');
    for (const status of ['judicial_phase', 'extradition_granted', 'surrendered'])
      await update(kenya, id, status);
    await reaches(senegal, id, 'surrendered');
    await update(senegal, id, 'closed');
    const ke = await reaches(kenya, id, 'closed');
    expect(ke).toMatchObject({ direction: 'in', requesting: SN, requested: KE, requestType: 'extradition' });
    expect(ke.story.filter((s) => s.what === 'status').map((s) => s.status)).toEqual([
      'acknowledged',
      'provisional_arrest',
      'judicial_phase',
      'postponed',
      'conditions_proposed',
      'conditions_accepted',
      'judicial_phase',
      'extradition_granted',
      'surrendered',
      'closed',
    ]);

    const national = await send('extradition', extraditionDraft({ title: 'Extradition of E. F. — fraud' }));
    await reaches(kenya, national, 'delivered');
    await update(kenya, national, 'acknowledged');
    await update(kenya, national, 'submitted_for_prosecution', '--note', 'E. F. is a Kenyan national.');
    await reaches(senegal, national, 'submitted_for_prosecution');
  });

  it('follows a preservation up before its data are gone, and a translation to come', async () => {
    const CASE = 'SN-CASE-2026-17';
    const draft = preservationDraft({
      dataRetentionUntil: dayFromNow(5),
      caseReference: CASE,
      translationPending: { language: 'fr', due: dayFromNow(10) },
    });
    const id = await send('expedited_preservation', draft);
    const arrived = await reaches(kenya, id, 'delivered');
    expect(arrived.flags).toContain('translation_pending');
    expect(arrived.measures).toEqual([expect.objectContaining({ kind: 'other', state: 'pending' })]);
    await ok(
      senegal,
      `request supplement ${id} --kind translation --language fr --json`,
      '--text',
      'Conservation des données du compte de messagerie, pour 90 jours.',
    );
    const translated = await pollUntil(
      () => show(kenya, id),
      (r) => !r.flags.includes('translation_pending'),
      { intervalMs: 200, timeoutMs: 20_000 },
    );
    expect(translated.flags).not.toContain('translation_pending');

    await update(kenya, id, 'acknowledged');
    await update(kenya, id, 'in_execution', '--measure', '0=in_execution');
    await update(kenya, id, 'executed', '--measure', '0=executed', '--note', 'Data preserved for 5 days.');
    const executed = await reaches(senegal, id, 'executed');
    expect(executed.measures.map((m) => m.state)).toEqual(['executed']);
    expect(executed.flags).toContain('followup_due');
    // Kenya, which does not owe the follow-up, is not told to make one.
    expect((await show(kenya, id)).flags).not.toContain('followup_due');

    const extension = await ok<{ id: string; state: string }>(
      senegal,
      `request extend-preservation ${id} --until ${dayFromNow(60)} --json`,
    );
    expect(extension.state).toBe('sent');
    const after = await show(senegal, id);
    expect(after.flags).not.toContain('followup_due');
    const ext = await show(senegal, extension.id);
    expect(ext.content.relatedTo).toEqual([{ request: id, relation: 'extends_preservation' }]);
    expect(ext.content.dataRetentionUntil).toBe(dayFromNow(60));
    const inCase = await ok<RequestSummary[]>(senegal, `request list --case ${CASE} --json`);
    expect(inCase.map((r) => r.id).sort()).toEqual([id, extension.id].sort());
  });

  it('consults informally before the formal request, which names the consultation', async () => {
    const file = join(work, 'consult.json');
    writeFileSync(file, JSON.stringify(mlaDraft({ title: 'Audition de témoins — projet' })));
    const consulted = await ok<{ id: string }>(
      senegal,
      `request consult --type mutual_legal_assistance --to ${KE} --file ${file} --unverified-ok --json`,
      '--note',
      'Is this enough to hear the two witnesses?',
    );
    type Detail = {
      id: string;
      direction: string;
      draft: { title: string };
      remarks: { field: string; text: string; by: string }[];
      requests: string[];
    };
    const atKenya = await pollUntil(
      () => ok<{ id: string; direction: string }[]>(kenya, 'request consultations --json'),
      (l) => l.some((c) => c.id === consulted.id),
      { intervalMs: 200, timeoutMs: 20_000 },
    );
    expect(atKenya.find((c) => c.id === consulted.id)?.direction).toBe('in');
    const shown = await ok<Detail>(kenya, `request consultation ${consulted.id} --json`);
    expect(shown.draft.title).toBe('Audition de témoins — projet');
    // Only the authority consulted comments; comments name fields of a request.
    await refused(senegal, 'TRANSITION_NOT_OWNED', `request comment ${consulted.id} --on purpose=x`);
    const colour = await run(kenya, `request comment ${consulted.id} --on colour=blue`);
    expect([colour.code, colour.stderr]).toEqual([2, expect.stringContaining('[USAGE]')]);
    await ok(
      kenya,
      `request comment ${consulted.id} --json`,
      '--on',
      'purpose=Say what the statements are needed for at trial.',
      '--on',
      'measures[0].description=Name the two witnesses and where they live.',
    );
    const back = await pollUntil(
      () => ok<Detail>(senegal, `request consultation ${consulted.id} --json`),
      (d) => d.remarks.length === 2,
      { intervalMs: 200, timeoutMs: 20_000 },
    );
    expect(back.remarks.map((r) => r.field)).toEqual(['purpose', 'measures[0].description']);
    expect(back.remarks[0]!.by).toBe(`desk1/${KE}`);

    // The formal request names the consultation; the consultation is no request of its own.
    // The formal request, with every field of art. 18(15) and a version in English that binds.
    const formalDraft = mlaDraft({
      title: 'Audition de témoins — demande formelle',
      legalBasis: [
        { kind: 'untoc', reference: 'UNTOC art. 18' },
        { kind: 'bilateral_treaty', reference: 'Accord d’entraide Sénégal–Kenya (2019), art. 4' },
      ],
      offence: {
        description: 'Trafic illicite de migrants par voie maritime',
        category: 'smuggling_of_migrants',
      },
      persons: [{ role: 'witness', name: 'W. K.', location: 'Mombasa, quartier de Likoni' }],
      procedures: 'Audition sous serment, en présence de l’avocat de la défense',
      versions: [
        {
          language: 'en',
          authoritative: true,
          title: 'Hearing of witnesses — formal request',
          purpose: 'To establish the role of each smuggler',
          measures: ['Hear two witnesses', 'Send the records of the hearings'],
        },
      ],
    });
    const formal = join(work, 'formal.json');
    writeFileSync(formal, JSON.stringify(formalDraft));
    const sent = await ok<{ id: string }>(
      senegal,
      `request new --type mutual_legal_assistance --to ${KE} --file ${formal} --consultation ${consulted.id.slice(0, 8)} --unverified-ok --json`,
    );
    const arrived = await reaches(kenya, sent.id, 'delivered');
    expect(arrived.content.consultation).toBe(consulted.id);
    for (const field of [
      'legalBasis',
      'offence',
      'persons',
      'procedures',
      'versions',
      'proceedings',
      'purpose',
    ])
      expect((arrived.content as Record<string, unknown>)[field], field).toEqual(formalDraft[field]);
    expect(arrived.measures.map((m) => m.kind)).toEqual(['taking_evidence', 'providing_records']);
    expect((await ok<Detail>(senegal, `request consultation ${consulted.id} --json`)).requests).toEqual([
      sent.id,
    ]);
    const listed = await ok<RequestSummary[]>(senegal, 'request list --json');
    expect(listed.map((r) => r.id)).not.toContain(consulted.id);
  });
});
