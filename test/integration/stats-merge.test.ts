/**
 * A network coordinator merges its members' statistics exports, on a real relay with real nodes:
 * Senegal and Nigeria exchange requests (one refused with a ground), both export for the network
 * WACAP, and Ghana, its coordinator, merges: each request once, the breakdowns right. An export
 * changed by one byte, or signed by a key that is not a certified node of the authority it names,
 * is refused with STATS_EXPORT_INVALID, and nothing is printed or written. Ghana's node runs as
 * its local service (`entraide serve`): the web app's statistics routes give the same merge from
 * uploaded texts, the same refusals, and its own signed export.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportFile, mergeCommand } from '../../client/cli/stats.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { startService, type RunningService } from '../../client/service/serve.ts';
import { mergeStatisticsFiles, type MergeKeys } from '../../client/stats-merge.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { signObject, CONTEXTS, withoutSig } from '../../shared/crypto/signing.ts';
import { verifyStatisticsExport } from '../../shared/requests/statistics-export.ts';
import type { NetworkStatisticsExport } from '../../shared/requests/statistics-export.ts';
import type { NetworkMerge } from '../../shared/requests/statistics-merge.ts';
import {
  enrolHome,
  enrolNode,
  PASSPHRASE,
  removeDir,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { random } from '../support/random.ts';
import { mlaDraft, preservationDraft } from '../support/requests.ts';

describe('stats merge by a network coordinator', () => {
  let relay: TestRelay;
  let sn: AuthorityNode;
  let ng: AuthorityNode;
  let gh: AuthorityNode;
  let ghService: RunningService;
  let dir: string;
  let snFile: string;
  let ngFile: string;
  const ids: string[] = [];
  const keysOf = (node: AuthorityNode): MergeKeys => ({
    sender: (authority, address) => node.trust.sender(authority, address),
    members: (network) => node.networks.roster(network)?.members ?? null,
  });

  beforeAll(async () => {
    dir = tempDir('entraide-stats-');
    relay = await startTestRelay();
    [sn, ng] = await Promise.all([enrolNode(relay, 'sn.moj'), enrolNode(relay, 'ng.fmoj')]);
    const ghHome = join(dir, 'gh');
    await enrolHome(relay, 'gh.ag', 'desk1', ghHome);
    ghService = await startService({ home: ghHome, passphrase: PASSPHRASE, port: 0 });
    gh = ghService.node;
    await gh.networks.create('wacap', 'West African Network of Central Authorities and Prosecutors');
    await gh.networks.change('wacap', { add: [sn.authority, ng.authority] });
    await Promise.all([sn.fetchInbox(), ng.fetchInbox()]);

    // Senegal asks Nigeria twice; Nigeria executes the first and refuses the second. Nigeria asks
    // Senegal once, which acknowledges.
    const a = await sn.requests.create({
      type: 'expedited_preservation',
      to: ng.authority,
      draft: preservationDraft({ offence: { description: 'Advance-fee fraud', category: 'fraud' } }),
    });
    const b = await sn.requests.create({
      type: 'mutual_legal_assistance',
      to: ng.authority,
      draft: mlaDraft({
        legalBasis: [{ kind: 'bilateral_treaty', reference: 'SN–NG treaty (1990), art. 3' }],
        offence: { description: 'Smuggling of migrants', category: 'smuggling_of_migrants' },
      }),
    });
    const c = await ng.requests.create({
      type: 'mutual_legal_assistance',
      to: sn.authority,
      draft: mlaDraft(),
    });
    ids.push(a.id, b.id, c.id);
    await Promise.all([ng.fetchInbox(), sn.fetchInbox()]);
    await ng.requests.update(a.id, 'acknowledged', { reference: 'NG-1' });
    await ng.requests.update(a.id, 'in_execution');
    await ng.requests.update(a.id, 'executed', { note: 'Preserved.' });
    await ng.requests.update(b.id, 'refused', {
      ground: 'no_dual_criminality',
      note: 'The conduct is not an offence here.',
    });
    await sn.requests.update(c.id, 'acknowledged', { reference: 'SN-1' });
    await Promise.all([sn.fetchInbox(), ng.fetchInbox()]);

    snFile = join(dir, 'sn.json');
    ngFile = join(dir, 'ng.json');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    exportFile(sn, sn.requests.records(), snFile, 'wacap');
    exportFile(ng, ng.requests.records(), ngFile, 'wacap');
    vi.restoreAllMocks();
  }, 60_000);

  afterAll(async () => {
    for (const n of [sn, ng]) await n?.close();
    await ghService?.close();
    await relay?.close();
    if (dir) removeDir(dir);
  });

  const exported = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as NetworkStatisticsExport;

  it('both sides export the same requests under the same hashes, with both authorities and the codes', () => {
    const s = exported(snFile);
    const n = exported(ngFile);
    expect([s.v, s.network, s.authority, n.authority]).toEqual([2, 'wacap', sn.authority, ng.authority]);
    expect(s.records.map((r) => r.request).sort()).toEqual(n.records.map((r) => r.request).sort());
    expect(s.records).toHaveLength(3);
    const refused = n.records.find((r) => r.state === 'refused')!;
    expect(refused).toMatchObject({
      requesting: sn.authority,
      requested: ng.authority,
      refusalGround: 'no_dual_criminality',
      legalBases: ['bilateral_treaty'],
      measures: ['providing_records', 'taking_evidence'],
      offenceCategory: 'smuggling_of_migrants',
    });
    const text = readFileSync(snFile, 'utf8');
    for (const secret of [...ids, 'SN-MJ-2026-0142', 'NG-1', 'Preserved', 'A. B.'])
      expect(text).not.toContain(secret);
  });

  it('the coordinator counts each request once, with the breakdowns', async () => {
    const [s, ...rest] = await mergeStatisticsFiles(keysOf(gh), [snFile, ngFile], { network: 'wacap' });
    expect(rest).toEqual([]);
    expect(s).toMatchObject({ network: 'wacap', records: 6, requests: 3, exportedByBothSides: 3 });
    expect(s!.disagreements).toBe(0);
    expect(s!.notDeduplicated).toBe(0);
    expect(s!.totals.byStatus).toMatchObject({ executed: 1, refused: 1, acknowledged: 1 });
    expect(s!.totals.execute.count).toBe(1);
    expect(new Map(s!.byRequested.map((r) => [r.requested, r.total]))).toEqual(
      new Map([
        [ng.authority, 2],
        [sn.authority, 1],
      ]),
    );
    const b = s!.totals.breakdowns;
    expect(b.refusalGround.counts).toEqual([{ code: 'no_dual_criminality', requests: 1 }]);
    expect(b.legalBasis.counts).toEqual([
      { code: 'untoc', requests: 2 },
      { code: 'bilateral_treaty', requests: 1 },
    ]);
    expect(b.untoc).toEqual({ requests: 2, of: 3, share: 2 / 3 });
    expect(b.dataCategory.counts).toEqual([{ code: 'traffic', requests: 1 }]);
    expect(b.offenceCategory.counts).toEqual([
      { code: 'smuggling_of_migrants', requests: 1 },
      { code: 'fraud', requests: 1 },
    ]);
    expect(b.offenceCategory.none).toBe(1);

    const out = join(dir, 'merged.json');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await mergeCommand(gh, [snFile, ngFile], { network: 'wacap', json: true, out });
    vi.restoreAllMocks();
    const written = JSON.parse(readFileSync(out, 'utf8')) as { networks: NetworkMerge[] };
    expect(written.networks[0]!.requests).toBe(3);
  });

  /** A merge that must be refused: STATS_EXPORT_INVALID naming `file`, nothing printed or written. */
  async function refusedMerge(files: string[], file: string, why: RegExp, network = 'wacap'): Promise<void> {
    const out = join(dir, `refused-${Math.random().toString(36).slice(2)}.txt`);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(mergeCommand(gh, files, { network, out })).rejects.toMatchObject({
        code: 'STATS_EXPORT_INVALID',
        message: expect.stringMatching(why),
      });
      await expect(mergeCommand(gh, files, { network })).rejects.toMatchObject({
        message: expect.stringContaining(file),
      });
      expect(stdout).not.toHaveBeenCalled();
    } finally {
      stdout.mockRestore();
    }
    expect(existsSync(out)).toBe(false);
  }

  it('refuses an export changed by one byte (a record’s state), and merges nothing', async () => {
    const text = readFileSync(ngFile, 'utf8');
    expect(text).toContain('"state": "executed"');
    const edited = join(dir, 'ng-edited.json');
    writeFileSync(edited, text.replace('"state": "executed"', '"state": "refused"'));
    await refusedMerge([snFile, edited], edited, /signature does not verify/);
    // One byte: a digit of a time to acknowledge.
    const digit = join(dir, 'ng-digit.json');
    const m = /"acknowledgeSeconds": (\d)/.exec(text)!;
    const at = m.index + m[0].length - 1;
    writeFileSync(digit, text.slice(0, at) + String((Number(m[1]) + 1) % 10) + text.slice(at + 1));
    await refusedMerge([snFile, digit], digit, /signature does not verify/);
  });

  it('refuses an export signed by a key that is not a certified node of the authority it names', async () => {
    const original = exported(ngFile);
    const resign = (e: NetworkStatisticsExport, secretKey: Uint8Array) => {
      const body = withoutSig(e);
      return { ...body, sig: signObject(CONTEXTS.statistics, body, secretKey) };
    };
    // A fresh key pair, signing in the name of Nigeria's node.
    const fresh = join(dir, 'ng-fresh-key.json');
    writeFileSync(fresh, JSON.stringify(resign(original, generateSigningKeyPair(random).secretKey)));
    await refusedMerge([snFile, fresh], fresh, /signature does not verify under the identity key/);
    // Senegal's node signing an export in Nigeria's name.
    const other = join(dir, 'ng-by-sn.json');
    writeFileSync(other, JSON.stringify(resign(original, sn.identitySecretKey)));
    await refusedMerge([snFile, other], other, /signature does not verify/);
    // Senegal's node, named as the exporting node of Nigeria.
    const named = join(dir, 'ng-named-sn.json');
    writeFileSync(named, JSON.stringify(resign({ ...original, node: sn.address }, sn.identitySecretKey)));
    await refusedMerge([snFile, named], named, /is not a node of/);
    // A node Nigeria never certified.
    const unknown = join(dir, 'ng-unknown-node.json');
    writeFileSync(
      unknown,
      JSON.stringify(resign({ ...original, node: `desk9/${ng.authority}` }, sn.identitySecretKey)),
    );
    await refusedMerge([snFile, unknown], unknown, /keys of .* could not be verified/);
  });

  it('refuses an export for another network than --network', async () => {
    await refusedMerge([snFile, ngFile], snFile, /for network wacap, not ecowas/, 'ecowas');
  });

  it('reads malformed files as the rest of the CLI does', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, readFileSync(ngFile, 'utf8').slice(0, 200));
    await expect(mergeStatisticsFiles(keysOf(gh), [broken])).rejects.toMatchObject({ code: 'INVALID_JSON' });
    const shape = join(dir, 'shape.json');
    writeFileSync(shape, JSON.stringify({ ...exported(ngFile), records: [{ state: 'executed' }] }));
    await expect(mergeStatisticsFiles(keysOf(gh), [shape])).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
  });

  describe('the web app’s statistics routes (Ghana’s service)', () => {
    const call = async (path: string, o: { body?: unknown; token?: string | null; raw?: string } = {}) => {
      const res = await fetch(`${ghService.file.url}/api/v1${path}`, {
        method: o.body !== undefined || o.raw !== undefined ? 'POST' : 'GET',
        headers: {
          ...(o.token === null ? {} : { authorization: `Bearer ${o.token ?? ghService.file.token}` }),
          ...(o.body !== undefined || o.raw !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(o.raw !== undefined
          ? { body: o.raw }
          : o.body !== undefined
            ? { body: JSON.stringify(o.body) }
            : {}),
      });
      const text = await res.text();
      const body = JSON.parse(text) as Record<string, unknown> & {
        error?: { code: string; message: string };
      };
      return { status: res.status, body, headers: res.headers };
    };
    const upload = (files: string[]) =>
      files.map((f) => ({ name: f.split('/').pop()!, text: readFileSync(f, 'utf8') }));

    it('answers the token or a session only', async () => {
      for (const [path, body] of [
        ['/statistics', undefined],
        ['/statistics/export', undefined],
        ['/statistics/merge', { exports: upload([snFile]) }],
      ] as const) {
        expect((await call(path, { body, token: null })).body.error?.code, path).toBe('AUTH_REQUIRED');
        expect((await call(path, { body, token: 'x'.repeat(43) })).status, path).toBe(401);
      }
    });

    it('merges uploaded exports exactly as `stats merge --json` does', async () => {
      const cli = await mergeStatisticsFiles(keysOf(gh), [snFile, ngFile], { network: 'wacap' });
      const { status, body } = await call('/statistics/merge', {
        body: { network: 'wacap', exports: upload([snFile, ngFile]) },
      });
      expect(status).toBe(200);
      const networks = body.networks as NetworkMerge[];
      const sources = (s: NetworkMerge) => ({ ...s, exports: s.exports.map((e) => ({ ...e, source: '' })) });
      expect(networks.map(sources)).toEqual(JSON.parse(JSON.stringify(cli)).map(sources));
      expect(networks[0]!.byMonth.reduce((n, m) => n + m.total, 0)).toBe(3);
      // With the coordinator's own export (Ghana has no request of its own here): the same counts.
      const own = await call('/statistics/merge', {
        body: { network: 'wacap', includeOwn: true, exports: upload([snFile, ngFile]) },
      });
      const [withOwn] = own.body.networks as NetworkMerge[];
      expect(withOwn!.exports.map((e) => e.authority)).toEqual([gh.authority, sn.authority, ng.authority]);
      expect(withOwn!.requests).toBe(3);
    });

    it('refuses what `stats merge` refuses, with the same codes, and merges nothing', async () => {
      const changed = readFileSync(ngFile, 'utf8').replace('"state": "refused"', '"state": "executed"');
      const bad = await call('/statistics/merge', {
        body: { exports: [...upload([snFile]), { name: 'ng.json', text: changed }] },
      });
      expect([bad.status, bad.body.error?.code]).toEqual([422, 'STATS_EXPORT_INVALID']);
      expect(bad.body.error?.message).toMatch(/^ng\.json is refused: its signature does not verify/);
      // Compact JSON, one state changed: the signature no longer holds.
      const compact = JSON.stringify(exported(ngFile)).replace('"executed"', '"refused"');
      const edited = await call('/statistics/merge', {
        body: { exports: [...upload([snFile]), { name: 'ng-compact.json', text: compact }] },
      });
      expect([edited.status, edited.body.error?.code]).toEqual([422, 'STATS_EXPORT_INVALID']);
      expect(edited.body.error?.message).toMatch(
        /^ng-compact\.json is refused: its signature does not verify/,
      );
      const cut = await call('/statistics/merge', {
        body: { exports: [{ name: 'cut.json', text: readFileSync(ngFile, 'utf8').slice(0, 100) }] },
      });
      expect(cut.body.error?.code).toBe('INVALID_JSON');
      const other = await call('/statistics/merge', {
        body: { network: 'ecowas', exports: upload([snFile]) },
      });
      expect(other.body.error?.code).toBe('STATS_EXPORT_INVALID');
      const none = await call('/statistics/merge', { body: { exports: [] } });
      expect(none.body.error?.code).toBe('USAGE');
      const many = await call('/statistics/merge', {
        body: { exports: Array.from({ length: 201 }, () => ({ name: 'x.json', text: '{}' })) },
      });
      expect(many.body.error?.code).toBe('SCHEMA_INVALID');
      const extra = await call('/statistics/merge', { body: { exports: upload([snFile]), path: '/etc' } });
      expect(extra.body.error?.code).toBe('SCHEMA_INVALID');
    });

    it('gives the node’s own figures and its signed export for a network', async () => {
      const own = await call('/statistics');
      expect(own.body.totals).toEqual([]);
      expect(own.body.refusalGround).toMatchObject({ out: { of: 0, counts: [] }, in: { of: 0, counts: [] } });
      const res = await call('/statistics/export?network=wacap');
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="statistics-${gh.authority}-wacap.json"`,
      );
      const e = res.body as unknown as NetworkStatisticsExport;
      expect([e.v, e.network, e.authority, e.node]).toEqual([2, 'wacap', gh.authority, gh.address]);
      expect(verifyStatisticsExport(e, gh.identityPublicKey)).toBe(true);
      expect((await call('/statistics/export?network=ecowas')).body.error?.code).toBe('NOT_FOUND');
      expect((await call('/statistics/export?network=..%2Fx')).body.error?.code).toBe('SCHEMA_INVALID');
    });
  });
});
