/** Node certificates: the authority master key (AMK) vouches for a node's identity and encryption keys. */
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import {
  certificateEncryptionKey,
  certificateIdentityKey,
  issueNodeCertificate,
  verifyNodeCertificate,
} from '../../shared/crypto/certificates.ts';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject, withoutSig } from '../../shared/crypto/signing.ts';
import { NodeCertificate } from '../../shared/protocol/schemas.ts';
import { isValid } from '../../shared/protocol/validate.ts';
import {
  certificateFor,
  codeOf,
  entraideErrorOf,
  everyBitFlip,
  everyCharChange,
  KE_AG,
  makeNode,
  NG_FMOJ,
  random,
  type TestNode,
} from './fixtures.ts';

const ISSUED_AT = new Date('2025-03-01T09:00:00.000Z');
const NOT_AFTER = new Date('2025-03-31T09:00:00.000Z');

let amk: SigningKeyPair; // Kenya's authority master key
let otherAmk: SigningKeyPair; // Nigeria's
let node: TestNode;
let cert: NodeCertificate;

beforeAll(() => {
  amk = generateSigningKeyPair(random);
  otherAmk = generateSigningKeyPair(random);
  node = makeNode('desk1', KE_AG);
  cert = certificateFor(node, amk, { issuedAt: ISSUED_AT, encKeyNotAfter: NOT_AFTER });
});

/** True when `text` is the ISO form of a real instant (so that only the signature can reject it). */
function isRealInstant(text: string): boolean {
  const t = Date.parse(text);
  return Number.isFinite(t) && new Date(t).toISOString() === text;
}

/** Every real instant obtained by changing one digit of an ISO date-time. */
function everyDigitChange(iso: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < iso.length; i++) {
    if (!/\d/.test(iso[i]!)) continue;
    for (const d of '0123456789') {
      const changed = iso.slice(0, i) + d + iso.slice(i + 1);
      if (d !== iso[i] && isRealInstant(changed)) out.push(changed);
    }
  }
  return out;
}

/** A deep copy of `c` changed by `change`. */
function edit(c: NodeCertificate, change: (copy: NodeCertificate) => void): NodeCertificate {
  const copy = structuredClone(c);
  change(copy);
  return copy;
}

describe('issueNodeCertificate', () => {
  it('holds the node’s keys and dates, and passes the wire schema', () => {
    expect(isValid(NodeCertificate, cert)).toBe(true);
    expect(cert).toMatchObject({
      v: 1,
      authority: KE_AG,
      node: `desk1/${KE_AG}`,
      identityKey: toBase64url(node.identity.publicKey),
      encryptionKey: toBase64url(node.encryption.publicKey),
      issuedAt: ISSUED_AT.toISOString(),
      encKeyNotAfter: NOT_AFTER.toISOString(),
    });
    expect(certificateIdentityKey(cert)).toEqual(node.identity.publicKey);
    expect(certificateEncryptionKey(cert)).toEqual(node.encryption.publicKey);
  });

  it('signs the body under the node-certificate context, not any other', () => {
    const expected = signObject(CONTEXTS.nodeCertificate, withoutSig(cert), amk.secretKey);
    expect(cert.sig).toBe(expected); // Ed25519 is deterministic
    expect(cert.sig).not.toBe(signObject(CONTEXTS.envelope, withoutSig(cert), amk.secretKey));
  });
});

describe('verifyNodeCertificate', () => {
  it('accepts a certificate under its authority’s master key, with and without a date', () => {
    expect(() => verifyNodeCertificate(cert, KE_AG, amk.publicKey)).not.toThrow();
    expect(() => verifyNodeCertificate(cert, KE_AG, amk.publicKey, ISSUED_AT)).not.toThrow();
    expect(() => verifyNodeCertificate(cert, KE_AG, amk.publicKey, NOT_AFTER)).not.toThrow();
  });

  it('throws CERTIFICATE_INVALID under another master key', () => {
    expect(codeOf(() => verifyNodeCertificate(cert, KE_AG, otherAmk.publicKey))).toBe('CERTIFICATE_INVALID');
    // The node's own identity key is not the master key either.
    expect(codeOf(() => verifyNodeCertificate(cert, KE_AG, node.identity.publicKey))).toBe(
      'CERTIFICATE_INVALID',
    );
  });

  it('throws CERTIFICATE_INVALID for a master key of the wrong length, without crashing', () => {
    expect(codeOf(() => verifyNodeCertificate(cert, KE_AG, amk.publicKey.subarray(0, 31)))).toBe(
      'CERTIFICATE_INVALID',
    );
    expect(codeOf(() => verifyNodeCertificate(cert, KE_AG, new Uint8Array(0)))).toBe('CERTIFICATE_INVALID');
  });

  it('throws CERTIFICATE_INVALID when checked for another authority', () => {
    const err = entraideErrorOf(() => verifyNodeCertificate(cert, NG_FMOJ, amk.publicKey));
    expect(err.code).toBe('CERTIFICATE_INVALID');
    expect(err.message).toContain(NG_FMOJ);
  });

  it('throws CERTIFICATE_INVALID for a node that is not of the certifying authority, even validly signed', () => {
    // Kenya's AMK signs a certificate that names Kenya but places a Nigerian node in it.
    const foreign = makeNode('desk1', NG_FMOJ);
    const forged = issueNodeCertificate(
      {
        authority: KE_AG,
        node: foreign.address,
        identityKey: foreign.identity.publicKey,
        encryptionKey: foreign.encryption.publicKey,
        encKeyNotAfter: NOT_AFTER,
        issuedAt: ISSUED_AT,
      },
      amk.secretKey,
    );
    expect(isValid(NodeCertificate, forged)).toBe(true);
    const err = entraideErrorOf(() => verifyNodeCertificate(forged, KE_AG, amk.publicKey));
    expect(err.code).toBe('CERTIFICATE_INVALID');
    expect(err.message).toContain(foreign.address);
  });

  it('throws CERTIFICATE_INVALID once the encryption key has passed encKeyNotAfter', () => {
    const justAfter = new Date(NOT_AFTER.getTime() + 1);
    expect(codeOf(() => verifyNodeCertificate(cert, KE_AG, amk.publicKey, justAfter))).toBe(
      'CERTIFICATE_INVALID',
    );
    const err = entraideErrorOf(() =>
      verifyNodeCertificate(cert, KE_AG, amk.publicKey, new Date('2026-01-01T00:00:00Z')),
    );
    expect(err.code).toBe('CERTIFICATE_INVALID');
    expect(err.message).toContain(cert.encKeyNotAfter);
  });

  // Tampering with any signed field, after signing, is caught by the signature.
  const tampered: [string, (c: NodeCertificate) => NodeCertificate[]][] = [
    ['v', (c) => [edit(c, (x) => ((x as unknown as { v: number }).v = 2))]],
    [
      'node (another node name of the same authority)',
      (c) => ['desk2', 'registry', 'desk10'].map((n) => edit(c, (x) => (x.node = `${n}/${KE_AG}`))),
    ],
    ['identityKey', (c) => everyBitFlip(c.identityKey).map((k) => edit(c, (x) => (x.identityKey = k)))],
    ['encryptionKey', (c) => everyBitFlip(c.encryptionKey).map((k) => edit(c, (x) => (x.encryptionKey = k)))],
    [
      'encKeyNotAfter',
      (c) => everyDigitChange(c.encKeyNotAfter).map((d) => edit(c, (x) => (x.encKeyNotAfter = d))),
    ],
    ['issuedAt', (c) => everyDigitChange(c.issuedAt).map((d) => edit(c, (x) => (x.issuedAt = d)))],
    ['sig', (c) => everyBitFlip(c.sig).map((s) => edit(c, (x) => (x.sig = s)))],
    ['an added field', (c) => [edit(c, (x) => Object.assign(x, { role: 'admin' }))]],
  ];

  it('tampered dates are still real instants, some later than the signed one', () => {
    const later = everyDigitChange(cert.encKeyNotAfter).filter((d) => Date.parse(d) > NOT_AFTER.getTime());
    expect(later.length).toBeGreaterThan(10);
    expect(later).toContain('2035-03-31T09:00:00.000Z');
  });

  it.each(tampered)('throws CERTIFICATE_INVALID when %s is tampered with', (_field, variantsOf) => {
    const variants = variantsOf(cert);
    expect(variants.length).toBeGreaterThan(0);
    const codes = new Set(variants.map((v) => codeOf(() => verifyNodeCertificate(v, KE_AG, amk.publicKey))));
    expect(codes).toEqual(new Set(['CERTIFICATE_INVALID']));
  });

  it('refuses malformed dates and keys as SCHEMA_INVALID, whatever the signature says', () => {
    // verifyNodeCertificate decodes strictly before it checks the signature (shared/time.ts).
    const malformed = [
      ...everyCharChange(cert.encKeyNotAfter)
        .filter((d) => !isRealInstant(d) && Number.isNaN(Date.parse(d)))
        .map((d) => edit(cert, (x) => (x.encKeyNotAfter = d))),
      edit(cert, (x) => (x.encKeyNotAfter = '2025-13-31T09:00:00.000Z')),
      edit(cert, (x) => (x.issuedAt = '2025-02-30T09:00:00.000Z')),
      edit(cert, (x) => (x.identityKey = `${x.identityKey.slice(0, -1)}B`)), // low bits set: not canonical
      edit(cert, (x) => (x.encryptionKey = x.encryptionKey.slice(0, -2))),
    ];
    expect(malformed.length).toBeGreaterThan(4);
    const codes = new Set(malformed.map((v) => codeOf(() => verifyNodeCertificate(v, KE_AG, amk.publicKey))));
    expect(codes).toEqual(new Set(['SCHEMA_INVALID']));
  });

  it('throws CERTIFICATE_INVALID for a certificate, signed by this AMK, that names another authority', () => {
    // The node and the key are Kenya's; only the authority field says Nigeria.
    const mislabelled = issueNodeCertificate(
      {
        authority: NG_FMOJ,
        node: node.address,
        identityKey: node.identity.publicKey,
        encryptionKey: node.encryption.publicKey,
        encKeyNotAfter: NOT_AFTER,
        issuedAt: ISSUED_AT,
      },
      amk.secretKey,
    );
    const err = entraideErrorOf(() => verifyNodeCertificate(mislabelled, KE_AG, amk.publicKey));
    expect(err.code).toBe('CERTIFICATE_INVALID');
    expect(err.message).toContain(NG_FMOJ);
  });

  it('throws CERTIFICATE_INVALID when the authority field is tampered with', () => {
    // Changing the authority to another valid authority that the checker expects.
    const moved = edit(cert, (x) => {
      x.authority = NG_FMOJ;
      x.node = `desk1/${NG_FMOJ}`;
    });
    expect(codeOf(() => verifyNodeCertificate(moved, NG_FMOJ, amk.publicKey))).toBe('CERTIFICATE_INVALID');
  });

  it('a certificate is bound to its master key: one AMK cannot vouch under another authority’s pin', () => {
    const nigerianNode = makeNode('desk1', NG_FMOJ);
    const byKenyanKey = certificateFor(nigerianNode, amk);
    expect(() => verifyNodeCertificate(byKenyanKey, NG_FMOJ, amk.publicKey)).not.toThrow();
    expect(codeOf(() => verifyNodeCertificate(byKenyanKey, NG_FMOJ, otherAmk.publicKey))).toBe(
      'CERTIFICATE_INVALID',
    );
  });
});
