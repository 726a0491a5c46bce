/**
 * Stateless login challenges (server/auth/challenges.ts) with a fixed secret and clock: a challenge
 * is bound to its subject, its expiry and the secret; issuing stores nothing; spending remembers a
 * challenge only until it expires, so the spent set is bounded by the logins of one lifetime.
 */
import { describe, expect, it } from 'vitest';
import { LoginChallenges } from '../../server/auth/challenges.ts';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';

const SECRET = new Uint8Array(32).fill(7);
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const NODE = 'desk1/sn.moj@relay.test';

const code = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('LoginChallenges', () => {
  it('lays out expiry, nonce and tag in 32 bytes, and expires after its lifetime', () => {
    const c = new LoginChallenges(SECRET, 60);
    const { challenge, expiresAt } = c.issue(NODE, at(0.5));
    const bytes = fromBase64url(challenge, 'challenge', 32);
    expect(new DataView(bytes.buffer).getUint32(0)).toBe(T0.getTime() / 1000 + 60);
    expect(expiresAt).toEqual(at(60));
    expect(code(() => c.check(challenge, NODE, at(59.9)))).toBe('ok');
    expect(code(() => c.check(challenge, NODE, at(60)))).toBe('CHALLENGE_INVALID');
  });

  it('binds the subject and the secret', () => {
    const c = new LoginChallenges(SECRET, 60);
    const { challenge } = c.issue(NODE, T0);
    expect(code(() => c.check(challenge, 'desk2/sn.moj@relay.test', T0))).toBe('CHALLENGE_INVALID');
    expect(code(() => c.check(challenge, `auditor:${NODE}`, T0))).toBe('CHALLENGE_INVALID');
    const other = new LoginChallenges(new Uint8Array(32).fill(8), 60);
    expect(code(() => other.check(challenge, NODE, T0))).toBe('CHALLENGE_INVALID');
  });

  it('refuses every one-bit change, and text that is not a 32-byte challenge', () => {
    const c = new LoginChallenges(SECRET, 60);
    const { challenge } = c.issue(NODE, T0);
    const bytes = fromBase64url(challenge, 'challenge', 32);
    for (let bit = 0; bit < 256; bit++) {
      const changed = bytes.slice();
      changed[bit >> 3] = changed[bit >> 3]! ^ (1 << (bit & 7));
      expect([bit, code(() => c.check(toBase64url(changed), NODE, T0))]).toEqual([bit, 'CHALLENGE_INVALID']);
    }
    for (const text of ['', 'A', `${challenge}A`, challenge.slice(1), challenge.replace(/.$/, '=')])
      expect(code(() => c.check(text, NODE, T0))).toBe('CHALLENGE_INVALID');
  });

  it('spends a challenge once, and forgets it once it has expired', () => {
    const c = new LoginChallenges(SECRET, 60);
    const issued = Array.from({ length: 100 }, () => c.issue(NODE, T0).challenge);
    expect(c.spentCount).toBe(0);
    for (const x of issued) {
      c.check(x, NODE, at(1));
      c.spend(x, at(1));
    }
    expect(c.spentCount).toBe(100);
    expect(code(() => c.check(issued[0]!, NODE, at(2)))).toBe('CHALLENGE_INVALID');
    expect(code(() => c.spend(issued[0]!, at(2)))).toBe('CHALLENGE_INVALID');
    const later = c.issue(NODE, at(61)).challenge;
    c.spend(later, at(61));
    expect(c.spentCount).toBe(1);
  });

  it('refuses a secret that is not 32 bytes and a lifetime under a second', () => {
    expect(() => new LoginChallenges(new Uint8Array(16))).toThrow(RangeError);
    expect(() => new LoginChallenges(SECRET, 0)).toThrow(RangeError);
  });
});
