/**
 * `entraide request new --interactive`: the guided mode asks one question per field on the real
 * CLI; its answers go through the same checks as a file, warnings are shown before the choice,
 * and the request that arrives is the one the answers describe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorityNode } from '../../client/node.ts';
import { enrolNode, PASSPHRASE, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { cli } from '../support/processes.ts';
import { dayFromNow } from '../support/requests.ts';

describe('request new --interactive', { timeout: 120_000 }, () => {
  let relay: TestRelay;
  let snHome = '';
  let nigeria: AuthorityNode;
  const env = () => ({ ENTRAIDE_PASSPHRASE: PASSPHRASE, ENTRAIDE_HOME: snHome });

  beforeAll(async () => {
    relay = await startTestRelay();
    const senegal = await enrolNode(relay, 'sn.moj');
    snHome = senegal.home;
    await senegal.close(); // the CLI opens this folder now
    nigeria = await enrolNode(relay, 'ng.moj');
  });
  afterAll(async () => {
    await nigeria?.close();
    await relay?.close();
  });

  /** The answers, in the order the questions come for an expedited preservation request. */
  const answers = (over: { deadline?: string; choice?: string; basis?: string } = {}) =>
    [
      '6', // expedited_preservation, by its number in the list
      nigeria.authority,
      'Preservation of account data',
      'en',
      'SN-MJ-2026-0301',
      over.basis ?? 'UNTOC art. 18',
      'Advance-fee fraud',
      'A group defrauded 140 victims through fake investment offers.',
      'Preserve traffic data of the account',
      '', // ends the list of measures
      'urgent',
      'The provider deletes data after 30 days',
      over.deadline ?? '',
      'Example Mail Ltd',
      'fraud.desk@example.ng',
      dayFromNow(20),
      'Entraide desk',
      over.choice ?? 'send',
    ].join('\n') + '\n';

  it('sends the request the answers describe', async () => {
    const r = await cli(
      ['request', 'new', '--interactive', '--unverified-ok', '--json'],
      env(),
      60_000,
      answers(),
    );
    expect(r.code, r.stderr).toBe(0);
    const { id, state } = JSON.parse(r.stdout) as { id: string; state: string };
    expect(state).toBe('sent');
    await nigeria.fetchInbox();
    const got = nigeria.requests.show(id);
    expect(got.requestType).toBe('expedited_preservation');
    expect(got.content.references.requesting).toBe('SN-MJ-2026-0301');
    expect(got.content.measures).toEqual([
      { kind: 'other', description: 'Preserve traffic data of the account' },
    ]);
    expect(got.content.evidence?.[0]).toMatchObject({
      holder: 'Example Mail Ltd',
      identifiers: 'fraud.desk@example.ng',
    });
    expect(got.content.dataRetentionUntil).toBe(dayFromNow(20));
    expect(got.content.urgency).toBe('urgent');
  });

  it('refuses a deadline in the past, with nothing stored', async () => {
    const r = await cli(
      ['request', 'new', '--interactive', '--unverified-ok'],
      env(),
      60_000,
      answers({ deadline: '2020-01-01' }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[DEADLINE_PAST\]/);
    const list = await cli(['request', 'list', '--json', '--sent'], env(), 60_000);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(1);
  });

  it('shows the warnings before the choice, and keeps a draft when asked', async () => {
    const r = await cli(
      ['request', 'new', '--interactive', '--unverified-ok', '--json'],
      env(),
      60_000,
      answers({ basis: '', choice: 'draft' }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning legal_basis_missing/);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'draft' });
  });
});
