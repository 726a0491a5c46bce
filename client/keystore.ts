/**
 * The node's private keys at rest: encrypted with XSalsa20-Poly1305 (secretbox) under a key
 * derived from the passphrase with Argon2id (crypto_pwhash). The KDF parameters travel in the
 * file so that they can be raised later without breaking old keystores.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../shared/bytes.ts';
import { EntraideError } from '../shared/errors.ts';
import { sodium } from '../shared/crypto/sodium.ts';

export interface EncryptionKeyRecord {
  publicKey: string;
  secretKey: string;
  createdAt: string;
  notAfter: string;
}

export interface KeyMaterial {
  masterSecretKey: string | null; // Ed25519 AMK; only the authority's first node holds it
  masterPublicKey: string;
  identitySecretKey: string;
  identityPublicKey: string;
  encryptionKeys: EncryptionKeyRecord[];
  certificate: string; // JSON of this node's certificate
}

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

export function encryptKeystore(material: KeyMaterial, passphrase: string): string {
  const s = sodium();
  if (passphrase.length === 0)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase must not be empty');
  const kdf = {
    alg: 'argon2id13' as const,
    opslimit: s.crypto_pwhash_OPSLIMIT_INTERACTIVE,
    memlimit: s.crypto_pwhash_MEMLIMIT_INTERACTIVE,
    salt: toBase64url(randomBytes(s.crypto_pwhash_SALTBYTES)),
  };
  const key = deriveKey(passphrase, kdf);
  const nonce = randomBytes(s.crypto_secretbox_NONCEBYTES);
  const ciphertext = s.crypto_secretbox_easy(utf8(JSON.stringify(material)), nonce, key);
  key.fill(0);
  const file: KeystoreFile = { v: 1, kdf, nonce: toBase64url(nonce), ciphertext: toBase64url(ciphertext) };
  return JSON.stringify(file, null, 2) + '\n';
}

export function writeKeystore(path: string, material: KeyMaterial, passphrase: string): void {
  writeFileSync(path, encryptKeystore(material, passphrase), { mode: 0o600 });
}

export function readKeystore(path: string, passphrase: string): KeyMaterial {
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
    throw new EntraideError('PASSPHRASE_WRONG', 'the passphrase does not open this node’s keystore');
  } finally {
    key.fill(0);
  }
  return JSON.parse(fromUtf8(plain)) as KeyMaterial;
}
