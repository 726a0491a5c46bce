/**
 * What the route fuzzer (test/adversarial/fuzz-routes.test.ts) sends: path parameters, query
 * strings and bodies, arbitrary and plausible, and bodies checked against the route's documented
 * schema so that none the relay would accept is ever sent.
 */
import fc from 'fast-check';
import { Ajv, type ValidateFunction } from 'ajv';
import { PEER_DOMAIN } from './fuzz-relay.ts';

/**
 * A route's body as the relay documents it (its request schema in /openapi.json), compiled here to
 * drop generated bodies that it would accept: no request of the fuzzing phases may be valid.
 */
export interface BodySchema {
  json: JsonSchema;
  valid: ValidateFunction;
}
export interface JsonSchema {
  properties?: Record<string, unknown>;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}
const ajv = new Ajv({ strict: false, validateFormats: false });

/** A body schema from /openapi.json, compiled. */
export function bodySchema(json: JsonSchema): BodySchema {
  return { json, valid: ajv.compile(json) };
}
/** For routes that take no body: every body is "invalid", and all reach the parser. */
export const NO_BODY: BodySchema = { json: {}, valid: ajv.compile({ not: {} }) };

/** encodeURIComponent, or a fixed segment for the strings it refuses (lone surrogates). */
function encoded(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return 'x';
  }
}

/**
 * Values a path parameter may take: arbitrary text, escaped (fastify refuses a parameter over 100
 * characters and a broken %-escape outside the registry: see the known bugs at the end), odd
 * segments, and values of the right shape (addresses of enrolled, unknown and peer authorities).
 */
function paramArb(name: string): fc.Arbitrary<string> {
  const plausible: Record<string, fc.Arbitrary<string>> = {
    id: fc.oneof(fc.uuid({ version: 7 }), fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000')),
    authority: fc.constantFrom(
      'sn.moj@relay.test',
      'ke.ag@relay.test',
      'zz.none@relay.test',
      `xx.moj@${PEER_DOMAIN}`,
      'sn.moj@elsewhere.test',
      'SN.MOJ@relay.test',
    ),
    domain: fc.constantFrom('relay.test', PEER_DOMAIN, 'elsewhere.test', 'localhost', '127.0.0.1'),
    code: fc.oneof(
      fc.constant('ABCD-EFGH-JKMN-PQRS-TVWX-YZ01'),
      fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$/),
    ),
  };
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }).map(encoded) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }).map(encoded) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '%2e%2e',
          '%2F',
          'a%2Fb',
          '%00',
          '%20',
          '%25',
          '~',
          '%3F',
          '%23',
          '..%2F..',
          '%F0%9F%92%A9',
        ),
      },
      { weight: 3, arbitrary: plausible[name] ?? fc.constant('x') },
    )
    .filter((s) => s.length <= 100);
}

export function pathArb(template: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  if (names.length === 0) return fc.constant(template);
  return fc
    .tuple(...names.map(paramArb))
    .map((values) => names.reduce((p, n, i) => p.replace(`{${n}}`, values[i]!), template));
}

const numberText = fc.oneof(
  fc.nat().map(String),
  fc.integer().map(String),
  fc.constantFrom(
    '',
    '-1',
    '-0',
    '1.5',
    '1e3',
    '1e400',
    '9007199254740993',
    'NaN',
    'Infinity',
    '0x10',
    ' 1',
    '01',
    'true',
    'null',
    '[]',
  ),
);

export function queryArb(names: string[]): fc.Arbitrary<string> {
  const key =
    names.length > 0
      ? fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 }))
      : fc.string({ maxLength: 8 });
  const value = fc.oneof(numberText, fc.string({ maxLength: 12 }));
  // Every parameter the route knows, as a small whole number or an edge of the range, or left out.
  const size = fc.oneof(fc.nat({ max: 12 }), fc.constantFrom(2 ** 31, Number.MAX_SAFE_INTEGER));
  const wellFormed = fc
    .tuple(...names.map(() => fc.option(size, { nil: undefined })))
    .map(
      (values) =>
        `?${new URLSearchParams(
          names.flatMap((n, i): [string, string][] =>
            values[i] === undefined ? [] : [[n, String(values[i])]],
          ),
        ).toString()}`,
    );
  return fc.oneof(
    fc.constant(''),
    ...(names.length > 0 ? [wellFormed, wellFormed] : []),
    fc
      .array(fc.tuple(key, value), { maxLength: 5 })
      .map((pairs) => `?${new URLSearchParams(pairs).toString()}`),
    fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => `?${s.replace(/#/g, '%23')}`),
    fc.constantFrom(
      '?__proto__[polluted]=1',
      '?constructor[prototype][polluted]=1',
      '?__proto__=1',
      '?a=1&a=2',
      '?from=1&from=2',
      '?start=0&start=0',
      '?&&&',
      '?=',
      '?%00=%00',
      '?%zz=%E0%A4%A',
    ),
  );
}

/** The field names a body schema knows (all branches of a union). */
function fieldNames(schema: JsonSchema): string[] {
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  return [...new Set([...Object.keys(schema.properties ?? {}), ...branches.flatMap(fieldNames)])];
}

/** True when `body`, read as the relay would read it (UTF-8, a byte-order mark dropped), passes the schema. */
export function couldBeValid(schema: BodySchema, body: string | Uint8Array | undefined): boolean {
  if (body === undefined) return false;
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  try {
    return schema.valid(JSON.parse(text.replace(/^\uFEFF/, ''))) as boolean;
  } catch {
    return false;
  }
}

/** Text a header value may hold on the wire (fetch refuses control characters). */
export const headerText = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

const MEDIA_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json-patch+json',
  'application/jsonx',
  'application/ld+json',
  'text/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=X',
  'application/octet-stream',
  ';;;',
  '*/*',
];

export interface GeneratedBody {
  contentType: string | undefined;
  body: string | Uint8Array | undefined;
}

/** Bodies for a POST route, never one its schema accepts. */
export function bodyArb(schema: BodySchema): fc.Arbitrary<GeneratedBody> {
  const keys = [...fieldNames(schema.json), 'v', 'type', 'x'];
  const nearly = fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), {
    maxKeys: keys.length,
  });
  const json = fc
    .oneof(fc.jsonValue({ maxDepth: 4 }), fc.object({ maxDepth: 3 }), nearly, nearly)
    .map((v) => JSON.stringify(v) ?? 'null');
  const text = fc.oneof(
    { weight: 4, arbitrary: json },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 100 }) },
  );
  const bytes = fc.uint8Array({ maxLength: 512 });
  const mediaType = fc.oneof(fc.constantFrom(...MEDIA_TYPES), headerText(40));
  return fc
    .oneof(
      { weight: 5, arbitrary: fc.record({ contentType: fc.constant('application/json'), body: text }) },
      { weight: 1, arbitrary: fc.record({ contentType: fc.constant('application/json'), body: bytes }) },
      { weight: 2, arbitrary: fc.record({ contentType: mediaType, body: fc.oneof(text, bytes) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          contentType: fc.constant(undefined),
          body: fc.oneof(bytes, fc.constant(undefined)),
        }),
      },
    )
    .filter((b) => !couldBeValid(schema, b.body));
}
