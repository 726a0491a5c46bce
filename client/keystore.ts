/**
 * The node's private keys at rest: encrypted with XSalsa20-Poly1305 (secretbox) under a key
 * derived from the passphrase with Argon2id (crypto_pwhash). The KDF parameters travel in the
 * file so that they can be raised later without breaking old keystores. An open keystore keeps the
 * derived key (never the passphrase) so that rotated keys can be saved without asking again.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../shared/bytes.ts';
import { EntraideError } from '../shared/errors.ts';
import { sodium } from '../shared/crypto/sodium.ts';
import { MasterKeyRotation } from '../shared/protocol/key-log.ts';
import { B64, PublicKey, Rfc3339 } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';

const closed = { additionalProperties: false } as const;
const SigningSecretKey = B64(64, 'Ed25519 secret key (seed || public key)');

export const EncryptionKeyRecord = Type.Object(
  {
    publicKey: PublicKey,
    /** null once purged: the key can no longer open anything. */
    secretKey: Type.Union([B64(32, 'X25519 secret key'), Type.Null()]),
    createdAt: Rfc3339,
    notAfter: Rfc3339,
    /** When the relay logged it; null while it waits to be published. */
    publishedAt: Type.Union([Rfc3339, Type.Null()]),
  },
  closed,
);
export type EncryptionKeyRecord = Static<typeof EncryptionKeyRecord>;

export const KeyMaterial = Type.Object(
  {
    /** Ed25519 authority master key (AMK); only nodes that hold it can approve, revoke, rotate it. */
    masterSecretKey: Type.Union([SigningSecretKey, Type.Null()]),
    /** The master key this node knows as current; empty while a joining node waits for approval. */
    masterPublicKey: Type.Union([PublicKey, Type.Literal('')]),
    identitySecretKey: SigningSecretKey,
    identityPublicKey: PublicKey,
    /** Newest first: the first is the current key. */
    encryptionKeys: Type.Array(EncryptionKeyRecord, { minItems: 1, maxItems: 1000 }),
    /** JSON of this node's certificate; empty while a joining node waits for approval. */
    certificate: Type.String({ maxLength: 10_000 }),
    /** A master-key rotation saved before it is logged, so that a crash in between loses no key. */
    pendingMaster: Type.Optional(
      Type.Object({ secretKey: SigningSecretKey, rotation: MasterKeyRotation }, closed),
    ),
  },
  closed,
);
export type KeyMaterial = Static<typeof KeyMaterial>;

interface KeystoreFile {
  v: 1;
  kdf: { alg: 'argon2id13'; opslimit: number; memlimit: number; salt: string };
  nonce: string;
  ciphertext: string;
}

function deriveKey(passphrase: string, kdf: KeystoreFile['kdf']): Uint8Array {
  const s = sodium();
  return s.crypto_pwhash(
    s.crypto_secretbox_KEYBYTES,
    utf8(passphrase),
    fromBase64url(kdf.salt, 'salt'),
    kdf.opslimit,
    kdf.memlimit,
    s.crypto_pwhash_ALG_ARGON2ID13,
  );
}

function seal(material: KeyMaterial, key: Uint8Array, kdf: KeystoreFile['kdf']): string {
  const s = sodium();
  const nonce = randomBytes(s.crypto_secretbox_NONCEBYTES);
  const ciphertext = s.crypto_secretbox_easy(utf8(JSON.stringify(material)), nonce, key);
  const file: KeystoreFile = { v: 1, kdf, nonce: toBase64url(nonce), ciphertext: toBase64url(ciphertext) };
  return JSON.stringify(file, null, 2) + '\n';
}

function newKdf(): KeystoreFile['kdf'] {
  const s = sodium();
  return {
    alg: 'argon2id13',
    opslimit: s.crypto_pwhash_OPSLIMIT_INTERACTIVE,
    memlimit: s.crypto_pwhash_MEMLIMIT_INTERACTIVE,
    salt: toBase64url(randomBytes(s.crypto_pwhash_SALTBYTES)),
  };
}

export function encryptKeystore(material: KeyMaterial, passphrase: string): string {
  if (passphrase.length === 0)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase must not be empty');
  const kdf = newKdf();
  const key = deriveKey(passphrase, kdf);
  try {
    return seal(check(KeyMaterial, material, 'key material'), key, kdf);
  } finally {
    key.fill(0);
  }
}

/** Any JSON value encrypted under a passphrase, in the keystore's file format (for auditors' keys). */
export function encryptWithPassphrase(value: unknown, passphrase: string): string {
  if (passphrase.length === 0)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase must not be empty');
  const s = sodium();
  const kdf = newKdf();
  const key = deriveKey(passphrase, kdf);
  try {
    const nonce = randomBytes(s.crypto_secretbox_NONCEBYTES);
    const ciphertext = s.crypto_secretbox_easy(utf8(JSON.stringify(value)), nonce, key);
    const file: KeystoreFile = { v: 1, kdf, nonce: toBase64url(nonce), ciphertext: toBase64url(ciphertext) };
    return JSON.stringify(file, null, 2) + '\n';
  } finally {
    key.fill(0);
  }
}

/** Opens what `encryptWithPassphrase` wrote; PASSPHRASE_WRONG when the passphrase does not open it. */
export function decryptWithPassphrase(text: string, passphrase: string, what: string): unknown {
  const s = sodium();
  let file: KeystoreFile;
  try {
    file = JSON.parse(text) as KeystoreFile;
  } catch {
    throw new EntraideError('HOME_MISSING', `${what} is unreadable`);
  }
  const key = deriveKey(passphrase, file.kdf);
  try {
    const plain = s.crypto_secretbox_open_easy(
      fromBase64url(file.ciphertext, what),
      fromBase64url(file.nonce, 'nonce'),
      key,
    );
    return JSON.parse(fromUtf8(plain)) as unknown;
  } catch {
    throw new EntraideError('PASSPHRASE_WRONG', `the passphrase does not open ${what}`);
  } finally {
    key.fill(0);
  }
}

/** Writes a file so that a crash leaves either the old or the new content, never a torn one. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export class Keystore {
  private constructor(
    readonly path: string,
    private material: KeyMaterial,
    private key: Uint8Array,
    private readonly kdf: KeystoreFile['kdf'],
  ) {}

  static open(path: string, passphrase: string): Keystore {
    const s = sodium();
    let file: KeystoreFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as KeystoreFile;
    } catch {
      throw new EntraideError('HOME_MISSING', `keystore ${path} is missing or unreadable`);
    }
    const key = deriveKey(passphrase, file.kdf);
    let plain: Uint8Array;
    try {
      plain = s.crypto_secretbox_open_easy(
        fromBase64url(file.ciphertext, 'keystore'),
        fromBase64url(file.nonce, 'nonce'),
        key,
      );
    } catch {
      key.fill(0);
      throw new EntraideError('PASSPHRASE_WRONG', 'the passphrase does not open this node’s keystore');
    }
    const material = check(KeyMaterial, JSON.parse(fromUtf8(plain)), 'keystore');
    return new Keystore(path, material, key, file.kdf);
  }

  get keys(): KeyMaterial {
    return this.material;
  }

  /** Encrypts the new material under the same passphrase and replaces the file atomically. */
  save(next: KeyMaterial): void {
    const text = seal(check(KeyMaterial, next, 'key material'), this.key, this.kdf);
    writeFileAtomic(this.path, text);
    this.material = next;
  }

  close(): void {
    this.key.fill(0);
  }
}

/** Reads the keys once (for commands that need no later save). */
export function readKeystore(path: string, passphrase: string): KeyMaterial {
  const ks = Keystore.open(path, passphrase);
  ks.close();
  return ks.keys;
}
