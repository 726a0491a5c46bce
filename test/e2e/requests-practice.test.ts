/**
 * The lifecycle as practice has it, through the `entraide` CLI only, between Senegal's node on
 * relay.one and Kenya's on relay.two (two federated relay processes):
 * - a request returned for formal defects, put right by a supplement, acknowledged, transmitted
 *   to the executing authority; a refusal on bank secrecy (GROUND_PROHIBITED) and one on a ground
 *   of UNTOC art. 18(21) before any consultation (CONSULTATION_REQUIRED) are refused with nothing
 *   stored; conditions are proposed and declined, and the refusal then stands on both sides;
 * - an extradition carried along its track: provisional arrest, judicial phase, postponement,
 *   conditions accepted, extradition granted, surrender, closed by the requesting side; a second
 *   one ends in submission for domestic prosecution (art. 16(10)); a ground of art. 18(21) on an
 *   extradition is GROUND_NOT_FOR_TYPE and a step of the extradition track on an assistance
 *   request is TRANSITION_INVALID.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../client/requests.ts';
import { tempDir } from '../support/fixtures.ts';
import { cli, spawnRelay, type RelayProcess } from '../support/processes.ts';
import { extraditionDraft, mlaDraft } from '../support/requests.ts';
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
  /** The node's requests and status updates, counted in its database. */
  function stored(home: string): { requests: number; updates: number } {
    const db = new Database(join(home, 'node.db'), { readonly: true, fileMustExist: true });
    try {
      const count = (table: string) =>
        db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${table}"`).get()!.n;
      return { requests: count('Request'), updates: count('StatusUpdate') };
    } finally {
      db.close();
    }
  }
  /** A command refused with exit code 1 and [code], after which the node holds nothing new. */
  async function refused(home: string, code: string, cmd: string, ...rest: string[]): Promise<string> {
    const before = stored(home);
    const r = await run(home, cmd, ...rest);
    expect(r.code, `${cmd}: ${r.stdout}${r.stderr}`).toBe(1);
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(stored(home), `requests and updates after ${cmd}`).toEqual(before);
    return r.stderr;
  }
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
});
