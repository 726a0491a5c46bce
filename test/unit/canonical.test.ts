/**
 * Canonical encoding (RFC 8785, JSON Canonicalization Scheme) and domain-separated signing bytes.
 * Vectors are copied from RFC 8785 with the section named; a reference serializer written from
 * the RFC's rules cross-checks the library on generated values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../shared/bytes.ts';
import { canonicalBytes, canonicalString } from '../../shared/canonical.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signingBytes, signObject, verifyObject } from '../../shared/crypto/signing.ts';
import { codeOf, random, SN_MOJ } from './fixtures.ts';

// ---- reference serializer, from RFC 8785 section 3.2 -------------------------------------------

/** RFC 8785 §3.2.2.2: only `"`, `\` and the controls below U+0020 are escaped. */
function referenceString(s: string): string {
  const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const high = c <= 0xdbff;
      const next = s.charCodeAt(i + 1);
      if (!high || !(next >= 0xdc00 && next <= 0xdfff)) throw new Error('lone surrogate (not I-JSON)');
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (short[c] !== undefined) out += short[c];
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i]!;
  }
  return `${out}"`;
}

/** RFC 8785 §3.2: ES6 number form, properties sorted by UTF-16 code units, no whitespace. */
function reference(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('not I-JSON');
    return Object.is(value, -0) ? '0' : String(value); // §3.2.2.3: ES6 Number.prototype.toString
  }
  if (typeof value === 'string') return referenceString(value);
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    // §3.2.3: sort by UTF-16 code units; Array.prototype.sort without a comparator does exactly that.
    const keys = entries.map(([k]) => k).sort();
    const obj = value as Record<string, unknown>;
    return `{${keys.map((k) => `${referenceString(k)}:${reference(obj[k])}`).join(',')}}`;
  }
  throw new Error(`no JSON form for ${typeof value}`);
}

/** The same JSON value with the insertion order of every object's keys reversed. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so that a "__proto__" key stays a key.
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversedKeys(v)]),
    );
  }
  return value;
}

const jsonValue = fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 });

// ---- vectors ---------------------------------------------------------------------------------

/** RFC 8785 Appendix B, "Number Serialization Samples": IEEE 754 bit pattern, expected text. */
const APPENDIX_B_NUMBERS: [string, string, string][] = [
  ['0000000000000000', '0', 'zero'],
  ['8000000000000000', '0', 'minus zero'],
  ['0000000000000001', '5e-324', 'min pos number'],
  ['8000000000000001', '-5e-324', 'min neg number'],
  ['7fefffffffffffff', '1.7976931348623157e+308', 'max pos number'],
  ['ffefffffffffffff', '-1.7976931348623157e+308', 'max neg number'],
  ['4340000000000000', '9007199254740992', 'max pos int'],
  ['c340000000000000', '-9007199254740992', 'max neg int'],
  ['4430000000000000', '295147905179352830000', '~2**68'],
  ['44b52d02c7e14af5', '9.999999999999997e+22', ''],
  ['44b52d02c7e14af6', '1e+23', ''],
  ['44b52d02c7e14af7', '1.0000000000000001e+23', ''],
  ['444b1ae4d6e2ef4e', '999999999999999700000', ''],
  ['444b1ae4d6e2ef4f', '999999999999999900000', ''],
  ['444b1ae4d6e2ef50', '1e+21', ''],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7', ''],
  ['3eb0c6f7a0b5ed8d', '0.000001', ''],
  ['41b3de4355555553', '333333333.3333332', ''],
  ['41b3de4355555554', '333333333.33333325', ''],
  ['41b3de4355555555', '333333333.3333333', ''],
  ['41b3de4355555556', '333333333.3333334', ''],
  ['41b3de4355555557', '333333333.33333343', ''],
  ['becbf647612f3696', '-0.0000033333333333333333', ''],
  ['43143ff3c1cb0959', '1424953923781206.2', 'round to even'],
];

/** RFC 8785 Appendix B: NaN and Infinity have no JSON form and must raise an error (-Infinity added). */
const APPENDIX_B_ERRORS = ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000'];

function doubleFromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

/** RFC 8785 §3.2.2: the example object, as JSON text to be parsed. */
const SECTION_3_2_2_INPUT = String.raw`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`;
/** RFC 8785 §3.2.2: its canonical form. */
const SECTION_3_2_2_OUTPUT = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
/** RFC 8785 §3.2.4: the same output as UTF-8, in hexadecimal. */
const SECTION_3_2_4_UTF8 = `
  7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
  75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
  5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
  65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
  5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
  30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`.replace(/\s+/g, '');

/** RFC 8785 §3.2.3: property sorting by UTF-16 code units. */
const SECTION_3_2_3_INPUT = String.raw`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`;
const SECTION_3_2_3_ORDER = [
  'Carriage Return',
  'One',
  'Control',
  'Latin Small Letter O With Diaeresis',
  'Euro Sign',
  'Emoji: Grinning Face',
  'Hebrew Letter Dalet With Dagesh',
];

describe('canonicalString: RFC 8785 vectors', () => {
  it.each(APPENDIX_B_NUMBERS)('Appendix B: %s serializes as %s (%s)', (hex, expected) => {
    expect(canonicalString(doubleFromHex(hex))).toBe(expected);
    expect(canonicalString([doubleFromHex(hex)])).toBe(`[${expected}]`);
  });

  it.each(APPENDIX_B_ERRORS)('Appendix B: %s (NaN or an infinity) has no canonical form', (hex) => {
    expect(() => canonicalString(doubleFromHex(hex))).toThrow();
    expect(() => canonicalString({ ttl: doubleFromHex(hex) })).toThrow();
  });

  it('§3.2.2: numbers, string escaping and literals of the example object', () => {
    expect(canonicalString(JSON.parse(SECTION_3_2_2_INPUT))).toBe(SECTION_3_2_2_OUTPUT);
  });

  it('§3.2.4: the canonical bytes of the example object are its UTF-8 encoding', () => {
    expect(toHex(canonicalBytes(JSON.parse(SECTION_3_2_2_INPUT)))).toBe(SECTION_3_2_4_UTF8);
  });

  it('§3.2.3: sorts properties by UTF-16 code units, not by code point or locale', () => {
    const text = canonicalString(JSON.parse(SECTION_3_2_3_INPUT));
    const values = Object.values(JSON.parse(text) as Record<string, string>);
    // Integer-like keys ("1") are reordered by JSON.parse itself, so read the order from the text.
    const order = SECTION_3_2_3_ORDER.map((v) => text.indexOf(`"${v}"`));
    expect(order.every((pos, i) => pos > 0 && (i === 0 || pos > order[i - 1]!))).toBe(true);
    expect(values.sort()).toEqual([...SECTION_3_2_3_ORDER].sort());
    expect(text.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"')).toBe(true);
  });

  it('§3.2.2.2: escapes only ", \\ and controls below U+0020, lower-case hex', () => {
    expect(canonicalString('\u0000\u0008\u0009\u000a\u000b\u000c\u000d\u001f')).toBe(
      '"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f"',
    );
    expect(canonicalString('"\\/')).toBe('"\\"\\\\/"');
    // DEL, U+2028 / U+2029 and non-ASCII travel as themselves.
    expect(canonicalString('\u007f\u2028\u2029é€😀')).toBe('"\u007f\u2028\u2029é€😀"');
  });

  it('§3.2.2.2 / I-JSON: a lone surrogate has no canonical form', () => {
    expect(() => canonicalString('\ud83d')).toThrow();
    expect(() => canonicalString({ subject: 'x\ude00' })).toThrow();
  });

  it('has no form for undefined: SCHEMA_INVALID', () => {
    expect(codeOf(() => canonicalString(undefined))).toBe('SCHEMA_INVALID');
  });
});

describe('canonicalString: properties', () => {
  it('does not depend on the order of object keys', () => {
    const a = { v: 1, to: [SN_MOJ], ttl: 3600, recipients: [{ node: `desk1/${SN_MOJ}`, encKeyId: 'x' }] };
    const b = { recipients: [{ encKeyId: 'x', node: `desk1/${SN_MOJ}` }], ttl: 3600, to: [SN_MOJ], v: 1 };
    expect(canonicalString(a)).toBe(canonicalString(b));
    expect(canonicalString(a)).toBe(
      `{"recipients":[{"encKeyId":"x","node":"desk1/${SN_MOJ}"}],"to":["${SN_MOJ}"],"ttl":3600,"v":1}`,
    );
    fc.assert(fc.property(jsonValue, (v) => canonicalString(reversedKeys(v)) === canonicalString(v)));
  });

  it('keeps a "__proto__" key that JSON.parse made an own property', () => {
    const parsed: unknown = JSON.parse('{"b":1,"__proto__":{"x":1}}');
    expect(canonicalString(parsed)).toBe('{"__proto__":{"x":1},"b":1}');
    expect(canonicalString(parsed)).not.toBe(canonicalString({ b: 1 }));
  });

  it('keeps the order of array elements', () => {
    expect(canonicalString([2, 1])).not.toBe(canonicalString([1, 2]));
  });

  it('matches the reference serializer written from the RFC', () => {
    fc.assert(fc.property(jsonValue, (v) => canonicalString(v) === reference(v)));
  });

  it('is stable: parsing the canonical form and encoding again changes nothing', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const once = canonicalString(v);
        return canonicalString(JSON.parse(once)) === once;
      }),
    );
  });

  it('canonicalBytes is the UTF-8 encoding of canonicalString', () => {
    fc.assert(fc.property(jsonValue, (v) => toHex(canonicalBytes(v)) === toHex(utf8(canonicalString(v)))));
  });
});

describe('signingBytes', () => {
  const value = { b: 'é', a: [1, 2.5] };

  it.each(Object.values(CONTEXTS))(
    'for %s is the context, a zero byte, then the canonical bytes',
    (context) => {
      const bytes = signingBytes(context, value);
      const prefix = utf8(context);
      expect(bytes.subarray(0, prefix.length)).toEqual(prefix);
      expect(bytes[prefix.length]).toBe(0);
      expect(bytes.subarray(prefix.length + 1)).toEqual(canonicalBytes(value));
      expect(bytes.length).toBe(prefix.length + 1 + canonicalBytes(value).length);
      expect(toHex(bytes)).toBe(`${toHex(utf8(context))}00${toHex(utf8('{"a":[1,2.5],"b":"é"}'))}`);
    },
  );

  it('the contexts are distinct and contain no zero byte', () => {
    const contexts = Object.values(CONTEXTS);
    expect(new Set(contexts).size).toBe(contexts.length);
    for (const c of contexts) expect(utf8(c).includes(0)).toBe(false);
  });

  it('separates domains: a signature made for one context does not verify under another', () => {
    const key = generateSigningKeyPair(random);
    for (const made of Object.values(CONTEXTS)) {
      const sig = signObject(made, value, key.secretKey);
      for (const checked of Object.values(CONTEXTS)) {
        expect(verifyObject(checked, value, sig, key.publicKey)).toBe(made === checked);
      }
      // Key order of the signed object does not matter; its content does.
      expect(verifyObject(made, { a: [1, 2.5], b: 'é' }, sig, key.publicKey)).toBe(true);
      expect(verifyObject(made, { a: [1, 2.5], b: 'e' }, sig, key.publicKey)).toBe(false);
    }
  });
});

describe('values without a canonical form', () => {
  it.each([
    ['a lone surrogate', { s: '\ud800' }],
    ['NaN', { n: Number.NaN }],
    ['Infinity', { n: Number.POSITIVE_INFINITY }],
  ])('refuses %s with SCHEMA_INVALID', (_name, value) => {
    expect(() => canonicalString(value)).toThrow(expect.objectContaining({ code: 'SCHEMA_INVALID' }));
  });
});
