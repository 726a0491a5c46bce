/** Bytes are Uint8Array everywhere in the core; binary fields travel as unpadded base64url. */
import { EntraideError } from './errors.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function toBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict decoding: only the base64url alphabet, no padding, and the unused low bits of the
 * last character must be zero, so that every byte string has exactly one text form.
 */
export function fromBase64url(text: string, field = 'value', expectedLength?: number): Uint8Array {
  const len = text.length;
  if (len % 4 === 1) throw badBase64(field, 'its length is impossible for base64url');
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : -1;
    if (v < 0) throw badBase64(field, `character ${JSON.stringify(text[i])} at ${i} is not base64url`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) throw badBase64(field, 'it is not in canonical form');
  if (expectedLength !== undefined && o !== expectedLength) {
    throw new EntraideError('SCHEMA_INVALID', `${field} must be ${expectedLength} bytes, got ${o}`);
  }
  return out;
}

function badBase64(field: string, why: string): EntraideError {
  return new EntraideError('SCHEMA_INVALID', `${field} is not valid base64url: ${why}`);
}

/** The base64url length of n bytes without padding. */
export function base64urlLength(n: number): number {
  return Math.ceil((n * 4) / 3);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * For text already known to use only the base64url alphabet (a schema pattern checked it): is it
 * the one canonical encoding of its bytes, and of `expectedLength` bytes when given? O(1), no copy.
 */
export function isCanonicalBase64urlTail(text: string, expectedLength?: number): boolean {
  const rest = text.length % 4;
  if (rest === 1) return false;
  if (expectedLength !== undefined && Math.floor((text.length * 3) / 4) !== expectedLength) return false;
  if (rest === 0) return true;
  const last = LOOKUP[text.charCodeAt(text.length - 1)] ?? -1;
  if (last < 0) return false;
  // 2 characters carry 1 byte (4 spare bits); 3 characters carry 2 bytes (2 spare bits).
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}
