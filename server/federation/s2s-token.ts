/**
 * Server-to-server requests between peer relays: each carries a short-lived JWT signed with the
 * sending relay's key (EdDSA, jose) binding the issuer, the audience (the receiving relay), the
 * method and path, and a SHA-256 hash of the body. The receiver verifies it against the key it
 * pinned for that peer, checks the body, and refuses a token id it has seen before (remembered in
 * the database until the token expires, so a restart does not reopen the window). A token that does
 * not verify under the pinned key may come from a peer that rotated its key: the peer's chain of
 * rollovers is checked (peer-key-follow.ts) and, when it leads to a new key, the token is checked
 * once more under that key.
 */
import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { toBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { RelayStore } from '../storage/relay-store.ts';
import { audienceFor } from '../auth/tokens.ts';
import type { PeerKeyFollower } from './peer-key-follow.ts';
import type { Peer, PeerRegistry } from './peers.ts';

export const FEDERATION_TOKEN_TYPE = 'entraide-federation+jwt';
export const FEDERATION_TOKEN_SECONDS = 60;
const MAX_TOKEN_AGE_SECONDS = FEDERATION_TOKEN_SECONDS * 2;
const CLOCK_TOLERANCE_SECONDS = 30;

export function bodyHash(body: string): string {
  return toBase64url(createHash('sha256').update(body).digest());
}

export async function signFederationRequest(
  from: { domain: string; privateKey: KeyObject },
  to: string,
  request: { method: string; path: string; body: string },
  now: Date,
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ htm: request.method, htu: request.path, bh: bodyHash(request.body) })
    .setProtectedHeader({ alg: 'EdDSA', typ: FEDERATION_TOKEN_TYPE })
    .setIssuer(from.domain)
    .setAudience(audienceFor(to))
    .setIssuedAt(iat)
    .setExpirationTime(iat + FEDERATION_TOKEN_SECONDS)
    .setJti(randomUUID())
    .sign(from.privateKey);
}

export class FederationVerifier {
  constructor(
    private readonly domain: string,
    private readonly peers: PeerRegistry,
    private readonly store: RelayStore,
    private readonly now: () => Date,
    private readonly follower?: PeerKeyFollower,
  ) {}

  /** The peer behind a request, or a typed refusal. */
  async verify(
    authorization: string | undefined,
    request: { method: string; path: string; body: string },
  ): Promise<Peer> {
    if (!authorization) {
      throw new EntraideError(
        'AUTH_REQUIRED',
        'a peer relay signs each request (Authorization: Bearer <JWT>)',
      );
    }
    const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization);
    if (!m) throw new EntraideError('TOKEN_INVALID', 'the Authorization header must be "Bearer <token>"');
    const token = m[1]!;
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new EntraideError('TOKEN_INVALID', 'the server-to-server token is not a JWT');
    }
    if (typeof issuer !== 'string')
      throw new EntraideError('TOKEN_INVALID', 'the server-to-server token names no issuer');
    let peer = await this.peers.find(issuer);
    if (!peer) throw new EntraideError('UNKNOWN_PEER', `${issuer} is not a peer of this relay`);
    const now = this.now();
    const verify = (key: Peer['key']) =>
      jwtVerify(token, key, {
        algorithms: ['EdDSA'],
        issuer: issuer,
        audience: audienceFor(this.domain),
        typ: FEDERATION_TOKEN_TYPE,
        requiredClaims: ['iat', 'exp', 'jti', 'htm', 'htu', 'bh'],
        currentDate: now,
        maxTokenAge: `${MAX_TOKEN_AGE_SECONDS}s`,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
    let payload;
    try {
      ({ payload } = await verify(peer.key));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        throw new EntraideError('TOKEN_EXPIRED', `the token of ${peer.domain} has expired`);
      }
      const refused = new EntraideError(
        'TOKEN_INVALID',
        `the token is not signed by the key pinned for ${peer.domain}, or its claims are wrong`,
      );
      if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) throw refused;
      // Perhaps signed with a key the peer rotated to: only a chain from the pinned key lets it in.
      const followed = await this.follower?.follow(peer);
      if (!followed || followed.peer.publicKey === peer.publicKey) throw refused;
      peer = followed.peer;
      try {
        ({ payload } = await verify(peer.key));
      } catch {
        throw refused;
      }
    }
    if (payload.htm !== request.method || payload.htu !== request.path) {
      throw new EntraideError(
        'TOKEN_INVALID',
        `the token was made for ${String(payload.htm)} ${String(payload.htu)}, not this request`,
      );
    }
    if (payload.bh !== bodyHash(request.body)) {
      throw new EntraideError('TOKEN_INVALID', 'the body does not match the hash the token signs');
    }
    if (payload.exp! - payload.iat! > FEDERATION_TOKEN_SECONDS * 5) {
      throw new EntraideError('TOKEN_INVALID', 'the token lives longer than a server-to-server token may');
    }
    // Remember the id for as long as any check above could still accept the token.
    const acceptedUntil =
      Math.max(payload.exp!, payload.iat! + MAX_TOKEN_AGE_SECONDS) + CLOCK_TOLERANCE_SECONDS;
    const fresh = await this.store.rememberFederationToken(
      payload.jti!,
      peer.domain,
      new Date(acceptedUntil * 1000),
    );
    if (!fresh)
      throw new EntraideError('TOKEN_REPLAYED', `this token of ${peer.domain} was already used`, {
        peer: peer.domain,
      });
    return peer;
  }
}

/**
 * Answers are signed too: the answering relay signs a JWT over the status, the hash of the body
 * and the id of the request it answers, sent in this header. A relay reads no answer from a peer
 * that the peer's pinned key did not sign for that request, so that nobody on the path can answer
 * "accepted" (or anything else) in its name, nor replay an earlier answer.
 */
export const ANSWER_HEADER = 'entraide-answer';
export const FEDERATION_ANSWER_TYPE = 'entraide-federation-answer+jwt';

export interface FederationAnswer {
  /** The jti of the request's token. */
  requestId: string;
  status: number;
  body: string;
}

export async function signFederationAnswer(
  from: { domain: string; privateKey: KeyObject },
  to: string,
  answer: FederationAnswer,
  now: Date,
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ rid: answer.requestId, st: answer.status, bh: bodyHash(answer.body) })
    .setProtectedHeader({ alg: 'EdDSA', typ: FEDERATION_ANSWER_TYPE })
    .setIssuer(from.domain)
    .setAudience(audienceFor(to))
    .setIssuedAt(iat)
    .setExpirationTime(iat + FEDERATION_TOKEN_SECONDS)
    .sign(from.privateKey);
}

/** Throws PEER_UNREACHABLE (the answer is not usable; the request may be tried again) unless `token` signs `answer`. */
export async function verifyFederationAnswer(
  token: string | null,
  peer: Peer,
  self: string,
  answer: FederationAnswer,
  now: Date,
): Promise<void> {
  const refuse = (why: string) =>
    new EntraideError(
      'PEER_UNREACHABLE',
      `the answer of ${peer.domain} (HTTP ${answer.status}) ${why}; nothing of it was used`,
    );
  if (!token) throw refuse('is not signed');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, peer.key, {
      algorithms: ['EdDSA'],
      issuer: peer.domain,
      audience: audienceFor(self),
      typ: FEDERATION_ANSWER_TYPE,
      requiredClaims: ['iat', 'exp', 'rid', 'st', 'bh'],
      currentDate: now,
      maxTokenAge: `${MAX_TOKEN_AGE_SECONDS}s`,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch {
    // `keyMismatch`: the one failure that a key the peer rotated to could cure (see PeerClient).
    throw Object.assign(refuse('is not signed by the key pinned for it'), { keyMismatch: true });
  }
  if (payload.rid !== answer.requestId) throw refuse('answers another request');
  if (payload.st !== answer.status || payload.bh !== bodyHash(answer.body))
    throw refuse('was altered on the way');
}
