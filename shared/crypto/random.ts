/** Randomness is passed into the core: the edges supply it (node:crypto or crypto.getRandomValues). */
export type RandomBytes = (length: number) => Uint8Array;
