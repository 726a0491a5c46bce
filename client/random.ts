/** The node's randomness for the core: node:crypto (the core takes it as a parameter). */
import { randomBytes } from 'node:crypto';
import type { RandomBytes } from '../shared/crypto/random.ts';

export const random: RandomBytes = (n) => new Uint8Array(randomBytes(n));
