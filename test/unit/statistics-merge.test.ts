/**
 * A network coordinator's merge of statistics exports, pure: the keyed request hash
 * (network-request-hash.ts), the version-2 export and its signature (statistics-export.ts), the
 * merge that counts each request once (statistics-merge.ts) and its breakdowns
 * (statistics-breakdowns.ts), on hand-made records whose figures are counted here by hand.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, toBase64url, utf8 } from '../../shared/bytes.ts';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { sodium } from '../../shared/crypto/sodium.ts';
import { networkRequestHash } from '../../shared/requests/network-request-hash.ts';
import {
  exportNetworkStatistics,
  exportStatistics,
  parseStatisticsExport,
  requestCodes,
  verifyStatisticsExport,
  type NetworkStatisticsExport,
  type RequestStatsRecord,
} from '../../shared/requests/statistics-export.ts';
import {
  exportProblem,
  MERGED_CSV_COLUMNS,
  mergedCsv,
  mergeStatistics,
} from '../../shared/requests/statistics-merge.ts';
import type { VerifiedUpdate } from '../../shared/requests/history.ts';
import { random } from './fixtures.ts';

const SN = 'sn.moj@relay.wacap.example';
const NG = 'ng.fmoj@relay.wacap.example';
const GH = 'gh.ag@relay.wacap.example';
const KE = 'ke.ag@relay.great-lakes.example';
const ID = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const AT = '2026-05-01T10:00:00.000Z';

/** A request as both sides' records give it; `side` picks whose record. */
function rec(
  n: number,
  side: 'requesting' | 'requested',
  r: Partial<RequestStatsRecord> & Pick<RequestStatsRecord, 'requesting' | 'requested'>,
): RequestStatsRecord {
  return {
    requestId: ID(n),
    direction: side === 'requesting' ? 'out' : 'in',
    counterpart: side === 'requesting' ? r.requested : r.requesting,
    requestType: 'mutual_legal_assistance',
    urgency: 'routine',
    state: 'acknowledged',
    sentAt: '2026-03-02T08:00:00.000Z',
    acknowledgeSeconds: 3600,
    executeSeconds: null,
    flags: [],
    refusalGround: null,
    legalBases: ['untoc'],
    measures: ['taking_evidence'],
    dataCategories: [],
    offenceCategory: 'fraud',
    ...r,
  };
}

/** Three requests SN → NG, one NG → SN, one SN → KE (not in wacap), one GH → SN. */
function requests(side: 'requesting' | 'requested') {
  return [
    rec(1, side, { requesting: SN, requested: NG, state: 'executed', executeSeconds: 86_400 }),
    rec(2, side, {
      requesting: SN,
      requested: NG,
      state: 'refused',
      acknowledgeSeconds: 7200,
      refusalGround: 'no_dual_criminality',
      legalBases: ['bilateral_treaty'],
      measures: ['search_and_seizure', 'providing_records'],
      dataCategories: ['subscriber', 'traffic'],
      offenceCategory: 'cybercrime',
    }),
    rec(3, side, {
      requesting: SN,
      requested: NG,
      requestType: 'extradition',
      legalBases: ['untoc', 'bilateral_treaty'],
      measures: [],
      offenceCategory: null,
      flags: ['overdue'],
    }),
    rec(4, side, { requesting: NG, requested: SN, acknowledgeSeconds: 1800, legalBases: [] }),
    rec(5, side, { requesting: SN, requested: KE }),
    rec(6, side, { requesting: GH, requested: SN, state: 'sent', acknowledgeSeconds: null }),
  ];
}

const mine = (authority: string, list: RequestStatsRecord[]) =>
  list.filter((r) => (r.direction === 'out' ? r.requesting : r.requested) === authority);

let snKey: SigningKeyPair;
let ngKey: SigningKeyPair;
beforeAll(() => {
  snKey = generateSigningKeyPair(random);
  ngKey = generateSigningKeyPair(random);
});

function exportOf(
  authority: string,
  key: SigningKeyPair,
  network = 'wacap',
  members = [SN, NG, GH],
): NetworkStatisticsExport {
  const all = [...requests('requesting'), ...requests('requested')];
  return exportNetworkStatistics(
    {
      network,
      members,
      authority,
      node: `desk1/${authority}`,
      generatedAt: AT,
      records: mine(authority, all),
    },
    key.secretKey,
  );
}

describe('the keyed request hash', () => {
  it('is BLAKE2b-256 of the id keyed with BLAKE2b-256 of the context, a zero byte and the network id', () => {
    // Written from the definition, with libsodium's primitive only.
    const s = sodium();
    const key = s.crypto_generichash(
      32,
      concatBytes(utf8('entraide/v1/stats-request'), new Uint8Array([0]), utf8('wacap')),
      null,
    );
    const expected = toBase64url(s.crypto_generichash(32, utf8(ID(1)), key));
    expect(networkRequestHash('wacap', ID(1))).toBe(expected);
    expect(expected).toHaveLength(43);
  });

  it('is the same on both sides of a request, and differs across networks and requests', () => {
    const sn = exportOf(SN, snKey);
    const ng = exportOf(NG, ngKey);
    const snSide = sn.records.filter((r) => r.requested === NG || r.requesting === NG);
    const ngSide = ng.records.filter((r) => r.requested === SN || r.requesting === SN);
    expect(snSide.map((r) => r.request).sort()).toEqual(ngSide.map((r) => r.request).sort());
    expect(snSide).toHaveLength(4);
    const other = exportOf(SN, snKey, 'ecowas-mla', [SN, NG, GH]);
    const here = new Set(sn.records.map((r) => r.request));
    expect(other.records.some((r) => here.has(r.request))).toBe(false);
    expect(networkRequestHash('wacap', ID(1))).not.toBe(networkRequestHash('wacap', ID(2)));
    expect(networkRequestHash('wacap', ID(1))).not.toBe(networkRequestHash('wacapx', ID(1)));
  });
});

describe('the version-2 export', () => {
  it('holds only requests with members of the network, names the network, validates and verifies', () => {
    const e = exportOf(SN, snKey);
    expect(e.v).toBe(2);
    expect(e.network).toBe('wacap');
    // ID 5 (with KE, outside wacap) is left out.
    expect(e.records).toHaveLength(5);
    expect(e.records.every((r) => r.requesting !== KE && r.requested !== KE)).toBe(true);
    expect(parseStatisticsExport(JSON.parse(JSON.stringify(e)), 'f.json')).toEqual(e);
    expect(verifyStatisticsExport(e, toBase64url(snKey.publicKey))).toBe(true);
    expect(verifyStatisticsExport(e, toBase64url(ngKey.publicKey))).toBe(false);
    // No request id, and nothing else than codes.
    expect(JSON.stringify(e)).not.toContain(ID(1));
  });

  it('any edit of any field, header or record, breaks the signature', () => {
    const e = exportOf(SN, snKey);
    const pk = toBase64url(snKey.publicKey);
    const header: Record<string, unknown> = {
      v: 1,
      format: 'x',
      network: 'ecowas',
      authority: NG,
      node: `desk2/${SN}`,
      generatedAt: '2026-05-01T10:00:01.000Z',
      records: e.records.slice(1),
    };
    for (const [field, value] of Object.entries(header))
      expect(verifyStatisticsExport({ ...e, [field]: value } as never, pk), field).toBe(false);
    const edits: Record<string, unknown> = {
      request: networkRequestHash('wacap', ID(99)),
      direction: 'in',
      requesting: GH,
      requested: GH,
      requestType: 'extradition',
      urgency: 'urgent',
      state: 'closed',
      sentAt: '2026-03-02T08:00:01.000Z',
      acknowledgeSeconds: 3601,
      executeSeconds: 1,
      overdue: true,
      refusalGround: 'other',
      legalBases: ['uncac'],
      measures: ['other'],
      dataCategories: ['content'],
      offenceCategory: 'terrorism',
    };
    expect(Object.keys(edits).sort()).toEqual(Object.keys(e.records[0]!).sort());
    for (const [field, value] of Object.entries(edits)) {
      const records = e.records.map((r, i) => (i === 0 ? { ...r, [field]: value } : r));
      expect(verifyStatisticsExport({ ...e, records } as never, pk), field).toBe(false);
    }
  });

  it('requestCodes: the applied refusal’s ground, coded and plain measures, data categories, offence', () => {
    const update = (status: string, ground?: string) =>
      ({
        update: { status, ...(ground ? { ground } : {}) },
        hash: status,
        side: 'requested',
      }) as unknown as VerifiedUpdate;
    const codes = requestCodes(
      {
        legalBasis: [{ kind: 'untoc' }, { kind: 'bilateral_treaty' }, { kind: 'untoc' }],
        measures: ['Hear two witnesses', { kind: 'search_and_seizure', description: 'search' }],
        evidence: [{ description: 'a', dataCategory: 'traffic' }, { description: 'b' }],
        offence: { description: 'x', category: 'money_laundering' },
      },
      { state: 'refused', history: [update('acknowledged'), update('refused', 'essential_interests')] },
    );
    expect(codes).toEqual({
      refusalGround: 'essential_interests',
      legalBases: ['bilateral_treaty', 'untoc'],
      measures: ['other', 'search_and_seizure'],
      dataCategories: ['traffic'],
      offenceCategory: 'money_laundering',
    });
    expect(requestCodes({}, { state: 'acknowledged', history: [] })).toEqual({
      refusalGround: null,
      legalBases: [],
      measures: [],
      dataCategories: [],
      offenceCategory: null,
    });
  });

  it('an unknown version is refused by the schema', () => {
    const e = { ...exportOf(SN, snKey), v: 3 };
    expect(() => parseStatisticsExport(e, 'f.json')).toThrow(/f\.json\.v must be 1 or 2/);
  });
});

describe('merging', () => {
  it('counts a request exported by both sides once', () => {
    const [s] = mergeStatistics(
      [
        { source: 'sn.json', export: exportOf(SN, snKey) },
        { source: 'ng.json', export: exportOf(NG, ngKey) },
      ],
      'wacap',
    );
    // SN holds 1, 2, 3, 4, 6; NG holds 1, 2, 3, 4: five requests, four exported by both sides.
    expect(s!.records).toBe(9);
    expect(s!.requests).toBe(5);
    expect(s!.exportedByBothSides).toBe(4);
    expect(s!.disagreements).toBe(0);
    expect(s!.notDeduplicated).toBe(0);
    expect(s!.totals.total).toBe(5);
    expect(s!.totals.byStatus).toMatchObject({ executed: 1, refused: 1, acknowledged: 2, sent: 1 });
    expect(s!.totals.overdue).toBe(1);
    // Acknowledgement times 3600, 7200, 3600, 1800: median 3600, p90 7200.
    expect(s!.totals.acknowledge).toEqual({ count: 4, medianSeconds: 3600, p90Seconds: 7200 });
    expect(s!.totals.execute).toEqual({ count: 1, medianSeconds: 86_400, p90Seconds: 86_400 });
    expect(s!.byRequested.map((r) => [r.requested, r.total])).toEqual([
      [NG, 3],
      [SN, 2],
    ]);
    expect(s!.byPair.map((r) => [r.requesting, r.requested, r.total])).toEqual([
      [SN, NG, 3],
      [GH, SN, 1],
      [NG, SN, 1],
    ]);
    expect(s!.byType.map((r) => [r.requestType, r.total])).toEqual([
      ['extradition', 1],
      ['mutual_legal_assistance', 4],
    ]);
    // The files' order changes nothing.
    const [t] = mergeStatistics(
      [
        { source: 'ng.json', export: exportOf(NG, ngKey) },
        { source: 'sn.json', export: exportOf(SN, snKey) },
      ],
      'wacap',
    );
    expect({ ...t!, exports: [] }).toEqual({ ...s!, exports: [] });
  });

  it('computes the breakdowns and the UNTOC share', () => {
    const [s] = mergeStatistics([
      { source: 'sn.json', export: exportOf(SN, snKey) },
      { source: 'ng.json', export: exportOf(NG, ngKey) },
    ]);
    const b = s!.totals.breakdowns;
    expect(b.refusalGround).toEqual({
      of: 1,
      counts: [{ code: 'no_dual_criminality', requests: 1 }],
      none: 0,
      notRecorded: 0,
    });
    // Legal bases: 1 untoc, 2 bilateral, 3 untoc + bilateral, 4 none, 6 untoc.
    expect(b.legalBasis.counts).toEqual([
      { code: 'untoc', requests: 3 },
      { code: 'bilateral_treaty', requests: 2 },
    ]);
    expect(b.legalBasis.none).toBe(1);
    expect(b.untoc).toEqual({ requests: 3, of: 5, share: 0.6 });
    expect(b.measure.counts).toEqual([
      { code: 'taking_evidence', requests: 3 },
      { code: 'search_and_seizure', requests: 1 },
      { code: 'providing_records', requests: 1 },
    ]);
    expect(b.measure.none).toBe(1);
    expect(b.dataCategory.counts).toEqual([
      { code: 'subscriber', requests: 1 },
      { code: 'traffic', requests: 1 },
    ]);
    expect(b.dataCategory.none).toBe(4);
    expect(b.offenceCategory.counts).toEqual([
      { code: 'cybercrime', requests: 1 },
      { code: 'fraud', requests: 3 },
    ]);
    expect(b.offenceCategory.none).toBe(1);
  });

  it('when the two sides differ, the side that has seen further counts, and the disagreement is told', () => {
    const sn = exportOf(SN, snKey);
    const ng = exportOf(NG, ngKey);
    // NG's record of request 1 still says acknowledged (say, exported before it executed).
    const h1 = networkRequestHash('wacap', ID(1));
    const behind = {
      ...ng,
      records: ng.records.map((r) =>
        r.request === h1 ? { ...r, state: 'acknowledged' as const, executeSeconds: null } : r,
      ),
    };
    const [s] = mergeStatistics([
      { source: 'sn.json', export: sn },
      { source: 'ng.json', export: behind },
    ]);
    expect(s!.disagreements).toBe(1);
    expect(s!.totals.byStatus.executed).toBe(1);
  });

  it('mixes version-1 records in, undeduplicated, without codes', () => {
    const v1 = exportStatistics(
      {
        authority: NG,
        node: `desk1/${NG}`,
        generatedAt: AT,
        records: mine(NG, [...requests('requesting'), ...requests('requested')]),
      },
      ngKey.secretKey,
    );
    const [s, ...rest] = mergeStatistics([
      { source: 'sn.json', export: exportOf(SN, snKey) },
      { source: 'ng-v1.json', export: v1 },
    ]);
    expect(rest).toEqual([]);
    expect(s!.network).toBe('wacap');
    // SN's five, NG's four version-1 records: no hash to join them by.
    expect(s!.requests).toBe(9);
    expect(s!.notDeduplicated).toBe(4);
    expect(s!.exportedByBothSides).toBe(0);
    expect(s!.totals.breakdowns.legalBasis.notRecorded).toBe(4);
    expect(s!.totals.breakdowns.untoc).toEqual({ requests: 3, of: 5, share: 0.6 });
    expect(s!.byPair.find((r) => r.requesting === NG)?.total).toBe(2);
    // Version 1 alone: a section for no network.
    const [only] = mergeStatistics([{ source: 'ng-v1.json', export: v1 }]);
    expect(only!.network).toBeNull();
    expect(only!.totals.breakdowns.untoc.share).toBeNull();
  });

  it('refuses two exports of one authority, and exports that do not hold together', () => {
    const sn = exportOf(SN, snKey);
    expect(() =>
      mergeStatistics([
        { source: 'a.json', export: sn },
        { source: 'b.json', export: sn },
      ]),
    ).toThrow(/b\.json and a\.json are both exports of/);
    expect(exportProblem(sn, 'wacap')).toBeNull();
    expect(exportProblem(sn, 'ecowas')).toMatch(/for network wacap, not ecowas/);
    const others = { ...sn, records: [{ ...sn.records[0]!, requesting: GH, requested: NG }] };
    expect(exportProblem(others)).toMatch(/record 0 is not a request sent by/);
    const twice = { ...sn, records: [sn.records[0]!, sn.records[0]!] };
    expect(exportProblem(twice)).toMatch(/record 1 repeats request/);
  });

  it('writes one CSV table whose every line has the header’s columns', () => {
    const sections = mergeStatistics([
      { source: 'sn.json', export: exportOf(SN, snKey) },
      { source: 'ng.json', export: exportOf(NG, ngKey) },
    ]);
    const lines = mergedCsv(sections).trim().split('\n');
    expect(lines[0]).toBe(MERGED_CSV_COLUMNS.join(','));
    for (const l of lines) expect(l.split(',')).toHaveLength(MERGED_CSV_COLUMNS.length);
    const totals = lines[1]!.split(',');
    const col = (name: string) => totals[MERGED_CSV_COLUMNS.indexOf(name)];
    expect([col('network'), col('requesting'), col('total'), col('untoc_share')]).toEqual([
      'wacap',
      '*',
      '5',
      '0.600',
    ]);
    expect(col('refused_no_dual_criminality')).toBe('1');
  });
});
