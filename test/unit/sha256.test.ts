/**
 * The node:crypto hashing of the hot paths (prisma/sha256.ts) gives the same bytes as the pure
 * core's libsodium hashing: leaf hashes of any text (non-ASCII, lone surrogates and all) and the
 * ciphertext hash of any envelope body.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ciphertextHashOf, leafHashOf, leafHashOfText } from '../../prisma/sha256.ts';
import { auditLeafHashOfText } from '../../shared/audit/audit-event.ts';
import { toBase64url, utf8 } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { leafHash } from '../../shared/merkle/hash.ts';
import { ciphertextHash } from '../../shared/receipts/receipt.ts';

beforeAll(async () => {
  await loadSodium();
});

describe('node:crypto hashing equals the core’s', () => {
  it('hashes a leaf given as text like the core', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        expect(leafHashOfText(text)).toEqual(auditLeafHashOfText(text));
      }),
    );
    for (const text of ['\ud800', 'a\udc00b', 'عربى 中文 русский']) {
      expect(leafHashOfText(text)).toEqual(auditLeafHashOfText(text));
    }
    // RFC 9162: the empty leaf is SHA-256(0x00).
    expect(toBase64url(leafHashOfText(''))).toBe('bjQLnP-zepicpUTmu3gKLHiQHT-zNzh2hRGjBhevoB0');
  });

  it('hashes a leaf given as bytes like the core', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(leafHashOf(bytes)).toEqual(leafHash(bytes));
      }),
    );
    expect(leafHashOf(utf8('{"v":1}'))).toEqual(leafHashOfText('{"v":1}'));
  });

  it('hashes a ciphertext like the core', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2_000 }), (bytes) => {
        const ct = toBase64url(bytes);
        expect(ciphertextHashOf(ct)).toBe(ciphertextHash(ct));
      }),
    );
  });
});
