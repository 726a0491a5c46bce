/**
 * The Argon2id (crypto_pwhash) parameters that every passphrase-protected file records: the
 * node's keystore, an auditor's credentials, a key backup. A file is always opened with the
 * parameters it records, so they are bounded before Argon2 runs: a planted file must not make the
 * node compute for hours or allocate gigabytes.
 *
 * The numbers are libsodium's constants (a unit test holds them to libsodium), written out here
 * because the core does not load libsodium to describe a file.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EntraideError } from '../errors.ts';
import { B64 } from './schemas.ts';

const closed = { additionalProperties: false } as const;

/** libsodium's crypto_pwhash_*: MIN, INTERACTIVE and MODERATE cost of Argon2id13. */
export const ARGON2ID = {
  saltBytes: 16,
  opslimitMin: 1,
  memlimitMin: 8192,
  opslimitInteractive: 2,
  memlimitInteractive: 64 * 1024 * 1024,
  opslimitModerate: 3,
  memlimitModerate: 256 * 1024 * 1024,
} as const;

/** Four times SENSITIVE's passes over SENSITIVE's 1 GiB (some 20–35 s on a 2-core machine); more is abuse. */
export const MAX_KDF_OPSLIMIT = 16;
export const MAX_KDF_MEMLIMIT = 1024 * 1024 * 1024;

/**
 * `test`: libsodium's MIN cost, for the throw-away keystores of the test suite only. It is chosen
 * explicitly (ENTRAIDE_TEST_KDF=1 when a file is created), never by default, and written into the
 * file so that anyone can see that a file is weak. A file without it must cost at least INTERACTIVE.
 */
export const KdfProfile = Type.Literal('test');
export type KdfProfile = Static<typeof KdfProfile>;
/**
 * The cost asked for when a file is created: `moderate` (the default, recorded as no profile),
 * `test`, or `interactive`, the cost of keystores written before MODERATE became the default (kept
 * so that the upgrade of such files can be tested; no command makes one).
 */
export type KdfChoice = 'moderate' | 'interactive' | KdfProfile;

export const PassphraseKdf = Type.Object(
  {
    alg: Type.Literal('argon2id13'),
    opslimit: Type.Integer({ minimum: ARGON2ID.opslimitMin, maximum: MAX_KDF_OPSLIMIT }),
    memlimit: Type.Integer({ minimum: ARGON2ID.memlimitMin, maximum: MAX_KDF_MEMLIMIT }),
    salt: B64(ARGON2ID.saltBytes, 'Argon2id salt'),
    profile: Type.Optional(KdfProfile),
  },
  closed,
);
export type PassphraseKdf = Static<typeof PassphraseKdf>;

/** The cost of a new file: MODERATE by default, MIN (recorded as `profile: 'test'`) for `test`. */
export function kdfCost(choice: KdfChoice): {
  opslimit: number;
  memlimit: number;
  profile?: KdfProfile;
} {
  if (choice === 'test')
    return { opslimit: ARGON2ID.opslimitMin, memlimit: ARGON2ID.memlimitMin, profile: 'test' };
  if (choice === 'interactive')
    return { opslimit: ARGON2ID.opslimitInteractive, memlimit: ARGON2ID.memlimitInteractive };
  return { opslimit: ARGON2ID.opslimitModerate, memlimit: ARGON2ID.memlimitModerate };
}

/**
 * True when a file's parameters cost less than MODERATE and it does not say `profile: 'test'`:
 * such a file (written when INTERACTIVE was the default) is sealed again at MODERATE once opened.
 */
export function kdfBelowModerate(kdf: { opslimit: number; memlimit: number; profile?: string }): boolean {
  if (kdf.profile === 'test') return false;
  return kdf.opslimit < ARGON2ID.opslimitModerate || kdf.memlimit < ARGON2ID.memlimitModerate;
}

/** The fewest Unicode code points (after NFC normalisation) a new passphrase may have. */
export const MIN_PASSPHRASE_CHARS = 12;

/** The length of a passphrase as a person counts it: code points of its NFC form. */
export function passphraseLength(passphrase: string): number {
  return [...passphrase.normalize('NFC')].length;
}

/**
 * Why a newly chosen passphrase is refused, or null: it must have at least MIN_PASSPHRASE_CHARS
 * characters. Never quotes the passphrase. (An existing, shorter passphrase still opens its files.)
 */
export function newPassphraseProblem(passphrase: string): string | null {
  const n = passphraseLength(passphrase);
  return n >= MIN_PASSPHRASE_CHARS
    ? null
    : `a new passphrase needs at least ${MIN_PASSPHRASE_CHARS} characters; this one has ${n}`;
}

/** Throws PASSPHRASE_TOO_SHORT when `passphrase` may not protect a new or re-sealed file. */
export function requireNewPassphrase(passphrase: string): void {
  const problem = newPassphraseProblem(passphrase);
  if (problem) throw new EntraideError('PASSPHRASE_TOO_SHORT', problem);
}

/**
 * Why these parameters are refused, or null when they are within bounds: integers from
 * INTERACTIVE (MIN with the `test` profile) to MAX_KDF_OPSLIMIT passes and MAX_KDF_MEMLIMIT bytes.
 * Never quotes anything but the numbers.
 */
export function kdfProblem(kdf: { opslimit: number; memlimit: number; profile?: string }): string | null {
  const test = kdf.profile === 'test';
  const minOps = test ? ARGON2ID.opslimitMin : ARGON2ID.opslimitInteractive;
  const minMem = test ? ARGON2ID.memlimitMin : ARGON2ID.memlimitInteractive;
  if (!Number.isSafeInteger(kdf.opslimit) || kdf.opslimit < minOps || kdf.opslimit > MAX_KDF_OPSLIMIT)
    return `opslimit must be an integer from ${minOps} to ${MAX_KDF_OPSLIMIT}, not ${kdf.opslimit}`;
  if (!Number.isSafeInteger(kdf.memlimit) || kdf.memlimit < minMem || kdf.memlimit > MAX_KDF_MEMLIMIT)
    return `memlimit must be an integer from ${minMem} to ${MAX_KDF_MEMLIMIT} bytes, not ${kdf.memlimit}`;
  return null;
}
