/**
 * Envelope seal / verify / open, as DESIGN.md describes it:
 * - a fresh content key per envelope; XChaCha20-Poly1305 over the content with the canonical
 *   header as additional data;
 * - the content key wrapped for each recipient node with a libsodium sealed box
 *   (built here from libsodium primitives so that the ephemeral key comes from the caller's
 *   randomness; byte-compatible with crypto_box_seal / crypto_box_seal_open);
 * - a key commitment (BLAKE2b-256 keyed by the content key over a fixed context) so that one
 *   signed envelope opens to one text for every recipient;
 * - an Ed25519 signature by the sender node over the domain-separated canonical envelope.
 */
import { concatBytes, fromBase64url, toBase64url, utf8 } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import type {
  Envelope,
  EnvelopeFormat,
  EnvelopeHeader,
  MasterKeyReference,
  RecipientEntry,
} from '../protocol/schemas.ts';
import { encryptionKeyId } from './keys.ts';
import type { RandomBytes } from './random.ts';
import { canonicalHeaderBytes, canonicalUnsignedBytes } from './envelope-encoding.ts';
import { CONTEXTS, domainSeparated, withoutSig } from './signing.ts';
import { sodium } from './sodium.ts';

const KEY_COMMITMENT_CONTEXT = utf8('entraide/v1/key-commitment');

export interface RecipientKey {
  node: string;
  encryptionKey: Uint8Array; // X25519 public key from the node's certificate
}

export interface SealInput {
  id: string;
  from: string;
  to: string[];
  sentAt: Date;
  ttl: number;
  recipients: RecipientKey[];
  content: Uint8Array;
  /** The envelope format to write; 1 when absent. */
  format?: EnvelopeFormat;
  /** Format 2 and later: each `to` authority's master key fingerprint as the sender pinned it. */
  masterKeys?: MasterKeyReference[];
  /** Format 3 only: the blobs of the documents the content names. */
  blobs?: string[];
}

export function keyCommitment(contentKey: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(32, KEY_COMMITMENT_CONTEXT, contentKey);
}

/** libsodium's sealed box (ephemeral X25519 + crypto_box, nonce = BLAKE2b-192(epk || pk)). */
export function sealToKey(
  message: Uint8Array,
  recipientPublicKey: Uint8Array,
  random: RandomBytes,
): Uint8Array {
  const s = sodium();
  const ephemeralSecret = random(32);
  const ephemeralPublic = s.crypto_scalarmult_base(ephemeralSecret);
  const nonce = s.crypto_generichash(24, concatBytes(ephemeralPublic, recipientPublicKey), null);
  const boxed = s.crypto_box_easy(message, nonce, recipientPublicKey, ephemeralSecret);
  ephemeralSecret.fill(0);
  return concatBytes(ephemeralPublic, boxed);
}

/** The signed header of an envelope: every field but nonce, ciphertext and sig (the AAD). */
export function envelopeHeader(env: Envelope): EnvelopeHeader {
  const common = {
    id: env.id,
    from: env.from,
    to: env.to,
    sentAt: env.sentAt,
    ttl: env.ttl,
    recipients: env.recipients,
    keyCommitment: env.keyCommitment,
  };
  if (env.v === 1) return { v: 1, ...common };
  if (env.v === 2) return { v: 2, ...common, masterKeys: env.masterKeys };
  return { v: 3, ...common, masterKeys: env.masterKeys, blobs: env.blobs };
}

export function sealEnvelope(input: SealInput, senderSecretKey: Uint8Array, random: RandomBytes): Envelope {
  const s = sodium();
  const format = input.format ?? 1;
  if (input.recipients.length === 0)
    throw new EntraideError('UNKNOWN_RECIPIENT', 'an envelope needs at least one recipient node');
  if ((format === 3) !== (input.blobs !== undefined && input.blobs.length > 0))
    throw new RangeError('a format 3 envelope names the blobs of its documents, and only it does');
  if (format >= 2) {
    const named = new Set((input.masterKeys ?? []).map((m) => m.authority));
    if (
      named.size !== input.to.length ||
      input.masterKeys!.length !== named.size ||
      input.to.some((a) => !named.has(a))
    )
      throw new RangeError(
        'a format 2 envelope names one master key for each `to` authority, and only those',
      );
  }
  const contentKey = random(32);
  const nonce = random(24);
  const recipients: RecipientEntry[] = input.recipients.map((r) => ({
    node: r.node,
    encKeyId: encryptionKeyId(r.encryptionKey),
    wrappedKey: toBase64url(sealToKey(contentKey, r.encryptionKey, random)),
  }));
  const common = {
    id: input.id,
    from: input.from,
    to: input.to,
    sentAt: input.sentAt.toISOString(),
    ttl: input.ttl,
    recipients,
    keyCommitment: toBase64url(keyCommitment(contentKey)),
  };
  const header: EnvelopeHeader =
    format === 1
      ? { v: 1, ...common }
      : format === 2
        ? { v: 2, ...common, masterKeys: input.masterKeys! }
        : { v: 3, ...common, masterKeys: input.masterKeys!, blobs: input.blobs! };
  const ciphertext = s.crypto_aead_xchacha20poly1305_ietf_encrypt(
    input.content,
    canonicalHeaderBytes(header),
    null,
    nonce,
    contentKey,
  );
  contentKey.fill(0);
  const unsigned = { ...header, nonce: toBase64url(nonce), ciphertext: toBase64url(ciphertext) };
  const sig = s.crypto_sign_detached(
    domainSeparated(CONTEXTS.envelope, canonicalUnsignedBytes(unsigned)),
    senderSecretKey,
  );
  return { ...unsigned, sig: toBase64url(sig) };
}

/** The bytes an envelope's signature covers: context, zero byte, canonical envelope without `sig`. */
export function envelopeSigningBytes(env: Envelope): Uint8Array {
  return domainSeparated(CONTEXTS.envelope, canonicalUnsignedBytes(withoutSig(env)));
}

/** True when the envelope's signature verifies under the sender node's identity key. */
export function verifyEnvelopeSignature(env: Envelope, senderIdentityKey: Uint8Array): boolean {
  let sig: Uint8Array;
  try {
    sig = fromBase64url(env.sig, 'sig', 64);
  } catch {
    return false;
  }
  if (senderIdentityKey.length !== 32) return false;
  try {
    return sodium().crypto_sign_verify_detached(sig, envelopeSigningBytes(env), senderIdentityKey);
  } catch {
    return false;
  }
}

export interface OpeningKeys {
  node: string;
  /** This node's encryption key pairs by key id: current and retained old ones. */
  encryptionKeys: Map<string, { publicKey: Uint8Array; secretKey: Uint8Array }>;
}

/**
 * Opens an envelope whose signature the caller has already verified. Checks that it was sealed
 * for this node, unwraps the content key, checks the key commitment, then decrypts with the
 * canonical header as additional data.
 */
export function openEnvelope(env: Envelope, keys: OpeningKeys): Uint8Array {
  const s = sodium();
  const entry = env.recipients.find((r) => r.node === keys.node);
  if (!entry)
    throw new EntraideError('NOT_A_RECIPIENT', `envelope ${env.id} was not sealed for ${keys.node}`);
  const pair = keys.encryptionKeys.get(entry.encKeyId);
  if (!pair) {
    throw new EntraideError(
      'DECRYPT_FAILED',
      `envelope ${env.id} was sealed to encryption key ${entry.encKeyId}, which this node does not hold`,
    );
  }
  let contentKey: Uint8Array;
  try {
    contentKey = s.crypto_box_seal_open(
      fromBase64url(entry.wrappedKey, 'wrappedKey', 80),
      pair.publicKey,
      pair.secretKey,
    );
  } catch {
    throw new EntraideError('DECRYPT_FAILED', `the content key of envelope ${env.id} cannot be unwrapped`);
  }
  try {
    const expected = fromBase64url(env.keyCommitment, 'keyCommitment', 32);
    if (!s.memcmp(keyCommitment(contentKey), expected)) {
      throw new EntraideError(
        'KEY_COMMITMENT_MISMATCH',
        `envelope ${env.id} carries a key commitment that does not match its content key`,
      );
    }
    try {
      return s.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        fromBase64url(env.ciphertext, 'ciphertext'),
        canonicalHeaderBytes(envelopeHeader(env)),
        fromBase64url(env.nonce, 'nonce', 24),
        contentKey,
      );
    } catch {
      throw new EntraideError('DECRYPT_FAILED', `envelope ${env.id} fails authentication: it was altered`);
    }
  } finally {
    contentKey.fill(0);
  }
}
