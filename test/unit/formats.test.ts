/**
 * Envelope formats (DESIGN: Versions): choosing the format to write, reading what nodes publish
 * with their keys (statements with and without `formats`), the master key fingerprint, and format
 * 2 envelopes sealed, opened and their header bound to the ciphertext and the signature.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url, utf8 } from '../../shared/bytes.ts';
import { issueNodeCertificate } from '../../shared/crypto/certificates.ts';
import { openEnvelope, sealEnvelope, verifyEnvelopeSignature } from '../../shared/crypto/envelope.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { masterKeyFingerprint } from '../../shared/crypto/master-key-fingerprint.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { encryptionTargets, replayAuthority } from '../../shared/keys/authority-state.ts';
import { makeLeaf } from '../../shared/keys/key-log-leaf.ts';
import { declareAuthority, signEncryptionKey } from '../../shared/keys/statements.ts';
import { commonFormat, formatsToPublish, parseFormats } from '../../shared/protocol/formats.ts';
import { EncryptionKeyStatement } from '../../shared/protocol/key-log.ts';
import { Envelope, NodeCertificate, RelayInfo } from '../../shared/protocol/schemas.ts';
import { isValid } from '../../shared/protocol/validate.ts';
import { codeOf, KE_AG, makeNode, NG_FMOJ, openingKeys, random } from './fixtures.ts';

const T0 = new Date('2026-03-01T09:00:00.000Z');
const DAY = 86_400_000;

beforeAll(async () => {
  await loadSodium();
});

describe('the format a sender writes', () => {
  it('is the highest every party reads, never below 1, ignoring formats this code does not know', () => {
    expect(
      commonFormat([
        [1, 2],
        [1, 2],
        [1, 2],
      ]),
    ).toBe(2);
    expect(commonFormat([[1, 2], [1], [1, 2]])).toBe(1);
    expect(
      commonFormat([
        [1, 2, 7],
        [1, 2, 7],
      ]),
    ).toBe(2);
    expect(commonFormat([[2], [1]])).toBe(1);
    expect(commonFormat([])).toBe(3);
  });

  it('is set by ENTRAIDE_FORMATS, which must name known formats and include 1', () => {
    expect(parseFormats(undefined, 'ENTRAIDE_FORMATS')).toEqual([1, 2, 3]);
    expect(parseFormats('1', 'ENTRAIDE_FORMATS')).toEqual([1]);
    expect(parseFormats(' 2 , 1 ', 'ENTRAIDE_FORMATS')).toEqual([1, 2]);
    expect(codeOf(() => parseFormats('1,4', 'ENTRAIDE_FORMATS'))).toBe('USAGE');
    expect(codeOf(() => parseFormats('2', 'ENTRAIDE_FORMATS'))).toBe('USAGE');
    expect(formatsToPublish([1])).toBeUndefined();
    expect(formatsToPublish([1, 2])).toEqual([1, 2]);
  });
});

describe('formats published with keys', () => {
  const amk = () => generateSigningKeyPair(random);

  it('are read from certificates and key statements, with or without the field', () => {
    const master = amk();
    const desk1 = makeNode('desk1', KE_AG);
    const desk2 = makeNode('desk2', KE_AG);
    const certify = (node: typeof desk1, formats?: number[]) =>
      issueNodeCertificate(
        {
          authority: KE_AG,
          node: node.address,
          identityKey: node.identity.publicKey,
          encryptionKey: node.encryption.publicKey,
          encKeyNotAfter: new Date(T0.getTime() + 60 * DAY),
          issuedAt: T0,
          formats,
        },
        master.secretKey,
      );
    const old = certify(desk1);
    const current = certify(desk2, [1, 2]);
    expect(old).not.toHaveProperty('formats');
    expect(isValid(NodeCertificate, old) && isValid(NodeCertificate, current)).toBe(true);
    const rotated = signEncryptionKey(
      {
        node: desk1.address,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        issuedAt: new Date(T0.getTime() + DAY),
        notAfter: new Date(T0.getTime() + 30 * DAY),
        formats: [1, 2],
      },
      desk1.identity.secretKey,
    );
    expect(isValid(EncryptionKeyStatement, rotated)).toBe(true);
    const events = [
      { type: 'authority-enrolled' as const, declaration: declareAuthority(KE_AG, master, T0) },
      { type: 'node-certified' as const, certificate: old },
      { type: 'node-certified' as const, certificate: current },
    ];
    const before = replayAuthority(events.map((e, index) => ({ index, leaf: makeLeaf(e, T0) })));
    expect(before.history.every((h) => h.accepted)).toBe(true);
    expect(encryptionTargets(before.state!, T0).map((t) => [t.node, t.formats])).toEqual([
      [desk1.address, [1]],
      [desk2.address, [1, 2]],
    ]);
    // desk1 upgraded: its next key says so.
    const after = replayAuthority(
      [...events, { type: 'encryption-key-rotated' as const, statement: rotated }].map((e, index) => ({
        index,
        leaf: makeLeaf(e, new Date(T0.getTime() + DAY)),
      })),
    );
    expect(after.history.every((h) => h.accepted)).toBe(true);
    expect(encryptionTargets(after.state!, T0).map((t) => t.formats)).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  it('are covered by the signature: a list added or changed after signing is refused', () => {
    const desk1 = makeNode('desk1', KE_AG);
    const statement = signEncryptionKey(
      {
        node: desk1.address,
        encryptionKey: desk1.encryption.publicKey,
        issuedAt: T0,
        notAfter: new Date(T0.getTime() + 30 * DAY),
      },
      desk1.identity.secretKey,
    );
    const master = amk();
    const cert = issueNodeCertificate(
      {
        authority: KE_AG,
        node: desk1.address,
        identityKey: desk1.identity.publicKey,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        encKeyNotAfter: new Date(T0.getTime() + 60 * DAY),
        issuedAt: new Date(T0.getTime() - DAY),
      },
      master.secretKey,
    );
    const events = [
      {
        type: 'authority-enrolled' as const,
        declaration: declareAuthority(KE_AG, master, new Date(T0.getTime() - DAY)),
      },
      { type: 'node-certified' as const, certificate: cert },
      { type: 'encryption-key-rotated' as const, statement: { ...statement, formats: [1, 2] } },
      { type: 'node-certified' as const, certificate: { ...cert, formats: [1, 2] } },
    ];
    const { history } = replayAuthority(events.map((e, index) => ({ index, leaf: makeLeaf(e, T0) })));
    expect(history.map((h) => h.code)).toEqual([null, null, 'BAD_SIGNATURE', 'CERTIFICATE_INVALID']);
  });

  it('relays say what they accept in RelayInfo, or nothing (format 1)', () => {
    const info = { domain: 'relay.test', publicKey: toBase64url(new Uint8Array(32)), version: '1' };
    expect(isValid(RelayInfo, info)).toBe(true);
    expect(isValid(RelayInfo, { ...info, formats: [1, 2] })).toBe(true);
    expect(isValid(RelayInfo, { ...info, formats: [] })).toBe(false);
  });
});

describe('format 2 envelopes', () => {
  const sender = () => makeNode('desk1', NG_FMOJ);

  it('name each recipient authority’s master key fingerprint, bound to the ciphertext and the signature', () => {
    const from = sender();
    const to = makeNode('desk1', KE_AG);
    const amk = generateSigningKeyPair(random);
    const fingerprint = masterKeyFingerprint(amk.publicKey);
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(masterKeyFingerprint(toBase64url(amk.publicKey))).toBe(fingerprint);
    const env = sealEnvelope(
      {
        id: '01890a5d-ac96-774b-bcce-b302099a8057',
        from: from.address,
        to: [KE_AG],
        sentAt: T0,
        ttl: 3600,
        recipients: [{ node: to.address, encryptionKey: to.encryption.publicKey }],
        content: utf8('{"type":"message","subject":"s","body":"b"}'),
        format: 2,
        masterKeys: [{ authority: KE_AG, fingerprint }],
      },
      from.identity.secretKey,
      random,
    );
    expect(isValid(Envelope, env)).toBe(true);
    expect(env).toMatchObject({ v: 2, masterKeys: [{ authority: KE_AG, fingerprint }] });
    expect(verifyEnvelopeSignature(env, from.identity.publicKey)).toBe(true);
    expect(openEnvelope(env, openingKeys(to)).length).toBeGreaterThan(0);

    // Another fingerprint: the signature fails, and the ciphertext does not open under that header.
    const other = masterKeyFingerprint(generateSigningKeyPair(random).publicKey);
    const swapped = { ...env, masterKeys: [{ authority: KE_AG, fingerprint: other }] };
    expect(verifyEnvelopeSignature(swapped, from.identity.publicKey)).toBe(false);
    expect(codeOf(() => openEnvelope(swapped, openingKeys(to)))).toBe('DECRYPT_FAILED');
    // Format 1 has no masterKeys, format 2 must have them.
    const { masterKeys: _m, ...bare } = env as Extract<Envelope, { v: 2 }>;
    expect(isValid(Envelope, bare)).toBe(false);
    expect(isValid(Envelope, { ...env, v: 1 })).toBe(false);
    expect(fromBase64url(fingerprint, 'fingerprint', 16)).toHaveLength(16);
  });
});
