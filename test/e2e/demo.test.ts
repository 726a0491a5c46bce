/** `entraide demo` (also `npm run demo`): a newcomer watches three federated relays exchange messages. */
import { describe, expect, it } from 'vitest';
import { cli } from '../support/processes.ts';

describe('entraide demo', () => {
  it('runs three relays and six authorities, and every cross-relay message arrives', async () => {
    const r = await cli(['demo'], {}, 90_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const relay of ['relay.wacap.example', 'relay.great-lakes.example', 'relay.crimjust.example']) {
      expect(r.stdout).toContain(`relay ${relay}`);
    }
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

  it('says what to do when the networks file is missing', async () => {
    const r = await cli(['demo', '--networks', '/nonexistent/networks.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^entraide: cannot read the networks file \/nonexistent\/networks.json: give one with --networks FILE \[USAGE\]/,
    );
  });
});
