/**
 * The node's private keys at rest: encrypted with XSalsa20-Poly1305 (secretbox) under a key
 * derived from the passphrase with Argon2id (crypto_pwhash). The KDF parameters travel in the
 * file so that they can be raised later without breaking old keystores, and a file is always
 * opened with the parameters it records (bounded before Argon2 runs). New files cost MODERATE, and
 * a file that costs less (written when INTERACTIVE was the default) is sealed again at MODERATE,
 * with a fresh salt, the first time it opens. ENTRAIDE_TEST_KDF=1 at creation gives the `test`
 * profile (MIN cost, recorded in the file, never upgraded), for the test suite only. An open
 * keystore keeps the derived key (never the passphrase) so that rotated keys can be saved without
 * asking again.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.ts';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../shared/bytes.ts';
import { EntraideError, type ErrorCode } from '../shared/errors.ts';
import { sodium } from '../shared/crypto/sodium.ts';
import { MasterKeyRotation } from '../shared/protocol/key-log.ts';
import { MAX_PASSPHRASE_FILE_CHARS, PassphraseFile } from '../shared/protocol/node-files.ts';
import { parseFileText, systemErrorCode } from '../shared/protocol/parse-file.ts';
import {
  ARGON2ID,
  MIN_PASSPHRASE_CHARS,
  kdfBelowModerate,
  kdfCost,
  kdfProblem,
  passphraseLength,
  requireNewPassphrase,
  type KdfChoice,
  type PassphraseKdf,
} from '../shared/protocol/passphrase-kdf.ts';
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
    /**
     * The key that encrypts the node's database content at rest (client/store/). Keystores made
     * before it existed get one on their next unlock (Keystore.open).
     */
    databaseKey: Type.Optional(B64(32, 'database content key')),
  },
  closed,
);
export type KeyMaterial = Static<typeof KeyMaterial>;

/**
 * The cost of new passphrase-protected files: `test` only when ENTRAIDE_TEST_KDF is exactly "1"
 * (the test suite sets it; a real node never should), otherwise `moderate`, the default.
 */
export function kdfProfileFromEnv(env: Record<string, string | undefined> = process.env): KdfChoice {
  return env.ENTRAIDE_TEST_KDF === '1' ? 'test' : 'moderate';
}

function deriveKey(passphrase: string, kdf: PassphraseKdf): Uint8Array {
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

function seal(value: unknown, key: Uint8Array, kdf: PassphraseKdf): string {
  const s = sodium();
  const nonce = randomBytes(s.crypto_secretbox_NONCEBYTES);
  const ciphertext = s.crypto_secretbox_easy(utf8(JSON.stringify(value)), nonce, key);
  const file: PassphraseFile = { v: 1, kdf, nonce: toBase64url(nonce), ciphertext: toBase64url(ciphertext) };
  return JSON.stringify(file, null, 2) + '\n';
}

function newKdf(profile: KdfChoice): PassphraseKdf {
  return {
    alg: 'argon2id13',
    ...kdfCost(profile),
    salt: toBase64url(randomBytes(ARGON2ID.saltBytes)),
  };
}

/**
 * The keystore file's text for `material`. Preconditions: libsodium is loaded, the passphrase is
 * not empty (PASSPHRASE_REQUIRED) and has at least MIN_PASSPHRASE_CHARS characters
 * (PASSPHRASE_TOO_SHORT), the material fits its schema. `profile` defaults to what
 * ENTRAIDE_TEST_KDF asks for.
 */
export function encryptKeystore(
  material: KeyMaterial,
  passphrase: string,
  profile: KdfChoice = kdfProfileFromEnv(),
): string {
  if (passphrase.length === 0)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase must not be empty');
  requireNewPassphrase(passphrase);
  const kdf = newKdf(profile);
  const key = deriveKey(passphrase, kdf);
  try {
    return seal(check(KeyMaterial, material, 'key material'), key, kdf);
  } finally {
    key.fill(0);
  }
}

/** Any JSON value encrypted under a passphrase, in the keystore's file format (for auditors' keys). */
export function encryptWithPassphrase(
  value: unknown,
  passphrase: string,
  profile: KdfChoice = kdfProfileFromEnv(),
): string {
  if (passphrase.length === 0)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase must not be empty');
  const kdf = newKdf(profile);
  const key = deriveKey(passphrase, kdf);
  try {
    return seal(value, key, kdf);
  } finally {
    key.fill(0);
  }
}

/** Where a passphrase-protected file came from, and the code its faults get. */
export interface FileOrigin {
  /** The file's path, named in every message. */
  file: string;
  /** HOME_CORRUPT for a node's keystore, AUDITOR_CORRUPT for an auditor's credentials. */
  code: ErrorCode;
}

/**
 * The outer shape of a passphrase-protected file, checked before Argon2 runs: JSON, the schema,
 * and KDF parameters within bounds (a planted file must not make us spin or allocate gigabytes).
 */
export function parsePassphraseFile(text: string, origin: FileOrigin): PassphraseFile {
  const file = parseFileText(PassphraseFile, text, { ...origin, maxChars: MAX_PASSPHRASE_FILE_CHARS });
  const problem = kdfProblem(file.kdf);
  if (problem) throw new EntraideError(origin.code, `${origin.file} is damaged: kdf ${problem}`);
  return file;
}

/**
 * The plaintext JSON of a checked file under `key`: PASSPHRASE_WRONG when the key does not open
 * it, `origin.code` when what it opens to is not JSON (the parser's message, which would quote the
 * plaintext, is never passed on).
 */
function openSealed(file: PassphraseFile, key: Uint8Array, origin: FileOrigin, wrong: string): unknown {
  const s = sodium();
  let plain: Uint8Array;
  try {
    plain = s.crypto_secretbox_open_easy(
      fromBase64url(file.ciphertext, 'ciphertext'),
      fromBase64url(file.nonce, 'nonce', s.crypto_secretbox_NONCEBYTES),
      key,
    );
  } catch {
    throw new EntraideError('PASSPHRASE_WRONG', wrong);
  }
  try {
    return JSON.parse(fromUtf8(plain)) as unknown;
  } catch {
    throw new EntraideError(origin.code, `${origin.file} is damaged: its decrypted contents are not JSON`);
  } finally {
    plain.fill(0);
  }
}

/**
 * Opens what `encryptWithPassphrase` wrote, with the KDF parameters the file records.
 * PASSPHRASE_WRONG when the passphrase does not open it; `origin.code` when the file is damaged.
 */
export function decryptWithPassphrase(text: string, passphrase: string, origin: FileOrigin): unknown {
  const file = parsePassphraseFile(text, origin);
  const key = deriveKey(passphrase, file.kdf);
  try {
    return openSealed(file, key, origin, `the passphrase does not open ${origin.file}`);
  } finally {
    key.fill(0);
  }
}

/**
 * Reads, opens and checks a passphrase-protected file (an auditor's credentials): `code`, naming
 * the file and the field, for any fault of the file or of what it holds; PASSPHRASE_WRONG as usual.
 */
export function readPassphraseFile<S extends TSchema>(
  file: string,
  passphrase: string,
  code: ErrorCode,
  schema: S,
): Static<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EntraideError(code, `cannot read ${file} (${systemErrorCode(err)})`);
  }
  return asDamaged(file, code, () =>
    check(schema, decryptWithPassphrase(text, passphrase, { file, code }), 'contents'),
  );
}

/** Runs `step`, turning its SCHEMA_INVALID into `code` for `file`, with the same field named. */
function asDamaged<T>(file: string, code: ErrorCode, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof EntraideError && err.code === 'SCHEMA_INVALID')
      throw new EntraideError(code, `${file} is damaged: ${err.message}`);
    throw err;
  }
}

/** A fresh key for the node's database content (32 random bytes, base64url). */
export function newDatabaseKey(): string {
  return toBase64url(randomBytes(32));
}

/** The database content key of an open keystore (present once Keystore.open has upgraded it). */
export function databaseKeyOf(keys: KeyMaterial): Uint8Array {
  if (!keys.databaseKey) throw new EntraideError('INTERNAL', 'the keystore holds no database key');
  return fromBase64url(keys.databaseKey, 'databaseKey', 32);
}

function readKeystoreFile(path: string): PassphraseFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = systemErrorCode(err);
    if (why === 'ENOENT') throw new EntraideError('HOME_MISSING', `the node’s keystore ${path} is missing`);
    throw new EntraideError('HOME_CORRUPT', `cannot read the keystore ${path} (${why})`);
  }
  return parsePassphraseFile(text, { file: path, code: 'HOME_CORRUPT' });
}

/** PASSPHRASE_WRONG when `key` does not open the file; HOME_CORRUPT when it holds no key material. */
function openKeystoreFile(path: string, file: PassphraseFile, key: Uint8Array): KeyMaterial {
  const origin: FileOrigin = { file: path, code: 'HOME_CORRUPT' };
  const value = openSealed(file, key, origin, 'the passphrase does not open this node’s keystore');
  return asDamaged(path, 'HOME_CORRUPT', () => check(KeyMaterial, value, 'keystore'));
}

export class Keystore {
  private constructor(
    readonly path: string,
    private material: KeyMaterial,
    private key: Uint8Array,
    private kdf: PassphraseKdf,
    private shortPassphrase: boolean,
  ) {}

  /** Set by the local service: the master key is in the file, not in memory (lendMasterKey). */
  private masterWithheld = false;

  /**
   * Opens the keystore at `path` with the KDF parameters it records. HOME_MISSING when there is
   * no file; HOME_CORRUPT (naming the file and the field, never a value) when it cannot be read,
   * is not JSON, does not fit the schema, asks for KDF parameters out of bounds, or opens to
   * something that is not key material; PASSPHRASE_WRONG when the passphrase does not open it.
   * A file that costs less than MODERATE (and is not a `test` file) is sealed again at MODERATE
   * with a fresh salt; a file without a database key gets one. Both replace the file atomically.
   */
  static open(path: string, passphrase: string): Keystore {
    const file = readKeystoreFile(path);
    const key = deriveKey(passphrase, file.kdf);
    let keystore: Keystore | undefined;
    try {
      const material = openKeystoreFile(path, file, key);
      const tooShort = passphraseLength(passphrase) < MIN_PASSPHRASE_CHARS;
      keystore = new Keystore(path, material, key, file.kdf, tooShort);
      const upgraded = material.databaseKey ? material : { ...material, databaseKey: newDatabaseKey() };
      if (kdfBelowModerate(file.kdf)) keystore.reseal(passphrase, 'moderate', upgraded);
      else if (upgraded !== material) keystore.save(upgraded);
      return keystore;
    } catch (err) {
      key.fill(0);
      keystore?.close();
      throw err;
    }
  }

  get keys(): KeyMaterial {
    return this.material;
  }

  /**
   * True when the passphrase that opened it is shorter than a new one may be (MIN_PASSPHRASE_CHARS):
   * it still opens the keystore, but the officer should choose a longer one (changePassphrase).
   */
  get passphraseTooShort(): boolean {
    return this.shortPassphrase;
  }

  /** What the officer should hear on opening: a passphrase to lengthen. */
  get notices(): string[] {
    return this.shortPassphrase
      ? [
          `this node’s passphrase is shorter than ${MIN_PASSPHRASE_CHARS} characters: choose a longer one with \`entraide keys passphrase\``,
        ]
      : [];
  }

  /** `test` when the file was made with ENTRAIDE_TEST_KDF=1 (MIN cost, never for a real node). */
  get kdfProfile(): KdfChoice {
    if (this.kdf.profile) return this.kdf.profile;
    return kdfBelowModerate(this.kdf) ? 'interactive' : 'moderate';
  }

  /**
   * Encrypts the new material under the same passphrase and replaces the file atomically. While the
   * master key is withheld, the file's own master key is written back with `next` (read for this
   * write only), so that saving rotated node keys never drops it.
   */
  save(next: KeyMaterial): void {
    const onDisk =
      this.masterWithheld && next.masterSecretKey === null
        ? {
            ...next,
            masterSecretKey: openKeystoreFile(this.path, readKeystoreFile(this.path), this.key)
              .masterSecretKey,
          }
        : next;
    const text = seal(check(KeyMaterial, onDisk, 'key material'), this.key, this.kdf);
    writeFileAtomic(this.path, text);
    this.material = this.masterWithheld ? { ...next, masterSecretKey: null } : next;
  }

  /** True when this node holds its authority's master key (in memory, or withheld in the file). */
  get holdsMasterKey(): boolean {
    return this.masterWithheld || this.material.masterSecretKey !== null;
  }

  /**
   * Drops the authority master key from memory; it stays in the file. The local service runs so:
   * it needs the node's own keys all the time, the master key only to approve, revoke or rotate.
   */
  withholdMasterKey(): void {
    if (this.material.masterSecretKey === null) return;
    this.material = { ...this.material, masterSecretKey: null };
    this.masterWithheld = true;
  }

  /**
   * Runs `operation` with the master key read from the file with `passphrase` (PASSPHRASE_WRONG,
   * nothing run, when it does not open it), and drops it from memory again when it ends.
   */
  async lendMasterKey<T>(passphrase: string, operation: () => Promise<T>): Promise<T> {
    const fromFile = this.checkPassphrase(passphrase).masterSecretKey;
    if (!this.masterWithheld) return operation();
    this.material = { ...this.material, masterSecretKey: fromFile };
    this.masterWithheld = false;
    try {
      return await operation();
    } finally {
      this.withholdMasterKey();
      this.masterWithheld = true;
    }
  }

  /**
   * Opens the file with `passphrase` and returns what it holds (PASSPHRASE_WRONG when it does not
   * open it): a browser session is unlocked with the keystore's passphrase, checked this way.
   */
  checkPassphrase(passphrase: string): KeyMaterial {
    const file = readKeystoreFile(this.path);
    const key = deriveKey(passphrase, file.kdf);
    try {
      return openKeystoreFile(this.path, file, key);
    } finally {
      key.fill(0);
    }
  }

  /**
   * Seals the keys under a new passphrase (at least MIN_PASSPHRASE_CHARS characters:
   * PASSPHRASE_TOO_SHORT otherwise, nothing changed), at MODERATE cost (or `test` under
   * ENTRAIDE_TEST_KDF=1) with a fresh salt, and replaces the file atomically.
   */
  changePassphrase(next: string): void {
    requireNewPassphrase(next);
    this.reseal(next, kdfProfileFromEnv(), this.material);
  }

  /** A new salt and cost, a new derived key, the file replaced; the old key is wiped once it is. */
  private reseal(passphrase: string, profile: KdfChoice, material: KeyMaterial): void {
    const kdf = newKdf(profile);
    const key = deriveKey(passphrase, kdf);
    try {
      writeFileAtomic(this.path, seal(check(KeyMaterial, material, 'key material'), key, kdf));
    } catch (err) {
      key.fill(0);
      throw err;
    }
    this.key.fill(0);
    this.key = key;
    this.kdf = kdf;
    this.material = material;
    this.shortPassphrase = passphraseLength(passphrase) < MIN_PASSPHRASE_CHARS;
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
