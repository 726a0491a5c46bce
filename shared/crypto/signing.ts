/**
 * Domain-separated Ed25519 signatures: the signed bytes are the context string, a zero byte,
 * then the RFC 8785 canonical encoding of the object, so that a signature made for one purpose
 * can never be replayed as another.
 */
import { concatBytes, fromBase64url, toBase64url, utf8 } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { sodium } from './sodium.ts';

export const CONTEXTS = {
  envelope: 'entraide/v1/envelope',
  nodeCertificate: 'entraide/v1/node-certificate',
  authChallenge: 'entraide/v1/auth-challenge',
  enrolment: 'entraide/v1/enrolment',
  authorityDeclaration: 'entraide/v1/authority-declaration',
  encryptionKey: 'entraide/v1/encryption-key',
  masterKeyRotation: 'entraide/v1/master-key-rotation',
  masterKeyRotationNew: 'entraide/v1/master-key-rotation-new',
  nodeRevocation: 'entraide/v1/node-revocation',
  joinRequest: 'entraide/v1/join-request',
  treeHead: 'entraide/v1/tree-head',
  statusUpdate: 'entraide/v1/status-update',
  receipt: 'entraide/v1/receipt',
  statistics: 'entraide/v1/statistics',
  /** Not a signature: derives the per-network key of a statistics export's request hash. */
  statsRequest: 'entraide/v1/stats-request',
  auditChallenge: 'entraide/v1/audit-challenge',
  nodeRecordHead: 'entraide/v1/node-record-head',
  networkRoster: 'entraide/v1/network-roster',
  meeting: 'entraide/v1/meeting',
  relayKeyRollover: 'entraide/v1/relay-key-rollover',
  relayKeyRolloverNew: 'entraide/v1/relay-key-rollover-new',
  authorityProfile: 'entraide/v1/authority-profile',
} as const;

export type SigningContext = (typeof CONTEXTS)[keyof typeof CONTEXTS];

export function signingBytes(context: SigningContext, value: unknown): Uint8Array {
  return domainSeparated(context, canonicalBytes(value));
}

/** The context string, a zero byte, then bytes already in canonical form. */
export function domainSeparated(context: SigningContext, canonical: Uint8Array): Uint8Array {
  return concatBytes(utf8(context), new Uint8Array([0]), canonical);
}

export function signObject(context: SigningContext, value: unknown, secretKey: Uint8Array): string {
  return toBase64url(sodium().crypto_sign_detached(signingBytes(context, value), secretKey));
}

/** True when `sig` (base64url) is a valid signature of `value` under `publicKey`; never throws on bad input. */
export function verifyObject(
  context: SigningContext,
  value: unknown,
  sig: string,
  publicKey: Uint8Array,
): boolean {
  let sigBytes: Uint8Array;
  try {
    sigBytes = fromBase64url(sig, 'sig', 64);
  } catch {
    return false;
  }
  if (publicKey.length !== 32) return false;
  try {
    return sodium().crypto_sign_verify_detached(sigBytes, signingBytes(context, value), publicKey);
  } catch {
    return false;
  }
}

/** Returns a copy of a signed object without its `sig` field: what the signature covers. */
export function withoutSig<T extends { sig: string }>(value: T): Omit<T, 'sig'> {
  const { sig: _sig, ...rest } = value;
  return rest;
}
