/**
 * Login challenges without state. A challenge is 32 bytes, base64url:
 *
 *   expiry (4, Unix seconds, big-endian) || nonce (12, random) || tag (16)
 *   tag = HMAC-SHA-256(secret, "entraide-login-challenge" || 0x00 || expiry || nonce || subject), first 16 bytes
 *
 * where the secret is 32 random bytes drawn when the relay process starts and never stored, and the
 * subject is the node address (or `auditor:<name>`) the challenge was asked for. Issuing one stores
 * nothing, so no flood of anonymous requests can fill a table and lock others out; a relay restart
 * draws a new secret, which only makes a node ask again. A challenge is spent when a valid
 * signature comes back: it is remembered until it expires, so that it works once. That set grows
 * only with successful logins (each needs an active node's or auditor's key) and is swept as
 * challenges expire.
 */
import { createHmac, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { concatBytes, fromBase64url, toBase64url, utf8 } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';

const CHALLENGE_BYTES = 32;
const EXPIRY_BYTES = 4;
const NONCE_BYTES = 12;
const TAG_BYTES = CHALLENGE_BYTES - EXPIRY_BYTES - NONCE_BYTES;
const SECRET_BYTES = 32;
const LABEL = utf8('entraide-login-challenge\u0000');

/**
 * An Ed25519 public key whose secret key was thrown away: a login of a subject that is not active
 * is checked against it, so that its refusal costs what a wrong signature's does.
 */
export const DECOY_KEY: Uint8Array = fromBase64url(
  generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!,
  'decoy key',
  32,
);

/** The one refusal of a challenge that is forged, altered, for another subject, expired or used. */
function invalid(): EntraideError {
  return new EntraideError('CHALLENGE_INVALID', 'the login challenge is unknown, used or expired');
}

export class LoginChallenges {
  /** Spent challenges, until their expiry (ms). */
  private readonly spent = new Map<string, number>();
  private nextSweep = 0;

  /**
   * @param secret the HMAC key: 32 bytes; a fresh random one unless a test gives its own.
   * @param lifetimeSeconds how long a challenge may be answered.
   */
  constructor(
    private readonly secret: Uint8Array = randomBytes(SECRET_BYTES),
    private readonly lifetimeSeconds: number = LIMITS.challengeLifetimeSeconds,
  ) {
    if (secret.length !== SECRET_BYTES)
      throw new RangeError(`the challenge secret must be ${SECRET_BYTES} bytes`);
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1)
      throw new RangeError('the challenge lifetime must be a whole number of seconds, at least 1');
  }

  /** A challenge for `subject`, answerable until the time returned. Stores nothing. */
  issue(subject: string, now: Date): { challenge: string; expiresAt: Date } {
    const expiry = Math.floor(now.getTime() / 1000) + this.lifetimeSeconds;
    const head = new Uint8Array(EXPIRY_BYTES + NONCE_BYTES);
    new DataView(head.buffer).setUint32(0, expiry);
    head.set(randomBytes(NONCE_BYTES), EXPIRY_BYTES);
    return {
      challenge: toBase64url(concatBytes(head, this.tag(head, subject))),
      expiresAt: new Date(expiry * 1000),
    };
  }

  /**
   * Throws CHALLENGE_INVALID unless this relay process issued `challenge` for `subject`, it has not
   * expired and it was not spent. Spends nothing: call `spend` once the signature verified.
   */
  check(challenge: string, subject: string, now: Date): void {
    let bytes: Uint8Array;
    try {
      bytes = fromBase64url(challenge, 'challenge', CHALLENGE_BYTES);
    } catch {
      throw invalid();
    }
    const head = bytes.subarray(0, EXPIRY_BYTES + NONCE_BYTES);
    if (!timingSafeEqual(bytes.subarray(EXPIRY_BYTES + NONCE_BYTES), this.tag(head, subject)))
      throw invalid();
    if (expiryOf(bytes) <= now.getTime() || this.spent.has(challenge)) throw invalid();
  }

  /**
   * Marks a checked challenge as used; throws CHALLENGE_INVALID if it already was (two answers
   * raced). Synchronous, so that a check-and-set cannot interleave with another request.
   */
  spend(challenge: string, now: Date): void {
    this.sweep(now.getTime());
    if (this.spent.has(challenge)) throw invalid();
    this.spent.set(challenge, expiryOf(fromBase64url(challenge, 'challenge', CHALLENGE_BYTES)));
  }

  /** Challenges spent and not yet expired (for tests and metrics). */
  get spentCount(): number {
    return this.spent.size;
  }

  private tag(head: Uint8Array, subject: string): Uint8Array {
    const mac = createHmac('sha256', this.secret).update(LABEL).update(head).update(utf8(subject)).digest();
    return new Uint8Array(mac.buffer, mac.byteOffset, TAG_BYTES);
  }

  /** Forgets spent challenges once expired: at most once a second, as logins come. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 1000;
    for (const [c, expiresAt] of this.spent) if (expiresAt <= now) this.spent.delete(c);
  }
}

function expiryOf(challenge: Uint8Array): number {
  return new DataView(challenge.buffer, challenge.byteOffset, EXPIRY_BYTES).getUint32(0) * 1000;
}
