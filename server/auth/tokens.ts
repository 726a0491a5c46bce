/**
 * Session tokens: short-lived JWTs signed by the relay key with EdDSA (jose). Verification pins
 * the algorithm, the issuer, the audience and the token type, so `alg: none`, HMAC tricks and
 * tokens minted for another relay are refused.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { EntraideError } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';

export const SESSION_TOKEN_TYPE = 'entraide-session+jwt';
/** Auditors' tokens have their own type: a node's token never opens the audit API, nor the reverse. */
export const AUDIT_TOKEN_TYPE = 'entraide-audit+jwt';

export function audienceFor(domain: string): string {
  return `entraide-relay:${domain}`;
}

export interface Session {
  node: string;
  expiresAt: number; // ms
}

export class TokenService {
  constructor(
    private readonly domain: string,
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    private readonly lifetimeSeconds: number = LIMITS.tokenLifetimeSeconds,
  ) {}

  async issue(
    node: string,
    now: Date,
    typ: string = SESSION_TOKEN_TYPE,
  ): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.lifetimeSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ })
      .setIssuer(this.domain)
      .setAudience(audienceFor(this.domain))
      .setSubject(node)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.privateKey);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  async verify(token: string, typ: string = SESSION_TOKEN_TYPE): Promise<Session> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ['EdDSA'],
        issuer: this.domain,
        audience: audienceFor(this.domain),
        typ,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      });
      return { node: payload.sub!, expiresAt: payload.exp! * 1000 };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw new EntraideError('TOKEN_EXPIRED', 'the session token has expired');
      throw new EntraideError('TOKEN_INVALID', 'the session token is not valid for this relay');
    }
  }
}

/** Extracts the bearer token from an Authorization header value. */
export function bearerToken(header: string | undefined): string {
  if (!header)
    throw new EntraideError('AUTH_REQUIRED', 'this route needs a session token (Authorization: Bearer …)');
  const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
  if (!m) throw new EntraideError('TOKEN_INVALID', 'the Authorization header must be "Bearer <token>"');
  return m[1]!;
}
