/** Invitations and the enrolment of an authority's first node. */
import { createHash, randomBytes } from 'node:crypto';
import { checkAuthorityId, parseAuthorityAddress, parseNodeAddress } from '../../shared/addresses.ts';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { certificateIdentityKey, verifyNodeCertificate } from '../../shared/crypto/certificates.ts';
import { CONTEXTS, verifyObject } from '../../shared/crypto/signing.ts';
import { EntraideError } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import type { EnrolmentRequest, EnrolmentResponse, RelayInfo } from '../../shared/protocol/schemas.ts';
import type { RelayStore } from '../storage/relay-store.ts';
import type { Directory } from './directory.ts';
import type { KeyLog } from './key-log.ts';

export function hashInvitation(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/** Creates a one-time invitation for `authorityId`; only its hash is stored. */
export async function createInvitation(
  store: RelayStore,
  authorityId: string,
  now: Date,
): Promise<{ code: string; expiresAt: Date }> {
  checkAuthorityId(authorityId);
  const code = toBase64url(randomBytes(24));
  const expiresAt = new Date(now.getTime() + LIMITS.invitationLifetimeSeconds * 1000);
  await store.createInvitation(hashInvitation(code), authorityId, now, expiresAt);
  return { code, expiresAt };
}

export async function enrol(
  req: EnrolmentRequest,
  ctx: { store: RelayStore; directory: Directory; keyLog: KeyLog; relay: RelayInfo; now: Date },
): Promise<EnrolmentResponse> {
  const authority = parseAuthorityAddress(req.authority);
  if (authority.domain !== ctx.relay.domain) {
    throw new EntraideError(
      'ADDRESS_INVALID',
      `${req.authority} is not an address on this relay (${ctx.relay.domain})`,
    );
  }
  const node = parseNodeAddress(req.certificate.node);
  if (node.authority !== req.authority) {
    throw new EntraideError(
      'CERTIFICATE_INVALID',
      `node ${node.address} does not belong to ${req.authority}`,
    );
  }
  const masterKey = fromBase64url(req.masterKey, 'masterKey', 32);
  fromBase64url(req.proof, 'proof', 64);
  verifyNodeCertificate(req.certificate, req.authority, masterKey, ctx.now);
  const proofBody = {
    relay: ctx.relay.domain,
    authority: req.authority,
    masterKey: req.masterKey,
    node: node.address,
  };
  if (!verifyObject(CONTEXTS.enrolment, proofBody, req.proof, certificateIdentityKey(req.certificate))) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      'the enrolment proof is not signed by the node identity key in the certificate',
    );
  }
  if (req.declaration.authority !== req.authority || req.declaration.masterKey !== req.masterKey) {
    throw new EntraideError(
      'KEY_EVENT_INVALID',
      'the master-key declaration names another authority or key than the enrolment',
    );
  }
  // Refusals in the order an operator expects: the invitation first, then an authority already enrolled.
  await ctx.store.verifyInvitation(hashInvitation(req.invitation), authority.authorityId, ctx.now);
  if (ctx.keyLog.state(req.authority)) {
    throw new EntraideError('AUTHORITY_EXISTS', `${req.authority} is already enrolled on this relay`);
  }
  // The key log checks the declaration's signature and the certificate again, as every node will.
  await ctx.keyLog.append(
    [
      { type: 'authority-enrolled', declaration: req.declaration },
      { type: 'node-certified', certificate: req.certificate },
    ],
    ({ append }) =>
      ctx.store.enrol(
        {
          codeHash: hashInvitation(req.invitation),
          authorityId: authority.authorityId,
          authority: req.authority,
          masterKey: req.masterKey,
          node: node.address,
          identityKey: req.certificate.identityKey,
          certificate: JSON.stringify(req.certificate),
          now: ctx.now,
        },
        append,
      ),
  );
  ctx.directory.add({
    address: node.address,
    authority: req.authority,
    identityKey: req.certificate.identityKey,
    revokedAt: null,
  });
  return { authority: req.authority, node: node.address, relay: ctx.relay };
}
