/**
 * The encrypted key backup file: round trips, a reference reader and writer written from the
 * format description (client/backup.ts) to cross-check the bytes, and systematic corruptions of
 * every field, each with the error code an officer will see.
 */
import { describe, expect, it } from 'vitest';
import {
  BACKUP_FORMAT,
  DEFAULT_BACKUP_KDF,
  MAX_BACKUP_CHARS,
  describeBackup,
  readBackup,
  writeBackup,
  type BackupContents,
  type BackupKdf,
} from '../../client/backup.ts';
import type { NodeConfig } from '../../client/home.ts';
import type { KeyMaterial } from '../../client/keystore.ts';
import { fromBase64url, fromUtf8, toBase64url, toHex, utf8 } from '../../shared/bytes.ts';
import { canonicalBytes, canonicalString } from '../../shared/canonical.ts';
import { createAuthorityEnrolment } from '../../shared/crypto/enrolment.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import { codeOf, entraideErrorOf, flipBit, random, relayOf } from './fixtures.ts';

const s = await loadSodium();

/** Cheap enough for many derivations per test: libsodium's INTERACTIVE cost. */
const LOW: BackupKdf = {
  opslimit: s.crypto_pwhash_OPSLIMIT_INTERACTIVE,
  memlimit: s.crypto_pwhash_MEMLIMIT_INTERACTIVE,
};
const PASSPHRASE = 'Grand-Yoff, bureau 214 : la clé du coffre';
const CREATED_AT = '2025-04-01T10:00:00.000Z';

interface Fixture {
  contents: BackupContents;
  /** Every secret the file must never show in clear, in the forms it could leak in. */
  secrets: Uint8Array[];
}

/** A node's contents as client/init.ts builds them; `withMaster` false is a node without the AMK. */
function makeFixture(withMaster: boolean, nodeName = 'desk1'): Fixture {
  const now = new Date('2025-03-10T08:30:00.000Z');
  const domain = relayOf('wacap');
  const created = createAuthorityEnrolment({ domain, authorityId: 'sn.moj', nodeName, now }, random);
  const { authority, node, master, identity, encryption } = created;
  const material: KeyMaterial = {
    masterSecretKey: withMaster ? toBase64url(master.secretKey) : null,
    masterPublicKey: created.request.masterKey,
    identitySecretKey: toBase64url(identity.secretKey),
    identityPublicKey: toBase64url(identity.publicKey),
    encryptionKeys: [
      {
        publicKey: toBase64url(encryption.publicKey),
        secretKey: toBase64url(encryption.secretKey),
        createdAt: now.toISOString(),
        notAfter: created.encKeyNotAfter.toISOString(),
        publishedAt: now.toISOString(),
      },
    ],
    certificate: JSON.stringify(created.request.certificate),
  };
  const config: NodeConfig = {
    v: 1,
    relayUrl: 'http://127.0.0.1:7800/',
    relay: { domain, publicKey: toBase64url(random(32)) },
    authority,
    node,
    createdAt: now.toISOString(),
  };
  return {
    contents: { config, material, createdAt: CREATED_AT },
    // Ed25519 secret keys are seed || public key: the seed half is the secret.
    secrets: [master.secretKey.subarray(0, 32), identity.secretKey.subarray(0, 32), encryption.secretKey],
  };
}

type Json = Record<string, unknown> & { kdf: Record<string, unknown> };

function parse(text: string): Json {
  return JSON.parse(text) as Json;
}

function serialise(file: unknown): string {
  return JSON.stringify(file, null, 2) + '\n';
}

/** The file with `edit` applied to a parsed copy. */
function edited(text: string, edit: (file: Json) => void): string {
  const file = parse(text);
  edit(file);
  return serialise(file);
}

/** A copy of base64url `text` with one bit of its bytes inverted. */
function flipped(text: string, bit: number): string {
  return toBase64url(flipBit(fromBase64url(text), bit));
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Another text for the same bytes: the lowest unused bit of the last character set. */
function withSpareBitSet(text: string): string {
  const last = ALPHABET.indexOf(text.at(-1)!);
  return text.slice(0, -1) + ALPHABET[last | 1]!;
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

// ---- a reference reader and writer, straight from the format description ---------------------

function referenceDerive(passphrase: string, kdf: { opslimit: number; memlimit: number; salt: string }) {
  const out = s.crypto_pwhash(
    64,
    utf8(passphrase.normalize('NFC')),
    fromBase64url(kdf.salt),
    kdf.opslimit,
    kdf.memlimit,
    s.crypto_pwhash_ALG_ARGON2ID13,
  );
  const key = out.slice(0, 32);
  const check = s.crypto_generichash(32, utf8('entraide/v1/backup-check'), out.slice(32));
  return { key, check };
}

function referenceOpen(text: string, passphrase: string): unknown {
  const { ciphertext, ...header } = parse(text);
  const { key, check } = referenceDerive(
    passphrase,
    header.kdf as { opslimit: number; memlimit: number; salt: string },
  );
  expect(toBase64url(check)).toBe(header.check);
  const plain = s.crypto_aead_xchacha20poly1305_ietf_decrypt(
    null,
    fromBase64url(ciphertext as string),
    canonicalBytes(header),
    fromBase64url(header.nonce as string),
    key,
  );
  return JSON.parse(fromUtf8(plain));
}

/**
 * A correctly sealed file around any plaintext bytes and header fields: what a forger who knows
 * the passphrase (or a buggy writer) could produce. readBackup must still check the contents.
 */
function referenceSeal(
  plaintext: Uint8Array,
  headerFields: Record<string, unknown>,
  passphrase: string,
): string {
  const kdf = { alg: 'argon2id13', ...LOW, salt: toBase64url(random(16)) };
  const { key, check } = referenceDerive(passphrase, kdf);
  const nonce = random(24);
  const header = {
    format: BACKUP_FORMAT,
    v: 1,
    ...headerFields,
    kdf,
    check: toBase64url(check),
    nonce: toBase64url(nonce),
  };
  const ciphertext = s.crypto_aead_xchacha20poly1305_ietf_encrypt(
    plaintext,
    canonicalBytes(header),
    null,
    nonce,
    key,
  );
  return serialise({ ...header, ciphertext: toBase64url(ciphertext) });
}

function headerOf(contents: BackupContents): Record<string, unknown> {
  return {
    authority: contents.config.authority,
    node: contents.config.node,
    createdAt: contents.createdAt,
    hasMasterKey: contents.material.masterSecretKey !== null,
  };
}

// One file of each kind, shared by the tests that only read it.
const withMaster = makeFixture(true);
const withoutMaster = makeFixture(false, 'desk2');
// A node that has rotated its encryption key and purged the old one, with a rotation setting.
withoutMaster.contents.config.keyRotationDays = 45;
withoutMaster.contents.material.encryptionKeys.push({
  publicKey: toBase64url(random(32)),
  secretKey: null,
  createdAt: '2025-02-08T08:30:00.000Z',
  notAfter: '2025-03-10T08:30:00.000Z',
  publishedAt: '2025-02-08T08:30:05.000Z',
});
const FILE = writeBackup(withMaster.contents, PASSPHRASE, LOW);
const FILE_NO_MASTER = writeBackup(withoutMaster.contents, PASSPHRASE, LOW);

describe('backup round trip', () => {
  it('restores a node that holds the authority master key', () => {
    expect(readBackup(FILE, PASSPHRASE)).toStrictEqual(withMaster.contents);
    expect(describeBackup(FILE).hasMasterKey).toBe(true);
  });

  it('restores a node without the master key, with a purged key and optional settings', () => {
    const restored = readBackup(FILE_NO_MASTER, PASSPHRASE);
    expect(restored).toStrictEqual(withoutMaster.contents);
    expect(restored.material.masterSecretKey).toBeNull();
    expect(describeBackup(FILE_NO_MASTER).hasMasterKey).toBe(false);
  });

  it('writes the documented format, which a reader written from the description opens', () => {
    const file = parse(FILE);
    expect(Object.keys(file)).toStrictEqual([
      'format',
      'v',
      'authority',
      'node',
      'createdAt',
      'hasMasterKey',
      'kdf',
      'check',
      'nonce',
      'ciphertext',
    ]);
    expect(file).toMatchObject({
      format: 'entraide-key-backup',
      v: 1,
      authority: 'sn.moj@relay.wacap.example',
      node: 'desk1/sn.moj@relay.wacap.example',
      createdAt: CREATED_AT,
      hasMasterKey: true,
      kdf: { alg: 'argon2id13', opslimit: LOW.opslimit, memlimit: LOW.memlimit },
    });
    expect(Object.keys(file.kdf)).toStrictEqual(['alg', 'opslimit', 'memlimit', 'salt']);
    expect(fromBase64url(file.kdf.salt as string)).toHaveLength(16);
    expect(fromBase64url(file.nonce as string)).toHaveLength(24);
    expect(fromBase64url(file.check as string)).toHaveLength(32);
    const plain = referenceOpen(FILE, PASSPHRASE);
    expect(canonicalString(plain)).toBe(canonicalString(withMaster.contents));
  });

  it('reads a file sealed by the reference writer', () => {
    const { contents } = withMaster;
    const text = referenceSeal(canonicalBytes(contents), headerOf(contents), PASSPHRASE);
    expect(readBackup(text, PASSPHRASE)).toStrictEqual(contents);
  });

  it('uses a fresh salt and nonce for every file', () => {
    const again = parse(writeBackup(withMaster.contents, PASSPHRASE, LOW));
    const first = parse(FILE);
    expect(again.kdf.salt).not.toBe(first.kdf.salt);
    expect(again.nonce).not.toBe(first.nonce);
    expect(again.ciphertext).not.toBe(first.ciphertext);
  });

  it('opens with the passphrase typed in another Unicode normal form', () => {
    const nfc = 'Clé du bureau numéro 3';
    const text = writeBackup(withMaster.contents, nfc, LOW);
    expect(readBackup(text, nfc.normalize('NFD'))).toStrictEqual(withMaster.contents);
  });

  it('uses libsodium MODERATE by default, and it round-trips', () => {
    expect(DEFAULT_BACKUP_KDF).toStrictEqual({
      opslimit: s.crypto_pwhash_OPSLIMIT_MODERATE,
      memlimit: s.crypto_pwhash_MEMLIMIT_MODERATE,
    });
    const text = writeBackup(withMaster.contents, PASSPHRASE);
    expect(parse(text).kdf).toMatchObject({ opslimit: 3, memlimit: 256 * 1024 * 1024 });
    expect(readBackup(text, PASSPHRASE)).toStrictEqual(withMaster.contents);
  });
});

describe('backup passphrase', () => {
  it.each([
    ['another passphrase', 'correct horse battery staple'],
    ['a different case', PASSPHRASE.toUpperCase()],
    ['a trailing space', `${PASSPHRASE} `],
  ])('refuses %s with PASSPHRASE_WRONG, without quoting it', (_what, wrong) => {
    const err = entraideErrorOf(() => readBackup(FILE, wrong));
    expect(err.code).toBe('PASSPHRASE_WRONG');
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(PASSPHRASE);
  });

  it('refuses an empty passphrase on writing and on reading with PASSPHRASE_REQUIRED', () => {
    expect(codeOf(() => writeBackup(withMaster.contents, '', LOW))).toBe('PASSPHRASE_REQUIRED');
    expect(codeOf(() => readBackup(FILE, ''))).toBe('PASSPHRASE_REQUIRED');
  });
});

describe('backup corruptions', () => {
  it('refuses a file cut short anywhere with BACKUP_INVALID', () => {
    const cipherAt = FILE.indexOf('"ciphertext"');
    const cuts = [
      0,
      1,
      Math.floor(cipherAt / 2), // mid-JSON, inside the header
      FILE.indexOf('"kdf"') + 10, // inside the kdf object
      cipherAt, // the ciphertext field missing entirely
      cipherAt + Math.floor((FILE.length - cipherAt) / 2), // mid-ciphertext
      FILE.trimEnd().length - 2, // the end of the ciphertext
      FILE.trimEnd().length - 1, // only the closing brace missing
    ];
    for (const cut of cuts) {
      expect(
        codeOf(() => readBackup(FILE.slice(0, cut), PASSPHRASE)),
        `cut at ${cut}`,
      ).toBe('BACKUP_INVALID');
    }
  });

  it('refuses a ciphertext field cut short (still well-formed JSON) with BACKUP_INVALID', () => {
    const ct = parse(FILE).ciphertext as string;
    // Cuts at multiples of 4 characters keep canonical base64url, so they reach the AEAD; the
    // others are refused by the strict decoder first.
    const lengths = [4, 24, 28, Math.floor(ct.length / 8) * 4, ct.length - 4, ct.length - 1, ct.length - 2];
    for (const length of lengths) {
      const text = edited(FILE, (f) => (f.ciphertext = ct.slice(0, length)));
      expect(
        codeOf(() => readBackup(text, PASSPHRASE)),
        `ciphertext of ${length} chars`,
      ).toBe('BACKUP_INVALID');
    }
  });

  // What each header change does, and why. A changed kdf parameter or salt changes what Argon2
  // derives, so the check differs exactly as for a wrong passphrase: the reader cannot tell the
  // two apart (the original parameters are gone), and says PASSPHRASE_WRONG.
  const other = makeFixture(true, 'desk9').contents.config;
  const alterations: [string, (f: Json) => void, ErrorCode][] = [
    ['format', (f) => (f.format = 'entraide-keystore'), 'BACKUP_INVALID'], // schema
    ['v', (f) => (f.v = 2), 'BACKUP_INVALID'], // schema
    // The node then belongs to another authority than the file names: refused before Argon2.
    ['authority (another valid one)', (f) => (f.authority = 'ng.fmoj@relay.wacap.example'), 'BACKUP_INVALID'],
    [
      'authority (and node, consistently)',
      (f) => ((f.authority = 'ng.fmoj@relay.wacap.example'), (f.node = 'desk1/ng.fmoj@relay.wacap.example')),
      'BACKUP_INVALID',
    ], // AAD
    ['node (another node of the authority)', (f) => (f.node = other.node), 'BACKUP_INVALID'], // AAD
    ['createdAt', (f) => (f.createdAt = '2025-04-01T10:00:01.000Z'), 'BACKUP_INVALID'], // AAD
    ['hasMasterKey', (f) => (f.hasMasterKey = false), 'BACKUP_INVALID'], // AAD
    ['kdf.alg', (f) => (f.kdf.alg = 'argon2i13'), 'BACKUP_INVALID'], // schema
    ['kdf.opslimit', (f) => (f.kdf.opslimit = LOW.opslimit + 1), 'PASSPHRASE_WRONG'], // derivation
    ['kdf.memlimit (+1 MiB)', (f) => (f.kdf.memlimit = LOW.memlimit + 1024 * 1024), 'PASSPHRASE_WRONG'], // derivation
    // Argon2 counts memory in KiB: one more byte derives the same key, and only the AAD notices.
    ['kdf.memlimit (+1 byte)', (f) => (f.kdf.memlimit = LOW.memlimit + 1), 'BACKUP_INVALID'],
    ['kdf.salt', (f) => (f.kdf.salt = flipped(f.kdf.salt as string, 0)), 'PASSPHRASE_WRONG'], // derivation
    // The check this passphrase derives opens the ciphertext: the passphrase is right, the file is not.
    ['check', (f) => (f.check = flipped(f.check as string, 0)), 'BACKUP_INVALID'],
    ['nonce', (f) => (f.nonce = flipped(f.nonce as string, 0)), 'BACKUP_INVALID'], // AEAD
    ['ciphertext', (f) => (f.ciphertext = flipped(f.ciphertext as string, 0)), 'BACKUP_INVALID'], // AEAD
  ];
  it.each(alterations)('a changed %s gives the expected code', (_field, edit, expected) => {
    expect(codeOf(() => readBackup(edited(FILE, edit), PASSPHRASE))).toBe(expected);
  });

  it('refuses one bit flipped in ciphertext, nonce or check with BACKUP_INVALID', () => {
    const file = parse(FILE);
    for (const field of ['ciphertext', 'nonce', 'check'] as const) {
      const bits = fromBase64url(file[field] as string).length * 8;
      for (const bit of [0, 7, Math.floor(bits / 2), bits - 1]) {
        const text = edited(FILE, (f) => (f[field] = flipped(f[field] as string, bit)));
        expect(
          codeOf(() => readBackup(text, PASSPHRASE)),
          `${field} bit ${bit}`,
        ).toBe('BACKUP_INVALID');
      }
    }
  });

  it('says PASSPHRASE_WRONG when the check is altered and the passphrase is wrong too', () => {
    const text = edited(FILE, (f) => (f.check = flipped(f.check as string, 3)));
    expect(codeOf(() => readBackup(text, 'not the passphrase'))).toBe('PASSPHRASE_WRONG');
  });

  it('refuses an extra field anywhere with BACKUP_INVALID', () => {
    const top = edited(FILE, (f) => (f.comment = 'restored on the new laptop'));
    const inKdf = edited(FILE, (f) => (f.kdf.parallelism = 1));
    for (const text of [top, inKdf]) {
      const err = entraideErrorOf(() => readBackup(text, PASSPHRASE));
      expect(err.code).toBe('BACKUP_INVALID');
      expect(err.message).toMatch(/unexpected field "(comment|parallelism)"/);
    }
  });

  it('refuses each missing field with BACKUP_INVALID', () => {
    const file = parse(FILE);
    for (const key of Object.keys(file)) {
      const text = edited(FILE, (f) => delete f[key]);
      const err = entraideErrorOf(() => readBackup(text, PASSPHRASE));
      expect(err.code, key).toBe('BACKUP_INVALID');
      expect(err.message).toContain(`missing the field "${key}"`);
    }
    for (const key of Object.keys(file.kdf)) {
      const text = edited(FILE, (f) => delete f.kdf[key]);
      expect(
        codeOf(() => readBackup(text, PASSPHRASE)),
        `kdf.${key}`,
      ).toBe('BACKUP_INVALID');
    }
  });

  it('refuses text that is not a backup file with BACKUP_INVALID', () => {
    const notBackups = ['', 'not json', '{', '[]', 'null', '42', '"backup"', '{}', FILE.replace(/"/g, "'")];
    for (const text of notBackups) {
      expect(
        codeOf(() => readBackup(text, PASSPHRASE)),
        text.slice(0, 20),
      ).toBe('BACKUP_INVALID');
      expect(
        codeOf(() => describeBackup(text)),
        text.slice(0, 20),
      ).toBe('BACKUP_INVALID');
    }
  });

  it('refuses a wrong format or version with BACKUP_INVALID', () => {
    const wrong: [string, unknown][] = [
      ['format', 'entraide-key-backup-v2'],
      ['format', 'ENTRAIDE-KEY-BACKUP'],
      ['format', null],
      ['v', 0],
      ['v', 2],
      ['v', '1'],
      ['v', 1.5],
    ];
    for (const [field, value] of wrong) {
      const text = edited(FILE, (f) => (f[field] = value));
      expect(
        codeOf(() => readBackup(text, PASSPHRASE)),
        `${field} = ${String(value)}`,
      ).toBe('BACKUP_INVALID');
    }
  });

  it('refuses binary fields that are not strict base64url with BACKUP_INVALID', () => {
    const file = parse(FILE);
    const salt = file.kdf.salt as string;
    const nonce = file.nonce as string;
    const ct = file.ciphertext as string;
    const bad: [string, (f: Json) => void][] = [
      ['padded salt', (f) => (f.kdf.salt = `${salt}==`)],
      ['salt in standard base64', (f) => (f.kdf.salt = `+${salt.slice(1)}`)],
      // 16 bytes end on 4 spare bits: setting one gives another text for the same bytes.
      ['non-canonical salt tail', (f) => (f.kdf.salt = withSpareBitSet(salt))],
      ['short nonce', (f) => (f.nonce = nonce.slice(0, -4))],
      ['ciphertext with a space', (f) => (f.ciphertext = `${ct.slice(0, 10)} ${ct.slice(10)}`)],
      ['empty ciphertext', (f) => (f.ciphertext = '')],
    ];
    for (const [what, edit] of bad) {
      expect(
        codeOf(() => readBackup(edited(FILE, edit), PASSPHRASE)),
        what,
      ).toBe('BACKUP_INVALID');
    }
  });

  it('refuses a node that does not belong to the authority named with BACKUP_INVALID', () => {
    const text = edited(FILE, (f) => (f.node = 'desk1/ng.fmoj@relay.wacap.example'));
    expect(codeOf(() => describeBackup(text))).toBe('BACKUP_INVALID');
    expect(codeOf(() => readBackup(text, PASSPHRASE))).toBe('BACKUP_INVALID');
  });

  it('refuses a file larger than any backup before parsing it', () => {
    const text = FILE.replace(/\n$/, ' '.repeat(MAX_BACKUP_CHARS));
    expect(codeOf(() => readBackup(text, PASSPHRASE))).toBe('BACKUP_INVALID');
  });
});

describe('backup KDF bounds', () => {
  const GiB = 1024 ** 3;
  const absurd: [string, Partial<BackupKdf>][] = [
    ['a memlimit of 64 GiB', { memlimit: 64 * GiB }],
    ['a memlimit just over 1 GiB', { memlimit: GiB + 1024 }],
    ['a memlimit of 2^53', { memlimit: 2 ** 53 }],
    ['a memlimit below INTERACTIVE', { memlimit: s.crypto_pwhash_MEMLIMIT_MIN }],
    ['a memlimit of 0', { memlimit: 0 }],
    ['a negative memlimit', { memlimit: -LOW.memlimit }],
    ['an opslimit below INTERACTIVE', { opslimit: 1 }],
    ['an opslimit of 2^31', { opslimit: 2 ** 31 }],
    ['an opslimit of 17', { opslimit: 17 }],
    ['a fractional opslimit', { opslimit: 2.5 }],
  ];

  it.each(absurd)('refuses a file with %s quickly, before Argon2 runs', (_what, kdf) => {
    const text = edited(FILE, (f) => Object.assign(f.kdf, kdf));
    const { value: code, ms } = timed(() => codeOf(() => readBackup(text, PASSPHRASE)));
    expect(code).toBe('BACKUP_INVALID');
    expect(ms).toBeLessThan(1000);
    expect(codeOf(() => describeBackup(text))).toBe('BACKUP_INVALID');
  });

  it('refuses to write a file with KDF parameters that readers refuse (USAGE)', () => {
    for (const [what, kdf] of absurd) {
      const { value: code, ms } = timed(() =>
        codeOf(() => writeBackup(withMaster.contents, PASSPHRASE, { ...LOW, ...kdf })),
      );
      expect(code, what).toBe('USAGE');
      expect(ms).toBeLessThan(1000);
    }
  });

  it('accepts the bounds themselves (header only: Argon2 at 16 passes over 1 GiB takes minutes)', () => {
    const highest = edited(FILE, (f) => Object.assign(f.kdf, { opslimit: 16, memlimit: GiB }));
    const lowest = edited(FILE, (f) => Object.assign(f.kdf, LOW));
    expect(describeBackup(highest).authority).toBe('sn.moj@relay.wacap.example');
    expect(describeBackup(lowest).authority).toBe('sn.moj@relay.wacap.example');
  });
});

describe('describeBackup', () => {
  it('reads the header without the passphrase', () => {
    expect(describeBackup(FILE)).toStrictEqual({
      authority: 'sn.moj@relay.wacap.example',
      node: 'desk1/sn.moj@relay.wacap.example',
      createdAt: CREATED_AT,
      hasMasterKey: true,
    });
    expect(describeBackup(FILE_NO_MASTER)).toStrictEqual({
      authority: 'sn.moj@relay.wacap.example',
      node: 'desk2/sn.moj@relay.wacap.example',
      createdAt: CREATED_AT,
      hasMasterKey: false,
    });
  });

  it('validates the header as readBackup does', () => {
    expect(codeOf(() => describeBackup(edited(FILE, (f) => (f.v = 2))))).toBe('BACKUP_INVALID');
    expect(codeOf(() => describeBackup(edited(FILE, (f) => (f.extra = true))))).toBe('BACKUP_INVALID');
    expect(codeOf(() => describeBackup(edited(FILE, (f) => (f.nonce = 'AA=='))))).toBe('BACKUP_INVALID');
  });
});

describe('backup contents after decryption', () => {
  const { contents } = withMaster;
  const header = headerOf(contents);
  // Each file below is authentic (sealed with the right passphrase) but its contents are wrong.
  const forged: [string, Uint8Array, Record<string, unknown>][] = [
    ['not JSON', utf8('{"config":'), header],
    ['not UTF-8', new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), header],
    ['an extra field', canonicalBytes({ ...contents, note: 'x' }), header],
    ['a missing field', canonicalBytes({ config: contents.config, material: contents.material }), header],
    [
      'a secret key of the wrong length',
      canonicalBytes({ ...contents, material: { ...contents.material, identitySecretKey: 'AAAA' } }),
      header,
    ],
    [
      'another authority than the header',
      canonicalBytes(contents),
      { ...header, authority: 'ng.fmoj@relay.wacap.example', node: 'desk1/ng.fmoj@relay.wacap.example' },
    ],
    [
      'another node than the header',
      canonicalBytes(contents),
      { ...header, node: 'desk7/sn.moj@relay.wacap.example' },
    ],
    [
      'another date than the header',
      canonicalBytes(contents),
      { ...header, createdAt: '2025-04-02T10:00:00.000Z' },
    ],
    ['a master key the header denies', canonicalBytes(contents), { ...header, hasMasterKey: false }],
    [
      'no master key where the header claims one',
      canonicalBytes({ ...contents, material: { ...contents.material, masterSecretKey: null } }),
      header,
    ],
  ];

  it.each(forged)('refuses contents with %s with BACKUP_INVALID, quoting no key', (_what, plain, fields) => {
    const err = entraideErrorOf(() => readBackup(referenceSeal(plain, fields, PASSPHRASE), PASSPHRASE));
    expect(err.code).toBe('BACKUP_INVALID');
    for (const secret of withMaster.secrets) expect(err.message).not.toContain(toBase64url(secret));
    expect(err.message).not.toContain(contents.material.identitySecretKey);
  });
});

describe('backup secrecy', () => {
  it('never shows a secret key or the passphrase in clear', () => {
    for (const [text, fixture] of [
      [FILE, withMaster],
      [FILE_NO_MASTER, withoutMaster],
    ] as const) {
      const { material } = fixture.contents;
      const inClear = [
        PASSPHRASE,
        PASSPHRASE.toLowerCase(),
        toBase64url(utf8(PASSPHRASE)),
        toHex(utf8(PASSPHRASE)),
        material.identitySecretKey,
        ...material.encryptionKeys.flatMap((k) => (k.secretKey ? [k.secretKey] : [])),
        ...(material.masterSecretKey ? [material.masterSecretKey] : []),
        ...fixture.secrets.flatMap((k) => [
          toBase64url(k),
          toBase64url(k).slice(0, 16),
          Buffer.from(k).toString('base64').slice(0, 16),
          toHex(k).slice(0, 16),
        ]),
      ];
      const lower = text.toLowerCase();
      for (const secret of inClear) expect(lower).not.toContain(secret.toLowerCase());
    }
  });

  it('quotes no secret in the errors of writeBackup', () => {
    const { contents } = withMaster;
    const bad = {
      ...contents,
      material: { ...contents.material, identitySecretKey: 'x' + contents.material.identitySecretKey },
    };
    const err = entraideErrorOf(() => writeBackup(bad, PASSPHRASE, LOW));
    expect(err.code).toBe('SCHEMA_INVALID');
    expect(err.message).toContain('identitySecretKey');
    expect(err.message).not.toContain(contents.material.identitySecretKey);
    expect(err.message).not.toContain(PASSPHRASE);
  });

  it('refuses to write contents whose node belongs to another authority', () => {
    const { contents } = withMaster;
    const bad = { ...contents, config: { ...contents.config, node: 'desk1/ng.fmoj@relay.wacap.example' } };
    expect(codeOf(() => writeBackup(bad, PASSPHRASE, LOW))).toBe('SCHEMA_INVALID');
  });
});
