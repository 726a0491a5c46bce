/**
 * Whether a failure means the relay did not answer (connection refused, timed out, or a 503 that
 * says "later"): the one test that decides whether a sealed item waits in the outbox. It reads the
 * code and the registry, never the message.
 */
import { ERROR_CODES, EntraideError, isTransient } from '../../shared/errors.ts';

export function relayDidNotAnswer(err: unknown): err is EntraideError {
  return err instanceof EntraideError && isTransient(err.code) && ERROR_CODES[err.code].status === 503;
}
