/**
 * Login challenges: 32 random bytes per request, kept in memory for a minute and usable once.
 * A relay restart forgets them, which only makes a node ask again.
 */
import { randomBytes } from 'node:crypto';
import { toBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';

const MAX_OUTSTANDING = 10_000;

export class ChallengeStore {
  private readonly open = new Map<string, { node: string; expiresAt: number }>();

  issue(node: string, now: Date): { challenge: string; expiresAt: Date } {
    this.sweep(now.getTime());
    if (this.open.size >= MAX_OUTSTANDING) {
      throw new EntraideError(
        'CHALLENGE_INVALID',
        'too many outstanding login challenges; try again in a minute',
      );
    }
    const challenge = toBase64url(randomBytes(32));
    const expiresAt = now.getTime() + LIMITS.challengeLifetimeSeconds * 1000;
    this.open.set(challenge, { node, expiresAt });
    return { challenge, expiresAt: new Date(expiresAt) };
  }

  /** Consumes the challenge; throws unless it was issued to `node` and is still fresh. */
  consume(challenge: string, node: string, now: Date): void {
    const entry = this.open.get(challenge);
    this.open.delete(challenge);
    if (!entry || entry.node !== node || entry.expiresAt <= now.getTime()) {
      throw new EntraideError('CHALLENGE_INVALID', 'the login challenge is unknown, used or expired');
    }
  }

  private sweep(now: number): void {
    for (const [k, v] of this.open) if (v.expiresAt <= now) this.open.delete(k);
  }
}
