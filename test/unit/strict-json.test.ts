/** The relay's JSON rules: no key twice in an object, no __proto__ or constructor key, bounded nesting. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonText, MAX_JSON_DEPTH, parseStrictJson } from '../../shared/protocol/strict-json.ts';

const invalid = expect.objectContaining({ code: 'INVALID_JSON' });

describe('checkJsonText', () => {
  it('accepts whatever JSON.stringify writes (keys are unique there)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value);
        // jsonValue may generate keys that are refused on purpose.
        if (/"(__proto__|constructor)":/.test(text)) return;
        expect(() => checkJsonText(text)).not.toThrow();
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('finds a key written twice in any object, however the key is escaped', () => {
    for (const text of [
      '{"a":1,"a":2}',
      '{"a":1,"b":{"c":1},"a":2}',
      '[{"x":[1,2,{"y":1,"y":1}]}]',
      '{"a":1,"\\u0061":2}',
      '{"k\\"":1, "k\\"" : 2}',
      ' { "a" : "x\\\\" , "a" : 1 } ',
    ])
      expect(() => checkJsonText(text), text).toThrow(invalid);
    // The same key in two objects, or as a value, is fine.
    for (const text of [
      '{"a":{"a":1},"b":{"a":2}}',
      '{"a":"a","b":"a"}',
      '[{"a":1},{"a":1}]',
      '{"a\\\\":1,"a":2}',
    ])
      expect(() => checkJsonText(text), text).not.toThrow();
  });

  it('finds a duplicate wherever fast-check puts it', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 6 }),
        fc.nat(),
        (dict, pick) => {
          const keys = Object.keys(dict).filter((k) => k !== '__proto__' && k !== 'constructor');
          if (keys.length === 0) return;
          const dup = keys[pick % keys.length]!;
          const members = keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(dict[k])}`);
          members.splice(pick % (members.length + 1), 0, `${JSON.stringify(dup)}:0`);
          const text = `{"outer":[{${members.join(',')}}]}`;
          expect(() => checkJsonText(text)).toThrow(invalid);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses __proto__ and constructor keys, and nesting past the bound', () => {
    expect(() => checkJsonText('{"__proto__":{"polluted":true}}')).toThrow(invalid);
    expect(() => checkJsonText('{"a":{"constructor":{"prototype":{}}}}')).toThrow(invalid);
    expect(() => checkJsonText('{"\\u005f_proto__":1}')).toThrow(invalid);
    expect(() => checkJsonText('["__proto__"]')).not.toThrow();
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(() => checkJsonText(deep(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => checkJsonText(deep(MAX_JSON_DEPTH + 1))).toThrow(invalid);
    expect(() => checkJsonText(deep(10_000))).toThrow(invalid);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves text that is not JSON to the parser', () => {
    for (const text of ['{"a', '"unterminated', '{"a":1', '', 'nul'])
      expect(() => checkJsonText(text)).not.toThrow();
    expect(() => parseStrictJson('{"a":')).toThrow(invalid);
  });
});
