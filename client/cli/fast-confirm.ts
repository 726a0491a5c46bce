/**
 * The parts of the unverified-counterpart flow (unverified.ts) that need no node: the option, the
 * question in a terminal, the retry of a send through the node's service, and the mark in lists.
 * Kept apart so that the served path (fast.ts) loads them without the node.
 */
import { createInterface } from 'node:readline';
import { EntraideError } from '../../shared/errors.ts';

export const UNVERIFIED_OK_OPTION = [
  '--unverified-ok',
  'send even to counterparts whose safety code was never verified (for scripts)',
] as const;

export function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}

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
