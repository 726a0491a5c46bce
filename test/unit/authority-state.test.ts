/**
 * The rules that derive an authority's keys from its key-log events (shared/keys/authority-state.ts):
 * every statement signed with the wrong key, for another authority, expired, replayed or about a
 * revoked node is refused and leaves the state as it was.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { issueNodeCertificate } from '../../shared/crypto/certificates.ts';
import {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type SigningKeyPair,
} from '../../shared/crypto/keys.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import {
  applyKeyEvent,
  currentEncryptionKey,
  currentMasterKey,
  encryptionTargets,
  replayAuthority,
  type AuthorityState,
  type IndexedLeaf,
} from '../../shared/keys/authority-state.ts';
import { makeLeaf } from '../../shared/keys/key-log-leaf.ts';
import {
  declareAuthority,
  revokeNode,
  rotateMasterKey,
  signEncryptionKey,
} from '../../shared/keys/statements.ts';
import type { KeyEvent } from '../../shared/protocol/key-log.ts';
import { codeOf, KE_AG, makeNode, NG_FMOJ, random, type TestNode } from './fixtures.ts';

const T0 = new Date('2026-03-01T09:00:00.000Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(T0.getTime() + days * DAY);

let amk: SigningKeyPair;
let otherAmk: SigningKeyPair;
let desk1: TestNode;
let desk2: TestNode;
let foreign: TestNode;

beforeAll(async () => {
  await loadSodium();
  amk = generateSigningKeyPair(random);
  otherAmk = generateSigningKeyPair(random);
  desk1 = makeNode('desk1', KE_AG);
  desk2 = makeNode('desk2', KE_AG);
  foreign = makeNode('desk1', NG_FMOJ);
});

function certify(node: TestNode, master: SigningKeyPair, issuedAt = T0, lifetimeDays = 60) {
  return issueNodeCertificate(
    {
      authority: node.authority,
      node: node.address,
      identityKey: node.identity.publicKey,
      encryptionKey: node.encryption.publicKey,
      encKeyNotAfter: new Date(issuedAt.getTime() + lifetimeDays * DAY),
      issuedAt,
    },
    master.secretKey,
  );
}

/** Log entries in order, each logged at its own time. */
function entries(...items: [KeyEvent, Date][]): IndexedLeaf[] {
  return items.map(([event, when], index) => ({ index, leaf: makeLeaf(event, when) }));
}

function enrolled(): [KeyEvent, Date][] {
  return [
    [{ type: 'authority-enrolled', declaration: declareAuthority(KE_AG, amk, T0) }, T0],
    [{ type: 'node-certified', certificate: certify(desk1, amk) }, T0],
  ];
}

function stateOf(list: IndexedLeaf[]): AuthorityState {
  const { state, history } = replayAuthority(list);
  expect(history.filter((h) => !h.accepted)).toEqual([]);
  return state!;
}

/** Applies one more event after `base`; returns the refusal code (or null when accepted). */
function refusal(base: [KeyEvent, Date][], event: KeyEvent, when: Date): ErrorCode | null {
  const list = entries(...base, [event, when]);
  const state = stateOf(list.slice(0, -1));
  try {
    applyKeyEvent(state, list[list.length - 1]!);
    return null;
  } catch {
    return codeOf(() => applyKeyEvent(state, list[list.length - 1]!));
  }
}

describe('enrolment', () => {
  it('derives the master key and the first node from the log', () => {
    const s = stateOf(entries(...enrolled()));
    expect(currentMasterKey(s)).toBe(toBase64url(amk.publicKey));
    expect([...s.nodes.keys()]).toEqual([desk1.address]);
    expect(encryptionTargets(s, at(1)).map((t) => t.node)).toEqual([desk1.address]);
  });

  it('refuses a declaration signed by another key than the one it declares', () => {
    const d = { ...declareAuthority(KE_AG, amk, T0), masterKey: toBase64url(otherAmk.publicKey) };
    const { state, history } = replayAuthority(entries([{ type: 'authority-enrolled', declaration: d }, T0]));
    expect(state).toBeUndefined();
    expect(history[0]).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
  });

  it('keeps the first enrolment when the log holds a second one with another master key', () => {
    const second: KeyEvent = {
      type: 'authority-enrolled',
      declaration: declareAuthority(KE_AG, otherAmk, at(1)),
    };
    const { state, history } = replayAuthority(entries(...enrolled(), [second, at(1)]));
    expect(currentMasterKey(state!)).toBe(toBase64url(amk.publicKey));
    expect(history[2]).toMatchObject({ accepted: false, code: 'KEY_EVENT_INVALID' });
    expect(history[2]!.reason).toMatch(/second enrolment/);
  });

  it('refuses any event before the enrolment', () => {
    const { state, history } = replayAuthority(
      entries([{ type: 'node-certified', certificate: certify(desk1, amk) }, T0]),
    );
    expect(state).toBeUndefined();
    expect(history[0]).toMatchObject({ accepted: false, code: 'UNKNOWN_AUTHORITY' });
  });
});

describe('node certificates', () => {
  it('accepts a second node certified by the master key', () => {
    expect(
      refusal(enrolled(), { type: 'node-certified', certificate: certify(desk2, amk, at(1)) }, at(1)),
    ).toBeNull();
  });

  it.each([
    ['signed by another master key', () => certify(desk2, otherAmk, at(1)), 'CERTIFICATE_INVALID'],
    ['for another authority', () => certify(foreign, amk, at(1)), 'KEY_EVENT_INVALID'],
    ['expired when logged', () => certify(desk2, amk, at(-10), 5), 'CERTIFICATE_INVALID'],
    ['issued in the future', () => certify(desk2, amk, at(3)), 'KEY_EVENT_INVALID'],
  ] as const)('refuses a certificate %s', (_name, make, code) => {
    expect(refusal(enrolled(), { type: 'node-certified', certificate: make() }, at(1))).toBe(code);
  });

  it('refuses a new identity key for an existing node address', () => {
    const impostor = { ...makeNode('desk1', KE_AG) };
    expect(
      refusal(enrolled(), { type: 'node-certified', certificate: certify(impostor, amk, at(1)) }, at(1)),
    ).toBe('NODE_EXISTS');
  });

  it('refuses the same certificate logged again (a replay)', () => {
    const [, cert] = enrolled();
    expect(refusal(enrolled(), cert![0], at(1))).toBe('KEY_EVENT_INVALID');
  });
});

describe('encryption key rotation', () => {
  const rotation = (node: TestNode, signer: Uint8Array, issuedAt: Date, days = 60) =>
    signEncryptionKey(
      {
        node: node.address,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        issuedAt,
        notAfter: new Date(issuedAt.getTime() + days * DAY),
      },
      signer,
    );

  it('makes the new key current and keeps the old one in the history', () => {
    const s = stateOf(
      entries(...enrolled(), [
        { type: 'encryption-key-rotated', statement: rotation(desk1, desk1.identity.secretKey, at(30)) },
        at(30),
      ]),
    );
    const n = s.nodes.get(desk1.address)!;
    expect(n.encryptionKeys).toHaveLength(2);
    expect(currentEncryptionKey(n).issuedAt).toBe(at(30).toISOString());
  });

  it.each([
    [
      'signed by the master key instead of the node identity key',
      () => rotation(desk1, amk.secretKey, at(1)),
      'BAD_SIGNATURE',
    ],
    ['signed by another node', () => rotation(desk1, desk2.identity.secretKey, at(1)), 'BAD_SIGNATURE'],
    [
      'for a node that is not certified',
      () => rotation(desk2, desk2.identity.secretKey, at(1)),
      'KEY_EVENT_INVALID',
    ],
    [
      'older than the key in force (a replay)',
      () => rotation(desk1, desk1.identity.secretKey, at(-1)),
      'KEY_EVENT_INVALID',
    ],
    [
      'with a lifetime beyond 400 days',
      () => rotation(desk1, desk1.identity.secretKey, at(1), 401),
      'KEY_EVENT_INVALID',
    ],
    [
      'already expired when logged',
      () => rotation(desk1, desk1.identity.secretKey, at(1), 1),
      'KEY_EVENT_INVALID',
    ],
  ] as const)('refuses a rotation %s', (_name, make, code) => {
    const when = _name.startsWith('already expired') ? at(5) : at(1);
    expect(refusal(enrolled(), { type: 'encryption-key-rotated', statement: make() }, when)).toBe(code);
  });

  it('stops encrypting to a node whose key has expired', () => {
    const s = stateOf(entries(...enrolled()));
    expect(encryptionTargets(s, at(59))).toHaveLength(1);
    expect(encryptionTargets(s, at(61))).toHaveLength(0);
  });
});

describe('master key rotation', () => {
  it('moves to the new key; certificates under it are accepted, under the old one refused', () => {
    const next = generateSigningKeyPair(random);
    const rotated: [KeyEvent, Date] = [
      {
        type: 'master-key-rotated',
        rotation: rotateMasterKey({ authority: KE_AG, issuedAt: at(1) }, amk, next),
      },
      at(1),
    ];
    const s = stateOf(entries(...enrolled(), rotated));
    expect(currentMasterKey(s)).toBe(toBase64url(next.publicKey));
    expect(s.masterKeys.map((k) => k.key)).toEqual([toBase64url(next.publicKey), toBase64url(amk.publicKey)]);
    expect(
      refusal(
        [...enrolled(), rotated],
        { type: 'node-certified', certificate: certify(desk2, next, at(2)) },
        at(2),
      ),
    ).toBeNull();
    expect(
      refusal(
        [...enrolled(), rotated],
        { type: 'node-certified', certificate: certify(desk2, amk, at(2)) },
        at(2),
      ),
    ).toBe('CERTIFICATE_INVALID');
    // The nodes certified before the rotation stay trusted.
    expect(encryptionTargets(s, at(2)).map((t) => t.node)).toEqual([desk1.address]);
  });

  it('refuses a rotation not signed by the current master key', () => {
    const thief = generateSigningKeyPair(random);
    const r = rotateMasterKey({ authority: KE_AG, issuedAt: at(1) }, thief, generateSigningKeyPair(random));
    expect(refusal(enrolled(), { type: 'master-key-rotated', rotation: r }, at(1))).toBe('KEY_EVENT_INVALID');
    const forged = { ...r, previousKey: toBase64url(amk.publicKey) };
    expect(refusal(enrolled(), { type: 'master-key-rotated', rotation: forged }, at(1))).toBe(
      'BAD_SIGNATURE',
    );
  });

  it('refuses a rotation without the new key’s own signature', () => {
    const next = generateSigningKeyPair(random);
    const r = rotateMasterKey({ authority: KE_AG, issuedAt: at(1) }, amk, next);
    const swapped = {
      ...r,
      newSig: rotateMasterKey({ authority: KE_AG, issuedAt: at(1) }, amk, otherAmk).newSig,
    };
    expect(refusal(enrolled(), { type: 'master-key-rotated', rotation: swapped }, at(1))).toBe(
      'BAD_SIGNATURE',
    );
  });
});

describe('revocation', () => {
  const revocation = (node: TestNode, master: SigningKeyPair, when = at(1)) =>
    revokeNode(
      {
        authority: KE_AG,
        node: node.address,
        identityKey: toBase64url(node.identity.publicKey),
        revokedAt: when,
        reason: 'lost',
      },
      master.secretKey,
    );

  it('revokes for good: not encrypted to, never certified again, keys frozen', () => {
    const base: [KeyEvent, Date][] = [
      ...enrolled(),
      [{ type: 'node-certified', certificate: certify(desk2, amk, at(1)) }, at(1)],
      [{ type: 'node-revoked', revocation: revocation(desk2, amk, at(2)) }, at(2)],
    ];
    const s = stateOf(entries(...base));
    expect(s.nodes.get(desk2.address)!.revoked).toMatchObject({ reason: 'lost' });
    expect(encryptionTargets(s, at(3)).map((t) => t.node)).toEqual([desk1.address]);
    expect(refusal(base, { type: 'node-certified', certificate: certify(desk2, amk, at(3)) }, at(3))).toBe(
      'NODE_REVOKED',
    );
    const renamed = { ...desk2, address: `desk9/${KE_AG}` };
    expect(refusal(base, { type: 'node-certified', certificate: certify(renamed, amk, at(3)) }, at(3))).toBe(
      'NODE_REVOKED',
    );
    expect(refusal(base, { type: 'node-revoked', revocation: revocation(desk2, amk, at(3)) }, at(3))).toBe(
      'NODE_REVOKED',
    );
    const rot = signEncryptionKey(
      {
        node: desk2.address,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        issuedAt: at(3),
        notAfter: at(30),
      },
      desk2.identity.secretKey,
    );
    expect(refusal(base, { type: 'encryption-key-rotated', statement: rot }, at(3))).toBe('NODE_REVOKED');
  });

  it.each([
    ['signed by another master key', () => revocation(desk1, otherAmk), 'BAD_SIGNATURE'],
    ['of a node that does not exist', () => revocation(desk2, amk), 'KEY_EVENT_INVALID'],
    ['dated in the future', () => revocation(desk1, amk, at(3)), 'KEY_EVENT_INVALID'],
  ] as const)('refuses a revocation %s', (_name, make, code) => {
    expect(refusal(enrolled(), { type: 'node-revoked', revocation: make() }, at(1))).toBe(code);
  });
});

describe('replay of a whole history', () => {
  it('is independent of the order entries are handed in, and refusals never change the state', () => {
    const good: [KeyEvent, Date][] = [
      ...enrolled(),
      [{ type: 'node-certified', certificate: certify(desk2, amk, at(1)) }, at(1)],
    ];
    const junk: [KeyEvent, Date][] = [
      [{ type: 'node-certified', certificate: certify(makeNode('desk7', KE_AG), otherAmk, at(1)) }, at(1)],
      [{ type: 'authority-enrolled', declaration: declareAuthority(KE_AG, otherAmk, at(1)) }, at(1)],
      [
        {
          type: 'node-revoked',
          revocation: revokeNode(
            {
              authority: KE_AG,
              node: desk1.address,
              identityKey: toBase64url(desk1.identity.publicKey),
              revokedAt: at(1),
              reason: '',
            },
            otherAmk.secretKey,
          ),
        },
        at(1),
      ],
    ];
    const honest = replayAuthority(entries(...good)).state!;
    fc.assert(
      fc.property(
        fc.shuffledSubarray(junk, { minLength: 0, maxLength: junk.length }),
        fc.nat(),
        (extra, seed) => {
          const list = entries(...good, ...extra);
          const shuffled = [...list].sort(
            (a, b) => ((a.index * 7919 + seed) % 13) - ((b.index * 7919 + seed) % 13),
          );
          const { state, history } = replayAuthority(shuffled);
          expect(history.filter((h) => !h.accepted)).toHaveLength(extra.length);
          expect(currentMasterKey(state!)).toBe(currentMasterKey(honest));
          expect([...state!.nodes.keys()].sort()).toEqual([...honest.nodes.keys()].sort());
          expect([...state!.nodes.values()].every((n) => !n.revoked)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });
});
