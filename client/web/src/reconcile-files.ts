/**
 * The differences a reconciliation found, as rows for the page's tables and as the files the
 * auditor downloads: the report itself as JSON (what `entraide audit reconcile --json` prints) and
 * one CSV row per difference, its kind named as in the report.
 */
import { spreadsheetCell } from '../../../shared/csv.ts';
import type { RecordReport, Reconciliation } from './api-audit.ts';

/** The kinds of difference between a node's record and its relay's log, in the report's words. */
export const RECORD_KINDS = [
  'sentNotAccepted',
  'receivedNotDelivered',
  'receiptWithoutDelivery',
  'acceptedNotSent',
  'deliveredNotReceived',
  'hashMismatch',
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export interface RecordDifference {
  kind: RecordKind;
  envelope: string;
  /** The node that signed the receipt (receiptWithoutDelivery only). */
  node?: string;
}

export function recordDifferences(r: RecordReport): RecordDifference[] {
  return RECORD_KINDS.flatMap((kind): RecordDifference[] =>
    kind === 'receiptWithoutDelivery'
      ? r.receiptWithoutDelivery.map((x) => ({ kind, envelope: x.envelope, node: x.node }))
      : r[kind].map((envelope) => ({ kind, envelope })),
  );
}

export type DirectionKind = 'notReceived' | 'notForwarded';

export interface RelayDifference {
  from: string;
  to: string;
  kind: DirectionKind;
  envelope: string;
}

export function relayDifferences(r: Reconciliation): RelayDifference[] {
  return r.directions.flatMap((d) => [
    ...d.notReceived.map((envelope) => ({ from: d.from, to: d.to, kind: 'notReceived' as const, envelope })),
    ...d.notForwarded.map((envelope) => ({
      from: d.from,
      to: d.to,
      kind: 'notForwarded' as const,
      envelope,
    })),
  ]);
}

function csv(columns: string[], rows: Record<string, string | undefined>[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => spreadsheetCell(r[c])).join(','))]
    .map((line) => `${line}\r\n`)
    .join('');
}

export const recordCsv = (r: RecordReport): string =>
  csv(
    ['node', 'kind', 'envelope', 'receiptFrom'],
    recordDifferences(r).map((d) => ({
      node: r.node,
      kind: d.kind,
      envelope: d.envelope,
      receiptFrom: d.node,
    })),
  );

export const relaysCsv = (r: Reconciliation): string =>
  csv(
    ['from', 'to', 'kind', 'envelope'],
    relayDifferences(r).map((d) => ({ ...d })),
  );

/** Offers `text` as a file to save, made in the page: nothing leaves this machine. */
export function saveFile(name: string, text: string, type: 'application/json' | 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
