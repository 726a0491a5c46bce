/**
 * Who is acting on the node just now: the officer signed in to the local service, carried through
 * the asynchronous work of one request so that the node's record can name who sent and who opened
 * what, without threading a name through every desk.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<string>();

/** Runs `operation` on behalf of `officer`: what it sends or opens is recorded under that name. */
export function asOfficer<T>(officer: string, operation: () => T): T {
  return current.run(officer, operation);
}

/** The officer on whose behalf the current operation runs, if any. */
export function currentOfficer(): string | undefined {
  return current.getStore();
}
