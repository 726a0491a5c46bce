/**
 * The breakdowns a network coordinator reports (the review mechanism of UNTOC asks for them): how
 * many requests by refusal ground, legal basis, measure kind, data category and offence category,
 * and the share of requests made under UNTOC. A request counts once under each code it carries
 * (a request under UNTOC and a bilateral treaty counts under both), so the counts of one breakdown
 * may add up to more than its requests. Requests from version-1 exports carry no codes: they are
 * counted apart (`notRecorded`), never guessed.
 */
import {
  DATA_CATEGORY_CODES,
  LEGAL_BASIS_KINDS,
  MEASURE_KIND_CODES,
  OFFENCE_CATEGORY_CODES,
  REFUSAL_GROUND_CODES,
  type DataCategory,
  type LegalBasisKind,
  type MeasureKind,
  type OffenceCategory,
  type RefusalGround,
  type Status,
} from './vocabulary.ts';

/** The codes of one request, as a version-2 export carries them. */
export interface RequestCodes {
  refusalGround: RefusalGround | null;
  legalBases: readonly LegalBasisKind[];
  measures: readonly MeasureKind[];
  dataCategories: readonly DataCategory[];
  offenceCategory: OffenceCategory | null;
}

export interface Breakdown<C extends string> {
  /** The requests this breakdown is over (all of them; refused ones for refusal grounds). */
  of: number;
  /** Requests under each code, in the vocabulary's order; codes no request carries are left out. */
  counts: { code: C; requests: number }[];
  /** Requests with codes but none of this kind (no legal basis given, no offence category...). */
  none: number;
  /** Requests from version-1 exports, whose codes are unknown. */
  notRecorded: number;
}

export interface Breakdowns {
  refusalGround: Breakdown<RefusalGround>;
  legalBasis: Breakdown<LegalBasisKind>;
  /** Requests made (at least in part) under UNTOC, over the requests whose legal bases are known. */
  untoc: { requests: number; of: number; share: number | null };
  measure: Breakdown<MeasureKind>;
  dataCategory: Breakdown<DataCategory>;
  offenceCategory: Breakdown<OffenceCategory>;
}

/** What breakdowns read of a request: its state, and its codes or null (version 1). */
export interface CodedRecord {
  state: Status;
  codes: RequestCodes | null;
}

function breakdown<C extends string>(
  order: readonly C[],
  records: readonly CodedRecord[],
  codesOf: (c: RequestCodes) => readonly C[],
): Breakdown<C> {
  const counts = new Map<C, number>();
  let none = 0;
  let notRecorded = 0;
  for (const r of records) {
    if (!r.codes) {
      notRecorded++;
      continue;
    }
    const codes = new Set(codesOf(r.codes));
    if (codes.size === 0) none++;
    for (const c of codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return {
    of: records.length,
    counts: order.filter((c) => counts.has(c)).map((code) => ({ code, requests: counts.get(code)! })),
    none,
    notRecorded,
  };
}

/** The breakdowns of a set of requests (each counted once already). */
export function breakdowns(records: readonly CodedRecord[]): Breakdowns {
  const legalBasis = breakdown(LEGAL_BASIS_KINDS, records, (c) => c.legalBases);
  const known = legalBasis.of - legalBasis.notRecorded;
  const untoc = legalBasis.counts.find((c) => c.code === 'untoc')?.requests ?? 0;
  const one = <C extends string>(v: C | null): C[] => (v === null ? [] : [v]);
  return {
    refusalGround: breakdown(
      REFUSAL_GROUND_CODES,
      records.filter((r) => r.state === 'refused'),
      (c) => one(c.refusalGround),
    ),
    legalBasis,
    untoc: { requests: untoc, of: known, share: known === 0 ? null : untoc / known },
    measure: breakdown(MEASURE_KIND_CODES, records, (c) => c.measures),
    dataCategory: breakdown(DATA_CATEGORY_CODES, records, (c) => c.dataCategories),
    offenceCategory: breakdown(OFFENCE_CATEGORY_CODES, records, (c) => one(c.offenceCategory)),
  };
}

/** The breakdowns' CSV columns: one per code of each vocabulary, then what is not stated. */
export const BREAKDOWN_CSV_COLUMNS = [
  ...REFUSAL_GROUND_CODES.map((c) => `refused_${c}`),
  'refused_ground_none',
  ...LEGAL_BASIS_KINDS.map((c) => `basis_${c}`),
  'basis_none',
  'untoc_share',
  ...MEASURE_KIND_CODES.map((c) => `measure_${c}`),
  'measure_none',
  ...DATA_CATEGORY_CODES.map((c) => `data_${c}`),
  'data_none',
  ...OFFENCE_CATEGORY_CODES.map((c) => `offence_${c}`),
  'offence_none',
  'codes_not_recorded',
];

/** The cells of BREAKDOWN_CSV_COLUMNS; the UNTOC share with three decimals, empty when unknown. */
export function breakdownCsvCells(b: Breakdowns): string[] {
  const cells = <C extends string>(order: readonly C[], x: Breakdown<C>) => [
    ...order.map((c) => String(x.counts.find((k) => k.code === c)?.requests ?? 0)),
    String(x.none),
  ];
  return [
    ...cells(REFUSAL_GROUND_CODES, b.refusalGround),
    ...cells(LEGAL_BASIS_KINDS, b.legalBasis),
    b.untoc.share === null ? '' : b.untoc.share.toFixed(3),
    ...cells(MEASURE_KIND_CODES, b.measure),
    ...cells(DATA_CATEGORY_CODES, b.dataCategory),
    ...cells(OFFENCE_CATEGORY_CODES, b.offenceCategory),
    String(b.legalBasis.notRecorded),
  ];
}
