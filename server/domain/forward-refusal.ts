/**
 * How a relay refuses what a peer forwards. A verdict on one envelope (a bad signature or schema,
 * a recipient not here, past its time to live, the same sender's other envelope under that id...)
 * refuses that envelope for good. Anything else is no verdict, and is answered so that the peer
 * tries again later:
 * - about one envelope just now (over a quota here, dated ahead of this relay's clock): that
 *   envelope is refused `transient`, and the peer's outbox tries it again after its own backoff
 *   while the others go on;
 * - about this relay or its link to the peer (its storage failing, the senders' keys it cannot
 *   read from the peer, an unexpected failure): the whole request is answered 503 (or 500), and
 *   the peer tries the batch again from its first envelope, which keeps each sender's order.
 * Wrongly final would lose an envelope; wrongly transient costs retries until the envelope
 * expires: in doubt, transient.
 */
import type { Static } from '@sinclair/typebox';
import { EntraideError, isTransient } from '../../shared/errors.ts';
import type { ForwardResult } from '../../shared/protocol/federation.ts';
import { toEntraideError } from '../errors.ts';

type RefusalBody = NonNullable<Static<typeof ForwardResult>['error']>;

/** What a whole request refused for the senders' keys says to wait before the batch comes again. */
export const KEYS_RETRY_AFTER_SECONDS = 5;

/**
 * The same failure, marked as one of this relay's link to the peer (its code and message kept):
 * the senders' keys could not be read or checked just now. Anything but an EntraideError becomes
 * the storage fault or INTERNAL it maps to.
 */
export function temporarily(err: unknown): EntraideError {
  const e = toEntraideError(err);
  return new EntraideError(e.code, e.message, { ...e.details, temporary: true });
}

/**
 * Whether a refusal is about this relay's state now rather than the envelope: a code the registry
 * calls transient, a failure marked by `temporarily`, or a date ahead of this relay's clock (the
 * sending relay accepted it by its own clock: the two clocks disagree, and time settles it).
 */
export function isTemporary(err: EntraideError): boolean {
  return isTransient(err.code) || err.details?.temporary === true || err.code === 'ENVELOPE_CLOCK_SKEW';
}

/** The refusal of one envelope as the peer reads it, with `transient: true` when it should try again. */
export function forwardRefusal(err: EntraideError): RefusalBody {
  return { code: err.code, message: err.message, ...(isTemporary(err) ? { transient: true } : {}) };
}

/**
 * The whole request's refusal when `err` is a failure of this relay or of its link to the peer
 * (see above), or undefined when it is about one envelope.
 */
export function requestRefusal(err: unknown, peer: string): unknown {
  if (!(err instanceof EntraideError)) return err; // unexpected: 500 INTERNAL, or 503 for a storage fault
  if (err.details?.temporary !== true)
    return err.code === 'INTERNAL' || err.code === 'STORAGE_UNAVAILABLE' ? err : undefined;
  return new EntraideError(
    'PEER_UNREACHABLE',
    `the keys of the senders could not be read from ${peer} just now (${err.code}: ${err.message}); nothing of this request is refused for good: send it again`,
    { retryAfter: KEYS_RETRY_AFTER_SECONDS },
  );
}
