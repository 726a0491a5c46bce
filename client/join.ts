/**
 * Adding a node to an authority that is already enrolled. The new node makes its keys here, leaves
 * a signed join request with the relay and shows the join code; an officer whose node holds the
 * master key approves it (`entraide node approve <code>`). Until then the node can do nothing on
 * the relay. Once approved, it reads its own certificate from the key log and is ready.
 */
import { authorityAddress, nodeAddress } from '../shared/addresses.ts';
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { ENCRYPTION_KEY_LIFETIME_DAYS } from '../shared/crypto/enrolment.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../shared/crypto/keys.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EntraideError } from '../shared/errors.ts';
import { currentEncryptionKey, currentMasterKey } from '../shared/keys/authority-state.ts';
import { signJoinRequest } from '../shared/keys/statements.ts';
import { normaliseJoinCode } from '../shared/keys/join-code.ts';
import { JoinAccepted } from '../shared/protocol/key-log.ts';
import { formatsToPublish } from '../shared/protocol/formats.ts';
import type { EnvelopeFormat } from '../shared/protocol/schemas.ts';
import { nodeFormats } from './formats.ts';
import { writeConfig, type NodeConfig } from './home.ts';
import type { KeyMaterial } from './keystore.ts';
import { firstContact } from './first-contact.ts';
import { checkNewNode, installNode, keyRecord, newConfig } from './new-home.ts';
import type { AuthorityNode } from './node.ts';
import { random } from './random.ts';

export interface JoinOptions {
  home: string;
  relayUrl: string;
  /** The relay's key or its fingerprint (`entraide whoami` on a node of the authority prints it); required unless on loopback. */
  relayKey?: string | undefined;
  authorityId: string;
  nodeName: string;
  /** The join ticket an officer of the authority issued (`entraide node ticket`). */
  ticket: string;
  passphrase: string;
  /** The envelope formats the node reads, for its certificate (default: ENTRAIDE_FORMATS, else all). */
  formats?: readonly EnvelopeFormat[];
}

export async function requestToJoin(
  opts: JoinOptions,
): Promise<{ config: NodeConfig; code: string; expiresAt: string }> {
  await loadSodium();
  const address = checkNewNode(opts);
  const { http, relay } = await firstContact(address);
  const now = new Date();
  const authority = authorityAddress(opts.authorityId, relay.domain);
  const node = nodeAddress(opts.nodeName, authority);
  const identity = generateSigningKeyPair(random);
  const encryption = generateEncryptionKeyPair(random);
  const notAfter = new Date(now.getTime() + ENCRYPTION_KEY_LIFETIME_DAYS * 86_400_000);
  const published = formatsToPublish(nodeFormats(opts.formats));
  const request = signJoinRequest(
    {
      relay: relay.domain,
      node,
      identityKey: toBase64url(identity.publicKey),
      encryptionKey: toBase64url(encryption.publicKey),
      encKeyNotAfter: notAfter.toISOString(),
      createdAt: now.toISOString(),
      ...(published ? { formats: published } : {}),
    },
    identity.secretKey,
  );
  // No master key and no certificate yet: both arrive with the approval.
  const material: KeyMaterial = {
    masterSecretKey: null,
    masterPublicKey: '',
    identitySecretKey: toBase64url(identity.secretKey),
    identityPublicKey: toBase64url(identity.publicKey),
    encryptionKeys: [keyRecord(encryption, now, notAfter, false)],
    certificate: '',
  };
  let accepted!: JoinAccepted;
  const config = await installNode(
    opts.home,
    material,
    opts.passphrase,
    async () =>
      (accepted = await http.request(JoinAccepted, 'POST', '/v1/joins', {
        request,
        ticket: normaliseJoinCode(opts.ticket, 'join ticket'),
      })),
    (a) => newConfig(address.url, relay, node, now, a.code),
  );
  return { config, code: accepted.code, expiresAt: accepted.expiresAt };
}

/**
 * Completes a join once approved: logs in, reads this node's certificate from the key log (checked
 * like any counterpart's), and records it with the authority's master key. Throws NOT_APPROVED
 * while the authority has not approved the node.
 */
export async function completeJoin(node: AuthorityNode): Promise<{ safetyCode: string }> {
  if (node.approved) return { safetyCode: (await node.fingerprint()).safetyCode };
  const keys = node.keys;
  // Approval is visible as the relay accepting this node's login: it refuses the signed challenge
  // of a node it does not know (CHALLENGE_INVALID), telling no more, so that nobody can probe it.
  try {
    await node.relay.token();
  } catch (err) {
    if (err instanceof EntraideError && err.code === 'CHALLENGE_INVALID') {
      throw new EntraideError(
        'NOT_APPROVED',
        `${node.address} waits for approval by its authority${node.config.joinCode ? ` (join code ${node.config.joinCode})` : ''}`,
      );
    }
    throw err;
  }
  // Read the certificate as any counterpart would, with the key log's proofs.
  const t = await node.whileCheckingApproval(() => node.trust.authority(node.authority, true));
  const mine = t.state.nodes.get(node.address);
  if (!mine || mine.identityKey !== keys.identityPublicKey) {
    throw new EntraideError(
      'KEYLOG_INCONSISTENT',
      `the key log holds no certificate of ${node.address} for this node’s identity key`,
    );
  }
  if (currentEncryptionKey(mine).key !== keys.encryptionKeys[0]!.publicKey) {
    throw new EntraideError(
      'KEYLOG_INCONSISTENT',
      `the certificate of ${node.address} names another encryption key`,
    );
  }
  const master = currentMasterKey(t.state);
  fromBase64url(master, 'masterKey', 32);
  node.keystore.save({
    ...keys,
    masterPublicKey: master,
    certificate: JSON.stringify(mine.certificate),
    encryptionKeys: [
      { ...keys.encryptionKeys[0]!, publishedAt: new Date().toISOString() },
      ...keys.encryptionKeys.slice(1),
    ],
  });
  const { joinCode: _code, ...config } = node.config;
  writeConfig(node.home, config);
  return { safetyCode: t.safetyCode };
}
