/**
 * The error part of every route's response schema, in one place. Every error body has the one
 * shape of `ErrorResponse`; each route group names the statuses its routes can answer with, and
 * only statuses that some code of the error registry carries can be named.
 */
import type { ERROR_CODES, ErrorCode } from '../../shared/errors.ts';
import { ErrorResponse } from '../../shared/protocol/schemas.ts';

/** A status some error code answers with. */
export type ErrorStatus = (typeof ERROR_CODES)[ErrorCode]['status'];

/** `{ [status]: ErrorResponse }` for each status given, to spread into a route's `response`. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Record<S, typeof ErrorResponse> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorResponse])) as Record<S, typeof ErrorResponse>;
}
