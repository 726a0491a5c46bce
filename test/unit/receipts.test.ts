/**
 * Delivery receipts (shared/receipts/receipt.ts): signed by the receiving node under their own
 * context, bound to one envelope id, one sender and one ciphertext.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { canonicalBytes } from '../../shared/canonical.ts';
import { CONTEXTS, verifyObject, withoutSig } from '../../shared/crypto/signing.ts';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { ReceiptsContent } from '../../shared/protocol/content.ts';
import { check } from '../../shared/protocol/validate.ts';
import {
  ciphertextHash,
  Receipt,
  receiptHash,
  receiptMismatch,
  signReceipt,
  verifyReceipt,
  type UnsignedReceipt,
} from '../../shared/receipts/receipt.ts';
import { signStatusUpdate, verifyStatusUpdate } from '../../shared/requests/status-update.ts';
import { everyBitFlip, random } from './fixtures.ts';

const SENDER = 'desk1/sn.moj@relay.wacap.example';
const RECEIVER = 'desk1/ng.moj@relay.wacap.example';
const ENVELOPE_ID = '01950a3c-8f00-7abc-8def-0123456789ab';
const OTHER_ID = '01950a3c-8f00-7abc-8def-0123456789ac';

let receiverKey: SigningKeyPair;
let otherKey: SigningKeyPair;
let pk: string;
let ciphertext: string;
let unsigned: UnsignedReceipt;

beforeAll(() => {
  receiverKey = generateSigningKeyPair(random);
  otherKey = generateSigningKeyPair(random);
  pk = toBase64url(receiverKey.publicKey);
  ciphertext = toBase64url(random(200));
  unsigned = {
    v: 1,
    kind: 'delivered',
    envelope: ENVELOPE_ID,
    ciphertextHash: ciphertextHash(ciphertext),
    sender: SENDER,
    node: RECEIVER,
    at: '2026-03-02T08:00:05.000Z',
  };
});

const envelope = () => ({ id: ENVELOPE_ID, from: SENDER, ciphertext });

describe('signReceipt and verifyReceipt', () => {
  it('a receipt verifies under the receiving node key only, and is a valid Receipt', () => {
    const r = signReceipt(unsigned, receiverKey.secretKey);
    expect(check(Receipt, r, 'receipt')).toBe(r);
    expect(withoutSig(r)).toEqual(unsigned);
    expect(verifyReceipt(r, pk)).toBe(true);
    expect(verifyReceipt(r, toBase64url(otherKey.publicKey))).toBe(false);
    expect(verifyReceipt(signReceipt(unsigned, otherKey.secretKey), pk)).toBe(false);
    expect(verifyReceipt({ ...r, kind: 'read' }, pk)).toBe(false);
    expect(verifyReceipt(signReceipt({ ...unsigned, kind: 'read' }, receiverKey.secretKey), pk)).toBe(true);
    expect(check(ReceiptsContent, { type: 'receipts', receipts: [r] }, 'content').receipts).toHaveLength(1);
  });

  it('signing is deterministic and the receipt hash is the SHA-256 of its canonical form', () => {
    const a = signReceipt(unsigned, receiverKey.secretKey);
    const b = signReceipt({ ...unsigned }, receiverKey.secretKey);
    expect(a.sig).toBe(b.sig);
    const expected = toBase64url(new Uint8Array(createHash('sha256').update(canonicalBytes(a)).digest()));
    expect(receiptHash(a)).toBe(expected);
    expect(receiptHash(signReceipt({ ...unsigned, kind: 'read' }, receiverKey.secretKey))).not.toBe(expected);
  });

  it('a malformed signature or key never throws, it does not verify', () => {
    const r = signReceipt(unsigned, receiverKey.secretKey);
    expect(verifyReceipt({ ...r, sig: 'not base64url!' }, pk)).toBe(false);
    expect(verifyReceipt({ ...r, sig: r.sig.slice(0, -4) }, pk)).toBe(false);
  });
});

describe('domain separation', () => {
  it('a receipt signature does not verify under another context', () => {
    const r = signReceipt(unsigned, receiverKey.secretKey);
    const body = withoutSig(r);
    expect(verifyObject(CONTEXTS.receipt, body, r.sig, receiverKey.publicKey)).toBe(true);
    for (const context of Object.values(CONTEXTS).filter((c) => c !== CONTEXTS.receipt))
      expect(verifyObject(context, body, r.sig, receiverKey.publicKey), context).toBe(false);
  });

  it('the same object signed as a status update is not a receipt, and the other way round', () => {
    const asUpdate = signStatusUpdate(unsigned as never, receiverKey.secretKey);
    expect(verifyReceipt({ ...unsigned, sig: asUpdate.sig }, pk)).toBe(false);
    const r = signReceipt(unsigned, receiverKey.secretKey);
    expect(verifyStatusUpdate(r as never, pk)).toBe(false);
    expect(verifyObject(CONTEXTS.statusUpdate, withoutSig(r), r.sig, receiverKey.publicKey)).toBe(false);
    expect(asUpdate.sig).not.toBe(r.sig);
  });
});

describe('receiptMismatch', () => {
  it('is null for the envelope the receipt names', () => {
    expect(receiptMismatch(signReceipt(unsigned, receiverKey.secretKey), envelope())).toBeNull();
  });

  it('detects another envelope id, another sender and other ciphertext bytes', () => {
    const r = signReceipt(unsigned, receiverKey.secretKey);
    expect(receiptMismatch(r, { ...envelope(), id: OTHER_ID })).toContain(ENVELOPE_ID);
    expect(receiptMismatch(r, { ...envelope(), from: 'desk2/sn.moj@relay.wacap.example' })).toContain(SENDER);
    const other = toBase64url(random(200));
    expect(receiptMismatch(r, { ...envelope(), ciphertext: other })).toMatch(/other ciphertext/);
    for (const flipped of everyBitFlip(ciphertext).slice(0, 64))
      expect(receiptMismatch(r, { ...envelope(), ciphertext: flipped })).not.toBeNull();
  });
});

describe('ciphertextHash', () => {
  it('is the stable SHA-256 of the decoded ciphertext bytes', () => {
    const bytes = fromBase64url(ciphertext);
    const expected = toBase64url(new Uint8Array(createHash('sha256').update(bytes).digest()));
    expect(ciphertextHash(ciphertext)).toBe(expected);
    expect(ciphertextHash(ciphertext)).toBe(ciphertextHash(`${ciphertext}`));
    expect(fromBase64url(ciphertextHash(ciphertext))).toHaveLength(32);
    // a known vector: SHA-256 of the empty string
    expect(ciphertextHash('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(ciphertextHash('AAEC')).toBe(
      toBase64url(
        new Uint8Array(
          createHash('sha256')
            .update(Buffer.from([0, 1, 2]))
            .digest(),
        ),
      ),
    );
  });
});

describe('systematic corruption', () => {
  /** A different, still well-formed value for each field of the receipt. */
  const changes: Record<keyof UnsignedReceipt, unknown> = {
    v: 2,
    kind: 'read',
    envelope: OTHER_ID,
    ciphertextHash: '',
    sender: 'desk2/sn.moj@relay.wacap.example',
    node: 'desk2/ng.moj@relay.wacap.example',
    at: '2026-03-02T08:00:06.000Z',
    files: [{ blob: 'A'.repeat(22), sha256: 'B'.repeat(43), ciphertextSha256: 'C'.repeat(43) }],
  };

  it('changing any single field makes the receipt fail to verify', () => {
    const r = signReceipt(unsigned, receiverKey.secretKey);
    changes.ciphertextHash = ciphertextHash(toBase64url(random(10)));
    for (const field of Object.keys(unsigned) as (keyof UnsignedReceipt)[]) {
      expect(changes[field], field).not.toEqual(r[field]);
      expect(verifyReceipt({ ...r, [field]: changes[field] } as Receipt, pk), field).toBe(false);
      const { [field]: _gone, ...without } = r;
      expect(verifyReceipt(without as Receipt, pk), `without ${field}`).toBe(false);
    }
    expect(verifyReceipt({ ...r, extra: true } as Receipt, pk)).toBe(false);
    expect(verifyReceipt(r, pk)).toBe(true);
  });

  it('changing any character of a text field, or any bit of the signature, makes it fail', () => {
    const r = signReceipt(unsigned, receiverKey.secretKey);
    for (const field of ['envelope', 'ciphertextHash', 'sender', 'node', 'at'] as const) {
      const text = r[field];
      for (let i = 0; i < text.length; i++) {
        const changed = text.slice(0, i) + (text[i] === '0' ? '1' : '0') + text.slice(i + 1);
        expect(verifyReceipt({ ...r, [field]: changed }, pk), `${field}[${i}]`).toBe(false);
      }
    }
    for (const sig of everyBitFlip(r.sig)) expect(verifyReceipt({ ...r, sig }, pk)).toBe(false);
  });
});
