/**
 * The files of a node's folder checked against their schemas before use: node.json and
 * keystore.json (and the same outer shape for an auditor's credentials). Each damaged file gets
 * HOME_CORRUPT (not HOME_MISSING, whose hint says to run `entraide init`), its message names the
 * file and the field, never a value; a valid file still opens. Also the KDF profiles: INTERACTIVE
 * by default, the `test` profile (MIN cost) only when asked for, recorded in the file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { backupKdfFor, DEFAULT_BACKUP_KDF, readBackup, writeBackup } from '../../client/backup.ts';
import { readConfig, writeConfig, type NodeConfig } from '../../client/home.ts';
import {
  Keystore,
  decryptWithPassphrase,
  encryptKeystore,
  encryptWithPassphrase,
  kdfProfileFromEnv,
  type KeyMaterial,
} from '../../client/keystore.ts';
import { newConfig } from '../../client/new-home.ts';
import { random } from '../../client/random.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { createAuthorityEnrolment } from '../../shared/crypto/enrolment.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { EntraideError, ERROR_CODES, type ErrorCode } from '../../shared/errors.ts';
import {
  ARGON2ID,
  MAX_KDF_MEMLIMIT,
  MAX_KDF_OPSLIMIT,
  kdfCost,
} from '../../shared/protocol/passphrase-kdf.ts';

const s = await loadSodium();
const PASSPHRASE = 'Grand-Yoff, bureau 214';
const GiB = 1024 ** 3;
const dirs: string[] = [];

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'entraide-files-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): EntraideError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EntraideError) return err;
    throw new Error(`expected an EntraideError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected an EntraideError, but nothing was thrown');
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

const now = new Date('2025-03-10T08:30:00.000Z');
const created = createAuthorityEnrolment(
  { domain: 'relay.files.example', authorityId: 'sn.moj', nodeName: 'desk1', now },
  random,
);
const MATERIAL: KeyMaterial = {
  masterSecretKey: toBase64url(created.master.secretKey),
  masterPublicKey: created.request.masterKey,
  identitySecretKey: toBase64url(created.identity.secretKey),
  identityPublicKey: toBase64url(created.identity.publicKey),
  encryptionKeys: [
    {
      publicKey: toBase64url(created.encryption.publicKey),
      secretKey: toBase64url(created.encryption.secretKey),
      createdAt: now.toISOString(),
      notAfter: created.encKeyNotAfter.toISOString(),
      publishedAt: now.toISOString(),
    },
  ],
  certificate: JSON.stringify(created.request.certificate),
};
const SECRETS = [
  MATERIAL.masterSecretKey!,
  MATERIAL.identitySecretKey,
  MATERIAL.encryptionKeys[0]!.secretKey!,
];
const RELAY_KEY = toBase64url(random(32));
const CONFIG: NodeConfig = newConfig(
  new URL('http://127.0.0.1:7800'),
  { domain: 'relay.files.example', publicKey: RELAY_KEY },
  created.node,
  now,
);

/** A JSON file's text after `edit` changed its parsed value. */
function edited(text: string, edit: (value: Record<string, unknown>) => void): string {
  const value = JSON.parse(text) as Record<string, unknown>;
  edit(value);
  return JSON.stringify(value, null, 2) + '\n';
}

/** Systematic corruptions of a JSON file: [what, text, the field the message must name]. */
function corruptions(valid: string): [string, string, string | null][] {
  return [
    ['an empty file', '', null],
    ['a file of spaces', '   \n', null],
    ['text that is not JSON', 'this is not JSON\n', null],
    ['a truncated file', valid.slice(0, Math.floor(valid.length / 2)), null],
    ['a file cut one character short', valid.trimEnd().slice(0, -1), null],
    ['JSON null', 'null\n', null],
    ['a JSON array', '[]\n', null],
    ['a JSON string', '"node"\n', null],
    ['an unexpected field', edited(valid, (v) => (v.extra = 1)), 'extra'],
    ['version 2', edited(valid, (v) => (v.v = 2)), 'damaged: v must'],
    ['the version as text', edited(valid, (v) => (v.v = '1')), 'damaged: v must'],
  ];
}

// ---- node.json --------------------------------------------------------------------------

describe('node.json', () => {
  const VALID = JSON.stringify(CONFIG, null, 2) + '\n';

  function homeWith(text: string): string {
    const home = freshDir();
    writeFileSync(join(home, 'node.json'), text);
    return home;
  }

  it('opens a valid node.json as newConfig wrote it', () => {
    expect(readConfig(homeWith(VALID))).toStrictEqual(CONFIG);
    const withOptional = { ...CONFIG, keyRotationDays: 7, joinCode: 'ABCD-EFGH' };
    expect(readConfig(homeWith(JSON.stringify(withOptional)))).toStrictEqual(withOptional);
  });

  it('says HOME_MISSING for a folder that does not exist or holds no node.json', () => {
    const parent = freshDir();
    expect(errorOf(() => readConfig(join(parent, 'gone'))).code).toBe('HOME_MISSING');
    expect(errorOf(() => readConfig(parent)).code).toBe('HOME_MISSING');
  });

  const shapes: [string, string, string | null][] = [
    ...corruptions(VALID),
    ['no relay', edited(VALID, (v) => delete v.relay), 'relay'],
    ['no node', edited(VALID, (v) => delete v.node), 'node'],
    ['the relay URL as a number', edited(VALID, (v) => (v.relayUrl = 7800)), 'relayUrl'],
    ['an empty relay URL', edited(VALID, (v) => (v.relayUrl = '')), 'relayUrl'],
    ['the relay as text', edited(VALID, (v) => (v.relay = 'relay.files.example')), 'relay'],
    [
      'a relay key of the wrong length',
      edited(VALID, (v) => ((v.relay as { publicKey: string }).publicKey = RELAY_KEY.slice(1))),
      'relay.publicKey',
    ],
    [
      'a relay domain in capitals',
      edited(VALID, (v) => ((v.relay as { domain: string }).domain = 'RELAY.EXAMPLE')),
      'relay.domain',
    ],
    ['a node address without its authority', edited(VALID, (v) => (v.node = 'desk1')), 'node'],
    ['a date that is not RFC 3339', edited(VALID, (v) => (v.createdAt = 'yesterday')), 'createdAt'],
    ['keyRotationDays as text', edited(VALID, (v) => (v.keyRotationDays = '30')), 'keyRotationDays'],
    ['keyRotationDays of 0', edited(VALID, (v) => (v.keyRotationDays = 0)), 'keyRotationDays'],
    ['keyRotationDays fractional', edited(VALID, (v) => (v.keyRotationDays = 1.5)), 'keyRotationDays'],
    ['an empty join code', edited(VALID, (v) => (v.joinCode = '')), 'joinCode'],
  ];

  it.each(shapes)('refuses %s with HOME_CORRUPT naming the file and the field', (_what, text, field) => {
    const home = homeWith(text);
    const err = errorOf(() => readConfig(home));
    expect(err.code).toBe('HOME_CORRUPT');
    expect(err.message).toContain(join(home, 'node.json'));
    if (field) expect(err.message).toContain(field);
    expect(err.message).not.toContain(RELAY_KEY);
  });

  it('refuses a node.json far larger than any node writes, before parsing it', () => {
    const home = homeWith(VALID.replace(/\n$/, ' '.repeat(100_000)));
    expect(errorOf(() => readConfig(home)).code).toBe('HOME_CORRUPT');
  });

  it('refuses a node.json that cannot be read (a folder in its place) with HOME_CORRUPT', () => {
    const home = freshDir();
    mkdirSync(join(home, 'node.json'));
    const err = errorOf(() => readConfig(home));
    expect(err.code).toBe('HOME_CORRUPT');
    expect(err.message).toContain('EISDIR');
  });

  it('HOME_CORRUPT is a verdict, and its hint speaks of restoring, not of `entraide init`', () => {
    expect(ERROR_CODES.HOME_CORRUPT.hint).toMatch(/damaged/);
    expect(ERROR_CODES.HOME_CORRUPT.hint).toMatch(/entraide keys import/);
    expect(ERROR_CODES.HOME_CORRUPT.hint).not.toMatch(/entraide init/);
    expect((ERROR_CODES.HOME_CORRUPT as { transient?: true }).transient).toBeUndefined();
  });

  it('writeConfig writes what readConfig reads, and refuses a configuration readConfig would refuse', () => {
    const home = freshDir();
    writeConfig(home, { ...CONFIG, keyRotationDays: 14 });
    expect(readConfig(home)).toStrictEqual({ ...CONFIG, keyRotationDays: 14 });
    const before = readFileSync(join(home, 'node.json'), 'utf8');
    const bad = { ...CONFIG, keyRotationDays: -1 };
    expect(errorOf(() => writeConfig(home, bad)).code).toBe('SCHEMA_INVALID');
    expect(readFileSync(join(home, 'node.json'), 'utf8')).toBe(before);
  });
});

// ---- keystore.json -----------------------------------------------------------------------

describe('keystore.json', () => {
  // The test profile keeps the many opens below cheap; the default profile has its own tests.
  const VALID = encryptKeystore(MATERIAL, PASSPHRASE, 'test');

  function keystoreWith(text: string): string {
    const path = join(freshDir(), 'keystore.json');
    writeFileSync(path, text);
    return path;
  }

  it('opens a valid keystore with the passphrase, adding the database key it lacked', () => {
    const ks = Keystore.open(keystoreWith(VALID), PASSPHRASE);
    expect(ks.keys.databaseKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ks.keys).toStrictEqual({ ...MATERIAL, databaseKey: ks.keys.databaseKey });
    ks.close();
  });

  it('says HOME_MISSING for a keystore that is not there, naming it', () => {
    const path = join(freshDir(), 'keystore.json');
    const err = errorOf(() => Keystore.open(path, PASSPHRASE));
    expect(err.code).toBe('HOME_MISSING');
    expect(err.message).toContain(path);
  });

  it('says PASSPHRASE_WRONG for another passphrase', () => {
    expect(errorOf(() => Keystore.open(keystoreWith(VALID), 'another one')).code).toBe('PASSPHRASE_WRONG');
  });

  const shapes: [string, string, string | null][] = [
    ...corruptions(VALID),
    ['no ciphertext', edited(VALID, (v) => delete v.ciphertext), 'ciphertext'],
    ['no kdf', edited(VALID, (v) => delete v.kdf), 'kdf'],
    ['the kdf as text', edited(VALID, (v) => (v.kdf = 'argon2id13')), 'kdf'],
    [
      'another KDF algorithm',
      edited(VALID, (v) => Object.assign(v.kdf as object, { alg: 'scrypt' })),
      'kdf.alg',
    ],
    ['opslimit as text', edited(VALID, (v) => Object.assign(v.kdf as object, { opslimit: '2' })), 'opslimit'],
    [
      'a salt of the wrong length',
      edited(VALID, (v) => Object.assign(v.kdf as object, { salt: 'AAAA' })),
      'salt',
    ],
    [
      'an unknown KDF profile',
      edited(VALID, (v) => Object.assign(v.kdf as object, { profile: 'fast' })),
      'profile',
    ],
    ['a nonce of the wrong length', edited(VALID, (v) => (v.nonce = 'AAAA')), 'nonce'],
    [
      'a ciphertext that is not base64url',
      edited(VALID, (v) => (v.ciphertext = 'not base64url!')),
      'ciphertext',
    ],
    ['a ciphertext shorter than its tag', edited(VALID, (v) => (v.ciphertext = 'AAAA')), 'ciphertext'],
  ];

  it.each(shapes)('refuses %s with HOME_CORRUPT naming the file and the field', (_what, text, field) => {
    const path = keystoreWith(text);
    const err = errorOf(() => Keystore.open(path, PASSPHRASE));
    expect(err.code).toBe('HOME_CORRUPT');
    expect(err.message).toContain(path);
    if (field) expect(err.message).toContain(field);
  });

  const absurd: [string, Record<string, unknown>][] = [
    ['a memlimit of 64 GiB', { memlimit: 64 * GiB }],
    ['a memlimit just over the bound', { memlimit: MAX_KDF_MEMLIMIT + 1024 }],
    ['a memlimit of 2^53', { memlimit: 2 ** 53 }],
    ['a memlimit of 0', { memlimit: 0 }],
    ['a negative memlimit', { memlimit: -8192 }],
    ['an opslimit of 2^31', { opslimit: 2 ** 31 }],
    ['an opslimit just over the bound', { opslimit: MAX_KDF_OPSLIMIT + 1 }],
    ['an opslimit of 0', { opslimit: 0 }],
    ['a fractional opslimit', { opslimit: 1.5 }],
    // A weak cost must say so: below INTERACTIVE only with the test profile recorded.
    ['MIN cost without the test profile', { profile: undefined }],
  ];

  it.each(absurd)('refuses a keystore with %s quickly, before Argon2 runs', (_what, kdf) => {
    const text = edited(VALID, (v) => {
      const k = Object.assign(v.kdf as Record<string, unknown>, kdf);
      if ('profile' in kdf && kdf.profile === undefined) delete k.profile;
    });
    const path = keystoreWith(text);
    const { value: err, ms } = timed(() => errorOf(() => Keystore.open(path, PASSPHRASE)));
    expect(err.code).toBe('HOME_CORRUPT');
    expect(err.message).toContain(path);
    expect(ms).toBeLessThan(1000);
  });

  it('refuses a keystore whose sealed contents are not key material with HOME_CORRUPT, quoting no key', () => {
    const notKeys = { ...MATERIAL, certificate: 42 };
    const path = keystoreWith(encryptWithPassphrase(notKeys, PASSPHRASE, 'test'));
    const err = errorOf(() => Keystore.open(path, PASSPHRASE));
    expect(err.code).toBe('HOME_CORRUPT');
    expect(err.message).toContain(path);
    expect(err.message).toContain('certificate');
    for (const secret of SECRETS) expect(err.message).not.toContain(secret);
  });

  it('refuses a keystore that is a folder with HOME_CORRUPT', () => {
    const path = join(freshDir(), 'keystore.json');
    mkdirSync(path);
    expect(errorOf(() => Keystore.open(path, PASSPHRASE)).code).toBe('HOME_CORRUPT');
  });

  it('gives the origin’s code for an auditor’s credentials file', () => {
    const origin = { file: '/x/auditor-relay.example.json', code: 'AUDITOR_CORRUPT' as ErrorCode };
    const err = errorOf(() => decryptWithPassphrase('{"v":1', PASSPHRASE, origin));
    expect(err.code).toBe('AUDITOR_CORRUPT');
    expect(err.message).toContain(origin.file);
    const sealed = encryptWithPassphrase({ any: 'value' }, PASSPHRASE, 'test');
    expect(decryptWithPassphrase(sealed, PASSPHRASE, origin)).toStrictEqual({ any: 'value' });
    expect(errorOf(() => decryptWithPassphrase(sealed, 'wrong', origin)).code).toBe('PASSPHRASE_WRONG');
  });
});

// ---- KDF profiles --------------------------------------------------------------------------

describe('KDF profiles of new passphrase-protected files', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('holds the core’s numbers to libsodium’s constants', () => {
    expect(ARGON2ID).toStrictEqual({
      saltBytes: s.crypto_pwhash_SALTBYTES,
      opslimitMin: s.crypto_pwhash_OPSLIMIT_MIN,
      memlimitMin: s.crypto_pwhash_MEMLIMIT_MIN,
      opslimitInteractive: s.crypto_pwhash_OPSLIMIT_INTERACTIVE,
      memlimitInteractive: s.crypto_pwhash_MEMLIMIT_INTERACTIVE,
      opslimitModerate: s.crypto_pwhash_OPSLIMIT_MODERATE,
      memlimitModerate: s.crypto_pwhash_MEMLIMIT_MODERATE,
    });
    expect(MAX_KDF_MEMLIMIT).toBe(s.crypto_pwhash_MEMLIMIT_SENSITIVE);
    expect(MAX_KDF_OPSLIMIT).toBe(4 * s.crypto_pwhash_OPSLIMIT_SENSITIVE);
  });

  it('selects the test profile only when ENTRAIDE_TEST_KDF is exactly "1"', () => {
    expect(kdfProfileFromEnv({})).toBe('moderate');
    expect(kdfProfileFromEnv({ ENTRAIDE_TEST_KDF: '1' })).toBe('test');
    for (const other of ['', '0', 'true', 'yes', ' 1', 'test'])
      expect(kdfProfileFromEnv({ ENTRAIDE_TEST_KDF: other }), other).toBe('moderate');
  });

  it('uses MODERATE by default and records no profile', () => {
    // Whatever the test setup sets, the default without the variable is unchanged.
    vi.stubEnv('ENTRAIDE_TEST_KDF', undefined);
    const text = encryptKeystore(MATERIAL, PASSPHRASE);
    const { kdf } = JSON.parse(text) as { kdf: Record<string, unknown> };
    expect(kdf).toStrictEqual({
      alg: 'argon2id13',
      opslimit: s.crypto_pwhash_OPSLIMIT_MODERATE,
      memlimit: s.crypto_pwhash_MEMLIMIT_MODERATE,
      salt: kdf.salt,
    });
    // Opening such a file (it is not sealed again) is in the upgrade test below: Argon2id at
    // MODERATE costs about a second each time.
  });

  it('records the test profile (libsodium MIN cost) in the file, opens it, and keeps it on save', () => {
    const text = encryptKeystore(MATERIAL, PASSPHRASE, 'test');
    const { kdf } = JSON.parse(text) as { kdf: Record<string, unknown> };
    expect(kdf).toMatchObject({
      alg: 'argon2id13',
      opslimit: s.crypto_pwhash_OPSLIMIT_MIN,
      memlimit: s.crypto_pwhash_MEMLIMIT_MIN,
      profile: 'test',
    });
    expect(kdfCost('test')).toStrictEqual({ opslimit: 1, memlimit: 8192, profile: 'test' });
    const path = join(freshDir(), 'keystore.json');
    writeFileSync(path, text);
    const ks = Keystore.open(path, PASSPHRASE);
    expect(ks.kdfProfile).toBe('test');
    const next = { ...ks.keys, masterSecretKey: null };
    ks.save(next);
    ks.close();
    expect((JSON.parse(readFileSync(path, 'utf8')) as { kdf: unknown }).kdf).toStrictEqual(kdf);
    const again = Keystore.open(path, PASSPHRASE);
    expect(again.keys).toStrictEqual(next);
    again.close();
  });

  it('seals a keystore of the old INTERACTIVE cost again at MODERATE, with a fresh salt, on its first opening', () => {
    const path = join(freshDir(), 'keystore.json');
    // The file as keystores were written when INTERACTIVE was the default (no profile recorded).
    writeFileSync(path, encryptWithPassphrase(MATERIAL, PASSPHRASE, 'interactive'));
    const before = (JSON.parse(readFileSync(path, 'utf8')) as { kdf: Record<string, unknown> }).kdf;
    expect(before).toMatchObject({ opslimit: s.crypto_pwhash_OPSLIMIT_INTERACTIVE });
    const ks = Keystore.open(path, PASSPHRASE);
    expect(ks.kdfProfile).toBe('moderate');
    // The derived key was replaced: a save now writes under the MODERATE parameters.
    ks.save({ ...ks.keys, certificate: '' });
    ks.close();
    const after = (JSON.parse(readFileSync(path, 'utf8')) as { kdf: Record<string, unknown> }).kdf;
    expect(after).toStrictEqual({
      alg: 'argon2id13',
      opslimit: s.crypto_pwhash_OPSLIMIT_MODERATE,
      memlimit: s.crypto_pwhash_MEMLIMIT_MODERATE,
      salt: after.salt,
    });
    expect(after.salt).not.toBe(before.salt);
    const again = Keystore.open(path, PASSPHRASE);
    expect(again.keys).toStrictEqual({ ...MATERIAL, certificate: '', databaseKey: again.keys.databaseKey });
    expect(again.kdfProfile).toBe('moderate');
    again.close();
    // A MODERATE file is not sealed again when it opens.
    expect((JSON.parse(readFileSync(path, 'utf8')) as { kdf: unknown }).kdf).toStrictEqual(after);
  });

  it('leaves a file that says `profile: "test"` at its cost', () => {
    const path = join(freshDir(), 'keystore.json');
    writeFileSync(
      path,
      encryptWithPassphrase({ ...MATERIAL, databaseKey: 'A'.repeat(43) }, PASSPHRASE, 'test'),
    );
    const before = readFileSync(path, 'utf8');
    const ks = Keystore.open(path, PASSPHRASE);
    expect(ks.kdfProfile).toBe('test');
    ks.close();
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('refuses a new keystore under a passphrase shorter than 12 characters, counted after NFC', () => {
    const err = errorOf(() => encryptKeystore(MATERIAL, 'six ch', 'test'));
    expect(err.code).toBe('PASSPHRASE_TOO_SHORT');
    expect(err.message).toBe('a new passphrase needs at least 12 characters; this one has 6');
    // Eleven letters e + combining acute: 22 code points typed, 11 characters once composed.
    const decomposed = 'e\u0301'.repeat(11);
    expect(errorOf(() => encryptKeystore(MATERIAL, decomposed, 'test')).code).toBe('PASSPHRASE_TOO_SHORT');
    expect(() => encryptKeystore(MATERIAL, 'e\u0301'.repeat(12), 'test')).not.toThrow();
  });

  it('still opens a keystore under an older, shorter passphrase, and says so; a new passphrase replaces it', () => {
    const path = join(freshDir(), 'keystore.json');
    writeFileSync(path, encryptWithPassphrase(MATERIAL, 'short', 'test'));
    const ks = Keystore.open(path, 'short');
    expect(ks.passphraseTooShort).toBe(true);
    expect(errorOf(() => ks.changePassphrase('still short')).code).toBe('PASSPHRASE_TOO_SHORT');
    ks.changePassphrase(PASSPHRASE);
    expect(ks.passphraseTooShort).toBe(false);
    ks.close();
    expect(errorOf(() => Keystore.open(path, 'short')).code).toBe('PASSPHRASE_WRONG');
    const again = Keystore.open(path, PASSPHRASE);
    expect(again.passphraseTooShort).toBe(false);
    expect(again.keys).toStrictEqual({ ...MATERIAL, databaseKey: again.keys.databaseKey });
    again.close();
  });
});

describe('KDF profiles of key backups', () => {
  const contents = { config: CONFIG, material: MATERIAL, createdAt: now.toISOString() };

  it('keeps MODERATE as the backup default; the test profile is MIN cost', () => {
    expect(backupKdfFor('interactive')).toStrictEqual(DEFAULT_BACKUP_KDF);
    expect(backupKdfFor('test')).toStrictEqual({
      opslimit: s.crypto_pwhash_OPSLIMIT_MIN,
      memlimit: s.crypto_pwhash_MEMLIMIT_MIN,
      profile: 'test',
    });
  });

  it('records the test profile in a backup and opens it with the parameters it records', () => {
    const text = writeBackup(contents, PASSPHRASE, backupKdfFor('test'));
    expect((JSON.parse(text) as { kdf: unknown }).kdf).toMatchObject({
      opslimit: 1,
      memlimit: 8192,
      profile: 'test',
    });
    expect(readBackup(text, PASSPHRASE)).toStrictEqual(contents);
  });

  it('refuses a MIN-cost backup that does not say it is a test file (BACKUP_INVALID), before Argon2', () => {
    const text = edited(writeBackup(contents, PASSPHRASE, backupKdfFor('test')), (v) => {
      delete (v.kdf as { profile?: string }).profile;
    });
    expect(errorOf(() => readBackup(text, PASSPHRASE)).code).toBe('BACKUP_INVALID');
    const { opslimit, memlimit } = backupKdfFor('test');
    expect(errorOf(() => writeBackup(contents, PASSPHRASE, { opslimit, memlimit })).code).toBe('USAGE');
  });
});
