/** Maps anything thrown to the wire error body; unknown errors never leak their text. */
import { EntraideError, type ErrorBody } from '../shared/errors.ts';

export function toEntraideError(err: unknown): EntraideError {
  if (err instanceof EntraideError) return err;
  return new EntraideError('INTERNAL', 'the relay could not complete the request');
}

export function toErrorBody(err: unknown): ErrorBody {
  return toEntraideError(err).toJSON();
}
