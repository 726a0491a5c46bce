/**
 * Maps anything thrown to the wire error body; unknown errors never leak their text. A storage
 * fault (a busy, full or failing database, from better-sqlite3 or through Prisma) is 503
 * STORAGE_UNAVAILABLE with Retry-After, never 500: the request may succeed later.
 */
import { storageFaultOf, storageUnavailable } from '../prisma/storage-faults.ts';
import { EntraideError, type ErrorBody } from '../shared/errors.ts';

export function toEntraideError(err: unknown): EntraideError {
  if (err instanceof EntraideError) return err;
  const fault = storageFaultOf(err);
  if (fault) return storageUnavailable(fault, err);
  return new EntraideError('INTERNAL', 'the relay could not complete the request');
}

export function toErrorBody(err: unknown): ErrorBody {
  return toEntraideError(err).toJSON();
}
