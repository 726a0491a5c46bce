import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../shared/canonical.ts';
import { canonicalHeaderBytes, canonicalUnsignedBytes } from '../../shared/crypto/envelope-encoding.ts';

// Any string, including control characters, quotes, non-BMP characters and lone surrogates.
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\ud800', 'a\udfffb', '"\\\n\u0001'),
);
const integer = fc.oneof(fc.integer(), fc.constantFrom(0, 1, 60, 2_592_000, Number.MAX_SAFE_INTEGER));
const recipient = fc.record({ node: text, encKeyId: text, wrappedKey: text });
const header = fc.record({
  v: integer,
  id: text,
  from: text,
  to: fc.array(text, { maxLength: 4 }),
  sentAt: text,
  ttl: integer,
  recipients: fc.array(recipient, { maxLength: 4 }),
  keyCommitment: text,
});
const unsigned = fc
  .record({ h: header, nonce: text, ciphertext: text })
  .map(({ h, nonce, ciphertext }) => ({ ...h, nonce, ciphertext }));

function same(fast: () => Uint8Array, reference: () => Uint8Array): void {
  let expected: Uint8Array | Error;
  try {
    expected = reference();
  } catch (err) {
    expected = err as Error;
  }
  if (expected instanceof Error) expect(fast).toThrow();
  else expect(Buffer.from(fast()).toString('utf8')).toBe(Buffer.from(expected).toString('utf8'));
}

describe('fast canonical encoding of envelopes', () => {
  it('equals the RFC 8785 canonicaliser on every header', () => {
    fc.assert(
      fc.property(header, (h) =>
        same(
          () => canonicalHeaderBytes(h),
          () => canonicalBytes(h),
        ),
      ),
      { numRuns: 500 },
    );
  });

  it('equals the RFC 8785 canonicaliser on every unsigned envelope', () => {
    fc.assert(
      fc.property(unsigned, (u) =>
        same(
          () => canonicalUnsignedBytes(u),
          () => canonicalBytes(u),
        ),
      ),
      { numRuns: 500 },
    );
  });

  it('equals it on objects of another shape too (extra, missing or mistyped fields)', () => {
    const offShape = fc.oneof(
      header.map((h) => ({ ...h, extra: 'field' })),
      header.map(({ ttl: _ttl, ...rest }) => rest),
      header.map((h) => ({ ...h, ttl: String(h.ttl) })),
      header.map((h) => ({ ...h, v: 1.5 })),
      header.map((h) => ({ ...h, recipients: [{ node: 'n', encKeyId: 'k' }] })),
      header.map((h) => ({ ...h, to: 'not-an-array' })),
    );
    fc.assert(
      fc.property(offShape, (o) =>
        same(
          () => canonicalHeaderBytes(o),
          () => canonicalBytes(o),
        ),
      ),
      { numRuns: 300 },
    );
  });
});

describe('fast canonical encoding of format 2 envelopes (masterKeys)', () => {
  const masterKey = fc.record({ authority: text, fingerprint: text });
  const headerV2 = fc
    .record({ h: header, masterKeys: fc.array(masterKey, { maxLength: 4 }) })
    .map(({ h, masterKeys }) => ({ ...h, masterKeys }));

  it('equals the RFC 8785 canonicaliser on every header and unsigned envelope', () => {
    fc.assert(
      fc.property(headerV2, text, text, (h, nonce, ciphertext) => {
        same(
          () => canonicalHeaderBytes(h),
          () => canonicalBytes(h),
        );
        const u = { ...h, nonce, ciphertext };
        same(
          () => canonicalUnsignedBytes(u),
          () => canonicalBytes(u),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('equals it when masterKeys is off shape', () => {
    const offShape = fc.oneof(
      headerV2.map((h) => ({ ...h, masterKeys: 'not-an-array' })),
      headerV2.map((h) => ({ ...h, masterKeys: [{ authority: 'a' }] })),
      headerV2.map((h) => ({ ...h, masterKeys: [{ authority: 'a', fingerprint: 'f', extra: 1 }] })),
      headerV2.map((h) => ({ ...h, masterKeys: [null] })),
    );
    fc.assert(
      fc.property(offShape, (o) =>
        same(
          () => canonicalHeaderBytes(o),
          () => canonicalBytes(o),
        ),
      ),
      { numRuns: 200 },
    );
  });
});
