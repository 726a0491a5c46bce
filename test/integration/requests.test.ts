/**
 * Requests between two real nodes on a real relay: sending, delivery and read receipts,
 * status updates owned by each side, supplements, the story, evidence and statistics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode } from '../../client/node.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { mlaDraft, preservationDraft } from '../support/requests.ts';

describe('a request between Senegal and Nigeria', () => {
  let relay: TestRelay;
  let senegal: AuthorityNode;
  let nigeria: AuthorityNode;

  beforeAll(async () => {
    relay = await startTestRelay();
    senegal = await enrolNode(relay, 'sn.moj');
    nigeria = await enrolNode(relay, 'ng.moj');
  });
  afterAll(async () => {
    await senegal?.close();
    await nigeria?.close();
    await relay?.close();
  });

  it('goes through its whole lifecycle, with receipts and statistics on both sides', async () => {
    const created = await senegal.requests.create({
      type: 'expedited_preservation',
      to: nigeria.authority,
      draft: preservationDraft(),
    });
    expect(created.state).toBe('sent');
    expect(senegal.requests.show(created.id).state).toBe('sent');

    await nigeria.fetchInbox();
    const received = nigeria.requests.show(created.id);
    expect(received.direction).toBe('in');
    expect(received.state).toBe('delivered');
    expect(received.next).toContain('acknowledged');

    await senegal.fetchInbox();
    await waitFor(
      async () => {
        await senegal.fetchInbox();
        return senegal.requests.show(created.id).story.some((e) => e.what === 'read');
      },
      10_000,
      'delivery and read receipts',
    );
    const atSenegal = senegal.requests.show(created.id);
    expect(atSenegal.state).toBe('delivered');

    await nigeria.requests.update(created.id, 'acknowledged', { reference: 'NG-CA-2026-77' });
    await nigeria.requests.update(created.id, 'additional_info_requested', {
      note: 'Which time zone are the login times in?',
    });
    await senegal.fetchInbox();
    expect(senegal.requests.show(created.id).state).toBe('additional_info_requested');
    await senegal.requests.supplement(created.id, {
      kind: 'additional_information',
      text: 'All times are UTC.',
    });
    await nigeria.fetchInbox();
    await nigeria.requests.update(created.id, 'in_execution');
    await nigeria.requests.update(created.id, 'executed', { note: 'Data preserved until further notice.' });
    await senegal.fetchInbox();
    const done = senegal.requests.show(created.id);
    expect(done.state).toBe('executed');
    expect(done.references.requested).toBe('NG-CA-2026-77');
    await senegal.requests.update(created.id, 'closed');
    await nigeria.fetchInbox();
    expect(nigeria.requests.show(created.id).state).toBe('closed');

    const story = nigeria.requests.show(created.id).story.map((e) => e.what);
    expect(story).toContain('supplement');

    const evidence = senegal.receipts.evidence(done.story.find((e) => e.what === 'sent')!.envelope!);
    expect(evidence.receipts.map((r) => [r.kind, r.valid])).toEqual(
      expect.arrayContaining([
        ['delivered', true],
        ['read', true],
      ]),
    );
    expect(evidence.undelivered).toEqual([]);

    const other = await senegal.requests.create({
      type: 'mutual_legal_assistance',
      to: nigeria.authority,
      draft: mlaDraft(),
    });
    await senegal.requests.update(other.id, 'withdrawn', { note: 'Witnesses located in Senegal.' });
    await nigeria.fetchInbox();
    expect(nigeria.requests.show(other.id).state).toBe('withdrawn');

    const records = senegal.requests.records();
    expect(records.map((r) => r.state).sort()).toEqual(['closed', 'withdrawn']);
  });
});
