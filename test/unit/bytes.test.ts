/** Bytes: strict unpadded base64url (one text form per byte string), UTF-8, hex, concatenation. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base64urlLength,
  concatBytes,
  fromBase64url,
  fromUtf8,
  toBase64url,
  toHex,
  utf8,
} from '../../shared/bytes.ts';
import { codeOf, entraideErrorOf, random } from './fixtures.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Node's own encoder is the reference: RFC 4648 §5, without padding. */
const nodeBase64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

describe('base64url', () => {
  it('round-trips every length from 0 to 70 and matches RFC 4648 §5 without padding', () => {
    for (let n = 0; n <= 70; n++) {
      const bytes = random(n);
      const text = toBase64url(bytes);
      expect(text).toBe(nodeBase64url(bytes));
      expect(text.length).toBe(base64urlLength(n));
      expect(fromBase64url(text)).toEqual(bytes);
      expect(fromBase64url(text, 'field', n)).toEqual(bytes);
    }
  });

  it('round-trips arbitrary byte strings (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 70 }), (bytes) => {
        const text = toBase64url(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(text).toBe(nodeBase64url(bytes));
        expect(fromBase64url(text)).toEqual(bytes);
      }),
    );
  });

  it('decodes only canonical text: every accepted text re-encodes to itself (property)', () => {
    const text = fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 0, maxLength: 40 });
    fc.assert(
      fc.property(text, (t) => {
        let bytes: Uint8Array;
        try {
          bytes = fromBase64url(t);
        } catch {
          return true;
        }
        return toBase64url(bytes) === t;
      }),
    );
  });

  it('encodes the RFC 4648 §10 test vectors (base64url form, padding removed)', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(toBase64url(utf8(plain))).toBe(encoded);
      expect(fromUtf8(fromBase64url(encoded))).toBe(plain);
    }
    // The two characters where base64url differs from base64.
    expect(toBase64url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(fromBase64url('-_8')).toEqual(new Uint8Array([0xfb, 0xff]));
  });

  it.each([
    ['padding', 'Zg=='],
    ['a single padding character', 'Zm8='],
    ['"+" from the base64 alphabet', 'Zm+v'],
    ['"/" from the base64 alphabet', 'Zm/v'],
    ['a space', 'Zm9 v'],
    ['a leading space', ' Zm9v'],
    ['a trailing newline', 'Zm9v\n'],
    ['a tab', 'Zm\t9v'],
    ['a non-ASCII letter', 'Zm9é'],
    ['a full-width letter', 'Ｚm9v'],
    ['a NUL character', 'Zm9\u0000'],
  ])('rejects %s with SCHEMA_INVALID', (_what, text) => {
    expect(codeOf(() => fromBase64url(text))).toBe('SCHEMA_INVALID');
  });

  it('rejects the lengths that no byte string has (1 mod 4)', () => {
    for (const text of ['A', 'AAAAA', 'AAAAAAAAA', `${'A'.repeat(40)}A`]) {
      const err = entraideErrorOf(() => fromBase64url(text, 'nonce'));
      expect(err.code).toBe('SCHEMA_INVALID');
      expect(err.message).toContain('nonce');
    }
  });

  it('rejects a last character with unused low bits set, exactly (one byte: 4 bits, two bytes: 2 bits)', () => {
    // One byte is two characters: the second carries 2 bits of data and 4 unused bits.
    const oneByteOk = [...ALPHABET].filter((_, i) => i % 16 === 0);
    expect(oneByteOk).toEqual(['A', 'Q', 'g', 'w']);
    for (const [i, c] of [...ALPHABET].entries()) {
      const text = `A${c}`;
      if (i % 16 === 0) expect(fromBase64url(text)).toEqual(new Uint8Array([i >> 4]));
      else
        expect(
          codeOf(() => fromBase64url(text)),
          text,
        ).toBe('SCHEMA_INVALID');
    }
    // Two bytes are three characters: the third carries 4 bits of data and 2 unused bits.
    for (const [i, c] of [...ALPHABET].entries()) {
      const text = `AA${c}`;
      if (i % 4 === 0) expect(fromBase64url(text)).toEqual(new Uint8Array([0, i >> 2]));
      else
        expect(
          codeOf(() => fromBase64url(text)),
          text,
        ).toBe('SCHEMA_INVALID');
    }
    expect(codeOf(() => fromBase64url('AB'))).toBe('SCHEMA_INVALID');
    expect(fromBase64url('AQ')).toEqual(new Uint8Array([1]));
    // A 32-byte key (43 characters) ending in a character with low bits set.
    const key = toBase64url(new Uint8Array(32));
    expect(key.endsWith('A')).toBe(true);
    expect(codeOf(() => fromBase64url(`${key.slice(0, -1)}B`))).toBe('SCHEMA_INVALID');
  });

  it('rejects an unexpected length with SCHEMA_INVALID naming the field and both lengths', () => {
    const text = toBase64url(random(31));
    const err = entraideErrorOf(() => fromBase64url(text, 'identityKey', 32));
    expect(err.code).toBe('SCHEMA_INVALID');
    expect(err.message).toContain('identityKey');
    expect(err.message).toContain('32');
    expect(err.message).toContain('31');
    expect(codeOf(() => fromBase64url(toBase64url(random(33)), 'identityKey', 32))).toBe('SCHEMA_INVALID');
    expect(codeOf(() => fromBase64url('', 'identityKey', 32))).toBe('SCHEMA_INVALID');
    expect(fromBase64url('', 'empty', 0)).toEqual(new Uint8Array(0));
  });

  it('names the field in the message of a bad character', () => {
    const err = entraideErrorOf(() => fromBase64url('Zm+v', 'wrappedKey'));
    expect(err.message).toContain('wrappedKey');
  });

  it('base64urlLength is the unpadded length', () => {
    expect([0, 1, 2, 3, 16, 24, 32, 64, 80].map(base64urlLength)).toEqual([0, 2, 3, 4, 22, 32, 43, 86, 107]);
  });
});

describe('utf8, hex and concatenation', () => {
  it('utf8 and fromUtf8 round-trip, and fromUtf8 refuses malformed UTF-8', () => {
    const text = 'Entraide judiciaire — 司法协助 — المساعدة القانونية 😀';
    expect(fromUtf8(utf8(text))).toBe(text);
    expect(toHex(utf8('é€'))).toBe('c3a9e282ac');
    expect(() => fromUtf8(new Uint8Array([0xc3]))).toThrow();
    expect(() => fromUtf8(new Uint8Array([0xff, 0xfe]))).toThrow();
  });

  it('toHex is lower-case with two digits per byte', () => {
    expect(toHex(new Uint8Array([0, 1, 0x0f, 0x10, 0xab, 0xff]))).toBe('00010f10abff');
    expect(toHex(new Uint8Array(0))).toBe('');
  });

  it('concatBytes joins in order and copies', () => {
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array([]);
    const c = new Uint8Array([3]);
    const joined = concatBytes(a, b, c);
    expect(joined).toEqual(new Uint8Array([1, 2, 3]));
    a[0] = 9;
    expect(joined[0]).toBe(1);
    expect(concatBytes()).toEqual(new Uint8Array(0));
  });
});
