/**
 * Relay key rollovers (shared/keys/relay-key-rollover.ts): a statement signed by the previous key and
 * by the new one, each under its own context; a chain verified from whichever of its keys was pinned;
 * and tree heads checked against the key current at their timestamp. Every link of a good chain is
 * corrupted in turn (a gap, a forged or missing signature, another relay, time going back, a key
 * coming back), and each corruption is refused with RELAY_MISMATCH naming the link.
 */
import { describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject, verifyObject } from '../../shared/crypto/signing.ts';
import {
  relayKeyAt,
  relayKeyTimeline,
  rolloverSigned,
  signRelayKeyRollover,
} from '../../shared/keys/relay-key-rollover.ts';
import { signTreeHead, verifyTreeHead } from '../../shared/keys/tree-head.ts';
import { RelayKeyRollover } from '../../shared/protocol/schemas.ts';
import { check } from '../../shared/protocol/validate.ts';
import { entraideErrorOf, random } from './fixtures.ts';

const RELAY = 'relay.wacap.example';
const T1 = new Date('2027-03-01T10:00:00.000Z');
const T2 = new Date('2028-03-01T10:00:00.000Z');

const [k0, k1, k2] = [0, 1, 2].map(() => generateSigningKeyPair(random)) as [
  SigningKeyPair,
  SigningKeyPair,
  SigningKeyPair,
];
const b64 = (k: SigningKeyPair) => toBase64url(k.publicKey);
const chain = [
  signRelayKeyRollover({ relay: RELAY, issuedAt: T1 }, k0, k1),
  signRelayKeyRollover({ relay: RELAY, issuedAt: T2 }, k1, k2),
];

function refused(fn: () => unknown, why: RegExp): void {
  const err = entraideErrorOf(fn);
  expect(err.code).toBe('RELAY_MISMATCH');
  expect(err.message).toMatch(/no valid chain of rollovers leads to it from the key pinned here/);
  expect(err.message).toMatch(why);
}

describe('a rollover statement', () => {
  it('fits its schema and is signed by the previous key and by the new one, each under its own context', () => {
    const r = check(RelayKeyRollover, chain[0], 'rollover');
    expect(r).toMatchObject({
      v: 1,
      relay: RELAY,
      previousKey: b64(k0),
      newKey: b64(k1),
      issuedAt: T1.toISOString(),
    });
    const { sig, newSig, ...body } = r;
    expect(verifyObject(CONTEXTS.relayKeyRollover, body, sig, k0.publicKey)).toBe(true);
    expect(verifyObject(CONTEXTS.relayKeyRolloverNew, body, newSig, k1.publicKey)).toBe(true);
    // Domain separation: neither signature stands for the other, nor for any other statement.
    expect(verifyObject(CONTEXTS.relayKeyRolloverNew, body, sig, k0.publicKey)).toBe(false);
    expect(verifyObject(CONTEXTS.relayKeyRollover, body, newSig, k1.publicKey)).toBe(false);
    expect(verifyObject(CONTEXTS.masterKeyRotation, body, sig, k0.publicKey)).toBe(false);
    expect(verifyObject(CONTEXTS.treeHead, body, sig, k0.publicKey)).toBe(false);
    expect(rolloverSigned(r)).toBe(true);
  });

  it('is refused when a signature was made under another context (a master-key rotation’s)', () => {
    const body = {
      v: 1 as const,
      relay: RELAY,
      previousKey: b64(k0),
      newKey: b64(k1),
      issuedAt: T1.toISOString(),
    };
    const borrowed = {
      ...body,
      sig: signObject(CONTEXTS.masterKeyRotation, body, k0.secretKey),
      newSig: signObject(CONTEXTS.masterKeyRotationNew, body, k1.secretKey),
    };
    expect(rolloverSigned(borrowed)).toBe(false);
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k1), [borrowed]), /rollover 1 of 1 .* is not signed/);
  });

  it('is refused when any signed field changes, or the key does not change', () => {
    for (const change of [
      { relay: 'relay.other.example' },
      { previousKey: b64(k2) },
      { newKey: b64(k2) },
      { issuedAt: '2027-03-01T10:00:00.001Z' },
    ]) {
      expect(rolloverSigned({ ...chain[0]!, ...change })).toBe(false);
    }
    const same = signRelayKeyRollover({ relay: RELAY, issuedAt: T1 }, k0, k0);
    expect(rolloverSigned(same)).toBe(false);
  });
});

describe('a chain of rollovers', () => {
  it('leads from any key it holds to the key the relay shows, with each key’s time', () => {
    for (const pinned of [k0, k1, k2]) {
      const t = relayKeyTimeline(RELAY, b64(pinned), b64(k2), chain);
      expect(t.current).toBe(b64(k2));
      expect(t.keys.map((k) => [k.key, k.since])).toEqual([
        [b64(k0), null],
        [b64(k1), T1.getTime()],
        [b64(k2), T2.getTime()],
      ]);
      expect(relayKeyAt(t, T1.getTime() - 1)).toEqual(k0.publicKey);
      expect(relayKeyAt(t, T1.getTime())).toEqual(k1.publicKey);
      expect(relayKeyAt(t, T2.getTime() - 1)).toEqual(k1.publicKey);
      expect(relayKeyAt(t, T2.getTime() + 1)).toEqual(k2.publicKey);
    }
    // No rollover: the pinned key and nothing else.
    expect(relayKeyTimeline(RELAY, b64(k0), b64(k0)).keys).toHaveLength(1);
  });

  it('refuses another key shown without a rollover', () => {
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k1)), /the relay shows no rollover/);
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k1), []), /the relay shows no rollover/);
  });

  it('refuses a gap: a link that does not start from the key the one before introduced', () => {
    refused(
      () => relayKeyTimeline(RELAY, b64(k0), b64(k2), [chain[1]!]),
      /the pinned key is not in the chain/,
    );
    const k3 = generateSigningKeyPair(random);
    const astray = signRelayKeyRollover({ relay: RELAY, issuedAt: T2 }, k3, k2);
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k2), [chain[0]!, astray]), /rollover 2 of 2 .*a gap/);
  });

  it('refuses a forged link: signed by a key outside the chain, or with the new signature missing', () => {
    const mallory = generateSigningKeyPair(random);
    const forged = signRelayKeyRollover({ relay: RELAY, issuedAt: T2 }, mallory, k2);
    refused(
      () => relayKeyTimeline(RELAY, b64(k0), b64(k2), [chain[0]!, { ...forged, previousKey: b64(k1) }]),
      /rollover 2 of 2 .* is not signed by both/,
    );
    // The holder of an old key alone cannot hand the relay over: the new key must sign too.
    const oneSided = signRelayKeyRollover({ relay: RELAY, issuedAt: T2 }, k1, mallory);
    refused(
      () =>
        relayKeyTimeline(RELAY, b64(k0), b64(mallory), [
          chain[0]!,
          { ...oneSided, newSig: chain[1]!.newSig },
        ]),
      /rollover 2 of 2 .* is not signed by both/,
    );
  });

  it('refuses a chain of another relay, one that goes back in time, a key that comes back, or ends elsewhere', () => {
    const other = signRelayKeyRollover({ relay: 'relay.other.example', issuedAt: T1 }, k0, k1);
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k1), [other]), /is for relay relay\.other\.example/);
    const early = signRelayKeyRollover({ relay: RELAY, issuedAt: T1 }, k1, k2);
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k2), [chain[0]!, early]), /not issued after/);
    const back = signRelayKeyRollover({ relay: RELAY, issuedAt: T2 }, k1, k0);
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k0), [chain[0]!, back]), /brings back a key/);
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k1), chain), /ends at another key/);
    const stranger = generateSigningKeyPair(random);
    refused(
      () => relayKeyTimeline(RELAY, b64(stranger), b64(k2), chain),
      /the pinned key is not in the chain/,
    );
  });

  it('refuses more rollovers than a relay may show', () => {
    const many = Array.from({ length: 65 }, () => chain[0]!);
    refused(() => relayKeyTimeline(RELAY, b64(k0), b64(k1), many), /65 rollovers, more than the 64/);
  });
});

describe('tree heads across a rollover', () => {
  const timeline = relayKeyTimeline(RELAY, b64(k0), b64(k2), chain);
  const head = (at: Date, key: SigningKeyPair) =>
    signTreeHead(
      { log: 'key', relay: RELAY, size: 3, root: new Uint8Array(32), timestamp: at },
      key.secretKey,
    );
  const expected = { log: 'key' as const, relay: RELAY, relayKey: timeline };

  it('checks each head against the key current at its timestamp', () => {
    verifyTreeHead(head(new Date(T1.getTime() - 1), k0), expected);
    verifyTreeHead(head(T1, k1), expected);
    verifyTreeHead(head(new Date(T2.getTime() + 60_000), k2), expected);
  });

  it('refuses a head dated after a rollover but signed with the old key, and the reverse', () => {
    for (const [at, key] of [
      [T1, k0],
      [new Date(T2.getTime() + 60_000), k1],
      [new Date(T1.getTime() - 1), k1],
    ] as const) {
      const err = entraideErrorOf(() => verifyTreeHead(head(at, key), expected));
      expect(err.code).toBe('PROOF_INVALID');
      expect(err.message).toBe(
        `the tree head of size 3 is not signed by relay ${RELAY} with the key it held at ${at.toISOString()}`,
      );
    }
  });
});
