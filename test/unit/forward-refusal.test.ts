/**
 * A relay's answer for one forwarded envelope (server/domain/forward-refusal.ts): refused for good
 * only on a verdict about the envelope itself; anything about the relay's state just now is
 * `transient`, and the sending relay's outbox reads its results in order, each once, even when two
 * senders' envelopes share an id in one batch (server/federation/outbox.ts, matchResults).
 */
import { describe, expect, it } from 'vitest';
import {
  forwardRefusal,
  isTemporary,
  KEYS_RETRY_AFTER_SECONDS,
  requestRefusal,
  temporarily,
} from '../../server/domain/forward-refusal.ts';
import { matchResults } from '../../server/federation/outbox.ts';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';

const refusal = (code: ErrorCode) => new EntraideError(code, `${code} for the test`);

describe('a refusal of a forwarded envelope', () => {
  it('is final for a verdict on the envelope itself', () => {
    for (const code of [
      'BAD_SIGNATURE',
      'SCHEMA_INVALID',
      'PAYLOAD_TOO_LARGE',
      'ENVELOPE_ID_CONFLICT',
      'UNKNOWN_RECIPIENT',
      'UNKNOWN_SENDER',
      'ENVELOPE_EXPIRED',
      'FORBIDDEN',
    ] as const) {
      expect(forwardRefusal(refusal(code))).toEqual({ code, message: `${code} for the test` });
    }
  });

  it('is transient for what the relay cannot do or check just now', () => {
    for (const code of [
      'PEER_UNREACHABLE',
      'TOKEN_EXPIRED',
      'TOKEN_INVALID',
      'STORAGE_UNAVAILABLE',
      'QUOTA_EXCEEDED',
      'RATE_LIMITED',
      'INTERNAL',
      'PROOF_INVALID',
      'KEYLOG_INCONSISTENT',
      'ENVELOPE_CLOCK_SKEW',
    ] as const) {
      expect(forwardRefusal(refusal(code))).toEqual({
        code,
        message: `${code} for the test`,
        transient: true,
      });
    }
  });

  it('is transient, with its code kept, for any failure marked temporary (the sender’s keys not readable)', () => {
    const marked = temporarily(refusal('NOT_FOUND'));
    expect(isTemporary(refusal('NOT_FOUND'))).toBe(false);
    expect(forwardRefusal(marked)).toEqual({
      code: 'NOT_FOUND',
      message: 'NOT_FOUND for the test',
      transient: true,
    });
    // Not an EntraideError: an unexpected failure, never its text.
    expect(forwardRefusal(temporarily(new TypeError('secret detail')))).toEqual({
      code: 'INTERNAL',
      message: 'the relay could not complete the request',
      transient: true,
    });
  });
});

describe('a failure of the relay or of its link, not of one envelope', () => {
  it('refuses the whole request: 503 for the senders’ keys not readable, with Retry-After; storage and unexpected failures as they are', () => {
    const keys = requestRefusal(temporarily(refusal('TOKEN_EXPIRED')), 'relay.a.test') as EntraideError;
    expect([keys.code, keys.status, keys.retryAfter]).toEqual([
      'PEER_UNREACHABLE',
      503,
      KEYS_RETRY_AFTER_SECONDS,
    ]);
    expect(keys.message).toMatch(/relay\.a\.test .*TOKEN_EXPIRED/);
    const storage = refusal('STORAGE_UNAVAILABLE');
    expect(requestRefusal(storage, 'relay.a.test')).toBe(storage);
    const unexpected = new TypeError('boom');
    expect(requestRefusal(unexpected, 'relay.a.test')).toBe(unexpected);
  });

  it('leaves a refusal about one envelope to that envelope', () => {
    for (const code of ['BAD_SIGNATURE', 'QUOTA_EXCEEDED', 'ENVELOPE_CLOCK_SKEW', 'UNKNOWN_SENDER'] as const)
      expect(requestRefusal(refusal(code), 'relay.a.test')).toBeUndefined();
  });
});

describe('the outbox reading a peer’s results', () => {
  const X = '0190a000-0000-7000-8000-000000000001';
  const Y = '0190a000-0000-7000-8000-000000000002';
  const items = [{ envelopeId: X }, { envelopeId: Y }, { envelopeId: X }];

  it('takes them in order, one per envelope sent, two senders’ envelopes under one id included', () => {
    const results = [
      { id: X, status: 'accepted' as const },
      { id: Y, status: 'duplicate' as const },
      { id: X, status: 'accepted' as const, conflicts: [{ otherSender: 'desk1/ci.x@relay.c.test' }] },
    ];
    expect(matchResults(items, results)).toEqual(results);
  });

  it('reads an answer out of order by id, each result once, and nothing for an envelope it left out', () => {
    const first = { id: X, status: 'accepted' as const };
    const second = {
      id: X,
      status: 'refused' as const,
      error: { code: 'QUOTA_EXCEEDED', message: 'm', transient: true },
    };
    expect(matchResults(items, [first, second])).toEqual([first, undefined, second]);
  });
});
