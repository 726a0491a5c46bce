/**
 * Sending to a counterpart whose safety code was never verified asks the officer first (DESIGN:
 * Keys, Self-monitoring): a master key pinned on first use is only as good as the relays that
 * served it, and comparing the safety code out of band is what proves it. In a terminal the officer
 * is asked once per counterpart; a script is refused (UNVERIFIED_COUNTERPART) unless it passes
 * --unverified-ok.
 */
import { createInterface } from 'node:readline';
import { EntraideError } from '../../shared/errors.ts';
import type { AuthorityNode } from '../node.ts';
import { compareAdvice } from '../service/desk.ts';

export const UNVERIFIED_OK_OPTION = [
  '--unverified-ok',
  'send even to counterparts whose safety code was never verified (for scripts)',
] as const;

function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}

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

/**
 * A send through the node's service: refused with UNVERIFIED_COUNTERPART by the service, it is
 * asked in a terminal as a send from the CLI's own node is, and sent again with the officer's
 * confirmation of `recipients`. In a script the refusal stands (--unverified-ok sends anyway).
 */
export async function confirmedThrough<T>(
  send: (extra: { confirmed?: string[] }) => Promise<T>,
  recipients: string[],
): Promise<T> {
  try {
    return await send({});
  } catch (err) {
    if (!(err instanceof EntraideError) || err.code !== 'UNVERIFIED_COUNTERPART' || !process.stdin.isTTY)
      throw err;
    process.stderr.write(`${err.message}\n`);
    const answer = await ask('Send without a verified safety code? [y/N] ');
    if (!/^y(es)?$/i.test(answer.trim())) throw err;
    return send({ confirmed: recipients });
  }
}

/** An authority or node address, marked when its authority's safety code was never verified. */
export function marked(address: string, verified: ReadonlySet<string>): string {
  const authority = address.includes('/') ? address.slice(address.indexOf('/') + 1) : address;
  return verified.has(authority) ? address : `${address} (unverified)`;
}
