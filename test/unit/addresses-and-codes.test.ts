/** Addresses, UUIDv7 envelope ids, safety codes, and the closed registry of error codes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authorityAddress,
  authorityOfNode,
  checkAuthorityId,
  checkDomain,
  checkNodeName,
  isDomain,
  nodeAddress,
  parseAuthorityAddress,
  parseNodeAddress,
} from '../../shared/addresses.ts';
import { concatBytes, toHex, utf8 } from '../../shared/bytes.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { safetyCode } from '../../shared/crypto/safety-code.ts';
import { sodium } from '../../shared/crypto/sodium.ts';
import {
  EntraideError,
  ERROR_CODES,
  errorFromBody,
  isErrorCode,
  isTransient,
  type ErrorCode,
} from '../../shared/errors.ts';
import { UUID_PATTERN, uuidv7 } from '../../shared/uuid.ts';
import { codeOf, entraideErrorOf, KE_AG, NETWORKS, random, relayOf, SN_MOJ } from './fixtures.ts';

describe('addresses', () => {
  it('parses an authority address', () => {
    expect(parseAuthorityAddress('sn.moj@relay.wacap.example')).toEqual({
      authorityId: 'sn.moj',
      domain: 'relay.wacap.example',
      address: 'sn.moj@relay.wacap.example',
    });
  });

  it('parses a node address', () => {
    expect(parseNodeAddress('desk1/sn.moj@relay.wacap.example')).toEqual({
      nodeName: 'desk1',
      authorityId: 'sn.moj',
      domain: 'relay.wacap.example',
      authority: 'sn.moj@relay.wacap.example',
      address: 'desk1/sn.moj@relay.wacap.example',
    });
    expect(authorityOfNode('desk1/sn.moj@relay.wacap.example')).toBe(SN_MOJ);
  });

  it('accepts the authorities of every member State of every network in networks.json', () => {
    let count = 0;
    for (const network of NETWORKS.networks) {
      for (const country of network.members) {
        const authority = authorityAddress(`${country.toLowerCase()}.moj`, relayOf(network.id));
        expect(parseAuthorityAddress(authority).domain).toBe(`relay.${network.id}.example`);
        const node = nodeAddress('desk1', authority);
        expect(parseNodeAddress(node).authority).toBe(authority);
        count++;
      }
    }
    expect(count).toBeGreaterThan(40);
  });

  it('accepts digits, hyphens and dots where the grammar allows them', () => {
    for (const a of [
      'ke.ag@relay.great-lakes.example',
      'cv.pgr-1@relay.crimjust.example',
      'ng.fmoj@localhost',
      '1.2@a.b',
    ]) {
      expect(parseAuthorityAddress(a).address).toBe(a);
    }
    expect(parseNodeAddress(`site-2.lagos/${KE_AG}`).nodeName).toBe('site-2.lagos');
  });

  const badAuthorities = [
    'SN.moj@relay.wacap.example',
    'sn.moj@relay.WACAP.example',
    'Sn.moj@relay.wacap.example',
    'sn moj@relay.wacap.example',
    'sn.moj @relay.wacap.example',
    ' sn.moj@relay.wacap.example',
    'sn.moj@relay.wacap.example ',
    'sn.moj@relay wacap.example',
    'sn.moj',
    'sn.moj@',
    '@relay.wacap.example',
    '@',
    '',
    'sn.moj@@relay.wacap.example',
    'sn.moj@ke.ag@relay.wacap.example',
    'sn_moj@relay.wacap.example',
    '.sn.moj@relay.wacap.example',
    'sn.moj.@relay.wacap.example',
    'sn.moj@relay.wacap.example.',
    'sn.moj@.relay.wacap.example',
    'sn.moj@relay..wacap.example',
    'sn.moj@-relay.wacap.example',
    'sn.moj@relay-.wacap.example',
    'sn.mój@relay.wacap.example',
    'desk1/sn.moj@relay.wacap.example',
  ];
  it.each(badAuthorities)('rejects the authority address %j with ADDRESS_INVALID', (bad) => {
    const err = entraideErrorOf(() => parseAuthorityAddress(bad));
    expect(err.code).toBe('ADDRESS_INVALID');
    expect(err.message).toContain(JSON.stringify(bad));
  });

  const badNodes = [
    'Desk1/sn.moj@relay.wacap.example',
    'desk1/SN.moj@relay.wacap.example',
    'desk1/sn.moj@Relay.wacap.example',
    'desk 1/sn.moj@relay.wacap.example',
    'desk1 /sn.moj@relay.wacap.example',
    '/sn.moj@relay.wacap.example',
    'desk1/',
    'desk1/@relay.wacap.example',
    'desk1/sn.moj@',
    'desk1//sn.moj@relay.wacap.example',
    'a/desk1/sn.moj@relay.wacap.example',
    'desk1-/sn.moj@relay.wacap.example',
    `${'d'.repeat(33)}/sn.moj@relay.wacap.example`,
    'sn.moj@relay.wacap.example',
    '',
  ];
  it.each(badNodes)('rejects the node address %j with ADDRESS_INVALID', (bad) => {
    expect(codeOf(() => parseNodeAddress(bad))).toBe('ADDRESS_INVALID');
    expect(codeOf(() => authorityOfNode(bad))).toBe('ADDRESS_INVALID');
  });

  it('checks the parts on their own', () => {
    expect(checkDomain('relay.wacap.example')).toBe('relay.wacap.example');
    expect(checkAuthorityId('sn.moj')).toBe('sn.moj');
    expect(checkNodeName('desk1')).toBe('desk1');
    expect(checkNodeName('d'.repeat(32))).toBe('d'.repeat(32));
    for (const bad of ['Relay.example', 'relay example', 'relay.example.', '', `${'a'.repeat(64)}.example`]) {
      expect(
        codeOf(() => checkDomain(bad)),
        bad,
      ).toBe('ADDRESS_INVALID');
    }
    for (const bad of ['SN.moj', 'sn moj', 'sn.moj@relay.example', '', '-sn', 'sn.']) {
      expect(
        codeOf(() => checkAuthorityId(bad)),
        bad,
      ).toBe('ADDRESS_INVALID');
    }
    for (const bad of ['Desk1', 'desk 1', 'desk/1', '', 'd'.repeat(33)]) {
      expect(
        codeOf(() => checkNodeName(bad)),
        bad,
      ).toBe('ADDRESS_INVALID');
    }
  });

  it('limits a domain to 253 characters and a label to 63', () => {
    const label = 'a'.repeat(63);
    const long = [label, label, label, 'a'.repeat(61)].join('.'); // 253 characters
    expect(long.length).toBe(253);
    expect(isDomain(long)).toBe(true);
    expect(isDomain(`a${long}`)).toBe(false);
    expect(isDomain(`${'a'.repeat(64)}.example`)).toBe(false);
  });
});

describe('uuidv7', () => {
  const uuidRe = new RegExp(`^${UUID_PATTERN}$`);

  it('has the RFC 9562 layout: 48-bit milliseconds, version 7, variant 10', () => {
    const ms = Date.UTC(2025, 2, 10, 8, 30, 0, 123);
    const id = uuidv7(ms, new Uint8Array(10));
    expect(id).toMatch(uuidRe);
    expect(id).toBe(
      `${ms
        .toString(16)
        .padStart(12, '0')
        .replace(/^(.{8})/, '$1-')}-7000-8000-000000000000`,
    );
    expect(uuidv7(ms, new Uint8Array(10).fill(0xff))).toBe(
      `${ms
        .toString(16)
        .padStart(12, '0')
        .replace(/^(.{8})/, '$1-')}-7fff-bfff-ffffffffffff`,
    );
  });

  it('matches the pattern for any time and randomness (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        (ms, r) => {
          const id = uuidv7(ms, r);
          return uuidRe.test(id) && parseInt(id.replace(/-/g, '').slice(0, 12), 16) === ms;
        },
      ),
    );
  });

  it('sorts by time: a later millisecond gives a greater id whatever the random bits (property)', () => {
    const ms = fc.integer({ min: 0, max: 2 ** 48 - 2 });
    const r = fc.uint8Array({ minLength: 10, maxLength: 10 });
    fc.assert(
      fc.property(ms, fc.integer({ min: 1, max: 10_000_000 }), r, r, (t, dt, r1, r2) => {
        const later = Math.min(t + dt, 2 ** 48 - 1);
        return uuidv7(t, r1) < uuidv7(later, r2);
      }),
    );
  });

  it('differs for different random bytes in the same millisecond', () => {
    const now = Date.UTC(2025, 2, 10);
    const ids = new Set(Array.from({ length: 100 }, () => uuidv7(now, random(10))));
    expect(ids.size).toBe(100);
  });

  it('refuses fewer than 10 random bytes', () => {
    expect(() => uuidv7(Date.now(), new Uint8Array(9))).toThrow(RangeError);
  });
});

describe('safetyCode', () => {
  const codeRe = /^\d{5}( \d{5}){7}$/;
  const fixedKey = Uint8Array.from({ length: 32 }, (_, i) => i);

  /** Reference written from the comment of safety-code.ts: BLAKE2b-256 of the separated inputs, 8 × (4 bytes BE mod 1e5). */
  function referenceSafetyCode(authority: string, key: Uint8Array): string {
    const zero = new Uint8Array([0]);
    const input = concatBytes(utf8('entraide/v1/safety-code'), zero, utf8(authority), zero, key);
    const digest = sodium().crypto_generichash(32, input, null);
    const view = new DataView(digest.buffer, digest.byteOffset, 32);
    return Array.from({ length: 8 }, (_, g) => String(view.getUint32(g * 4) % 100000).padStart(5, '0')).join(
      ' ',
    );
  }

  it('is 40 digits in 8 groups of 5', () => {
    for (let i = 0; i < 50; i++) expect(safetyCode(SN_MOJ, random(32))).toMatch(codeRe);
  });

  it('is deterministic and matches the reference', () => {
    const key = generateSigningKeyPair(random).publicKey;
    expect(safetyCode(SN_MOJ, key)).toBe(safetyCode(SN_MOJ, key.slice()));
    expect(safetyCode(SN_MOJ, key)).toBe(referenceSafetyCode(SN_MOJ, key));
    expect(safetyCode(SN_MOJ, fixedKey)).toBe(referenceSafetyCode(SN_MOJ, fixedKey));
  });

  it('keeps leading zeros in each group', () => {
    // Find a key whose code has a group below 10000, and check its five digits.
    let found = false;
    for (let i = 0; i < 200 && !found; i++) {
      const key = random(32);
      const code = safetyCode(KE_AG, key);
      const ref = referenceSafetyCode(KE_AG, key);
      expect(code).toBe(ref);
      found = code.split(' ').some((g) => g.startsWith('0'));
    }
    expect(found).toBe(true);
  });

  it('differs for another master key, another authority, or a shifted boundary between them', () => {
    const key = generateSigningKeyPair(random).publicKey;
    const code = safetyCode(SN_MOJ, key);
    expect(safetyCode(SN_MOJ, generateSigningKeyPair(random).publicKey)).not.toBe(code);
    expect(safetyCode(KE_AG, key)).not.toBe(code);
    expect(safetyCode('sn.moj@relay.wacap.exampl', concatBytes(utf8('e'), key))).not.toBe(code);
    const flipped = key.slice();
    flipped[31]! ^= 1;
    expect(safetyCode(SN_MOJ, flipped)).not.toBe(code);
    expect(toHex(key)).not.toBe(toHex(flipped));
  });
});

describe('error codes', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it.each(codes)('%s has an HTTP status in 400..599 and a hint', (code) => {
    const { status, hint } = ERROR_CODES[code];
    expect(Number.isInteger(status)).toBe(true);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThanOrEqual(599);
    expect(hint.trim().length).toBeGreaterThan(0);
    expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(isErrorCode(code)).toBe(true);
  });

  it('says which codes a later attempt may cure (the registry is the one classification)', () => {
    expect(codes.filter(isTransient).sort()).toEqual(
      [
        'BLOB_INCOMPLETE',
        'DATA_DIR_LOCKED',
        'HOME_LOCKED',
        'INTERNAL',
        'KEYLOG_INCONSISTENT',
        'KEYLOG_SPLIT_VIEW',
        'PEER_UNREACHABLE',
        'PROOF_INVALID',
        'QUOTA_EXCEEDED',
        'RATE_LIMITED',
        'RELAY_ANSWER_INVALID',
        'RELAY_UNREACHABLE',
        'STORAGE_UNAVAILABLE',
        'TOKEN_EXPIRED',
        'TOKEN_INVALID',
      ].sort(),
    );
    // An unreachable or overloaded other side is always worth another attempt; a verdict never is.
    for (const code of codes)
      if ([429, 502, 503, 504].includes(ERROR_CODES[code].status)) expect(isTransient(code)).toBe(true);
    for (const verdict of [
      'BAD_SIGNATURE',
      'SCHEMA_INVALID',
      'DECRYPT_FAILED',
      'TRANSITION_INVALID',
    ] as const) {
      expect(isTransient(verdict)).toBe(false);
    }
  });

  it('EntraideError carries code, status and hint, and toJSON gives exactly {error: {code, message}}', () => {
    const err = new EntraideError('NOT_A_RECIPIENT', 'envelope x was not sealed for desk9', {
      secret: 'not on the wire',
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('EntraideError');
    expect(err.code).toBe('NOT_A_RECIPIENT');
    expect(err.status).toBe(422);
    expect(err.hint).toBe(ERROR_CODES.NOT_A_RECIPIENT.hint);
    expect(err.details).toEqual({ secret: 'not on the wire' });
    expect(err.toJSON()).toStrictEqual({
      error: { code: 'NOT_A_RECIPIENT', message: 'envelope x was not sealed for desk9' },
    });
    expect(JSON.parse(JSON.stringify(err))).toStrictEqual(err.toJSON());
  });

  it.each(codes)('errorFromBody round-trips %s through its wire form', (code) => {
    const original = new EntraideError(code, `message for ${code}`);
    const back = errorFromBody(JSON.parse(JSON.stringify(original)));
    expect(back).toBeInstanceOf(EntraideError);
    expect(back.code).toBe(code);
    expect(back.message).toBe(`message for ${code}`);
    expect(back.status).toBe(ERROR_CODES[code].status);
  });

  it('errorFromBody uses the code as message when the message is missing or not a string', () => {
    expect(errorFromBody({ error: { code: 'TOKEN_EXPIRED' } }).message).toBe('TOKEN_EXPIRED');
    expect(errorFromBody({ error: { code: 'TOKEN_EXPIRED', message: 42 } }).message).toBe('TOKEN_EXPIRED');
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'Bad Gateway'],
    ['an empty object', {}],
    ['error as a string', { error: 'TOKEN_EXPIRED' }],
    ['error null', { error: null }],
    ['an unknown code', { error: { code: 'TEAPOT', message: 'short and stout' } }],
    ['a lower-case code', { error: { code: 'token_expired', message: 'x' } }],
    ['a numeric code', { error: { code: 401, message: 'x' } }],
    ['an inherited property name as code', { error: { code: 'toString', message: 'x' } }],
    ['__proto__ as code', { error: { code: '__proto__', message: 'x' } }],
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>'],
  ])('errorFromBody falls back to INTERNAL for %s', (_what, body) => {
    const err = errorFromBody(body, 502);
    expect(err.code).toBe('INTERNAL');
    expect(err.status).toBe(500);
    expect(err.message).toContain('502');
  });

  it('isErrorCode accepts only the registry’s own keys', () => {
    for (const v of ['toString', 'constructor', 'hasOwnProperty', '', 'internal', 42, null, undefined, {}]) {
      expect(isErrorCode(v)).toBe(false);
    }
  });
});
