/** Randomness for tests, as the edges supply it to the core (a copy, never a view into Node's pool). */
import { randomBytes } from 'node:crypto';
import type { RandomBytes } from '../../shared/crypto/random.ts';

export const random: RandomBytes = (n) => new Uint8Array(randomBytes(n));
