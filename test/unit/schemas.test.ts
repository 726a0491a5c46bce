/**
 * Wire schemas reject what they should. Each schema starts from a valid object made by the core
 * itself, then each case corrupts one field; `check` must throw SCHEMA_INVALID naming that field
 * and `isValid` must say false.
 */
import { declareAuthority } from '../../shared/keys/statements.ts';
import type { TSchema } from '@sinclair/typebox';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject } from '../../shared/crypto/signing.ts';
import { LIMITS } from '../../shared/limits.ts';
import {
  AckRequest,
  ChallengeRequest,
  EnrolmentRequest,
  Envelope,
  NodeCertificate,
  TokenRequest,
} from '../../shared/protocol/schemas.ts';
import { check, isValid } from '../../shared/protocol/validate.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import {
  certificateFor,
  entraideErrorOf,
  KE_AG,
  makeNode,
  random,
  relayOf,
  sealTo,
  SN_MOJ,
} from './fixtures.ts';

type Path = (string | number)[];
const DELETE = Symbol('delete');

interface Case {
  why: string;
  path: Path;
  value: unknown;
}

/** A deep copy of `valid` with the value at `path` replaced (or deleted, or added). */
function mutated(valid: unknown, path: Path, value: unknown): unknown {
  const copy: unknown = structuredClone(valid);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === DELETE) delete parent[last];
  else parent[last] = value;
  return copy;
}

/** What the message of `check(schema, v, what)` must contain for a case. */
function expectedMention(what: string, path: Path, value: unknown, valid: unknown): string {
  const last = String(path[path.length - 1]);
  const parent = [what, ...path.slice(0, -1)].join('.');
  if (value === DELETE) return `${parent} is missing the field "${last}"`;
  let container = valid as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) container = container[key] as Record<string | number, unknown>;
  if (!Array.isArray(container) && !(last in container)) return `${parent} has an unexpected field "${last}"`;
  return [what, ...path].join('.');
}

// ---- bad values shared by several schemas --------------------------------------------------
const b64 = (n: number) => toBase64url(random(n));
const badBase64Of = (n: number): [string, unknown][] => {
  const ok = b64(n);
  return [
    ['one byte short', b64(n - 1)],
    ['one byte long', b64(n + 1)],
    ['"+" in it', `+${ok.slice(1)}`],
    ['"/" in it', `${ok.slice(0, -1)}/`],
    ['padding', `${ok.slice(0, -1)}=`],
    ['a space', ` ${ok.slice(1)}`],
    ['a non-ASCII letter', `é${ok.slice(1)}`],
    ['empty', ''],
    ['a number', 42],
    ['null', null],
  ];
};
const RELAY = relayOf('wacap');
const badAuthorities: [string, unknown][] = [
  ['upper case in the id', SN_MOJ.toUpperCase()],
  ['upper case in the domain', 'sn.moj@Relay.wacap.example'],
  ['a space', 'sn moj@relay.wacap.example'],
  ['no domain', 'sn.moj@'],
  ['no id', '@relay.wacap.example'],
  ['no @', 'sn.moj'],
  ['two @', 'sn.moj@ke.ag@relay.wacap.example'],
  ['an underscore', 'sn_moj@relay.wacap.example'],
  ['a trailing dot', 'sn.moj@relay.wacap.example.'],
  ['a label starting with a hyphen', 'sn.moj@-relay.wacap.example'],
  ['a node address', `desk1/${SN_MOJ}`],
  ['a number', 7],
];
const badNodes: [string, unknown][] = [
  ['upper case in the node name', `Desk1/${SN_MOJ}`],
  ['upper case in the authority', `desk1/SN.moj@${RELAY}`],
  ['an authority address', SN_MOJ],
  ['an empty node name', `/${SN_MOJ}`],
  ['two slashes', `desk1//${SN_MOJ}`],
  ['a space', `desk 1/${SN_MOJ}`],
  ['a node name of 33 characters', `${'a'.repeat(33)}/${SN_MOJ}`],
  ['null', null],
];

function runCases(schema: TSchema, what: string, validOf: () => unknown, cases: () => Case[]): void {
  it('accepts the valid object', () => {
    const valid = validOf();
    expect(isValid(schema, valid)).toBe(true);
    expect(check(schema, valid, what)).toEqual(valid);
  });

  it('rejects values that are not objects', () => {
    for (const v of [null, undefined, 'x', 1, [], [validOf()]]) {
      expect(isValid(schema, v)).toBe(false);
      expect(entraideErrorOf(() => check(schema, v, what)).code).toBe('SCHEMA_INVALID');
    }
  });

  it('rejects every missing field and any extra field', () => {
    const valid = validOf() as Record<string, unknown>;
    const fields = Object.keys(valid);
    expect(fields.length).toBeGreaterThan(0);
    for (const field of [...fields.map((f) => [f, DELETE] as const), ['extra', 'x'] as const]) {
      const [name, value] = field;
      const bad = mutated(valid, [name], value);
      expect(isValid(schema, bad), `${what}.${name}`).toBe(false);
      const err = entraideErrorOf(() => check(schema, bad, what));
      expect(err.code).toBe('SCHEMA_INVALID');
      expect(err.message).toContain(expectedMention(what, [name], value, valid));
    }
  });

  it('rejects each corrupted field, naming it', () => {
    const valid = validOf();
    const list = cases();
    expect(list.length).toBeGreaterThan(0);
    const wronglyAccepted: string[] = [];
    for (const c of list) {
      const bad = mutated(valid, c.path, c.value);
      const label = `${c.path.join('.')}: ${c.why}`;
      if (isValid(schema, bad)) {
        wronglyAccepted.push(label);
        continue;
      }
      const err = entraideErrorOf(() => check(schema, bad, what));
      expect(err.code, label).toBe('SCHEMA_INVALID');
      expect(err.message, label).toContain(expectedMention(what, c.path, c.value, valid));
    }
    expect(wronglyAccepted).toEqual([]);
  });
}

const each = (path: Path, values: [string, unknown][]): Case[] =>
  values.map(([why, value]) => ({ why, path, value }));

// ---- fixtures ------------------------------------------------------------------------------
const sender = makeNode('desk1', SN_MOJ);
const kenya = makeNode('desk1', KE_AG);
const kenya2 = makeNode('desk2', KE_AG);
const masterKey = generateSigningKeyPair(random);
let envelope: unknown;
let certificate: unknown;
let enrolment: unknown;
let tokenRequest: unknown;

beforeAll(() => {
  envelope = sealTo(sender, [kenya, kenya2], 'Request for expedited preservation of stored computer data');
  const cert = certificateFor(sender, masterKey);
  certificate = cert;
  const body = {
    relay: RELAY,
    authority: SN_MOJ,
    masterKey: toBase64url(masterKey.publicKey),
    node: sender.address,
  };
  enrolment = {
    invitation: toBase64url(random(24)),
    authority: SN_MOJ,
    masterKey: body.masterKey,
    declaration: declareAuthority(SN_MOJ, masterKey, new Date()),
    certificate: cert,
    proof: signObject(CONTEXTS.enrolment, body, masterKey.secretKey),
  };
  const challenge = toBase64url(random(32));
  tokenRequest = {
    node: sender.address,
    challenge,
    sig: signObject(
      CONTEXTS.authChallenge,
      { relay: RELAY, node: sender.address, challenge },
      sender.identity.secretKey,
    ),
  };
});

describe('Envelope', () => {
  runCases(
    Envelope,
    'envelope',
    () => envelope,
    () => [
      ...each(
        ['v'],
        [
          ['2', 2],
          ['0', 0],
          ['a string', '1'],
          ['null', null],
        ],
      ),
      ...each(
        ['id'],
        [
          ['a UUIDv4', '3b241101-e2bb-4255-8caf-4136c566a962'],
          ['upper-case hex', uuidv7(Date.now(), random(10)).toUpperCase()],
          ['no dashes', uuidv7(Date.now(), random(10)).replace(/-/g, '')],
          ['a number', 1],
        ],
      ),
      ...each(['from'], badNodes),
      ...each(
        ['to'],
        [
          ['empty', []],
          ['a duplicate', [KE_AG, KE_AG]],
          ['a string, not an array', KE_AG],
          [
            'too many authorities',
            Array.from(
              { length: LIMITS.maxRecipientAuthorities + 1 },
              (_, i) => `ke.ag${i}@relay.great-lakes.example`,
            ),
          ],
        ],
      ),
      ...each(['to', 0], badAuthorities),
      ...each(
        ['sentAt'],
        [
          ['a date without time', '2025-03-10'],
          ['no time zone', '2025-03-10T08:30:00'],
          ['a space instead of T', '2025-03-10 08:30:00Z'],
          ['epoch milliseconds', 1741595400000],
          ['free text', 'yesterday'],
        ],
      ),
      ...each(
        ['ttl'],
        [
          ['below the minimum', LIMITS.minTtlSeconds - 1],
          ['above the maximum', LIMITS.maxTtlSeconds + 1],
          ['zero', 0],
          ['negative', -3600],
          ['not an integer', 3600.5],
          ['a string', '3600'],
          ['null', null],
        ],
      ),
      ...each(
        ['recipients'],
        [
          ['empty', []],
          ['an object, not an array', {}],
          [
            'too many nodes',
            Array.from({ length: LIMITS.maxRecipientNodes + 1 }, () => (envelope as Envelope).recipients[0]),
          ],
        ],
      ),
      ...each(['recipients', 1, 'node'], badNodes),
      ...each(['recipients', 0, 'encKeyId'], badBase64Of(16)),
      ...each(['recipients', 1, 'wrappedKey'], badBase64Of(80)),
      ...each(['recipients', 0, 'extra'], [['an extra field', 'x']]),
      ...each(['recipients', 1, 'encKeyId'], [['missing', DELETE]]),
      ...each(['keyCommitment'], badBase64Of(32)),
      ...each(['nonce'], badBase64Of(24)),
      ...each(
        ['ciphertext'],
        [
          ['empty', ''],
          ['shorter than a tag', b64(15)],
          ['"+" in it', `+${b64(40).slice(1)}`],
          ['padding', `${b64(40)}=`],
          ['too long', 'A'.repeat(Math.ceil(((LIMITS.maxContentBytes + 16) * 4) / 3) + 1)],
          ['a number', 1],
        ],
      ),
      ...each(['sig'], badBase64Of(64)),
    ],
  );

  it('accepts the ttl and recipient limits themselves', () => {
    for (const ttl of [LIMITS.minTtlSeconds, LIMITS.maxTtlSeconds]) {
      expect(isValid(Envelope, mutated(envelope, ['ttl'], ttl))).toBe(true);
    }
    const manyTo = Array.from(
      { length: LIMITS.maxRecipientAuthorities },
      (_, i) => `ke.ag${i}@relay.great-lakes.example`,
    );
    expect(isValid(Envelope, mutated(envelope, ['to'], manyTo))).toBe(true);
  });
});

const certificateCases = (prefix: Path): Case[] => [
  ...each(
    [...prefix, 'v'],
    [
      ['2', 2],
      ['a string', '1'],
    ],
  ),
  ...each([...prefix, 'authority'], badAuthorities),
  ...each([...prefix, 'node'], badNodes),
  ...each([...prefix, 'identityKey'], badBase64Of(32)),
  ...each([...prefix, 'encryptionKey'], badBase64Of(32)),
  ...each(
    [...prefix, 'encKeyNotAfter'],
    [
      ['no time zone', '2025-03-31T09:00:00'],
      ['a number', 0],
    ],
  ),
  ...each(
    [...prefix, 'issuedAt'],
    [
      ['a date only', '2025-03-01'],
      ['null', null],
    ],
  ),
  ...each([...prefix, 'sig'], badBase64Of(64)),
];

describe('NodeCertificate', () => {
  runCases(
    NodeCertificate,
    'certificate',
    () => certificate,
    () => certificateCases([]),
  );
});

describe('EnrolmentRequest', () => {
  runCases(
    EnrolmentRequest,
    'enrolment',
    () => enrolment,
    () => [
      ...each(
        ['invitation'],
        [
          ['15 characters', 'A'.repeat(15)],
          ['129 characters', 'A'.repeat(129)],
          ['a space', `${'A'.repeat(20)} `],
          ['"+" in it', `${'A'.repeat(20)}+`],
          ['a number', 1234567890123456],
        ],
      ),
      ...each(['authority'], badAuthorities),
      ...each(['masterKey'], badBase64Of(32)),
      ...each(
        ['certificate'],
        [
          ['a string', 'cert'],
          ['null', null],
        ],
      ),
      ...certificateCases(['certificate']),
      ...each(['certificate', 'extra'], [['an extra field', 1]]),
      ...each(['certificate', 'sig'], [['missing', DELETE]]),
      ...each(['proof'], badBase64Of(64)),
    ],
  );
});

describe('TokenRequest', () => {
  runCases(
    TokenRequest,
    'token',
    () => tokenRequest,
    () => [
      ...each(['node'], badNodes),
      ...each(['challenge'], badBase64Of(32)),
      ...each(['sig'], badBase64Of(64)),
    ],
  );
});

describe('ChallengeRequest', () => {
  runCases(
    ChallengeRequest,
    'challenge',
    () => ({ node: sender.address }),
    () => each(['node'], badNodes),
  );
});

describe('AckRequest', () => {
  const ids = () => Array.from({ length: 3 }, (_, i) => uuidv7(Date.UTC(2025, 2, 10, 8, 30, i), random(10)));
  runCases(
    AckRequest,
    'ack',
    () => ({ ids: ids() }),
    () => [
      ...each(
        ['ids'],
        [
          ['empty', []],
          [
            'a duplicate',
            (() => {
              const [a, b] = ids();
              return [a, b, a];
            })(),
          ],
          ['501 ids', Array.from({ length: 501 }, (_, i) => uuidv7(Date.UTC(2025, 2, 10) + i, random(10)))],
          ['a string', ids()[0]],
        ],
      ),
      ...each(
        ['ids', 1],
        [
          ['a UUIDv4', '3b241101-e2bb-4255-8caf-4136c566a962'],
          ['upper-case hex', ids()[0]!.toUpperCase()],
          ['a number', 1],
          ['empty', ''],
        ],
      ),
    ],
  );

  it('accepts 500 distinct ids', () => {
    const many = Array.from({ length: 500 }, (_, i) => uuidv7(Date.UTC(2025, 2, 10) + i, random(10)));
    expect(isValid(AckRequest, { ids: many })).toBe(true);
  });
});
