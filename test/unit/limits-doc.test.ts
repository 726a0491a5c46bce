/** The README's table of limits names every limit of server/limits.ts, so that it cannot fall behind. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { relayLimits } from '../../server/limits.ts';
import { ROOT } from '../support/processes.ts';

function paths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => paths(v, prefix ? `${prefix}.${k}` : k));
}

describe('the README’s limits', () => {
  it('names every limit the relay has', () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    const section = readme.slice(
      readme.indexOf('### Limits'),
      readme.indexOf('\n## ', readme.indexOf('### Limits')),
    );
    const limits = relayLimits('default');
    const named = paths({ ...limits, profile: undefined, enforced: undefined })
      .filter((p) => p !== 'profile' && p !== 'enforced')
      // a budget is named as a whole: `rate.anonymous`
      .map((p) => p.replace(/^(rate\.[a-zA-Z]+)\.(max|windowSeconds)$/, '$1'));
    const missing = [...new Set(named)].filter((p) => !section.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });
});
