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
  }, 120_000);

  it('says what to do when the networks file is missing', async () => {
    const r = await cli(['demo', '--networks', '/nonexistent/networks.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^entraide: cannot read the networks file \/nonexistent\/networks.json: give one with --networks FILE \[USAGE\]/,
    );
  });
});
