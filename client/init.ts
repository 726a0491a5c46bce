/**
 * Creating a node: keys generated here, enrolment with a one-time invitation, then the keystore
 * and configuration moved into place. If enrolment fails, the folder is left as it was.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { checkAuthorityId, checkNodeName } from '../shared/addresses.ts';
import { toBase64url } from '../shared/bytes.ts';
import { createAuthorityEnrolment } from '../shared/crypto/enrolment.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EntraideError } from '../shared/errors.ts';
import { RelayInfo, type EnrolmentResponse } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import { homePaths, type NodeConfig } from './home.ts';
import { encryptKeystore, type KeyMaterial } from './keystore.ts';
import { random } from './random.ts';
import { RelayHttp } from './transport/http.ts';

export interface InitOptions {
  home: string;
  relayUrl: string;
  invite: string;
  authorityId: string;
  nodeName: string;
  passphrase: string;
}

export async function initNode(opts: InitOptions): Promise<NodeConfig> {
  await loadSodium();
  checkAuthorityId(opts.authorityId);
  checkNodeName(opts.nodeName);
  if (!opts.passphrase)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'a passphrase is needed to protect the node’s keys');
  let url: URL;
  try {
    url = new URL(opts.relayUrl);
  } catch {
    throw new EntraideError(
      'USAGE',
      `--relay must be a URL such as http://127.0.0.1:7800, not "${opts.relayUrl}"`,
    );
  }
  const paths = homePaths(opts.home);
  if (existsSync(paths.config)) throw new EntraideError('HOME_EXISTS', `${opts.home} already holds a node`);

  const http = new RelayHttp(url.toString());
  const relay = check(RelayInfo, await http.request<unknown>('GET', '/v1/relay'), 'relay info');
  const now = new Date();
  const created = createAuthorityEnrolment(
    { domain: relay.domain, authorityId: opts.authorityId, nodeName: opts.nodeName, now },
    random,
  );
  const { authority, node, master, identity, encryption } = created;
  const material: KeyMaterial = {
    masterSecretKey: toBase64url(master.secretKey),
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
    relayUrl: url.toString(),
    relay: { domain: relay.domain, publicKey: relay.publicKey },
    authority,
    node,
    createdAt: now.toISOString(),
  };

  // Write both files under temporary names first: the keys must exist on disk before the relay
  // learns of them, and nothing may stay behind if the relay refuses.
  const createdHome = !existsSync(opts.home);
  mkdirSync(opts.home, { recursive: true, mode: 0o700 });
  const tmpKeys = `${paths.keystore}.tmp`;
  const tmpConfig = `${paths.config}.tmp`;
  writeFileSync(tmpKeys, encryptKeystore(material, opts.passphrase), { mode: 0o600 });
  writeFileSync(tmpConfig, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  try {
    await http.request<EnrolmentResponse>('POST', '/v1/enrol', {
      invitation: opts.invite,
      ...created.request,
    });
  } catch (err) {
    rmSync(tmpKeys, { force: true });
    rmSync(tmpConfig, { force: true });
    if (createdHome) rmSync(opts.home, { recursive: true, force: true });
    throw err;
  }
  renameSync(tmpKeys, paths.keystore);
  renameSync(tmpConfig, paths.config);
  return config;
}
