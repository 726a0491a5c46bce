/**
 * What a new authority's first node brings to enrolment: its three key pairs, its certificate under
 * the new authority master key, and its proof of holding the node identity key. Pure: the clock and
 * randomness are passed in. client/init.ts builds nodes with it; tests and benchmarks use the same.
 */
import { authorityAddress, nodeAddress } from '../addresses.ts';
import { toBase64url } from '../bytes.ts';
import type { EnrolmentRequest } from '../protocol/schemas.ts';
import { issueNodeCertificate } from './certificates.ts';
import {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type EncryptionKeyPair,
  type SigningKeyPair,
} from './keys.ts';
import type { RandomBytes } from './random.ts';
import { CONTEXTS, signObject } from './signing.ts';
import { declareAuthority } from '../keys/statements.ts';

export const ENCRYPTION_KEY_LIFETIME_DAYS = 30;

export interface NewAuthority {
  authority: string;
  node: string;
  master: SigningKeyPair;
  identity: SigningKeyPair;
  encryption: EncryptionKeyPair;
  encKeyNotAfter: Date;
  /** The body of POST /v1/enrol, without the invitation code. */
  request: Omit<EnrolmentRequest, 'invitation'>;
}

export function createAuthorityEnrolment(
  input: {
    domain: string;
    authorityId: string;
    nodeName: string;
    now: Date;
    /** The envelope formats the first node reads (published in its certificate). */
    formats?: readonly number[];
  },
  random: RandomBytes,
): NewAuthority {
  const authority = authorityAddress(input.authorityId, input.domain);
  const node = nodeAddress(input.nodeName, authority);
  const master = generateSigningKeyPair(random);
  const identity = generateSigningKeyPair(random);
  const encryption = generateEncryptionKeyPair(random);
  const encKeyNotAfter = new Date(input.now.getTime() + ENCRYPTION_KEY_LIFETIME_DAYS * 86_400_000);
  const certificate = issueNodeCertificate(
    {
      authority,
      node,
      identityKey: identity.publicKey,
      encryptionKey: encryption.publicKey,
      encKeyNotAfter,
      issuedAt: input.now,
      formats: input.formats,
    },
    master.secretKey,
  );
  const masterKey = toBase64url(master.publicKey);
  const proof = signObject(
    CONTEXTS.enrolment,
    { relay: input.domain, authority, masterKey, node },
    identity.secretKey,
  );
  return {
    authority,
    node,
    master,
    identity,
    encryption,
    encKeyNotAfter,
    request: {
      authority,
      masterKey,
      declaration: declareAuthority(authority, master, input.now),
      certificate,
      proof,
    },
  };
}
