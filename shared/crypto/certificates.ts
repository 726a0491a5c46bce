/** Node certificates: the authority master key (AMK) vouches for a node's identity and encryption keys. */
import { parseNodeAddress } from '../addresses.ts';
import { fromBase64url, toBase64url } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import { parseTimestamp } from '../time.ts';
import type { NodeCertificate, NodeCertificateBody } from '../protocol/schemas.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from './signing.ts';

export interface IssueCertificateInput {
  authority: string;
  node: string;
  identityKey: Uint8Array;
  encryptionKey: Uint8Array;
  encKeyNotAfter: Date;
  issuedAt: Date;
  /** The envelope formats the node reads; left out (meaning [1]) when absent. */
  formats?: readonly number[] | undefined;
}

export function issueNodeCertificate(
  input: IssueCertificateInput,
  masterSecretKey: Uint8Array,
): NodeCertificate {
  const body: NodeCertificateBody = {
    v: 1,
    authority: input.authority,
    node: input.node,
    identityKey: toBase64url(input.identityKey),
    encryptionKey: toBase64url(input.encryptionKey),
    encKeyNotAfter: input.encKeyNotAfter.toISOString(),
    issuedAt: input.issuedAt.toISOString(),
    ...(input.formats ? { formats: [...input.formats] } : {}),
  };
  return { ...body, sig: signObject(CONTEXTS.nodeCertificate, body, masterSecretKey) };
}

/**
 * Checks a certificate under the master key the caller trusts for `authority`: the signature,
 * that the node belongs to that authority, and (when `now` is given) that the encryption key has
 * not passed its end date. Throws SCHEMA_INVALID for a malformed key, signature or date, and
 * CERTIFICATE_INVALID saying which check failed otherwise.
 */
export function verifyNodeCertificate(
  cert: NodeCertificate,
  authority: string,
  masterKey: Uint8Array,
  now?: Date,
): void {
  // Strict decoding first: a field that is not canonical base64url or a real date is malformed,
  // whatever its signature says.
  fromBase64url(cert.identityKey, 'certificate.identityKey', 32);
  fromBase64url(cert.encryptionKey, 'certificate.encryptionKey', 32);
  fromBase64url(cert.sig, 'certificate.sig', 64);
  parseTimestamp(cert.issuedAt, 'certificate.issuedAt');
  const notAfter = parseTimestamp(cert.encKeyNotAfter, 'certificate.encKeyNotAfter');
  if (cert.authority !== authority) {
    throw new EntraideError(
      'CERTIFICATE_INVALID',
      `certificate of ${cert.node} names ${cert.authority}, not ${authority}`,
    );
  }
  let nodeAuthority: string;
  try {
    nodeAuthority = parseNodeAddress(cert.node).authority;
  } catch {
    throw new EntraideError(
      'CERTIFICATE_INVALID',
      `certificate names a malformed node address "${cert.node}"`,
    );
  }
  if (nodeAuthority !== authority) {
    throw new EntraideError('CERTIFICATE_INVALID', `node ${cert.node} does not belong to ${authority}`);
  }
  if (!verifyObject(CONTEXTS.nodeCertificate, withoutSig(cert), cert.sig, masterKey)) {
    throw new EntraideError(
      'CERTIFICATE_INVALID',
      `certificate of ${cert.node} is not signed by the master key of ${authority}`,
    );
  }
  if (now && notAfter < now.getTime()) {
    throw new EntraideError(
      'CERTIFICATE_INVALID',
      `encryption key of ${cert.node} expired on ${cert.encKeyNotAfter}`,
    );
  }
}

export function certificateIdentityKey(cert: NodeCertificate): Uint8Array {
  return fromBase64url(cert.identityKey, 'identityKey', 32);
}

export function certificateEncryptionKey(cert: NodeCertificate): Uint8Array {
  return fromBase64url(cert.encryptionKey, 'encryptionKey', 32);
}
