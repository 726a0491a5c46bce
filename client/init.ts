/**
 * Creating a node: keys generated here, enrolment with a one-time invitation, then the keystore
 * and configuration moved into place. If enrolment fails, the folder is left as it was.
 */
import { toBase64url } from '../shared/bytes.ts';
import { createAuthorityEnrolment } from '../shared/crypto/enrolment.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { formatsToPublish } from '../shared/protocol/formats.ts';
import { EnrolmentResponse, type EnvelopeFormat } from '../shared/protocol/schemas.ts';
import { nodeFormats } from './formats.ts';
import { firstContact } from './first-contact.ts';
import type { NodeConfig } from './home.ts';
import type { KeyMaterial } from './keystore.ts';
import { checkNewNode, installNode, keyRecord, newConfig } from './new-home.ts';
import { random } from './random.ts';

export interface InitOptions {
  home: string;
  relayUrl: string;
  /** The one-time code (an invitation's `code`). */
  invite: string;
  /**
   * The relay's public key or its fingerprint, as the invitation carries it: the relay must show
   * that key (RELAY_KEY_MISMATCH otherwise, nothing stored). Required unless the relay is on loopback.
   */
  relayKey?: string | undefined;
  authorityId: string;
  nodeName: string;
  passphrase: string;
  /** The envelope formats the node reads, published in its certificate (default: ENTRAIDE_FORMATS, else all). */
  formats?: readonly EnvelopeFormat[];
}

export async function initNode(opts: InitOptions): Promise<NodeConfig> {
  await loadSodium();
  const address = checkNewNode(opts);
  const { http, relay } = await firstContact(address);
  const now = new Date();
  const created = createAuthorityEnrolment(
    {
      domain: relay.domain,
      authorityId: opts.authorityId,
      nodeName: opts.nodeName,
      now,
      formats: formatsToPublish(nodeFormats(opts.formats)),
    },
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
    () => newConfig(address.url, relay, node, now),
  );
}
