/**
 * The relay's identity: its domain and Ed25519 key, created on first start in the data folder
 * (relay.json, and relay-key.json readable by the owner only) and the same on every later start.
 * Both files are checked against their schemas (shared/protocol/relay-files.ts) on every read:
 * RELAY_DATA_MISSING when the folder holds no relay, RELAY_DATA_CORRUPT naming the file otherwise.
 * The key may have been rotated (relay-key-rotation.ts): relay.json then keeps the chain of signed
 * rollovers from the first key, checked here too, and the seed is the one whose key relay.json names
 * (relay-key.next.json, when a rotation stopped after relay.json named the new key).
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { checkDomain } from '../shared/addresses.ts';
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { EntraideError } from '../shared/errors.ts';
import { signingKeyPairFromSeed } from '../shared/crypto/keys.ts';
import { relayKeyTimeline } from '../shared/keys/relay-key-rollover.ts';
import { parseFileText, systemErrorCode } from '../shared/protocol/parse-file.ts';
import { MAX_RELAY_FILE_CHARS, RelayInfoFile, RelayKeyFile } from '../shared/protocol/relay-files.ts';
import type { RelayKeyRollover } from '../shared/protocol/schemas.ts';

export interface RelayIdentity {
  domain: string;
  publicKey: Uint8Array;
  publicKeyB64: string;
  url: string | null;
  /** The key's rollovers, oldest first: empty until the key is first rotated. */
  keyHistory: RelayKeyRollover[];
  /** libsodium Ed25519 secret key (seed || public key): signs tree heads. */
  secretKey: Uint8Array;
  /** For jose (JWT signing) */
  privateKeyObject: KeyObject;
  publicKeyObject: KeyObject;
  created: boolean;
}

export function relayFiles(dataDir: string) {
  return {
    info: join(dataDir, 'relay.json'),
    key: join(dataDir, 'relay-key.json'),
    /** The new seed while a rotation is under way. */
    nextKey: join(dataDir, 'relay-key.next.json'),
  };
}

/** A file of the data folder, checked against its schema; RELAY_DATA_CORRUPT naming it otherwise. */
export function readRelayFile<S extends TSchema>(schema: S, file: string): Static<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = systemErrorCode(err);
    throw new EntraideError(
      'RELAY_DATA_CORRUPT',
      why === 'ENOENT' ? `${file} is missing` : `cannot read ${file} (${why})`,
    );
  }
  return parseFileText(schema, text, { file, code: 'RELAY_DATA_CORRUPT', maxChars: MAX_RELAY_FILE_CHARS });
}

/** Loads the identity, or creates it when the folder holds none and `create` is set. */
export function loadRelayIdentity(
  dataDir: string,
  requestedDomain: string | undefined,
  create: boolean,
): RelayIdentity {
  const files = relayFiles(dataDir);
  let created = false;
  if (!existsSync(files.info)) {
    if (!create) {
      throw new EntraideError(
        'RELAY_DATA_MISSING',
        `no relay in ${dataDir} (no relay.json): start it once with \`entraide relay start --data ${dataDir}\``,
      );
    }
    const domain = checkDomain(requestedDomain ?? 'relay.local');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const seed = randomBytes(32);
    const kp = signingKeyPairFromSeed(seed);
    writeFileSync(files.key, JSON.stringify({ seed: toBase64url(seed) }) + '\n', { mode: 0o600, flag: 'wx' });
    const info: RelayInfoFile = {
      domain,
      publicKey: toBase64url(kp.publicKey),
      createdAt: new Date().toISOString(),
    };
    writeFileSync(files.info, JSON.stringify(info, null, 2) + '\n', { mode: 0o644, flag: 'wx' });
    created = true;
  }
  const info = readRelayFile(RelayInfoFile, files.info);
  if (requestedDomain !== undefined && requestedDomain !== info.domain) {
    throw new EntraideError(
      'USAGE',
      `this data folder belongs to relay ${info.domain}; a relay's domain cannot change (asked for ${requestedDomain})`,
    );
  }
  const keyHistory = info.keyHistory ?? [];
  try {
    relayKeyTimeline(info.domain, keyHistory[0]?.previousKey ?? info.publicKey, info.publicKey, keyHistory);
  } catch (err) {
    const why = err instanceof EntraideError ? err.message : String(err);
    throw new EntraideError('RELAY_DATA_CORRUPT', `the key history in ${files.info} does not hold: ${why}`);
  }
  let kp = seedKeyPair(files.key);
  // A rotation that stopped once relay.json named the new key: its seed is still in the next file.
  if (toBase64url(kp.publicKey) !== info.publicKey && existsSync(files.nextKey))
    kp = seedKeyPair(files.nextKey);
  const x = toBase64url(kp.publicKey);
  if (x !== info.publicKey)
    throw new EntraideError(
      'RELAY_DATA_CORRUPT',
      `${files.key} does not hold the key that ${files.info} names: one of them was replaced`,
    );
  const seed = toBase64url(kp.secretKey.subarray(0, 32));
  const jwk = { kty: 'OKP', crv: 'Ed25519', x, d: seed };
  return {
    domain: info.domain,
    publicKey: kp.publicKey,
    publicKeyB64: x,
    url: info.url ?? null,
    keyHistory,
    secretKey: kp.secretKey,
    privateKeyObject: createPrivateKey({ key: jwk, format: 'jwk' }),
    publicKeyObject: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
    created,
  };
}

/** The Ed25519 key pair whose seed `file` holds. */
export function seedKeyPair(file: string): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const { seed } = readRelayFile(RelayKeyFile, file);
  return signingKeyPairFromSeed(fromBase64url(seed, 'relay key', 32));
}

/** Records the URL peers reach this relay at, so that `entraide relay info` can tell another operator. */
export function recordRelayUrl(dataDir: string, url: string): void {
  const files = relayFiles(dataDir);
  const info = readRelayFile(RelayInfoFile, files.info);
  if (info.url === url) return;
  writeRelayFile(files.info, { ...info, url }, 0o644);
}

/**
 * Replaces a file of the data folder so that a crash leaves the old content or the new one, never a
 * torn file: written beside it, flushed to disk, then renamed over it.
 */
export function writeRelayFile(file: string, value: RelayInfoFile | RelayKeyFile, mode: number): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
