/**
 * Session tokens: short-lived JWTs signed by the relay key with EdDSA (jose). Verification pins
 * the algorithm, the issuer, the audience and the token type, so `alg: none`, HMAC tricks and
 * tokens minted for another relay are refused. The protected header may hold `alg` and `typ` only:
 * a header that names a key (`jwk`, `jku`, `kid`, `x5u`, `x5c`) or extensions (`crit`) is refused
 * before any key is chosen. A token lives at most MAX_TOKEN_LIFETIME_SECONDS from its `iat`.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { EntraideError } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';

export const SESSION_TOKEN_TYPE = 'entraide-session+jwt';
/** Auditors' tokens have their own type: a node's token never opens the audit API, nor the reverse. */
export const AUDIT_TOKEN_TYPE = 'entraide-audit+jwt';

/** The longest lifetime of a token, `exp - iat`, that the relay accepts. */
export const MAX_TOKEN_LIFETIME_SECONDS = 15 * 60;

/** The only protected header fields a token may carry. */
const HEADER_FIELDS: ReadonlySet<string> = new Set(['alg', 'typ']);

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
    private readonly now: () => Date = () => new Date(),
  ) {
    if (
      !Number.isInteger(lifetimeSeconds) ||
      lifetimeSeconds < 1 ||
      lifetimeSeconds > MAX_TOKEN_LIFETIME_SECONDS
    )
      throw new RangeError(`a token lifetime must be 1 to ${MAX_TOKEN_LIFETIME_SECONDS} seconds`);
  }

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

  /**
   * The session a token opens. Throws TOKEN_EXPIRED once `exp` (or `iat` + the longest lifetime) has
   * passed, TOKEN_INVALID for anything else: a header field other than `alg` and `typ`, a wrong
   * signature, algorithm, type, issuer or audience, a missing `sub`, `exp`, `iat` or `jti`, a
   * lifetime `exp - iat` longer than MAX_TOKEN_LIFETIME_SECONDS, an `iat` or `nbf` in the future.
   */
  async verify(token: string, typ: string = SESSION_TOKEN_TYPE): Promise<Session> {
    const invalid = new EntraideError('TOKEN_INVALID', 'the session token is not valid for this relay');
    try {
      if (!Object.keys(decodeProtectedHeader(token)).every((f) => HEADER_FIELDS.has(f))) throw invalid;
    } catch {
      throw invalid;
    }
    let exp: number;
    let iat: number;
    let sub: string;
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ['EdDSA'],
        issuer: this.domain,
        audience: audienceFor(this.domain),
        typ,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        maxTokenAge: MAX_TOKEN_LIFETIME_SECONDS,
        currentDate: this.now(),
      });
      ({ exp, iat, sub } = payload as { exp: number; iat: number; sub: string });
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw new EntraideError('TOKEN_EXPIRED', 'the session token has expired');
      throw invalid;
    }
    if (typeof sub !== 'string' || exp - iat > MAX_TOKEN_LIFETIME_SECONDS) throw invalid;
    return { node: sub, expiresAt: exp * 1000 };
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
