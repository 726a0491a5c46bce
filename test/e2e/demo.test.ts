/** `entraide demo` (also `npm run demo`): a newcomer watches three federated relays exchange messages. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.ts';
import { cli } from '../support/processes.ts';

const EXAMPLE = JSON.parse(
  readFileSync(new URL('../../examples/networks.json', import.meta.url), 'utf8'),
) as {
  profiles?: Record<string, Record<string, unknown>>;
};
const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

/** A copy of examples/networks.json, changed by `edit`, in a folder of its own. */
function networksFile(edit: (file: typeof EXAMPLE) => void): string {
  const copy = structuredClone(EXAMPLE);
  edit(copy);
  folders.push(tempDir('entraide-demo-test-'));
  const path = join(folders.at(-1)!, 'networks.json');
  writeFileSync(path, JSON.stringify(copy));
  return path;
}

describe('entraide demo', () => {
  it('runs three relays and six authorities, and every cross-relay message arrives', async () => {
    const r = await cli(['demo'], {}, 90_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const relay of ['relay.wacap.example', 'relay.great-lakes.example', 'relay.crimjust.example']) {
      expect(r.stdout).toContain(`relay ${relay}`);
    }
    // The directory: each authority published its profile, and a search found several relays.
    const published = r.stdout.split('\n').filter((l) => / published its profile: /.test(l));
    expect(published.map((l) => /([a-z]{2}\.moj)@/.exec(l)?.[1])).toEqual([
      'bj.moj',
      'bf.moj',
      'ao.moj',
      'bi.moj',
      'ar.moj',
      'br.moj',
    ]);
    expect(r.stdout).toMatch(
      /searched 3 relays for authorities that accept requests in fr: 3 found on 2 relays/,
    );
    const hits = [
      ...r.stdout.matchAll(/^ {4}([A-Z]{2}) {2}([a-z]{2}\.moj@\S+) {2}on (relay\.[a-z-]+\.example)$/gm),
    ];
    expect(hits.map((h) => h[1])).toEqual(['BF', 'BI', 'BJ']);
    expect(new Set(hits.map((h) => h[3])).size).toBeGreaterThanOrEqual(2);
    const forwarded = r.stdout
      .split('\n')
      .filter((l) => /: forwarded to relay\.[a-z-]+\.example; stored by the recipient node$/.test(l));
    expect(forwarded).toHaveLength(6);
    expect(r.stdout).toContain('6 of 6 messages delivered across relays');
    // The meeting: each member sees it in its own zone (Bujumbura is an hour ahead of Luanda).
    const seen = [...r.stdout.matchAll(/sees it at (\d{4}-\d\d-\d\d \d\d:\d\d) ([A-Za-z_/]+), and accepts/g)];
    expect(seen.map((m) => m[2])).toEqual([
      'Africa/Ouagadougou',
      'Africa/Luanda',
      'Africa/Bujumbura',
      'America/Argentina/Buenos_Aires',
      'America/Sao_Paulo',
    ]);
    const at = Object.fromEntries(seen.map((m) => [m[2], Date.parse(`${m[1]!.replace(' ', 'T')}:00Z`)]));
    expect(at['Africa/Bujumbura']! - at['Africa/Luanda']!).toBe(3_600_000);
    expect(at['Africa/Luanda']! - at['America/Sao_Paulo']!).toBe(4 * 3_600_000);
    expect(r.stdout).toContain('holds 5 of 5 answers');
  }, 120_000);

  it('runs without profiles in the networks file, and says that none is published', async () => {
    const r = await cli(['demo', '--networks', networksFile((f) => delete f.profiles)], {}, 90_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the networks file has no profiles: no authority publishes one');
    expect(r.stdout).not.toContain('published its profile');
    expect(r.stdout).toContain('6 of 6 messages delivered across relays');
  }, 120_000);

  it('refuses a bad profile before anything starts, naming the authority and the field', async () => {
    const file = networksFile((f) => {
      f.profiles!['bi.moj']!.languages = ['French'];
    });
    const r = await cli(['demo', '--networks', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^entraide: .*networks\.json: profiles\["bi\.moj"\]\.languages\.0 has the wrong format or length \[USAGE\]/,
    );
  });

  it('says what to do when the networks file is missing', async () => {
    const r = await cli(['demo', '--networks', '/nonexistent/networks.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^entraide: cannot read the networks file \/nonexistent\/networks.json: give one with --networks FILE \[USAGE\]/,
    );
  });
});
