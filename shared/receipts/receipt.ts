/**
 * Delivery evidence. A recipient node signs a receipt when it has stored an envelope
 * (`delivered`), when an officer opens it (`read`), and when it holds every document the item
 * carried, complete and verified (`downloaded`, naming each file's hashes). The receipt names the envelope by its id
 * and by the SHA-256 of its ciphertext, so it proves receipt of exactly those bytes: the sender
 * keeps the signed envelope, and anyone holding both can check that they match.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fromBase64url, toBase64url } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { sodium } from '../crypto/sodium.ts';
import { literals } from '../protocol/literals.ts';
import { B64, BlobId, EnvelopeId, NodeAddress, Rfc3339, Signature } from '../protocol/schemas.ts';
import { LIMITS } from '../limits.ts';

export const RECEIPT_KINDS = ['delivered', 'read', 'downloaded'] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

export const Receipt = Type.Object(
  {
    v: Type.Literal(1),
    kind: literals(RECEIPT_KINDS),
    envelope: EnvelopeId,
    /** SHA-256 of the envelope's ciphertext bytes. */
    ciphertextHash: B64(32),
    /** The node that sent the envelope. */
    sender: NodeAddress,
    /** The node that received it and signs this receipt. */
    node: NodeAddress,
    /**
     * `downloaded` only: the item's documents, which this node holds complete and verified, each
     * by its blob and the SHA-256 of its plaintext and of its encrypted bytes.
     */
    files: Type.Optional(
      Type.Array(
        Type.Object(
          { blob: BlobId, sha256: B64(32), ciphertextSha256: B64(32) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: LIMITS.maxFilesPerItem },
      ),
    ),
    at: Rfc3339,
    sig: Signature,
  },
  { additionalProperties: false },
);
export type Receipt = Static<typeof Receipt>;
export type UnsignedReceipt = Omit<Receipt, 'sig'>;

/** SHA-256 of an envelope's ciphertext (given as base64url), base64url. */
export function ciphertextHash(ciphertext: string): string {
  return toBase64url(sodium().crypto_hash_sha256(fromBase64url(ciphertext, 'ciphertext')));
}

export function signReceipt(r: UnsignedReceipt, identitySecretKey: Uint8Array): Receipt {
  return { ...r, sig: signObject(CONTEXTS.receipt, r, identitySecretKey) };
}

export function verifyReceipt(r: Receipt, identityKey: string): boolean {
  return verifyObject(CONTEXTS.receipt, withoutSig(r), r.sig, fromBase64url(identityKey, 'identityKey', 32));
}

/** A receipt's identity: SHA-256 of its canonical form. */
export function receiptHash(r: Receipt): string {
  return toBase64url(sodium().crypto_hash_sha256(canonicalBytes(r)));
}

/** Why a receipt does not prove delivery of this envelope, or null when it does (signature apart). */
export function receiptMismatch(
  r: Receipt,
  envelope: { id: string; from: string; ciphertext: string },
): string | null {
  if (r.envelope !== envelope.id) return `the receipt is for envelope ${r.envelope}`;
  if (r.sender !== envelope.from) return `the receipt names ${r.sender} as sender, not ${envelope.from}`;
  if (r.ciphertextHash !== ciphertextHash(envelope.ciphertext))
    return 'the receipt is for other ciphertext bytes than the stored envelope';
  return null;
}
