/**
 * The signed statements that change an authority's keys: making them (pure: keys and times are
 * passed in) and checking their signatures. Which key must have signed a statement depends on the
 * authority's state; authority-state.ts decides that and calls the checks here.
 */
import { fromBase64url, toBase64url } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import type { AuthorityDeclaration } from '../protocol/schemas.ts';
import type {
  EncryptionKeyStatement,
  JoinRequest,
  MasterKeyRotation,
  NodeRevocation,
} from '../protocol/key-log.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { parseTimestamp } from '../time.ts';

/** Longest life of one encryption key, whatever a statement claims. */
export const MAX_ENCRYPTION_KEY_DAYS = 400;

export function declareAuthority(
  authority: string,
  master: { publicKey: Uint8Array; secretKey: Uint8Array },
  issuedAt: Date,
): AuthorityDeclaration {
  const body = {
    v: 1 as const,
    authority,
    masterKey: toBase64url(master.publicKey),
    issuedAt: issuedAt.toISOString(),
  };
  return { ...body, sig: signObject(CONTEXTS.authorityDeclaration, body, master.secretKey) };
}

export function verifyDeclaration(d: AuthorityDeclaration): void {
  const key = fromBase64url(d.masterKey, 'declaration.masterKey', 32);
  parseTimestamp(d.issuedAt, 'declaration.issuedAt');
  if (!verifyObject(CONTEXTS.authorityDeclaration, withoutSig(d), d.sig, key)) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the declaration of ${d.authority} is not signed by the master key it declares`,
    );
  }
}

/**
 * `formats`: the envelope formats the node reads from this key on. Left out when absent, as a node
 * that knows only format 1 writes it, and every reader takes a statement without it as [1].
 */
export function signEncryptionKey(
  input: {
    node: string;
    encryptionKey: Uint8Array;
    issuedAt: Date;
    notAfter: Date;
    formats?: readonly number[] | undefined;
  },
  identitySecretKey: Uint8Array,
): EncryptionKeyStatement {
  const body = {
    v: 1 as const,
    node: input.node,
    encryptionKey: toBase64url(input.encryptionKey),
    issuedAt: input.issuedAt.toISOString(),
    notAfter: input.notAfter.toISOString(),
    ...(input.formats ? { formats: [...input.formats] } : {}),
  };
  return { ...body, sig: signObject(CONTEXTS.encryptionKey, body, identitySecretKey) };
}

export function verifyEncryptionKeyStatement(s: EncryptionKeyStatement, identityKey: Uint8Array): void {
  fromBase64url(s.encryptionKey, 'statement.encryptionKey', 32);
  const issued = parseTimestamp(s.issuedAt, 'statement.issuedAt');
  const notAfter = parseTimestamp(s.notAfter, 'statement.notAfter');
  if (!verifyObject(CONTEXTS.encryptionKey, withoutSig(s), s.sig, identityKey)) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the new encryption key of ${s.node} is not signed by that node’s certified identity key`,
    );
  }
  if (notAfter <= issued || notAfter - issued > MAX_ENCRYPTION_KEY_DAYS * 86_400_000) {
    throw new EntraideError(
      'KEY_EVENT_INVALID',
      `the encryption key of ${s.node} claims a lifetime outside (0, ${MAX_ENCRYPTION_KEY_DAYS} days]`,
    );
  }
}

export function rotateMasterKey(
  input: { authority: string; issuedAt: Date },
  previous: { publicKey: Uint8Array; secretKey: Uint8Array },
  next: { publicKey: Uint8Array; secretKey: Uint8Array },
): MasterKeyRotation {
  const body = {
    v: 1 as const,
    authority: input.authority,
    previousKey: toBase64url(previous.publicKey),
    masterKey: toBase64url(next.publicKey),
    issuedAt: input.issuedAt.toISOString(),
  };
  return {
    ...body,
    sig: signObject(CONTEXTS.masterKeyRotation, body, previous.secretKey),
    newSig: signObject(CONTEXTS.masterKeyRotationNew, body, next.secretKey),
  };
}

export function verifyMasterKeyRotation(r: MasterKeyRotation, currentMasterKey: Uint8Array): void {
  const next = fromBase64url(r.masterKey, 'rotation.masterKey', 32);
  fromBase64url(r.previousKey, 'rotation.previousKey', 32);
  parseTimestamp(r.issuedAt, 'rotation.issuedAt');
  const { sig, newSig, ...body } = r;
  if (r.previousKey !== toBase64url(currentMasterKey)) {
    throw new EntraideError(
      'KEY_EVENT_INVALID',
      `the master-key rotation of ${r.authority} starts from a key that is not its current master key`,
    );
  }
  if (!verifyObject(CONTEXTS.masterKeyRotation, body, sig, currentMasterKey)) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the master-key rotation of ${r.authority} is not signed by its current master key`,
    );
  }
  if (!verifyObject(CONTEXTS.masterKeyRotationNew, body, newSig, next)) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the master-key rotation of ${r.authority} is not signed by the new master key it introduces`,
    );
  }
}

export function revokeNode(
  input: { authority: string; node: string; identityKey: string; revokedAt: Date; reason: string },
  masterSecretKey: Uint8Array,
): NodeRevocation {
  const body = {
    v: 1 as const,
    authority: input.authority,
    node: input.node,
    identityKey: input.identityKey,
    revokedAt: input.revokedAt.toISOString(),
    reason: input.reason,
  };
  return { ...body, sig: signObject(CONTEXTS.nodeRevocation, body, masterSecretKey) };
}

export function verifyRevocation(r: NodeRevocation, masterKey: Uint8Array): void {
  fromBase64url(r.identityKey, 'revocation.identityKey', 32);
  parseTimestamp(r.revokedAt, 'revocation.revokedAt');
  if (!verifyObject(CONTEXTS.nodeRevocation, withoutSig(r), r.sig, masterKey)) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the revocation of ${r.node} is not signed by the current master key of ${r.authority}`,
    );
  }
}

/** `formats` (optional): the envelope formats the joining node reads, for its certificate. */
export function signJoinRequest(
  input: Omit<JoinRequest, 'sig' | 'v'>,
  identitySecretKey: Uint8Array,
): JoinRequest {
  const body = { v: 1 as const, ...input };
  return { ...body, sig: signObject(CONTEXTS.joinRequest, body, identitySecretKey) };
}

export function verifyJoinRequest(j: JoinRequest): void {
  const key = fromBase64url(j.identityKey, 'join.identityKey', 32);
  fromBase64url(j.encryptionKey, 'join.encryptionKey', 32);
  parseTimestamp(j.createdAt, 'join.createdAt');
  parseTimestamp(j.encKeyNotAfter, 'join.encKeyNotAfter');
  if (!verifyObject(CONTEXTS.joinRequest, withoutSig(j), j.sig, key)) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the join request of ${j.node} is not signed by its identity key`,
    );
  }
}
