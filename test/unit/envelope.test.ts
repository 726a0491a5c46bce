/**
 * The envelope (DESIGN.md, "Envelope"): seal / verify / open, systematic corruption of every
 * signed field, re-signed alterations that only decryption can catch, and the key commitment
 * against "invisible salamanders".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../../shared/bytes.ts';
import { canonicalBytes } from '../../shared/canonical.ts';
import {
  keyCommitment,
  openEnvelope,
  sealEnvelope,
  sealToKey,
  verifyEnvelopeSignature,
} from '../../shared/crypto/envelope.ts';
import { encryptionKeyId, generateEncryptionKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject, withoutSig } from '../../shared/crypto/signing.ts';
import { sodium } from '../../shared/crypto/sodium.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import { Envelope, type EnvelopeHeader } from '../../shared/protocol/schemas.ts';
import { isValid } from '../../shared/protocol/validate.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import {
  codeOf,
  everyBitFlip,
  everyCharChange,
  KE_AG,
  makeNode,
  NG_FMOJ,
  openingKeys,
  random,
  sealTo,
  SENT_AT,
  SN_MOJ,
  type TestNode,
} from './fixtures.ts';
import { multiKeyCiphertext } from './multi-key-ciphertext.ts';

const TEXT = 'Demande d’entraide judiciaire — UNTOC art. 18, réf. SN-2025-0142';

let sender: TestNode; // desk1/sn.moj: seals
let senderDesk2: TestNode; // the sender authority's other node, which must read its own mail
let kenya1: TestNode;
let kenya2: TestNode;
let outsider: TestNode; // a node of another authority, not a recipient

beforeAll(() => {
  sender = makeNode('desk1', SN_MOJ);
  senderDesk2 = makeNode('desk2', SN_MOJ);
  kenya1 = makeNode('desk1', KE_AG);
  kenya2 = makeNode('registry', KE_AG);
  outsider = makeNode('desk1', NG_FMOJ);
});

/** A deep copy of `env` changed by `change`. */
function edit(env: Envelope, change: (copy: Envelope) => void): Envelope {
  const copy = structuredClone(env);
  change(copy);
  return copy;
}

/** The envelope signed again by the sender, as a dishonest sender (not the relay) could do. */
function resign(env: Envelope, by: TestNode): Envelope {
  const unsigned = withoutSig(env);
  return { ...unsigned, sig: signObject(CONTEXTS.envelope, unsigned, by.identity.secretKey) } as Envelope;
}

describe('sealEnvelope and openEnvelope', () => {
  it('round-trips to a single recipient node', () => {
    const env = sealTo(sender, [kenya1], TEXT);
    expect(isValid(Envelope, env)).toBe(true);
    expect(env.from).toBe(sender.address);
    expect(env.to).toEqual([KE_AG]);
    expect(env.sentAt).toBe(SENT_AT.toISOString());
    expect(env.recipients.map((r) => r.node)).toEqual([kenya1.address]);
    expect(env.recipients[0]!.encKeyId).toBe(encryptionKeyId(kenya1.encryption.publicKey));
    expect(fromUtf8(openEnvelope(env, openingKeys(kenya1)))).toBe(TEXT);
  });

  it('opens to the same plaintext for every recipient node, the sender’s own other node included', () => {
    const recipients = [kenya1, kenya2, senderDesk2];
    const env = sealTo(sender, recipients, TEXT);
    expect(env.to).toEqual([KE_AG, SN_MOJ]);
    expect(env.recipients.map((r) => r.node)).toEqual(recipients.map((r) => r.address));
    // Each node has its own wrapped key, yet all open one text.
    expect(new Set(env.recipients.map((r) => r.wrappedKey)).size).toBe(3);
    for (const node of recipients) expect(fromUtf8(openEnvelope(env, openingKeys(node)))).toBe(TEXT);
  });

  it('round-trips empty and large contents', () => {
    for (const text of ['', 'é'.repeat(20_000)]) {
      const env = sealTo(sender, [kenya1, kenya2], text);
      expect(fromUtf8(openEnvelope(env, openingKeys(kenya2)))).toBe(text);
    }
  });

  it('uses a fresh content key and nonce for every envelope', () => {
    const a = sealTo(sender, [kenya1], TEXT);
    const b = sealTo(sender, [kenya1], TEXT);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.keyCommitment).not.toBe(b.keyCommitment);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.recipients[0]!.wrappedKey).not.toBe(b.recipients[0]!.wrappedKey);
  });

  it('opens with a retained old encryption key after the node has rotated', () => {
    const env = sealTo(sender, [kenya1], TEXT);
    const old = kenya1.encryption;
    const rotated: TestNode = { ...kenya1, encryption: generateEncryptionKeyPair(random) };
    expect(fromUtf8(openEnvelope(env, openingKeys(rotated, old)))).toBe(TEXT);
  });

  it('refuses to seal for no recipient node', () => {
    const code = codeOf(() =>
      sealEnvelope(
        {
          id: uuidv7(SENT_AT.getTime(), random(10)),
          from: sender.address,
          to: [KE_AG],
          sentAt: SENT_AT,
          ttl: 3600,
          recipients: [],
          content: utf8(TEXT),
        },
        sender.identity.secretKey,
        random,
      ),
    );
    expect(code).toBe('UNKNOWN_RECIPIENT');
  });
});

describe('openEnvelope refuses nodes that cannot open', () => {
  it('throws NOT_A_RECIPIENT for a node not among the recipients', () => {
    const env = sealTo(sender, [kenya1], TEXT);
    expect(codeOf(() => openEnvelope(env, openingKeys(outsider)))).toBe('NOT_A_RECIPIENT');
    // Same authority, but this node was not sealed for.
    expect(codeOf(() => openEnvelope(env, openingKeys(kenya2)))).toBe('NOT_A_RECIPIENT');
  });

  it('throws DECRYPT_FAILED when the node does not hold the key id it was sealed to', () => {
    const env = sealTo(sender, [kenya1], TEXT);
    const rotatedWithoutOldKey: TestNode = { ...kenya1, encryption: generateEncryptionKeyPair(random) };
    expect(codeOf(() => openEnvelope(env, openingKeys(rotatedWithoutOldKey)))).toBe('DECRYPT_FAILED');
  });

  it('throws DECRYPT_FAILED when the key filed under that key id is not the right one', () => {
    const env = sealTo(sender, [kenya1], TEXT);
    const keys = openingKeys(kenya1);
    keys.encryptionKeys.set(env.recipients[0]!.encKeyId, generateEncryptionKeyPair(random));
    expect(codeOf(() => openEnvelope(env, keys))).toBe('DECRYPT_FAILED');
  });
});

describe('verifyEnvelopeSignature', () => {
  let env: Envelope;
  beforeAll(() => {
    env = sealTo(sender, [kenya1, senderDesk2], TEXT);
  });

  it('is true under the sender node’s identity key', () => {
    expect(verifyEnvelopeSignature(env, sender.identity.publicKey)).toBe(true);
  });

  it('is false under any other key, and never throws on a malformed key or signature', () => {
    expect(verifyEnvelopeSignature(env, senderDesk2.identity.publicKey)).toBe(false);
    expect(verifyEnvelopeSignature(env, kenya1.identity.publicKey)).toBe(false);
    expect(verifyEnvelopeSignature(env, sender.identity.publicKey.subarray(0, 31))).toBe(false);
    expect(
      verifyEnvelopeSignature(
        edit(env, (e) => (e.sig = '')),
        sender.identity.publicKey,
      ),
    ).toBe(false);
    expect(
      verifyEnvelopeSignature(
        edit(env, (e) => (e.sig = `${e.sig}=`)),
        sender.identity.publicKey,
      ),
    ).toBe(false);
    expect(
      verifyEnvelopeSignature(
        edit(env, (e) => (e.sig = e.sig.slice(0, -2))),
        sender.identity.publicKey,
      ),
    ).toBe(false);
  });

  // One bit flipped in the decoded bytes of every base64url field, one character changed in
  // every text field, the number changed for ttl and v: each variant must be rejected.
  const recipientFields = (i: number): [string, (e: Envelope) => Envelope[]][] => [
    [
      `recipients[${i}].node`,
      (e) =>
        everyCharChange(e.recipients[i]!.node).map((node) => edit(e, (c) => (c.recipients[i]!.node = node))),
    ],
    [
      `recipients[${i}].encKeyId`,
      (e) =>
        everyBitFlip(e.recipients[i]!.encKeyId).map((id) => edit(e, (c) => (c.recipients[i]!.encKeyId = id))),
    ],
    [
      `recipients[${i}].wrappedKey`,
      (e) =>
        everyBitFlip(e.recipients[i]!.wrappedKey).map((k) =>
          edit(e, (c) => (c.recipients[i]!.wrappedKey = k)),
        ),
    ],
  ];
  const signedFields: [string, (e: Envelope) => Envelope[]][] = [
    ['v', (e) => [0, 2].map((v) => edit(e, (c) => ((c as unknown as { v: number }).v = v)))],
    ['id', (e) => everyCharChange(e.id).map((id) => edit(e, (c) => (c.id = id)))],
    ['from', (e) => everyCharChange(e.from).map((from) => edit(e, (c) => (c.from = from)))],
    ['to[0]', (e) => everyCharChange(e.to[0]!).map((to) => edit(e, (c) => (c.to[0] = to)))],
    ['to[1]', (e) => everyCharChange(e.to[1]!).map((to) => edit(e, (c) => (c.to[1] = to)))],
    ['sentAt', (e) => everyCharChange(e.sentAt).map((at) => edit(e, (c) => (c.sentAt = at)))],
    ['ttl', (e) => [e.ttl + 1, e.ttl - 1, e.ttl * 2, 60].map((ttl) => edit(e, (c) => (c.ttl = ttl)))],
    ...recipientFields(0),
    ...recipientFields(1),
    ['keyCommitment', (e) => everyBitFlip(e.keyCommitment).map((k) => edit(e, (c) => (c.keyCommitment = k)))],
    ['nonce', (e) => everyBitFlip(e.nonce).map((n) => edit(e, (c) => (c.nonce = n)))],
    ['ciphertext', (e) => everyBitFlip(e.ciphertext).map((ct) => edit(e, (c) => (c.ciphertext = ct)))],
    ['sig', (e) => everyBitFlip(e.sig).map((sig) => edit(e, (c) => (c.sig = sig)))],
    [
      'structure',
      (e) => [
        edit(e, (c) => c.recipients.pop()),
        edit(e, (c) => c.recipients.reverse()),
        edit(e, (c) => c.recipients.push(structuredClone(c.recipients[0]!))),
        edit(e, (c) => c.to.reverse()),
        edit(e, (c) => c.to.pop()),
        edit(e, (c) => Object.assign(c, { note: 'added by the relay' })),
      ],
    ],
  ];

  it.each(signedFields)('rejects every one-bit or one-character change of %s', (_field, variantsOf) => {
    const variants = variantsOf(env);
    expect(variants.length).toBeGreaterThan(0);
    const original = JSON.stringify(env);
    for (const v of variants) expect(JSON.stringify(v)).not.toBe(original);
    const accepted = variants.filter((v) => verifyEnvelopeSignature(v, sender.identity.publicKey));
    expect(accepted).toEqual([]);
  });

  it('covers every field of the envelope in the table above', () => {
    const covered = new Set(signedFields.map(([f]) => f.replace(/\[\d+\].*$/, '')));
    expect([...covered].filter((f) => f !== 'structure').sort()).toEqual(Object.keys(env).sort());
    const recipientKeys = new Set(
      signedFields.map(([f]) => /^recipients\[\d+\]\.(\w+)$/.exec(f)?.[1]).filter((k) => k !== undefined),
    );
    expect([...recipientKeys].sort()).toEqual(Object.keys(env.recipients[0]!).sort());
  });
});

describe('openEnvelope after an alteration re-signed by the sender', () => {
  let env: Envelope; // sealed for kenya1 (opens) and kenya2 (a second recipient whose entry is altered)
  beforeAll(() => {
    env = sealTo(sender, [kenya1, kenya2], TEXT);
  });

  /** The codes openEnvelope throws for kenya1 on each re-signed variant; every variant must still verify. */
  function codesFor(variants: Envelope[]): ErrorCode[] {
    expect(variants.length).toBeGreaterThan(0);
    return variants.map((v) => {
      const signed = resign(v, sender);
      expect(verifyEnvelopeSignature(signed, sender.identity.publicKey)).toBe(true);
      return codeOf(() => openEnvelope(signed, openingKeys(kenya1)));
    });
  }

  it('opens unaltered once re-signed (the harness itself changes nothing)', () => {
    expect(fromUtf8(openEnvelope(resign(env, sender), openingKeys(kenya1)))).toBe(TEXT);
  });

  it('throws DECRYPT_FAILED for every one-bit change of the ciphertext', () => {
    const codes = codesFor(everyBitFlip(env.ciphertext).map((ct) => edit(env, (c) => (c.ciphertext = ct))));
    expect(new Set(codes)).toEqual(new Set(['DECRYPT_FAILED']));
  });

  it('throws DECRYPT_FAILED for a truncated, extended or empty ciphertext', () => {
    const bytes = fromBase64url(env.ciphertext);
    const variants = [bytes.subarray(0, bytes.length - 1), bytes.subarray(0, 16), new Uint8Array(0)]
      .map((b) => toBase64url(b))
      .concat(toBase64url(new Uint8Array([...bytes, 0])))
      .map((ct) => edit(env, (c) => (c.ciphertext = ct)));
    expect(new Set(codesFor(variants))).toEqual(new Set(['DECRYPT_FAILED']));
  });

  it('throws DECRYPT_FAILED for every one-bit change of the nonce', () => {
    const codes = codesFor(everyBitFlip(env.nonce).map((n) => edit(env, (c) => (c.nonce = n))));
    expect(new Set(codes)).toEqual(new Set(['DECRYPT_FAILED']));
  });

  // The header is the additional data of the AEAD: changing it must make decryption fail.
  const headerChanges: [string, (e: Envelope) => Envelope[]][] = [
    ['v', (e) => [edit(e, (c) => ((c as unknown as { v: number }).v = 2))]],
    ['id', (e) => everyCharChange(e.id).map((id) => edit(e, (c) => (c.id = id)))],
    ['from', (e) => everyCharChange(e.from).map((from) => edit(e, (c) => (c.from = from)))],
    [
      'to',
      (e) => [
        ...everyCharChange(e.to[0]!).map((to) => edit(e, (c) => (c.to[0] = to))),
        edit(e, (c) => c.to.push(SN_MOJ)),
      ],
    ],
    ['sentAt', (e) => everyCharChange(e.sentAt).map((at) => edit(e, (c) => (c.sentAt = at)))],
    ['ttl', (e) => [e.ttl + 1, e.ttl - 1, 60].map((ttl) => edit(e, (c) => (c.ttl = ttl)))],
    [
      'recipients[1].node',
      (e) => everyCharChange(e.recipients[1]!.node).map((n) => edit(e, (c) => (c.recipients[1]!.node = n))),
    ],
    [
      'recipients[1].encKeyId',
      (e) =>
        everyBitFlip(e.recipients[1]!.encKeyId).map((k) => edit(e, (c) => (c.recipients[1]!.encKeyId = k))),
    ],
    [
      'recipients[1].wrappedKey',
      (e) =>
        everyBitFlip(e.recipients[1]!.wrappedKey).map((k) =>
          edit(e, (c) => (c.recipients[1]!.wrappedKey = k)),
        ),
    ],
    [
      'recipients (order, removal)',
      (e) => [edit(e, (c) => c.recipients.reverse()), edit(e, (c) => c.recipients.pop())],
    ],
  ];

  it.each(headerChanges)(
    'throws DECRYPT_FAILED when the header field %s is altered',
    (_field, variantsOf) => {
      expect(new Set(codesFor(variantsOf(env)))).toEqual(new Set(['DECRYPT_FAILED']));
    },
  );

  it('throws DECRYPT_FAILED for every one-bit change of the node’s own wrapped key', () => {
    const codes = codesFor(
      everyBitFlip(env.recipients[0]!.wrappedKey).map((k) =>
        edit(env, (c) => (c.recipients[0]!.wrappedKey = k)),
      ),
    );
    expect(new Set(codes)).toEqual(new Set(['DECRYPT_FAILED']));
  });

  it('throws DECRYPT_FAILED when the node’s own key id is altered (it does not hold that key)', () => {
    const codes = codesFor(
      everyBitFlip(env.recipients[0]!.encKeyId).map((k) => edit(env, (c) => (c.recipients[0]!.encKeyId = k))),
    );
    expect(new Set(codes)).toEqual(new Set(['DECRYPT_FAILED']));
  });

  it('throws KEY_COMMITMENT_MISMATCH for every one-bit change of the key commitment', () => {
    const codes = codesFor(
      everyBitFlip(env.keyCommitment).map((k) => edit(env, (c) => (c.keyCommitment = k))),
    );
    expect(new Set(codes)).toEqual(new Set(['KEY_COMMITMENT_MISMATCH']));
  });
});

describe('key commitment: one signed envelope opens to one text for everyone', () => {
  interface HandSeal {
    wraps: { node: TestNode; contentKey: Uint8Array }[];
    committedKey: Uint8Array;
    ciphertext: (aad: Uint8Array, nonce: Uint8Array) => Uint8Array;
  }

  /**
   * Seals by hand as a dishonest sender would: each recipient may get a different content key,
   * the commitment and the ciphertext are chosen freely, and the whole is validly signed.
   */
  function handSeal(h: HandSeal): Envelope {
    const header: EnvelopeHeader = {
      v: 1,
      id: uuidv7(SENT_AT.getTime(), random(10)),
      from: sender.address,
      to: [...new Set(h.wraps.map((w) => w.node.authority))],
      sentAt: SENT_AT.toISOString(),
      ttl: 3600,
      recipients: h.wraps.map((w) => ({
        node: w.node.address,
        encKeyId: encryptionKeyId(w.node.encryption.publicKey),
        wrappedKey: toBase64url(sealToKey(w.contentKey, w.node.encryption.publicKey, random)),
      })),
      keyCommitment: toBase64url(keyCommitment(h.committedKey)),
    };
    const nonce = random(24);
    const unsigned = {
      ...header,
      nonce: toBase64url(nonce),
      ciphertext: toBase64url(h.ciphertext(canonicalBytes(header), nonce)),
    };
    return { ...unsigned, sig: signObject(CONTEXTS.envelope, unsigned, sender.identity.secretKey) };
  }

  const encrypt = (key: Uint8Array, text: string) => (aad: Uint8Array, nonce: Uint8Array) =>
    sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(utf8(text), aad, null, nonce, key);

  it('a hand-sealed envelope with one key for all opens for all (the harness is faithful)', () => {
    const key = random(32);
    const env = handSeal({
      wraps: [
        { node: kenya1, contentKey: key },
        { node: kenya2, contentKey: key },
      ],
      committedKey: key,
      ciphertext: encrypt(key, TEXT),
    });
    expect(isValid(Envelope, env)).toBe(true);
    expect(verifyEnvelopeSignature(env, sender.identity.publicKey)).toBe(true);
    expect(fromUtf8(openEnvelope(env, openingKeys(kenya1)))).toBe(TEXT);
    expect(fromUtf8(openEnvelope(env, openingKeys(kenya2)))).toBe(TEXT);
  });

  it('rejects a validly signed envelope that wraps another content key for one recipient', () => {
    const key = random(32);
    const other = random(32);
    const env = handSeal({
      wraps: [
        { node: kenya1, contentKey: key },
        { node: kenya2, contentKey: other },
      ],
      committedKey: key,
      ciphertext: encrypt(key, TEXT),
    });
    expect(verifyEnvelopeSignature(env, sender.identity.publicKey)).toBe(true);
    expect(fromUtf8(openEnvelope(env, openingKeys(kenya1)))).toBe(TEXT);
    expect(['KEY_COMMITMENT_MISMATCH', 'DECRYPT_FAILED']).toContain(
      codeOf(() => openEnvelope(env, openingKeys(kenya2))),
    );
  });

  it('rejects, for the node whose key is not committed, a ciphertext made under its own key', () => {
    const key = random(32);
    const other = random(32);
    const env = handSeal({
      wraps: [
        { node: kenya1, contentKey: key },
        { node: kenya2, contentKey: other },
      ],
      committedKey: key,
      // The text is sealed under the key of the recipient that the commitment does not name.
      ciphertext: encrypt(other, 'a different text'),
    });
    expect(verifyEnvelopeSignature(env, sender.identity.publicKey)).toBe(true);
    expect(codeOf(() => openEnvelope(env, openingKeys(kenya1)))).toBe('DECRYPT_FAILED');
    expect(codeOf(() => openEnvelope(env, openingKeys(kenya2)))).toBe('KEY_COMMITMENT_MISMATCH');
  });

  it('stops a real invisible salamander: one ciphertext that authenticates under two keys', () => {
    const key1 = random(32);
    const key2 = random(32);
    let texts: Uint8Array[] = [];
    const env = handSeal({
      wraps: [
        { node: kenya1, contentKey: key1 },
        { node: kenya2, contentKey: key2 },
      ],
      committedKey: key1,
      ciphertext: (aad, nonce) => {
        const ct = multiKeyCiphertext(key1, key2, nonce, aad, random);
        // Precondition of the attack: without the commitment, both nodes would accept and
        // read two different texts from one signed envelope.
        texts = [key1, key2].map((k) =>
          sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, aad, nonce, k),
        );
        return ct;
      },
    });
    expect(texts).toHaveLength(2);
    expect(toBase64url(texts[0]!)).not.toBe(toBase64url(texts[1]!));
    expect(isValid(Envelope, env)).toBe(true);
    expect(verifyEnvelopeSignature(env, sender.identity.publicKey)).toBe(true);
    expect(openEnvelope(env, openingKeys(kenya1))).toEqual(texts[0]);
    expect(['KEY_COMMITMENT_MISMATCH', 'DECRYPT_FAILED']).toContain(
      codeOf(() => openEnvelope(env, openingKeys(kenya2))),
    );
  });
});

describe('sealToKey', () => {
  it('is opened by libsodium’s own crypto_box_seal_open', () => {
    const s = sodium();
    const recipient = generateEncryptionKeyPair(random);
    for (const length of [0, 1, 32, 1000]) {
      const message = random(length);
      const sealed = sealToKey(message, recipient.publicKey, random);
      expect(sealed.length).toBe(length + s.crypto_box_SEALBYTES);
      expect(s.crypto_box_seal_open(sealed, recipient.publicKey, recipient.secretKey)).toEqual(message);
    }
  });

  it('opens what libsodium’s crypto_box_seal produced, through an envelope entry', () => {
    // The reverse direction: an entry wrapped by libsodium itself opens in openEnvelope.
    const s = sodium();
    const key = random(32);
    const env = sealTo(sender, [kenya1], TEXT);
    const forged = handWrap(env, key, s.crypto_box_seal(key, kenya1.encryption.publicKey));
    expect(fromUtf8(openEnvelope(forged, openingKeys(kenya1)))).toBe('libsodium wrapped this key');
  });

  it('starts with the ephemeral public key derived from the caller’s randomness', () => {
    const s = sodium();
    const recipient = generateEncryptionKeyPair(random);
    const ephemeral = random(32);
    const fixed = () => ephemeral.slice();
    const a = sealToKey(utf8('content key'), recipient.publicKey, fixed);
    const b = sealToKey(utf8('content key'), recipient.publicKey, fixed);
    expect(a).toEqual(b);
    expect(a.subarray(0, 32)).toEqual(s.crypto_scalarmult_base(ephemeral));
    expect(sealToKey(utf8('content key'), recipient.publicKey, random)).not.toEqual(a);
  });

  it('cannot be opened with another secret key', () => {
    const s = sodium();
    const recipient = generateEncryptionKeyPair(random);
    const other = generateEncryptionKeyPair(random);
    const sealed = sealToKey(random(32), recipient.publicKey, random);
    expect(() => s.crypto_box_seal_open(sealed, recipient.publicKey, other.secretKey)).toThrow();
  });
});

/** Re-seals `env` for its first recipient with content key `key` wrapped as `wrapped`, signed by the sender. */
function handWrap(env: Envelope, key: Uint8Array, wrapped: Uint8Array): Envelope {
  const nonce = random(24);
  const header: EnvelopeHeader = {
    ...envelopeHeaderOf(env),
    recipients: [{ ...env.recipients[0]!, wrappedKey: toBase64url(wrapped) }],
    keyCommitment: toBase64url(keyCommitment(key)),
  };
  const ciphertext = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(
    utf8('libsodium wrapped this key'),
    canonicalBytes(header),
    null,
    nonce,
    key,
  );
  return resign(
    { ...header, nonce: toBase64url(nonce), ciphertext: toBase64url(ciphertext), sig: '' },
    sender,
  );
}

function envelopeHeaderOf(env: Envelope): EnvelopeHeader {
  const { nonce: _nonce, ciphertext: _ciphertext, sig: _sig, ...header } = env;
  return header;
}
