/**
 * The statistics an authority hands to its network coordinator: one line per request, with no
 * content, no reference numbers and no names, only what aggregation needs. Per-request lines let
 * the coordinator compute network-wide medians exactly, which per-authority medians would not
 * allow. Signed by the exporting node, so the coordinator can tell who sent it and that it was not
 * edited.
 * - Version 1 (`stats --export`): every request, with direction, counterpart, type, urgency,
 *   status and times.
 * - Version 2 (`stats --export --network ID`): only the requests exchanged with members of that
 *   network, which the header names. Each record names both authorities, carries the request's
 *   keyed hash for that network (network-request-hash.ts: the two sides of a request carry the
 *   same value, two networks' exports cannot be linked) and the codes the breakdowns count:
 *   refusal ground, legal bases, measure kinds, data categories, offence category. No text.
 * Both versions are signed under CONTEXTS.statistics; `v` is inside the signed body, so a
 * version cannot be changed either.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fromBase64url } from '../bytes.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { EntraideError } from '../errors.ts';
import { NetworkId } from '../meetings/names.ts';
import { AuthorityAddress, B64, NodeAddress, Rfc3339, Signature } from '../protocol/schemas.ts';
import { literals } from '../protocol/literals.ts';
import { check } from '../protocol/validate.ts';
import { networkRequestHash } from './network-request-hash.ts';
import {
  DATA_CATEGORY_CODES,
  LEGAL_BASIS_KINDS,
  MEASURE_KIND_CODES,
  OFFENCE_CATEGORY_CODES,
  REFUSAL_GROUND_CODES,
  REQUEST_TYPES,
  STATUSES,
  URGENCIES,
} from './vocabulary.ts';
import type { DerivedRequest } from './history.ts';
import { measureOf, type RequestContent } from './request.ts';
import type { RequestCodes } from './statistics-breakdowns.ts';
import type { StatsRecord } from './statistics.ts';

/** A request as the node's own records give it to an export: its statistics and its codes. */
export interface RequestStatsRecord extends StatsRecord, RequestCodes {
  requestId: string;
  requesting: string;
  requested: string;
}

/**
 * The codes a version-2 export carries of a request, from its content and its applied history:
 * the ground of the refusal that applied (when refused), the kinds of its legal bases and measures
 * (plain-string measures from before measures were coded are `other`), the data categories of its
 * evidence, its offence category. Sorted, each once, so both sides write the same lists.
 */
export function requestCodes(
  content: Pick<RequestContent, 'legalBasis' | 'measures' | 'evidence' | 'offence'>,
  derived: Pick<DerivedRequest, 'state' | 'history'>,
): RequestCodes {
  const refusal =
    derived.state === 'refused'
      ? [...derived.history].reverse().find((h) => h.update.status === 'refused')
      : undefined;
  return {
    refusalGround: refusal?.update.ground ?? null,
    legalBases: sortedUnique((content.legalBasis ?? []).map((b) => b.kind)),
    measures: sortedUnique((content.measures ?? []).map((m) => measureOf(m).kind)),
    dataCategories: sortedUnique(
      (content.evidence ?? []).flatMap((e) => (e.dataCategory ? [e.dataCategory] : [])),
    ),
    offenceCategory: content.offence?.category ?? null,
  };
}

const sortedUnique = <T extends string>(values: readonly T[]): T[] => [...new Set(values)].sort();

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
    // Field by field: a record may carry more (a RequestStatsRecord), which version 1 never exports.
    records: input.records.map((r) => ({
      direction: r.direction,
      counterpart: r.counterpart,
      requestType: r.requestType,
      urgency: r.urgency,
      state: r.state,
      sentAt: r.sentAt,
      acknowledgeSeconds: r.acknowledgeSeconds,
      executeSeconds: r.executeSeconds,
      overdue: r.flags.includes('overdue'),
    })),
  };
  return { ...body, sig: signObject(CONTEXTS.statistics, body, identitySecretKey) };
}

/** True when the export (either version) is signed by `identityKey`; every field is covered. */
export function verifyStatisticsExport(e: AnyStatisticsExport, identityKey: string): boolean {
  return verifyObject(
    CONTEXTS.statistics,
    withoutSig(e),
    e.sig,
    fromBase64url(identityKey, 'identityKey', 32),
  );
}

/** The records of a version-1 export, back in the form `statistics()` takes. */
export function importedRecords(e: StatisticsExport): StatsRecord[] {
  return e.records.map(({ overdue, ...r }) => ({ ...r, flags: overdue ? ['overdue'] : [] }));
}

// ---- version 2: for one network ----------------------------------------------------------------

const codes = <const T extends readonly string[]>(values: T) =>
  Type.Array(literals(values), { maxItems: values.length, uniqueItems: true });

export const NetworkExportedRecord = Type.Object(
  {
    /** networkRequestHash(network, request id). */
    request: B64(32, 'BLAKE2b-256 of the request id, keyed for the network'),
    /** The exporting authority's side, for its own use; requesting and requested say it too. */
    direction: literals(['out', 'in'] as const),
    requesting: AuthorityAddress,
    requested: AuthorityAddress,
    requestType: literals(REQUEST_TYPES),
    urgency: literals(URGENCIES),
    state: literals(STATUSES),
    /** The day the request was sent (midnight UTC). */
    sentAt: Rfc3339,
    acknowledgeSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    executeSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    overdue: Type.Boolean(),
    refusalGround: Type.Union([literals(REFUSAL_GROUND_CODES), Type.Null()]),
    legalBases: codes(LEGAL_BASIS_KINDS),
    measures: codes(MEASURE_KIND_CODES),
    dataCategories: codes(DATA_CATEGORY_CODES),
    offenceCategory: Type.Union([literals(OFFENCE_CATEGORY_CODES), Type.Null()]),
  },
  { additionalProperties: false },
);
export type NetworkExportedRecord = Static<typeof NetworkExportedRecord>;

export const NetworkStatisticsExport = Type.Object(
  {
    v: Type.Literal(2),
    format: Type.Literal('entraide-statistics'),
    network: NetworkId,
    authority: AuthorityAddress,
    node: NodeAddress,
    generatedAt: Rfc3339,
    records: Type.Array(NetworkExportedRecord, { maxItems: 1_000_000 }),
    sig: Signature,
  },
  { additionalProperties: false },
);
export type NetworkStatisticsExport = Static<typeof NetworkStatisticsExport>;

export type AnyStatisticsExport = StatisticsExport | NetworkStatisticsExport;

/**
 * The signed export for `network`: only the requests whose counterpart is one of `members` (the
 * roster this node holds). Preconditions: `network` is a network id; the records are this node's.
 */
export function exportNetworkStatistics(
  input: {
    network: string;
    members: readonly string[];
    authority: string;
    node: string;
    generatedAt: string;
    records: readonly RequestStatsRecord[];
  },
  identitySecretKey: Uint8Array,
): NetworkStatisticsExport {
  const members = new Set(input.members);
  const body = {
    v: 2 as const,
    format: 'entraide-statistics' as const,
    network: input.network,
    authority: input.authority,
    node: input.node,
    generatedAt: input.generatedAt,
    records: input.records
      .filter((r) => members.has(r.counterpart))
      .map((r) => ({
        request: networkRequestHash(input.network, r.requestId),
        direction: r.direction,
        requesting: r.requesting,
        requested: r.requested,
        requestType: r.requestType,
        urgency: r.urgency,
        state: r.state,
        // The day only: enough for a period, and the exact instant would link two networks' lines.
        sentAt: `${new Date(r.sentAt).toISOString().slice(0, 10)}T00:00:00Z`,
        acknowledgeSeconds: r.acknowledgeSeconds,
        executeSeconds: r.executeSeconds,
        overdue: r.flags.includes('overdue'),
        refusalGround: r.refusalGround,
        legalBases: sortedUnique(r.legalBases),
        measures: sortedUnique(r.measures),
        dataCategories: sortedUnique(r.dataCategories),
        offenceCategory: r.offenceCategory,
      }))
      // In a stable order, so that the file does not tell the order requests were stored in.
      .sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.request.localeCompare(b.request)),
  };
  return { ...body, sig: signObject(CONTEXTS.statistics, body, identitySecretKey) };
}

/**
 * An export of either version, checked against its version's schema (SCHEMA_INVALID naming the
 * field otherwise). `what` names it in messages (the file's name).
 */
export function parseStatisticsExport(value: unknown, what: string): AnyStatisticsExport {
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new EntraideError('SCHEMA_INVALID', `${what} is not a statistics export (not an object)`);
  if (v === 2) return check(NetworkStatisticsExport, value, what);
  if (v === 1) return check(StatisticsExport, value, what);
  throw new EntraideError(
    'SCHEMA_INVALID',
    `${what}.v must be 1 or 2: a statistics export of another version is not read here`,
  );
}
