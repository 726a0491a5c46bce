/**
 * The relay's identity: its domain and Ed25519 key, created on first start in the data folder
 * (relay.json, and relay-key.json readable by the owner only) and the same on every later start.
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDomain } from '../shared/addresses.ts';
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { EntraideError } from '../shared/errors.ts';
import { signingKeyPairFromSeed } from '../shared/crypto/keys.ts';

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

interface RelayFile {
  domain: string;
  publicKey: string;
  createdAt: string;
  /** The URL peers reach this relay at, as last started (`--public-url`, or the listen address). */
  url?: string;
}

export function relayFiles(dataDir: string) {
  return { info: join(dataDir, 'relay.json'), key: join(dataDir, 'relay-key.json') };
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
        'HOME_MISSING',
        `no relay in ${dataDir}: start it once with \`entraide relay start --data ${dataDir}\``,
      );
    }
    const domain = checkDomain(requestedDomain ?? 'relay.local');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const seed = randomBytes(32);
    const kp = signingKeyPairFromSeed(seed);
    writeFileSync(files.key, JSON.stringify({ seed: toBase64url(seed) }) + '\n', { mode: 0o600, flag: 'wx' });
    const info: RelayFile = {
      domain,
      publicKey: toBase64url(kp.publicKey),
      createdAt: new Date().toISOString(),
    };
    writeFileSync(files.info, JSON.stringify(info, null, 2) + '\n', { mode: 0o644, flag: 'wx' });
    created = true;
  }
  const info = JSON.parse(readFileSync(files.info, 'utf8')) as RelayFile;
  if (requestedDomain !== undefined && requestedDomain !== info.domain) {
    throw new EntraideError(
      'USAGE',
      `this data folder belongs to relay ${info.domain}; a relay's domain cannot change (asked for ${requestedDomain})`,
    );
  }
  const { seed } = JSON.parse(readFileSync(files.key, 'utf8')) as { seed: string };
  const kp = signingKeyPairFromSeed(fromBase64url(seed, 'relay key', 32));
  const x = toBase64url(kp.publicKey);
  if (x !== info.publicKey) throw new EntraideError('INTERNAL', 'relay-key.json does not match relay.json');
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
  const info = JSON.parse(readFileSync(files.info, 'utf8')) as RelayFile;
  if (info.url === url) return;
  writeFileSync(files.info, JSON.stringify({ ...info, url }, null, 2) + '\n', { mode: 0o644 });
}
