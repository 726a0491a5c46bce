/**
 * The files the Reconcile page offers: one CSV row per difference, its kind named as in the report,
 * every kind of the report counted (a kind added to the report and forgotten here fails), and no
 * cell a spreadsheet would run as a formula.
 */
import { describe, expect, it } from 'vitest';
import type { RecordReport } from '../../client/audit/record-reconcile.ts';
import type { Reconciliation } from '../../client/audit/relay-reconcile.ts';
import {
  RECORD_KINDS,
  recordCsv,
  recordDifferences,
  relayDifferences,
  relaysCsv,
} from '../../client/web/src/reconcile-files.ts';
import { spreadsheetCell } from '../../shared/csv.ts';

const E = (n: number) => `01a21dc1-3e21-71ea-984d-${String(n).padStart(12, '0')}`;

const report: RecordReport = {
  node: 'desk1/sn.moj@relay.a.test',
  record: { size: 9, heads: 2, problem: null },
  log: { relay: 'relay.a.test', size: 40, problem: null },
  until: '2026-12-03T10:00:00.000Z',
  matched: { sent: 3, received: 1, receipts: 2 },
  sentNotAccepted: [E(1)],
  receivedNotDelivered: [E(2)],
  receiptWithoutDelivery: [{ envelope: E(3), node: 'desk7/ke.ag@relay.b.test' }],
  acceptedNotSent: [E(4)],
  deliveredNotReceived: [E(5)],
  hashMismatch: [E(6)],
};

describe('the Reconcile page’s files', () => {
  it('lists every kind of difference the report holds', () => {
    const kinds = Object.keys(report).filter((k) => Array.isArray(report[k as keyof RecordReport]));
    expect([...RECORD_KINDS].sort()).toEqual(kinds.sort());
    expect(recordDifferences(report).map((d) => d.envelope)).toEqual([1, 2, 3, 4, 5, 6].map(E));
  });

  it('writes one CSV row per difference of a node’s record', () => {
    expect(recordCsv(report).split('\r\n')).toEqual([
      'node,kind,envelope,receiptFrom',
      `desk1/sn.moj@relay.a.test,sentNotAccepted,${E(1)},`,
      `desk1/sn.moj@relay.a.test,receivedNotDelivered,${E(2)},`,
      `desk1/sn.moj@relay.a.test,receiptWithoutDelivery,${E(3)},desk7/ke.ag@relay.b.test`,
      `desk1/sn.moj@relay.a.test,acceptedNotSent,${E(4)},`,
      `desk1/sn.moj@relay.a.test,deliveredNotReceived,${E(5)},`,
      `desk1/sn.moj@relay.a.test,hashMismatch,${E(6)},`,
      '',
    ]);
  });

  it('writes one CSV row per envelope recorded on one side only, with its direction', () => {
    const r: Reconciliation = {
      logs: [],
      alarms: [],
      directions: [
        { from: 'relay.a.test', to: 'relay.b.test', matched: 3, notReceived: [E(1)], notForwarded: [] },
        { from: 'relay.b.test', to: 'relay.a.test', matched: 1, notReceived: [], notForwarded: [E(2)] },
      ],
    };
    expect(relayDifferences(r)).toHaveLength(2);
    expect(relaysCsv(r)).toBe(
      `from,to,kind,envelope\r\nrelay.a.test,relay.b.test,notReceived,${E(1)}\r\nrelay.b.test,relay.a.test,notForwarded,${E(2)}\r\n`,
    );
    expect(relaysCsv({ ...r, directions: [] })).toBe('from,to,kind,envelope\r\n');
  });

  it('quotes what needs quoting and never leaves a formula', () => {
    expect(spreadsheetCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(spreadsheetCell('-1')).toBe("'-1");
    expect(spreadsheetCell('a,b')).toBe('"a,b"');
    expect(spreadsheetCell(undefined)).toBe('');
    expect(spreadsheetCell(['a', 'b'])).toBe('a b');
  });
});
