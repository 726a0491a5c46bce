/**
 * Network rosters (shared/meetings/roster.ts): a chain of versions, each signed with a real Ed25519
 * node identity key of an authority that coordinates the version before. Every refusal code,
 * then corruptions: each bit of the signature, each character of each field.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject, withoutSig } from '../../shared/crypto/signing.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import {
  acceptRoster,
  rosterDiff,
  rosterHash,
  rosterProblem,
  signRoster,
  verifyRoster,
  type Roster,
  type UnsignedRoster,
} from '../../shared/meetings/roster.ts';
import {
  authorityIn,
  codeOf,
  entraideErrorOf,
  everyBitFlip,
  everyCharChange,
  makeNode,
  random,
  type TestNode,
} from './fixtures.ts';

const SN = authorityIn('wacap', 'SN', 'moj');
const NG = authorityIn('wacap', 'NG', 'fmoj');
const CV = authorityIn('wacap', 'CV', 'mj');
const GH = authorityIn('wacap', 'GH', 'ag');

let sn: TestNode;
let ng: TestNode;
let cv: TestNode;
let v1: Roster;
let v2: Roster;
let v3: Roster;

/** Signs as `node`, and checks the signature as a receiving node would. */
function issue(
  node: TestNode,
  body: Omit<UnsignedRoster, 'v' | 'type' | 'issuedBy' | 'network' | 'name'> & Partial<Roster>,
): Roster {
  const { sig: _old, ...fields } = body;
  return signRoster(
    {
      v: 1,
      type: 'network-roster',
      network: 'wacap',
      name: 'West African Network of Central Authorities and Prosecutors',
      issuedBy: node.address,
      ...fields,
    },
    node.identity.secretKey,
  );
}

/** The receiving node's check: the key certified for the issuing node, if it knows that node. */
function verified(r: Roster): boolean {
  const node = [sn, ng, cv].find((n) => n.address === r.issuedBy);
  return node !== undefined && verifyRoster(r, toBase64url(node.identity.publicKey));
}
const accept = (current: Roster | null, next: Roster) => acceptRoster(current, next, verified(next));

beforeAll(() => {
  sn = makeNode('desk1', SN);
  ng = makeNode('desk1', NG);
  cv = makeNode('desk1', CV);
  v1 = issue(sn, { version: 1, coordinators: [SN], members: [SN, NG, CV], at: '2027-01-04T09:00:00Z' });
  v2 = issue(sn, {
    version: 2,
    coordinators: [SN, NG],
    members: [SN, NG, CV, GH],
    languages: ['fr', 'en', 'pt'],
    hours: { [CV]: { tz: 'Atlantic/Cape_Verde', days: [1, 2, 3, 4, 5], start: '08:00', end: '16:00' } },
    at: '2027-01-05T09:00:00Z',
    prev: rosterHash(v1),
  });
  v3 = issue(ng, {
    version: 3,
    coordinators: [NG],
    members: [SN, NG, CV, GH],
    at: '2027-01-06T09:00:00Z',
    prev: rosterHash(v2),
  });
});

describe('a chain of rosters', () => {
  it('accepts v1 from its own coordinator, then v2 and v3, each from a coordinator of the one before', () => {
    const a1 = accept(null, v1);
    expect(a1.roster).toBe(v1);
    expect(a1.diff).toEqual({
      addedMembers: [CV, NG, SN].sort(),
      removedMembers: [],
      addedCoordinators: [SN],
      removedCoordinators: [],
    });
    const a2 = accept(v1, v2);
    expect(a2.diff).toEqual({
      addedMembers: [GH],
      removedMembers: [],
      addedCoordinators: [NG],
      removedCoordinators: [],
    });
    // NG became a coordinator in v2, so it may issue v3 (which drops SN as coordinator).
    expect(accept(v2, v3).diff).toEqual({
      addedMembers: [],
      removedMembers: [],
      addedCoordinators: [],
      removedCoordinators: [SN],
    });
  });

  it('trusts the first roster held on first use, whatever its version, if its issuer coordinates it', () => {
    expect(accept(null, v3).roster).toBe(v3);
    expect(codeOf(() => accept(null, issue(cv, { ...v3, issuedBy: cv.address })))).toBe('NOT_COORDINATOR');
  });

  it('hashes the signed form: the next version names it', () => {
    expect(v2.prev).toBe(rosterHash(v1));
    expect(rosterHash(v1)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rosterHash({ ...v1, sig: v2.sig })).not.toBe(rosterHash(v1));
  });

  it('rosterDiff lists removals too', () => {
    expect(rosterDiff(v2, v1)).toEqual({
      addedMembers: [],
      removedMembers: [GH],
      addedCoordinators: [],
      removedCoordinators: [NG],
    });
  });

  it('a long honest chain is accepted link by link; replays are stale and skips are forks (fast-check)', () => {
    const pool = [SN, NG, CV, GH, 'bj.mj@relay.wacap.example', 'tg.mj@relay.wacap.example'];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.subarray(pool, { minLength: 1 }), fc.nat()), { minLength: 1, maxLength: 6 }),
        (steps) => {
          const chain: Roster[] = [v1];
          for (const [extra, pick] of steps) {
            const prev = chain[chain.length - 1]!;
            const issuerNode = [sn, ng, cv].find((n) => prev.coordinators.includes(n.authority))!;
            const members = [...new Set([...prev.members.filter((m) => [SN, NG, CV].includes(m)), ...extra])];
            const coordinators = [[SN, NG, CV][pick % 3]!];
            chain.push(
              issue(issuerNode, {
                version: prev.version + 1,
                coordinators,
                members: [...new Set([...members, ...coordinators])],
                at: '2027-02-01T00:00:00Z',
                prev: rosterHash(prev),
              }),
            );
          }
          let held: Roster | null = null;
          for (const r of chain) held = accept(held, r).roster;
          for (const r of chain.slice(0, -1)) expect(codeOf(() => accept(held, r))).toBe('ROSTER_STALE');
          if (chain.length > 2)
            expect(codeOf(() => accept(chain[0]!, chain[2]!))).toMatch(/^(ROSTER_FORK|NOT_COORDINATOR)$/);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('refusals', () => {
  const cases: [string, () => [Roster | null, Roster, boolean?], ErrorCode, string][] = [
    [
      'v1 whose issuer is not among its coordinators',
      () => [null, issue(cv, { version: 1, coordinators: [SN], members: [SN, CV], at: v1.at })],
      'NOT_COORDINATOR',
      'does not list',
    ],
    [
      'v2 from a member who does not coordinate v1',
      () => [v1, issue(cv, { ...v2, issuedBy: cv.address })],
      'NOT_COORDINATOR',
      'not a coordinator of v1',
    ],
    [
      'v2 that makes its own issuer coordinator',
      () => [v1, issue(ng, { ...v2, issuedBy: ng.address })],
      'NOT_COORDINATOR',
      'not a coordinator of v1',
    ],
    ['the version already held', () => [v1, v1], 'ROSTER_STALE', 'not newer than v1'],
    [
      'another version 1',
      () => [v1, issue(sn, { version: 1, coordinators: [SN], members: [SN], at: v1.at })],
      'ROSTER_STALE',
      'not newer',
    ],
    ['an older version', () => [v2, v1], 'ROSTER_STALE', 'not newer than v2'],
    [
      'a v2 that follows another v1',
      () => [
        v1,
        issue(sn, {
          ...v2,
          prev: rosterHash(issue(sn, { version: 1, coordinators: [SN], members: [SN], at: v1.at })),
        }),
      ],
      'ROSTER_FORK',
      'prev differs',
    ],
    [
      'a v2 whose prev is garbage',
      () => [v1, issue(sn, { ...v2, prev: 'A'.repeat(43) })],
      'ROSTER_FORK',
      'prev differs',
    ],
    [
      'a v3 straight after v1',
      () => [v1, issue(sn, { ...v3, issuedBy: sn.address })],
      'ROSTER_FORK',
      'skips versions',
    ],
    [
      'no coordinator',
      () => [v1, issue(sn, { ...v2, coordinators: [] })],
      'ROSTER_INVALID',
      'at least one coordinator',
    ],
    [
      'a member twice',
      () => [v1, issue(sn, { ...v2, members: [SN, NG, CV, NG] })],
      'ROSTER_INVALID',
      'listed twice',
    ],
    [
      'a coordinator twice',
      () => [v1, issue(sn, { ...v2, coordinators: [SN, SN] })],
      'ROSTER_INVALID',
      'listed twice',
    ],
    [
      'a coordinator who is not a member',
      () => [v1, issue(sn, { ...v2, members: [SN, CV] })],
      'ROSTER_INVALID',
      `${NG} is not a member`,
    ],
    [
      'hours for a non-member',
      () => [v1, issue(sn, { ...v2, hours: { [`ml.mj@relay.wacap.example`]: v2.hours![CV]! } })],
      'ROSTER_INVALID',
      'not a member',
    ],
    [
      'hours that end before they start',
      () => [v1, issue(sn, { ...v2, hours: { [CV]: { ...v2.hours![CV]!, end: '07:00' } } })],
      'ROSTER_INVALID',
      'must be before end',
    ],
    [
      'hours in an unknown zone',
      () => [v1, issue(sn, { ...v2, hours: { [CV]: { ...v2.hours![CV]!, tz: 'Atlantic/Nowhere' } } })],
      'ROSTER_INVALID',
      'not a known IANA time zone',
    ],
    [
      'a version 1 with prev',
      () => [null, issue(sn, { ...v1, prev: rosterHash(v1) })],
      'ROSTER_INVALID',
      'has no prev',
    ],
    [
      'a version 2 without prev',
      () => [v1, issue(sn, { ...v2, prev: undefined })],
      'ROSTER_INVALID',
      'must name the version it follows',
    ],
    [
      'a roster of another network',
      () => [v1, issue(sn, { ...v2, network: 'great-lakes' })],
      'ROSTER_INVALID',
      'cannot follow a roster of wacap',
    ],
    ['a signature that does not verify', () => [v1, v2, false], 'BAD_SIGNATURE', 'is not signed by'],
    [
      'a signature by a key that no node holds',
      () => [
        v1,
        {
          ...v2,
          sig: signObject(CONTEXTS.networkRoster, withoutSig(v2), generateSigningKeyPair(random).secretKey),
        },
      ],
      'BAD_SIGNATURE',
      'is not signed by',
    ],
    [
      'a signature by another node',
      () => [
        v1,
        { ...v2, sig: signObject(CONTEXTS.networkRoster, { ...v2, sig: undefined }, cv.identity.secretKey) },
      ],
      'BAD_SIGNATURE',
      'is not signed by',
    ],
    [
      'a signature under the meeting context',
      () => [
        v1,
        {
          ...v2,
          sig: signObject(CONTEXTS.meeting, (({ sig: _s, ...rest }) => rest)(v2), sn.identity.secretKey),
        },
      ],
      'BAD_SIGNATURE',
      'is not signed by',
    ],
    [
      'an extra field',
      () => [v1, { ...v2, extra: 1 } as Roster],
      'SCHEMA_INVALID',
      'unexpected field "extra"',
    ],
    [
      'an upper-case network id',
      () => [v1, issue(sn, { ...v2, network: 'WACAP' })],
      'SCHEMA_INVALID',
      'network',
    ],
    ['a one-letter network id', () => [v1, issue(sn, { ...v2, network: 'w' })], 'SCHEMA_INVALID', 'network'],
    ['version 0', () => [null, issue(sn, { ...v1, version: 0 })], 'SCHEMA_INVALID', 'version'],
  ];

  it.each(cases)('%s', (_what, make, code, text) => {
    const [current, next, keyOk] = make();
    const err = entraideErrorOf(() => acceptRoster(current, next, keyOk ?? verified(next)));
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });

  it('rosterProblem is null for every roster of the honest chain', () => {
    expect([v1, v2, v3].map(rosterProblem)).toEqual([null, null, null]);
  });
});

describe('corruptions of a signed roster', () => {
  const refused = (r: Roster): ErrorCode => codeOf(() => acceptRoster(v1, r, verified(r)));

  it('refuses every single-bit flip of the signature', () => {
    const flips = everyBitFlip(v2.sig);
    expect(flips).toHaveLength(512);
    for (const sig of flips) expect(refused({ ...v2, sig })).toBe('BAD_SIGNATURE');
  });

  it('refuses every one-character change of every field', () => {
    let n = 0;
    const strings: [keyof Roster, string][] = [
      ['network', v2.network],
      ['name', v2.name],
      ['issuedBy', v2.issuedBy],
      ['at', v2.at],
      ['prev', v2.prev!],
    ];
    for (const [field, value] of strings) {
      for (const changed of everyCharChange(value)) {
        expect(['BAD_SIGNATURE', 'SCHEMA_INVALID']).toContain(refused({ ...v2, [field]: changed }));
        n++;
      }
    }
    for (const field of ['members', 'coordinators', 'languages'] as const) {
      const list = v2[field]!;
      for (let i = 0; i < list.length; i++) {
        for (const changed of everyCharChange(list[i]!)) {
          const copy = [...list];
          copy[i] = changed;
          expect(['BAD_SIGNATURE', 'SCHEMA_INVALID']).toContain(refused({ ...v2, [field]: copy }));
          n++;
        }
      }
      expect(refused({ ...v2, [field]: list.slice(1) })).toBe('BAD_SIGNATURE');
    }
    const hours = v2.hours![CV]!;
    for (const [k, v] of Object.entries(hours)) {
      const changes = typeof v === 'string' ? everyCharChange(v) : [[...v, 6], v.slice(1)];
      for (const changed of changes) {
        expect(['BAD_SIGNATURE', 'SCHEMA_INVALID']).toContain(
          refused({ ...v2, hours: { [CV]: { ...hours, [k]: changed } } }),
        );
        n++;
      }
    }
    for (const version of [1, 3, 4])
      expect(['BAD_SIGNATURE', 'SCHEMA_INVALID']).toContain(refused({ ...v2, version }));
    expect(refused({ ...v2, hours: undefined })).toBe('BAD_SIGNATURE');
    expect(refused({ ...v2, languages: undefined })).toBe('BAD_SIGNATURE');
    expect(n).toBeGreaterThan(300);
  });
});

describe('format version 2: the relay key of every member’s relay', () => {
  const OTHER = 'gm.moj@relay.other.example';
  const domainOf = (a: string) => a.slice(a.indexOf('@') + 1);
  const relayKeys = (members: string[]) =>
    Object.fromEntries(
      [...new Set(members.map(domainOf))].map((d) => [
        d,
        toBase64url(generateSigningKeyPair(random).publicKey),
      ]),
    );
  const nextOf = (current: Roster, fields: Partial<Roster>) =>
    issue(sn, {
      version: current.version + 1,
      coordinators: current.coordinators,
      members: current.members,
      prev: rosterHash(current),
      at: '2027-03-01T09:00:00Z',
      ...fields,
    });

  it('follows a version-1 roster (old versions stay readable) and lists a key for each member’s relay', () => {
    const next = nextOf(v1, { v: 2, relays: relayKeys(v1.members) });
    expect(accept(v1, next).roster.relays).toEqual(next.relays);
    expect(rosterProblem(v1)).toBeNull();
  });

  it.each<[string, (r: Roster) => Partial<Roster>, RegExp]>([
    [
      'a member’s relay without a key',
      (r) => ({ v: 2, members: [...r.members, OTHER], relays: relayKeys(r.members) }),
      /the relay key of relay\.other\.example, a member’s relay, is missing/,
    ],
    [
      'a key for the relay of no member',
      (r) => ({
        v: 2,
        relays: { ...relayKeys(r.members), 'relay.elsewhere': toBase64url(new Uint8Array(32)) },
      }),
      /a relay key is given for relay\.elsewhere, the relay of no member/,
    ],
    [
      'relay keys in a version-1 roster',
      (r) => ({ v: 1, relays: relayKeys(r.members) }),
      /version 1 roster lists no relay keys/,
    ],
  ])('refuses %s (ROSTER_INVALID)', (_what, fields, message) => {
    const err = entraideErrorOf(() => accept(v1, nextOf(v1, fields(v1))));
    expect({ code: err.code, message: err.message }).toEqual({
      code: 'ROSTER_INVALID',
      message: expect.stringMatching(message),
    });
  });

  it('a change to a relay key breaks the coordinator’s signature', () => {
    const next = nextOf(v1, { v: 2, relays: relayKeys(v1.members) });
    const [domain] = Object.keys(next.relays!);
    const forged = {
      ...next,
      relays: { ...next.relays, [domain!]: toBase64url(new Uint8Array(32).fill(9)) },
    };
    expect(codeOf(() => accept(v1, forged))).toBe('BAD_SIGNATURE');
  });
});
