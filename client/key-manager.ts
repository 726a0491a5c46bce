/**
 * What an officer does with the authority's keys from a node: rotate the encryption key (by age or
 * on demand) and the master key, approve a joining node, revoke a node, purge old private keys,
 * list the nodes, verify a counterpart's safety code and read an authority's key history.
 *
 * Every change follows the same order: new private keys are saved in the keystore first, then the
 * signed statement is logged by the relay, then the keystore records that it was published. A crash
 * in between leaves a key waiting to be published (done on the next run), never a lost key.
 */
import { issueNodeCertificate } from '../shared/crypto/certificates.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair, encryptionKeyId } from '../shared/crypto/keys.ts';
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { parseAuthorityAddress, parseNodeAddress, nodeAddress, checkNodeName } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import {
  currentEncryptionKey,
  currentMasterKey,
  type KeyHistoryItem,
} from '../shared/keys/authority-state.ts';
import { joinCode, normaliseJoinCode } from '../shared/keys/join-code.ts';
import {
  rotateMasterKey,
  revokeNode,
  signEncryptionKey,
  verifyJoinRequest,
} from '../shared/keys/statements.ts';
import { ENCRYPTION_KEY_LIFETIME_DAYS } from '../shared/crypto/enrolment.ts';
import { JoinRequest } from '../shared/protocol/key-log.ts';
import { formatsToPublish, sameFormats } from '../shared/protocol/formats.ts';
import { nodeFormats } from './formats.ts';
import type { KeyMaterial } from './keystore.ts';
import type { KeyPort } from './node-port.ts';
import { random } from './random.ts';

export const DEFAULT_ROTATION_DAYS = 30;
const DAY = 86_400_000;

export function rotationDays(node: KeyPort): number {
  return node.config.keyRotationDays ?? DEFAULT_ROTATION_DAYS;
}

/** A key lives twice its rotation period, so senders with a day-old directory still reach the node. */
function notAfterFor(node: KeyPort, now: Date): Date {
  const days = Math.min(2 * rotationDays(node), 400);
  return new Date(now.getTime() + days * DAY);
}

/** The authority master key's secret half, for an operation that needs it; MASTER_KEY_REQUIRED otherwise. */
export function masterSecret(node: KeyPort): Uint8Array {
  const k = node.keys.masterSecretKey;
  if (!k && node.keystore.holdsMasterKey) {
    throw new EntraideError(
      'MASTER_KEY_REQUIRED',
      `the master key of ${node.authority} stays in ${node.address}’s keystore until an officer gives the passphrase for this operation`,
    );
  }
  if (!k) {
    throw new EntraideError(
      'MASTER_KEY_REQUIRED',
      `${node.address} does not hold the master key of ${node.authority}`,
    );
  }
  return fromBase64url(k, 'masterSecretKey', 64);
}

/** Publishes the current encryption key if a crash left it unpublished. */
async function publishPending(node: KeyPort): Promise<void> {
  const keys = node.keys;
  if (keys.pendingMaster) {
    await node
      .publish({ type: 'master-key-rotated', rotation: keys.pendingMaster.rotation })
      .catch((err: unknown) => {
        // Already superseded or refused: the key log says which master key is current.
        if (!(err instanceof EntraideError) || err.status >= 500) throw err;
      });
    finishMasterRotation(node);
  }
  const current = node.keys.encryptionKeys[0]!;
  if (current.publishedAt === null) {
    const statement = signEncryptionKey(
      {
        node: node.address,
        encryptionKey: fromBase64url(current.publicKey, 'encryptionKey', 32),
        issuedAt: new Date(current.createdAt),
        notAfter: new Date(current.notAfter),
        formats: formatsToPublish(node.formats),
      },
      node.identitySecretKey,
    );
    await node.publish({ type: 'encryption-key-rotated', statement });
    save(node, {
      ...node.keys,
      encryptionKeys: [
        { ...current, publishedAt: new Date().toISOString() },
        ...node.keys.encryptionKeys.slice(1),
      ],
    });
  }
}

function save(node: KeyPort, next: KeyMaterial): void {
  node.keystore.save(next);
  node.loadEncryptionKeys();
}

function finishMasterRotation(node: KeyPort): void {
  const pending = node.keys.pendingMaster!;
  const { pendingMaster: _done, ...rest } = node.keys;
  save(node, {
    ...rest,
    masterSecretKey: pending.secretKey,
    masterPublicKey: pending.rotation.masterKey,
  });
}

export interface RotationResult {
  node: string;
  keyId: string;
  notAfter: string;
  index: number;
}

/** Makes, saves and publishes a new encryption key for this node. */
export async function rotateEncryptionKey(node: KeyPort, now = new Date()): Promise<RotationResult> {
  await publishPending(node);
  const pair = generateEncryptionKeyPair(random);
  const notAfter = notAfterFor(node, now);
  const record = {
    publicKey: toBase64url(pair.publicKey),
    secretKey: toBase64url(pair.secretKey),
    createdAt: now.toISOString(),
    notAfter: notAfter.toISOString(),
    publishedAt: null,
  };
  save(node, { ...node.keys, encryptionKeys: [record, ...node.keys.encryptionKeys] });
  const statement = signEncryptionKey(
    {
      node: node.address,
      encryptionKey: pair.publicKey,
      issuedAt: now,
      notAfter,
      formats: formatsToPublish(node.formats),
    },
    node.identitySecretKey,
  );
  const result = await node.publish({ type: 'encryption-key-rotated', statement });
  save(node, {
    ...node.keys,
    encryptionKeys: [
      { ...record, publishedAt: new Date().toISOString() },
      ...node.keys.encryptionKeys.slice(1),
    ],
  });
  return {
    node: node.address,
    keyId: encryptionKeyId(pair.publicKey),
    notAfter: record.notAfter,
    index: result.index,
  };
}

/**
 * Run before talking to the relay: publishes what a crash left pending, and rotates the encryption
 * key when it is older than the rotation period, or when the key log holds a newer key for this
 * node than the keystore (a node restored from an older backup). Returns the rotation, if any.
 */
export async function ensureFreshKeys(node: KeyPort, now = new Date()): Promise<RotationResult | null> {
  if (!node.approved) return null;
  await publishPending(node);
  const current = node.keys.encryptionKeys[0]!;
  const age = now.getTime() - Date.parse(current.createdAt);
  if (age >= rotationDays(node) * DAY) return rotateEncryptionKey(node, now);
  const own = (await node.trust.authority(node.authority)).state.nodes.get(node.address);
  const published = own && !own.revoked ? currentEncryptionKey(own) : undefined;
  // A node that now reads other formats than it published (it was upgraded) says so with a new key.
  if (published && (published.key !== current.publicKey || !sameFormats(published.formats, node.formats))) {
    return rotateEncryptionKey(node, now);
  }
  return null;
}

/** Rotates the authority master key: the old key signs the new one; counterparts follow the chain. */
export async function rotateMaster(
  node: KeyPort,
  now = new Date(),
): Promise<{ masterKey: string; safetyCode: string }> {
  const previousSecret = masterSecret(node);
  await publishPending(node);
  const state = (await node.trust.authority(node.authority, true)).state;
  const previous = { publicKey: previousSecret.slice(32), secretKey: previousSecret };
  if (toBase64url(previous.publicKey) !== currentMasterKey(state)) {
    throw new EntraideError(
      'MASTER_KEY_REQUIRED',
      `the master key this node holds is no longer the current one of ${node.authority}: import a newer backup`,
    );
  }
  const next = generateSigningKeyPair(random);
  const rotation = rotateMasterKey({ authority: node.authority, issuedAt: now }, previous, next);
  save(node, { ...node.keys, pendingMaster: { secretKey: toBase64url(next.secretKey), rotation } });
  await node.publish({ type: 'master-key-rotated', rotation });
  finishMasterRotation(node);
  const fp = await fingerprint(node);
  return { masterKey: rotation.masterKey, safetyCode: fp.safetyCode };
}

/** Fetches a join request by its code, checks it against the code, and certifies the node. */
export async function approveJoin(
  node: KeyPort,
  code: string,
  now = new Date(),
): Promise<{ node: string; identityKey: string; index: number }> {
  const secret = masterSecret(node);
  const normalised = normaliseJoinCode(code);
  const request = await node.relay.get(JoinRequest, `/v1/joins/${encodeURIComponent(normalised)}`);
  // The code is a hash of the request: a relay that swapped keys would have to find a collision.
  if (joinCode(request) !== normalised) {
    throw new EntraideError(
      'KEYLOG_INCONSISTENT',
      `the relay returned a join request that does not match code ${normalised}: do not approve; tell the relay operator`,
    );
  }
  verifyJoinRequest(request);
  if (parseNodeAddress(request.node).authority !== node.authority) {
    throw new EntraideError('JOIN_NOT_FOUND', `join request ${normalised} is for another authority`);
  }
  const known = (await node.trust.authority(node.authority, true)).state.nodes.get(request.node);
  if (known && known.identityKey === request.identityKey) {
    throw new EntraideError(
      'NODE_EXISTS',
      `${request.node} is already approved (key log entry ${known.certifiedIndex}); nothing more to do`,
    );
  }
  const limit = notAfterFor(node, now);
  const asked = new Date(request.encKeyNotAfter);
  const certificate = issueNodeCertificate(
    {
      authority: node.authority,
      node: request.node,
      identityKey: fromBase64url(request.identityKey, 'identityKey', 32),
      encryptionKey: fromBase64url(request.encryptionKey, 'encryptionKey', 32),
      encKeyNotAfter: asked < limit ? asked : limit,
      issuedAt: now,
      // What the joining node said it reads, in its signed request.
      formats: request.formats,
    },
    secret,
  );
  const result = await node.publish({ type: 'node-certified', certificate });
  return { node: request.node, identityKey: request.identityKey, index: result.index };
}

/** Certifies a brand-new node of this authority from keys made here (used when restoring from a backup). */
export async function certifyNewNode(
  masterSecretKey: Uint8Array,
  input: {
    authority: string;
    nodeName: string;
    identityKey: Uint8Array;
    encryptionKey: Uint8Array;
    now: Date;
  },
): Promise<ReturnType<typeof issueNodeCertificate>> {
  checkNodeName(input.nodeName);
  return issueNodeCertificate(
    {
      authority: input.authority,
      node: nodeAddress(input.nodeName, input.authority),
      identityKey: input.identityKey,
      encryptionKey: input.encryptionKey,
      encKeyNotAfter: new Date(input.now.getTime() + ENCRYPTION_KEY_LIFETIME_DAYS * DAY),
      issuedAt: input.now,
      formats: formatsToPublish(nodeFormats()),
    },
    masterSecretKey,
  );
}

/** Revokes a node of this authority with the master key. */
export async function revoke(
  node: KeyPort,
  target: string,
  reason: string,
  now = new Date(),
): Promise<{ node: string; index: number }> {
  const secret = masterSecret(node);
  const address = target.includes('/') ? target : nodeAddress(target, node.authority);
  if (parseNodeAddress(address).authority !== node.authority) {
    throw new EntraideError('USAGE', `${address} is not a node of ${node.authority}`);
  }
  if (address === node.address) {
    throw new EntraideError(
      'USAGE',
      'a node cannot revoke itself: revoke it from another node that holds the master key',
    );
  }
  const state = (await node.trust.authority(node.authority, true)).state;
  const n = state.nodes.get(address);
  if (!n) throw new EntraideError('NOT_FOUND', `${address} is not a node of ${node.authority}`);
  if (n.revoked)
    throw new EntraideError('NODE_REVOKED', `${address} was already revoked on ${n.revoked.revokedAt}`);
  const revocation = revokeNode(
    { authority: node.authority, node: address, identityKey: n.identityKey, revokedAt: now, reason },
    secret,
  );
  const result = await node.publish({ type: 'node-revoked', revocation });
  return { node: address, index: result.index };
}

/** Destroys the private encryption keys that were replaced before `before`; the current key stays. */
export function purgeKeys(node: KeyPort, before: Date): { purged: string[]; kept: number } {
  const keys = node.keys.encryptionKeys;
  const purged: string[] = [];
  const next = keys.map((k, i) => {
    // A key is retired when the next one was made.
    if (i === 0 || k.secretKey === null) return k;
    const retiredAt = Date.parse(keys[i - 1]!.createdAt);
    if (retiredAt >= before.getTime()) return k;
    purged.push(encryptionKeyId(fromBase64url(k.publicKey, 'encryptionKey', 32)));
    return { ...k, secretKey: null };
  });
  if (purged.length > 0) save(node, { ...node.keys, encryptionKeys: next });
  return { purged, kept: next.filter((k) => k.secretKey !== null).length };
}

export interface NodeListing {
  node: string;
  state: 'active' | 'revoked';
  thisNode: boolean;
  identityKey: string;
  encryptionKeyId: string;
  encryptionKeyNotAfter: string;
  certifiedAt: number;
  revokedAt: string | null;
  revokeReason: string | null;
}

export async function listNodes(node: KeyPort): Promise<NodeListing[]> {
  const t = await node.trust.authority(node.authority, true);
  return [...t.state.nodes.values()]
    .map((n) => {
      const k = currentEncryptionKey(n);
      return {
        node: n.node,
        state: n.revoked ? ('revoked' as const) : ('active' as const),
        thisNode: n.node === node.address,
        identityKey: n.identityKey,
        encryptionKeyId: encryptionKeyId(k.key),
        encryptionKeyNotAfter: k.notAfter,
        certifiedAt: n.certifiedIndex,
        revokedAt: n.revoked?.revokedAt ?? null,
        revokeReason: n.revoked?.reason ?? null,
      };
    })
    .sort((a, b) => a.node.localeCompare(b.node));
}

export interface Fingerprint {
  authority: string;
  safetyCode: string;
  pinnedAt: string | null;
  verifiedAt: string | null;
}

/**
 * The safety code of this authority, or of a counterpart, from the key log (pinned on first use).
 * Offline, the pinned code is shown.
 */
export async function fingerprint(node: KeyPort, authority?: string): Promise<Fingerprint> {
  const target = authority ?? node.authority;
  parseAuthorityAddress(target);
  try {
    await node.trust.authority(target);
  } catch (err) {
    const offline =
      err instanceof EntraideError && (err.code === 'RELAY_UNREACHABLE' || err.code === 'NOT_APPROVED');
    if (!offline || !(await node.store.pin(target))) throw err;
  }
  const pin = (await node.store.pin(target))!;
  return {
    authority: target,
    safetyCode: pin.safetyCode,
    pinnedAt: pin.pinnedAt.toISOString(),
    verifiedAt: pin.verifiedAt?.toISOString() ?? null,
  };
}

/** Compares a safety code read out by the counterpart with the one in the key log; marks it verified. */
export async function verifySafetyCode(
  node: KeyPort,
  authority: string,
  code: string,
): Promise<{ authority: string; safetyCode: string; verifiedAt: string }> {
  parseAuthorityAddress(authority);
  const digits = code.replace(/[\s-]/g, '');
  if (!/^\d{40}$/.test(digits)) {
    throw new EntraideError(
      'USAGE',
      'a safety code is 40 digits (8 groups of 5), as `entraide fingerprint` shows it',
    );
  }
  const fp = await fingerprint(node, authority);
  if (fp.safetyCode.replace(/ /g, '') !== digits) {
    throw new EntraideError(
      'SAFETY_CODE_MISMATCH',
      `the code you typed is not the safety code of ${authority} in the key log; nothing was marked`,
    );
  }
  const at = new Date();
  await node.store.markVerified(authority, at);
  return { authority, safetyCode: fp.safetyCode, verifiedAt: at.toISOString() };
}

export interface KeyHistory {
  authority: string;
  safetyCode: string;
  verifiedAt: string | null;
  head: { size: number; root: string; timestamp: string };
  events: (KeyHistoryItem & { proof: 'checked' })[];
}

/** Every key event of an authority, each proven included in the signed key log. */
export async function keyHistory(node: KeyPort, authority: string): Promise<KeyHistory> {
  parseAuthorityAddress(authority);
  const t = await node.trust.authority(authority, true);
  const pin = await node.store.pin(authority);
  return {
    authority,
    safetyCode: t.safetyCode,
    verifiedAt: pin?.verifiedAt?.toISOString() ?? null,
    head: { size: t.head.size, root: t.head.root, timestamp: t.head.timestamp },
    events: t.history.map((h) => ({ ...h, proof: 'checked' as const })),
  };
}
