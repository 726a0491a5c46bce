/**
 * The safety code that officers compare out of band: 40 decimal digits in 8 groups of 5,
 * derived from the authority address and its master key (BLAKE2b-256, context-separated).
 */
import { concatBytes, utf8 } from '../bytes.ts';
import { sodium } from './sodium.ts';

export function safetyCode(authority: string, masterKey: Uint8Array): string {
  const digest = sodium().crypto_generichash(
    32,
    concatBytes(
      utf8('entraide/v1/safety-code'),
      new Uint8Array([0]),
      utf8(authority),
      new Uint8Array([0]),
      masterKey,
    ),
    null,
  );
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) {
    // 4 bytes per group, reduced mod 100000: bias below 3e-5, negligible for comparison.
    const n =
      ((digest[g * 4]! << 24) |
        (digest[g * 4 + 1]! << 16) |
        (digest[g * 4 + 2]! << 8) |
        digest[g * 4 + 3]!) >>>
      0;
    groups.push(String(n % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}
