/**
 * Creating a node: keys generated here, enrolment with a one-time invitation, then the keystore
 * and configuration moved into place. If enrolment fails, the folder is left as it was.
 */
import { toBase64url } from '../shared/bytes.ts';
import { createAuthorityEnrolment } from '../shared/crypto/enrolment.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EnrolmentResponse, RelayInfo } from '../shared/protocol/schemas.ts';
import type { NodeConfig } from './home.ts';
import type { KeyMaterial } from './keystore.ts';
import { checkNewNode, installNode, keyRecord, newConfig } from './new-home.ts';
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
  const url = checkNewNode(opts);
  const http = new RelayHttp(url.toString());
  const relay = await http.request(RelayInfo, 'GET', '/v1/relay');
  const now = new Date();
  const created = createAuthorityEnrolment(
    { domain: relay.domain, authorityId: opts.authorityId, nodeName: opts.nodeName, now },
    random,
  );
  const { node, master, identity, encryption } = created;
  const material: KeyMaterial = {
    masterSecretKey: toBase64url(master.secretKey),
    masterPublicKey: created.request.masterKey,
    identitySecretKey: toBase64url(identity.secretKey),
    identityPublicKey: toBase64url(identity.publicKey),
    encryptionKeys: [keyRecord(encryption, now, created.encKeyNotAfter, true)],
    certificate: JSON.stringify(created.request.certificate),
  };
  return installNode(
    opts.home,
    material,
    opts.passphrase,
    () =>
      http.request(EnrolmentResponse, 'POST', '/v1/enrol', { invitation: opts.invite, ...created.request }),
    () => newConfig(url, relay, node, now),
  );
}
