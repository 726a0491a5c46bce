/**
 * The statistics an authority hands to its network coordinator: one line per request, with no
 * content, no reference numbers and no names, only what aggregation needs (direction,
 * counterpart, type, urgency, status, times). Per-request lines let the coordinator compute
 * network-wide medians exactly, which per-authority medians would not allow. Signed by the
 * exporting node, so the coordinator can tell who sent it and that it was not edited.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fromBase64url } from '../bytes.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { AuthorityAddress, NodeAddress, Rfc3339, Signature } from '../protocol/schemas.ts';
import { literals } from '../protocol/literals.ts';
import { REQUEST_TYPES, STATUSES, URGENCIES } from './vocabulary.ts';
import type { StatsRecord } from './statistics.ts';

export const ExportedRecord = Type.Object(
  {
    direction: literals(['out', 'in'] as const),
    counterpart: AuthorityAddress,
    requestType: literals(REQUEST_TYPES),
    urgency: literals(URGENCIES),
    state: literals(STATUSES),
    sentAt: Rfc3339,
    acknowledgeSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    executeSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    overdue: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const StatisticsExport = Type.Object(
  {
    v: Type.Literal(1),
    format: Type.Literal('entraide-statistics'),
    authority: AuthorityAddress,
    node: NodeAddress,
    generatedAt: Rfc3339,
    records: Type.Array(ExportedRecord, { maxItems: 1_000_000 }),
    sig: Signature,
  },
  { additionalProperties: false },
);
export type StatisticsExport = Static<typeof StatisticsExport>;

export function exportStatistics(
  input: { authority: string; node: string; generatedAt: string; records: readonly StatsRecord[] },
  identitySecretKey: Uint8Array,
): StatisticsExport {
  const body = {
    v: 1 as const,
    format: 'entraide-statistics' as const,
    authority: input.authority,
    node: input.node,
    generatedAt: input.generatedAt,
    records: input.records.map(({ flags, ...r }) => ({ ...r, overdue: flags.includes('overdue') })),
  };
  return { ...body, sig: signObject(CONTEXTS.statistics, body, identitySecretKey) };
}

export function verifyStatisticsExport(e: StatisticsExport, identityKey: string): boolean {
  return verifyObject(
    CONTEXTS.statistics,
    withoutSig(e),
    e.sig,
    fromBase64url(identityKey, 'identityKey', 32),
  );
}

/** The records of an export, back in the form `statistics()` takes. */
export function importedRecords(e: StatisticsExport): StatsRecord[] {
  return e.records.map(({ overdue, ...r }) => ({ ...r, flags: overdue ? ['overdue'] : [] }));
}
