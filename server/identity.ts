/**
 * The relay's identity: its domain and Ed25519 key, created on first start in the data folder
 * (relay.json, and relay-key.json readable by the owner only) and the same on every later start.
 * Both files are checked against their schemas (shared/protocol/relay-files.ts) on every read:
 * RELAY_DATA_MISSING when the folder holds no relay, RELAY_DATA_CORRUPT naming the file otherwise.
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { checkDomain } from '../shared/addresses.ts';
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { EntraideError } from '../shared/errors.ts';
import { signingKeyPairFromSeed } from '../shared/crypto/keys.ts';
import { parseFileText, systemErrorCode } from '../shared/protocol/parse-file.ts';
import { MAX_RELAY_FILE_CHARS, RelayInfoFile, RelayKeyFile } from '../shared/protocol/relay-files.ts';

export interface RelayIdentity {
  domain: string;
  publicKey: Uint8Array;
  publicKeyB64: string;
  url: string | null;
  /** libsodium Ed25519 secret key (seed || public key): signs tree heads. */
  secretKey: Uint8Array;
  /** For jose (JWT signing) */
  privateKeyObject: KeyObject;
  publicKeyObject: KeyObject;
  created: boolean;
}

export function relayFiles(dataDir: string) {
  return { info: join(dataDir, 'relay.json'), key: join(dataDir, 'relay-key.json') };
}

/** A file of the data folder, checked against its schema; RELAY_DATA_CORRUPT naming it otherwise. */
function readRelayFile<S extends TSchema>(schema: S, file: string): Static<S> {
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
  const { seed } = readRelayFile(RelayKeyFile, files.key);
  const kp = signingKeyPairFromSeed(fromBase64url(seed, 'relay key', 32));
  const x = toBase64url(kp.publicKey);
  if (x !== info.publicKey)
    throw new EntraideError(
      'RELAY_DATA_CORRUPT',
      `${files.key} does not hold the key that ${files.info} names: one of them was replaced`,
    );
  const jwk = { kty: 'OKP', crv: 'Ed25519', x, d: seed };
  return {
    domain: info.domain,
    publicKey: kp.publicKey,
    publicKeyB64: x,
    url: info.url ?? null,
    secretKey: kp.secretKey,
    privateKeyObject: createPrivateKey({ key: jwk, format: 'jwk' }),
    publicKeyObject: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
    created,
  };
}

/** Records the URL peers reach this relay at, so that `entraide relay info` can tell another operator. */
export function recordRelayUrl(dataDir: string, url: string): void {
  const files = relayFiles(dataDir);
  const info = readRelayFile(RelayInfoFile, files.info);
  if (info.url === url) return;
  writeFileSync(files.info, JSON.stringify({ ...info, url }, null, 2) + '\n', { mode: 0o644 });
}
