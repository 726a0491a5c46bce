/**
 * The flags that follow a request up (shared/requests/deadlines.ts): `followup_due` for a
 * preservation executed whose retention date is near and that nothing followed up, on the side
 * that owes the follow-up only; `translation_pending` and `translation_overdue` for a translation
 * a request announced.
 */
import { describe, expect, it } from 'vitest';
import { flags, FOLLOWUP_DAYS, type DeadlineInput } from '../../shared/requests/deadlines.ts';

const at = (iso: string) => Date.parse(iso);
const preservation = (over: Partial<DeadlineInput> = {}): DeadlineInput => ({
  requestType: 'expedited_preservation',
  urgency: 'urgent',
  dataRetentionUntil: '2026-03-20',
  state: 'executed',
  times: {
    sent: '2026-03-02T08:00:00.000Z',
    delivered: '2026-03-02T08:00:02.000Z',
    acknowledged: '2026-03-02T09:00:00.000Z',
    executed: '2026-03-03T09:00:00.000Z',
  },
  followedUp: false,
  ...over,
});

describe('followup_due', () => {
  it('from FOLLOWUP_DAYS before the end of the retention day, while nothing followed the preservation up', () => {
    expect(FOLLOWUP_DAYS).toBe(7);
    expect(flags(preservation(), at('2026-03-13T23:59:59Z'))).toEqual([]);
    expect(flags(preservation(), at('2026-03-14T00:00:00Z'))).toEqual(['followup_due']);
    // Five days before: the case of the issue.
    expect(flags(preservation(), at('2026-03-16T08:00:00Z'))).toEqual(['followup_due']);
    // Past the day, the data may be gone: still flagged, the officer must know.
    expect(flags(preservation(), at('2026-03-25T08:00:00Z'))).toEqual(['followup_due']);
    expect(flags(preservation(), at('2026-03-16T08:00:00Z'), 3, 3)).toEqual([]);
  });

  it('not once a production request or an extension was sent, nor on the executing side', () => {
    expect(flags(preservation({ followedUp: true }), at('2026-03-16T08:00:00Z'))).toEqual([]);
    expect(flags(preservation({ followedUp: undefined }), at('2026-03-16T08:00:00Z'))).toEqual([]);
  });

  it('only for a preservation that was executed (in part at least), closed or not, never refused', () => {
    const now = at('2026-03-16T08:00:00Z');
    const { executed: _e, ...before } = preservation().times;
    expect(flags(preservation({ state: 'in_execution', times: before }), now)).toEqual([]);
    expect(
      flags(
        preservation({
          state: 'partially_executed',
          times: { ...before, partially_executed: before.acknowledged! },
        }),
        now,
      ),
    ).toEqual(['followup_due']);
    expect(
      flags(
        preservation({ state: 'closed', times: { ...preservation().times, closed: '2026-03-04T00:00:00Z' } }),
        now,
      ),
    ).toEqual(['followup_due']);
    expect(flags(preservation({ requestType: 'stored_data_production' }), now)).toEqual([]);
    expect(flags(preservation({ dataRetentionUntil: null }), now)).toEqual([]);
  });
});

describe('translation flags', () => {
  const base = (over: Partial<DeadlineInput> = {}): DeadlineInput => ({
    urgency: 'routine',
    state: 'acknowledged',
    times: {
      sent: '2026-03-02T08:00:00.000Z',
      delivered: '2026-03-02T08:00:01Z',
      acknowledged: '2026-03-02T09:00:00Z',
    },
    translationPending: { language: 'fr', due: '2026-03-10' },
    translationArrived: false,
    ...over,
  });

  it('pending until the due day ends, overdue after, none once it arrived or the request ended', () => {
    expect(flags(base(), at('2026-03-10T23:59:59Z'))).toEqual(['translation_pending']);
    expect(flags(base(), at('2026-03-11T00:00:00Z'))).toEqual(['translation_overdue']);
    expect(flags(base({ translationArrived: true }), at('2026-03-11T00:00:00Z'))).toEqual([]);
    expect(flags(base({ state: 'withdrawn' }), at('2026-03-11T00:00:00Z'))).toEqual([]);
    expect(flags(base({ translationPending: undefined }), at('2026-03-11T00:00:00Z'))).toEqual([]);
  });
});
