/**
 * Backups of an authority's keys, and restoring them on a new machine. A restore either brings
 * back the very node that was backed up (same address and keys: the machine was replaced), or, with
 * `asNode`, uses the master key in the backup to certify a brand-new node (the old one was lost:
 * revoke it afterwards). Either way the authority keeps its identity and its safety code.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../shared/crypto/keys.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EntraideError } from '../shared/errors.ts';
import { nodeAddress } from '../shared/addresses.ts';
import { KeyEventResult } from '../shared/protocol/key-log.ts';
import { checkServiceUrl } from '../shared/protocol/service-url.ts';
import { backupKdfFor, readBackup, writeBackup, type BackupKdf } from './backup.ts';
import type { NodeConfig } from './home.ts';
import { certifyNewNode } from './key-manager.ts';
import { kdfProfileFromEnv, type KeyMaterial } from './keystore.ts';
import { installNode, keyRecord, requireFreeHome } from './new-home.ts';
import type { AuthorityNode } from './node.ts';
import { random } from './random.ts';
import { RelayHttp } from './transport/http.ts';

/**
 * Writes the backup file; refuses to overwrite an existing file. The cost is MODERATE unless
 * ENTRAIDE_TEST_KDF=1 asks for the test profile (recorded in the file).
 */
export function exportKeys(
  node: AuthorityNode,
  out: string,
  passphrase: string,
  kdf: BackupKdf = backupKdfFor(kdfProfileFromEnv()),
): void {
  if (existsSync(out)) throw new EntraideError('USAGE', `${out} exists already: choose another --out file`);
  const { joinCode: _pending, ...config } = node.config;
  const text = writeBackup(
    { config, material: node.keys, createdAt: new Date().toISOString() },
    passphrase,
    kdf,
  );
  writeFileSync(out, text, { mode: 0o600, flag: 'wx' });
}

export interface ImportOptions {
  home: string;
  file: string;
  /** The backup's passphrase; also the restored keystore's, unless `newPassphrase` is given. */
  passphrase: string;
  /**
   * The passphrase of the restored keystore, when the backup's is shorter than a new keystore's
   * may be (MIN_PASSPHRASE_CHARS): a backup made with an older, shorter passphrase still restores.
   */
  newPassphrase?: string | undefined;
  /** Certify a new node of this name with the backup's master key instead of restoring the old node. */
  asNode?: string;
}

export async function importKeys(
  opts: ImportOptions,
): Promise<{ config: NodeConfig; restored: 'same-node' | 'new-node'; from: string }> {
  await loadSodium();
  const keystorePassphrase = opts.newPassphrase ?? opts.passphrase;
  requireFreeHome(opts.home, keystorePassphrase);
  if (!opts.passphrase)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase of the backup is needed to read it');
  let text: string;
  try {
    text = readFileSync(opts.file, 'utf8');
  } catch {
    throw new EntraideError('USAGE', `cannot read the backup file ${opts.file}`);
  }
  const backup = readBackup(text, opts.passphrase);
  // A backup made before plain http:// off loopback was refused would make a node that cannot start.
  checkServiceUrl(backup.config.relayUrl, `the relay URL in ${opts.file}`, 'BACKUP_INVALID');
  let config: NodeConfig = backup.config;
  let material: KeyMaterial = backup.material;
  let certify: (() => Promise<void>) | undefined;

  if (opts.asNode !== undefined) {
    if (!backup.material.masterSecretKey) {
      throw new EntraideError(
        'MASTER_KEY_REQUIRED',
        'this backup holds no master key: it can only restore the node it was made from (omit --as-node)',
      );
    }
    const now = new Date();
    const identity = generateSigningKeyPair(random);
    const encryption = generateEncryptionKeyPair(random);
    const certificate = await certifyNewNode(
      fromBase64url(backup.material.masterSecretKey, 'masterSecretKey', 64),
      {
        authority: backup.config.authority,
        nodeName: opts.asNode,
        identityKey: identity.publicKey,
        encryptionKey: encryption.publicKey,
        now,
      },
    );
    config = {
      ...backup.config,
      node: nodeAddress(opts.asNode, backup.config.authority),
      createdAt: now.toISOString(),
    };
    material = {
      masterSecretKey: backup.material.masterSecretKey,
      masterPublicKey: backup.material.masterPublicKey,
      identitySecretKey: toBase64url(identity.secretKey),
      identityPublicKey: toBase64url(identity.publicKey),
      encryptionKeys: [keyRecord(encryption, now, certificate.encKeyNotAfter, true)],
      certificate: JSON.stringify(certificate),
    };
    // The certificate carries its own authority (the master key's signature): no session is needed.
    certify = async () => {
      await new RelayHttp(config.relayUrl).request(KeyEventResult, 'POST', '/v1/keylog/events', {
        type: 'node-certified',
        certificate,
      });
    };
  }

  await installNode(
    opts.home,
    material,
    keystorePassphrase,
    async () => certify?.(),
    () => config,
  );
  return { config, restored: certify ? 'new-node' : 'same-node', from: backup.config.node };
}
