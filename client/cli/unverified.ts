/**
 * Sending to a counterpart whose safety code was never verified asks the officer first (DESIGN:
 * Keys, Self-monitoring): a master key pinned on first use is only as good as the relays that
 * served it, and comparing the safety code out of band is what proves it. In a terminal the officer
 * is asked once per counterpart; a script is refused (UNVERIFIED_COUNTERPART) unless it passes
 * --unverified-ok.
 */
import { EntraideError } from '../../shared/errors.ts';
import type { AuthorityNode } from '../node.ts';
import { compareAdvice } from '../service/desk.ts';
import { ask } from './fast-confirm.ts';

// The parts that need no node are in fast-confirm.ts (the served path loads them alone).
export { confirmedThrough, marked, UNVERIFIED_OK_OPTION } from './fast-confirm.ts';

/**
 * Before a send to `recipients`: nothing when all are verified (or confirmed before); otherwise asks
 * in a terminal, or throws UNVERIFIED_COUNTERPART in a script without `unverifiedOk`. Returns the
 * counterparts the officer confirmed in the terminal, to record once the send succeeded.
 */
export async function confirmCounterparts(
  node: AuthorityNode,
  recipients: string[],
  unverifiedOk = false,
): Promise<string[]> {
  if (unverifiedOk) return [];
  const unverified = await node.counterparts.unverified(recipients);
  if (unverified.length === 0) return [];
  const advice = unverified.map((u) => compareAdvice(u.authority, u.safetyCode));
  if (!process.stdin.isTTY) {
    throw new EntraideError(
      'UNVERIFIED_COUNTERPART',
      `nothing was sent: ${advice.join('; ')}. In a script, pass --unverified-ok to send anyway`,
    );
  }
  for (const line of advice) process.stderr.write(`${line}\n`);
  const answer = await ask(
    `Send to ${unverified.map((u) => u.authority).join(', ')} without a verified safety code? [y/N] `,
  );
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new EntraideError('UNVERIFIED_COUNTERPART', `nothing was sent: ${advice.join('; ')}`);
  }
  return unverified.map((u) => u.authority);
}

export { compareAdvice, verifiedAuthorities } from '../service/desk.ts';
