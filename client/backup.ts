/**
 * The encrypted key backup file written by `entraide keys export` and read by `entraide keys
 * import`: the node's configuration and keys (with the authority master key when this node holds
 * it), sealed under a passphrase so that an officer can restore the node on another machine.
 *
 * Format v1 is one closed JSON object:
 *   { format: 'entraide-key-backup', v: 1, authority, node, createdAt, hasMasterKey,
 *     kdf: { alg: 'argon2id13', opslimit, memlimit, salt, profile? }, check, nonce, ciphertext }
 * - Argon2id (crypto_pwhash) of the UTF-8, NFC-normalised passphrase gives 64 bytes. The first 32
 *   are the XChaCha20-Poly1305-IETF key; the last 32 key `check` = BLAKE2b-256 over the context
 *   'entraide/v1/backup-check'. `check` tells a wrong passphrase (it differs: PASSPHRASE_WRONG)
 *   from a damaged or altered file (it matches but the AEAD fails: BACKUP_INVALID).
 * - The AEAD's additional data is the RFC 8785 encoding of every field but `ciphertext`, so no
 *   header field can be changed unnoticed. The plaintext is the RFC 8785 encoding of
 *   { config, material, createdAt }.
 * - The KDF parameters are bounded before Argon2 runs: a forged file must not make us allocate
 *   gigabytes of memory or compute for hours (shared/protocol/passphrase-kdf.ts). A cost below
 *   INTERACTIVE is accepted only with `profile: 'test'`, which the test suite asks for explicitly.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { authorityOfNode } from '../shared/addresses.ts';
import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../shared/bytes.ts';
import { canonicalBytes } from '../shared/canonical.ts';
import { sodium } from '../shared/crypto/sodium.ts';
import { EntraideError } from '../shared/errors.ts';
import { NodeConfig } from '../shared/protocol/node-files.ts';
import {
  ARGON2ID,
  MAX_KDF_MEMLIMIT,
  MAX_KDF_OPSLIMIT,
  PassphraseKdf,
  kdfCost,
  kdfProblem,
  type KdfChoice,
  type KdfProfile,
} from '../shared/protocol/passphrase-kdf.ts';
import { AuthorityAddress, B64, NodeAddress, Rfc3339 } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import { KeyMaterial } from './keystore.ts';
import { random } from './random.ts';

export interface BackupContents {
  config: NodeConfig;
  material: KeyMaterial;
  createdAt: string;
}

/** Argon2id cost: opslimit passes over memlimit bytes; `test` allows a cost below INTERACTIVE. */
export interface BackupKdf {
  opslimit: number;
  memlimit: number;
  profile?: KdfProfile;
}

export const BACKUP_FORMAT = 'entraide-key-backup';

/**
 * The default cost: libsodium's MODERATE (opslimit 3, memlimit 256 MiB). On the 2-core AMD EPYC
 * development machine one derivation took 0.7–1.1 s, and 1.6–2.0 s as the first derivation of a
 * fresh process (which also grows the WebAssembly memory to 256 MiB): well under 3 s for a
 * command an officer runs a few times a year. SENSITIVE (4, 1 GiB) took 4.3–8.9 s there.
 * A test checks that these numbers are libsodium's MODERATE constants.
 */
export const DEFAULT_BACKUP_KDF: Readonly<BackupKdf> = Object.freeze({
  opslimit: 3,
  memlimit: 256 * 1024 * 1024,
});

/** Above this, a file cannot come from writeBackup (many times more keys than a node holds). */
export const MAX_BACKUP_CHARS = 1_000_000;
/** Argon2 memory a file may ask for; the lower bounds are libsodium's INTERACTIVE values. */
export const MAX_BACKUP_MEMLIMIT = MAX_KDF_MEMLIMIT;
/** Four times SENSITIVE: with 1 GiB, some 20–35 s on the development machine; more is abuse. */
export const MAX_BACKUP_OPSLIMIT = MAX_KDF_OPSLIMIT;

/**
 * The cost of a new backup: DEFAULT_BACKUP_KDF, or with the `test` profile (ENTRAIDE_TEST_KDF=1,
 * the test suite only) libsodium's MIN cost, recorded in the file as `profile: 'test'`.
 */
export function backupKdfFor(choice: KdfChoice): BackupKdf {
  return choice === 'test' ? kdfCost('test') : { ...DEFAULT_BACKUP_KDF };
}

const CHECK_CONTEXT = utf8('entraide/v1/backup-check');
const DERIVED_BYTES = 64;
const KEY_BYTES = 32; // crypto_aead_xchacha20poly1305_ietf_KEYBYTES
export const CHECK_BYTES = 32;
export const SALT_BYTES = ARGON2ID.saltBytes; // crypto_pwhash_SALTBYTES
const NONCE_BYTES = 24; // crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
const TAG_BYTES = 16; // crypto_aead_xchacha20poly1305_ietf_ABYTES

// ---- schemas: the file, and what its ciphertext holds --------------------------------------
const closed = { additionalProperties: false } as const;

const BackupFile = Type.Object(
  {
    format: Type.Literal(BACKUP_FORMAT),
    v: Type.Literal(1),
    authority: AuthorityAddress,
    node: NodeAddress,
    createdAt: Rfc3339,
    hasMasterKey: Type.Boolean(),
    kdf: PassphraseKdf,
    check: B64(CHECK_BYTES, 'BLAKE2b-256 keyed by the last 32 derived bytes'),
    nonce: B64(NONCE_BYTES, 'XChaCha20-Poly1305 nonce'),
    ciphertext: Type.String({ pattern: '^[A-Za-z0-9_-]+$', description: 'XChaCha20-Poly1305-IETF' }),
  },
  closed,
);
type BackupFile = Static<typeof BackupFile>;
/** What the AEAD authenticates: every field of the file but the ciphertext. */
type BackupHeader = Omit<BackupFile, 'ciphertext'>;

// node.json's own schema (shared/protocol/node-files.ts) and the keystore's KeyMaterial.
const BackupPlaintext = Type.Object(
  { config: NodeConfig, material: KeyMaterial, createdAt: Rfc3339 },
  closed,
);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _contentsMatch: Same<Static<typeof BackupPlaintext>, BackupContents> = true;

// ---- writing ----------------------------------------------------------------------------

/**
 * The backup file's text. Preconditions: libsodium is loaded; the passphrase is not empty; `kdf`
 * lies within the bounds readers accept (USAGE otherwise); `contents` fits the schemas and its
 * node belongs to its authority (SCHEMA_INVALID otherwise, naming the field, never its value).
 */
export function writeBackup(
  contents: BackupContents,
  passphrase: string,
  kdf: BackupKdf = DEFAULT_BACKUP_KDF,
): string {
  if (passphrase.length === 0)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'a passphrase is needed to protect the backup');
  const problem = kdfProblem(kdf);
  if (problem) throw new EntraideError('USAGE', `backup KDF: ${problem}`);
  const body = check(
    BackupPlaintext,
    { config: contents.config, material: contents.material, createdAt: contents.createdAt },
    'backup contents',
  );
  if (!nodeBelongsTo(body.config.node, body.config.authority))
    throw new EntraideError(
      'SCHEMA_INVALID',
      'backup contents.config.node is not a node of config.authority',
    );

  const s = sodium();
  const salt = random(SALT_BYTES);
  const nonce = random(NONCE_BYTES);
  const plaintext = canonicalBytes(body);
  const derived = deriveBytes(passphrase, kdf, salt);
  try {
    const header: BackupHeader = {
      format: BACKUP_FORMAT,
      v: 1,
      authority: body.config.authority,
      node: body.config.node,
      createdAt: body.createdAt,
      hasMasterKey: body.material.masterSecretKey !== null,
      ...passphraseSeal(kdf, salt, derived),
      nonce: toBase64url(nonce),
    };
    const ciphertext = s.crypto_aead_xchacha20poly1305_ietf_encrypt(
      plaintext,
      canonicalBytes(header),
      null,
      nonce,
      keyOf(derived),
    );
    const file: BackupFile = { ...header, ciphertext: toBase64url(ciphertext) };
    return JSON.stringify(file, null, 2) + '\n';
  } finally {
    derived.fill(0);
    plaintext.fill(0);
  }
}

// ---- reading ----------------------------------------------------------------------------

/**
 * The contents of a backup file. Preconditions: libsodium is loaded; the passphrase is not empty
 * (PASSPHRASE_REQUIRED). Throws PASSPHRASE_WRONG when the passphrase does not derive the file's
 * check, and BACKUP_INVALID for any other fault: bad shape, absurd KDF parameters (refused before
 * Argon2 runs), altered header or ciphertext, contents that do not match the header.
 */
export function readBackup(text: string, passphrase: string): BackupContents {
  if (passphrase.length === 0)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase of the backup is needed to read it');
  const file = parseBackupFile(text);
  const derived = deriveBytes(passphrase, file.header.kdf, file.salt);
  let plaintext: Uint8Array | null;
  try {
    const derivedCheck = checkOf(derived);
    if (!sodium().memcmp(derivedCheck, file.check)) {
      // Either the passphrase is wrong or the `check` field itself was altered. Opening the
      // ciphertext with the check this passphrase gives tells them apart without another Argon2.
      const opened = open(file, { ...file.header, check: toBase64url(derivedCheck) }, keyOf(derived));
      if (opened) {
        opened.fill(0);
        throw invalid('the check field of the backup file was altered');
      }
      throw new EntraideError('PASSPHRASE_WRONG', 'the passphrase does not open this backup');
    }
    plaintext = open(file, file.header, keyOf(derived));
  } finally {
    derived.fill(0);
  }
  if (!plaintext)
    throw invalid('the backup file was altered or is incomplete: its ciphertext does not verify');
  try {
    return contentsOf(plaintext, file.header);
  } finally {
    plaintext.fill(0);
  }
}

/** The header of a backup file, validated as readBackup does, without the passphrase. */
export function describeBackup(text: string): {
  authority: string;
  node: string;
  createdAt: string;
  hasMasterKey: boolean;
} {
  const { header } = parseBackupFile(text);
  return {
    authority: header.authority,
    node: header.node,
    createdAt: header.createdAt,
    hasMasterKey: header.hasMasterKey,
  };
}

interface ParsedBackup {
  header: BackupHeader;
  salt: Uint8Array;
  check: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

/** Everything that can be checked without the passphrase, so before Argon2 runs. */
function parseBackupFile(text: string): ParsedBackup {
  if (text.length > MAX_BACKUP_CHARS)
    throw invalid(`the backup file is larger than ${MAX_BACKUP_CHARS} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('the backup file is not JSON (it may be truncated)');
  }
  const file = checkedBackupHeader(BackupFile, value);
  const { ciphertext, ...header } = file;
  return asBackupInvalid(() => {
    const parsed = {
      header,
      salt: fromBase64url(file.kdf.salt, 'backup file.kdf.salt', SALT_BYTES),
      check: fromBase64url(file.check, 'backup file.check', CHECK_BYTES),
      nonce: fromBase64url(file.nonce, 'backup file.nonce', NONCE_BYTES),
      ciphertext: fromBase64url(ciphertext, 'backup file.ciphertext'),
    };
    if (parsed.ciphertext.length <= TAG_BYTES) throw invalid('backup file.ciphertext is too short');
    return parsed;
  });
}

/**
 * A backup's header (keys backup or whole-node backup) as parsed JSON, checked before Argon2 runs:
 * its schema, KDF parameters within bounds, and its node one of its authority's. BACKUP_INVALID.
 */
export function checkedBackupHeader<S extends TSchema>(
  schema: S,
  value: unknown,
): Static<S> & { kdf: BackupKdf; node: string; authority: string } {
  const header = asBackupInvalid(() => check(schema, value, 'backup file')) as Static<S> & {
    kdf: BackupKdf;
    node: string;
    authority: string;
  };
  const problem = kdfProblem(header.kdf);
  if (problem) throw invalid(`backup file.kdf: ${problem}`);
  if (!nodeBelongsTo(header.node, header.authority))
    throw invalid('backup file.node is not a node of backup file.authority');
  return header;
}

/** The decrypted contents, checked against the header that was authenticated with them. */
function contentsOf(plaintext: Uint8Array, header: BackupHeader): BackupContents {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(plaintext));
  } catch {
    // The parser's message would quote the plaintext, keys included: never pass it on.
    throw invalid('the decrypted contents of the backup are not JSON');
  }
  const body = asBackupInvalid(() => check(BackupPlaintext, value, 'backup contents'));
  if (body.config.authority !== header.authority || body.config.node !== header.node)
    throw invalid('the contents of the backup belong to another node than its header names');
  if (body.createdAt !== header.createdAt)
    throw invalid('the contents of the backup carry another date than its header');
  if ((body.material.masterSecretKey !== null) !== header.hasMasterKey)
    throw invalid('the header of the backup misstates whether it holds the authority master key');
  return body;
}

// ---- primitives -------------------------------------------------------------------------

/**
 * Argon2id of the NFC-normalised passphrase: 64 bytes, the first 32 a key (keyOf), the last 32 the
 * key of the file's `check` (checkOf). Shared with the whole-node backup (node-backup.ts).
 */
export function deriveBytes(passphrase: string, kdf: BackupKdf, salt: Uint8Array): Uint8Array {
  const s = sodium();
  // NFC, so that "é" typed as one code point or as e + combining accent opens the same file.
  const password = utf8(passphrase.normalize('NFC'));
  try {
    return s.crypto_pwhash(
      DERIVED_BYTES,
      password,
      salt,
      kdf.opslimit,
      kdf.memlimit,
      s.crypto_pwhash_ALG_ARGON2ID13,
    );
  } finally {
    password.fill(0);
  }
}

/** The header fields that let a passphrase be tried on a file: the KDF, its salt, and the check. */
export function passphraseSeal(kdf: BackupKdf, salt: Uint8Array, derived: Uint8Array) {
  return {
    kdf: {
      alg: 'argon2id13' as const,
      opslimit: kdf.opslimit,
      memlimit: kdf.memlimit,
      salt: toBase64url(salt),
      ...(kdf.profile ? { profile: kdf.profile } : {}),
    },
    check: toBase64url(checkOf(derived)),
  };
}

export function keyOf(derived: Uint8Array): Uint8Array {
  return derived.subarray(0, KEY_BYTES);
}

export function checkOf(derived: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(CHECK_BYTES, CHECK_CONTEXT, derived.subarray(KEY_BYTES));
}

/** The plaintext, or null when the ciphertext does not verify under this key and header. */
function open(file: ParsedBackup, header: BackupHeader, key: Uint8Array): Uint8Array | null {
  try {
    return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      file.ciphertext,
      canonicalBytes(header),
      file.nonce,
      key,
    );
  } catch {
    return null;
  }
}

export function nodeBelongsTo(node: string, authority: string): boolean {
  try {
    return authorityOfNode(node) === authority;
  } catch {
    return false;
  }
}

export function invalid(message: string): EntraideError {
  return new EntraideError('BACKUP_INVALID', message);
}

/** Runs a validation step, turning its SCHEMA_INVALID into BACKUP_INVALID with the same message. */
export function asBackupInvalid<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof EntraideError && err.code === 'SCHEMA_INVALID') throw invalid(err.message);
    throw err;
  }
}
