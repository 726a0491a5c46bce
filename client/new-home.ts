/**
 * What every way of creating a node folder shares (init, join, import): checking the options, and
 * installing the keys so that they are on disk before the relay learns of them, while nothing
 * stays behind if the relay refuses.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { toBase64url } from '../shared/bytes.ts';
import type { EncryptionKeyPair } from '../shared/crypto/keys.ts';
import { checkAuthorityId, checkNodeName, parseNodeAddress } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import { check } from '../shared/protocol/validate.ts';
import { requireNewPassphrase } from '../shared/protocol/passphrase-kdf.ts';
import { HOME_MODE, homePaths, NodeConfig, writeConfig } from './home.ts';
import { checkRelayAddress, type RelayAddress } from './first-contact.ts';
import { encryptKeystore, type EncryptionKeyRecord, type KeyMaterial } from './keystore.ts';
import { writeFileAtomic } from './atomic-file.ts';

/**
 * Checks the ids, the passphrase, that `home` holds no node yet, and the relay's URL and expected
 * key (first-contact.ts), all before any network call; returns the relay's address.
 */
export function checkNewNode(opts: {
  home: string;
  relayUrl: string;
  relayKey?: string | undefined;
  authorityId: string;
  nodeName: string;
  passphrase: string;
}): RelayAddress {
  checkAuthorityId(opts.authorityId);
  checkNodeName(opts.nodeName);
  requireFreeHome(opts.home, opts.passphrase);
  return checkRelayAddress(opts.relayUrl, opts.relayKey);
}

/**
 * Checks, before anything is written or sent, that the passphrase chosen for a new keystore is
 * there (PASSPHRASE_REQUIRED) and long enough (PASSPHRASE_TOO_SHORT), and that `home` holds no
 * node (HOME_EXISTS).
 */
export function requireFreeHome(home: string, passphrase: string): void {
  if (!passphrase)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'a passphrase is needed to protect the node’s keys');
  requireNewPassphrase(passphrase);
  if (existsSync(homePaths(home).config))
    throw new EntraideError('HOME_EXISTS', `${home} already holds a node`);
}

/** The configuration of a new node of `relay`. */
export function newConfig(
  url: URL,
  relay: { domain: string; publicKey: string },
  node: string,
  now: Date,
  joinCode?: string,
): NodeConfig {
  return {
    v: 1,
    relayUrl: url.toString(),
    relay: { domain: relay.domain, publicKey: relay.publicKey },
    authority: parseNodeAddress(node).authority,
    node,
    createdAt: now.toISOString(),
    ...(joinCode ? { joinCode } : {}),
  };
}

export function keyRecord(
  pair: EncryptionKeyPair,
  createdAt: Date,
  notAfter: Date | string,
  published: boolean,
): EncryptionKeyRecord {
  return {
    publicKey: toBase64url(pair.publicKey),
    secretKey: toBase64url(pair.secretKey),
    createdAt: createdAt.toISOString(),
    notAfter: typeof notAfter === 'string' ? notAfter : notAfter.toISOString(),
    publishedAt: published ? createdAt.toISOString() : null,
  };
}

/**
 * Writes the keystore under a temporary name, runs `register` (the relay learns of the keys), then
 * moves the keystore and the configuration into place. If `register` fails, the folder is left as
 * it was (removed when this call created it). The keystore's KDF profile follows ENTRAIDE_TEST_KDF
 * (see keystore.ts).
 */
export async function installNode<T>(
  home: string,
  material: KeyMaterial,
  passphrase: string,
  register: () => Promise<T>,
  config: (registered: T) => NodeConfig,
): Promise<NodeConfig> {
  const paths = homePaths(home);
  const createdHome = !existsSync(home);
  mkdirSync(home, { recursive: true, mode: HOME_MODE });
  if (createdHome) chmodSync(home, HOME_MODE);
  const tmpKeys = `${paths.keystore}.tmp`;
  try {
    writeFileAtomic(tmpKeys, encryptKeystore(material, passphrase));
  } catch (err) {
    if (createdHome) rmSync(home, { recursive: true, force: true });
    throw err;
  }
  let registered: T;
  try {
    registered = await register();
  } catch (err) {
    rmSync(tmpKeys, { force: true });
    if (createdHome) rmSync(home, { recursive: true, force: true });
    throw err;
  }
  // Checked before anything moves into place: a node.json that readConfig would refuse is never written.
  const final = check(NodeConfig, config(registered), 'node configuration');
  // A folder that was there already becomes its owner's only, as a new one is.
  chmodSync(home, HOME_MODE);
  renameSync(tmpKeys, paths.keystore);
  writeConfig(home, final);
  return final;
}
