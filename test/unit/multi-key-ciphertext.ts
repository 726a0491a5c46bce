/**
 * Test-only construction of an "invisible salamander" for XChaCha20-Poly1305 (IETF): one nonce,
 * one additional data and one ciphertext that authenticate under two different keys, so that
 * they decrypt to two different texts. This is what the envelope's key commitment must stop.
 *
 * Written from RFC 8439 (section 2.5 Poly1305, section 2.8 AEAD construction) and
 * draft-irtf-cfrg-xchacha (XChaCha20 = HChaCha20 subkey + ChaCha20 with the last 8 nonce bytes),
 * following the multi-key collision idea of Len, Grubbs and Ristenpart, "Partitioning Oracle
 * Attacks" (USENIX Security 2021): Poly1305 is linear in each message block, so one free
 * ciphertext block can be solved for so that both tags agree.
 */
import { sodium } from '../../shared/crypto/sodium.ts';
import type { RandomBytes } from '../../shared/crypto/random.ts';

const P = (1n << 130n) - 5n;
const TWO_128 = 1n << 128n;
const CLAMP = 0x0ffffffc0ffffffc0ffffffc0fffffffn;

function leToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bigIntToLe(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function powMod(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** The one-time Poly1305 key of the AEAD: the first 32 bytes of XChaCha20 block 0 (RFC 8439 §2.6). */
function polyKey(key: Uint8Array, nonce: Uint8Array): { r: bigint; s: bigint } {
  const block0 = sodium().crypto_stream_xchacha20_xor(new Uint8Array(32), nonce, key);
  return { r: leToBigInt(block0.subarray(0, 16)) & CLAMP, s: leToBigInt(block0.subarray(16, 32)) };
}

/** The Poly1305 input of the AEAD (RFC 8439 §2.8) as block values, each 16 bytes plus the 2^128 bit. */
function macBlocks(aad: Uint8Array, ciphertext: Uint8Array): bigint[] {
  const pad = (n: number) => (16 - (n % 16)) % 16;
  const lengths = new Uint8Array(16);
  lengths.set(bigIntToLe(BigInt(aad.length), 8), 0);
  lengths.set(bigIntToLe(BigInt(ciphertext.length), 8), 8);
  const data = new Uint8Array(aad.length + pad(aad.length) + ciphertext.length + pad(ciphertext.length) + 16);
  data.set(aad, 0);
  data.set(ciphertext, aad.length + pad(aad.length));
  data.set(lengths, data.length - 16);
  const blocks: bigint[] = [];
  for (let i = 0; i < data.length; i += 16) blocks.push(leToBigInt(data.subarray(i, i + 16)) + TWO_128);
  return blocks;
}

/** h = sum of m_i * r^(L-i) mod p: the Poly1305 accumulator before s is added. */
function accumulate(blocks: bigint[], r: bigint): bigint {
  let h = 0n;
  for (const m of blocks) h = ((h + m) * r) % P;
  return h;
}

function tag(blocks: bigint[], key: { r: bigint; s: bigint }): bigint {
  return (accumulate(blocks, key.r) + key.s) % TWO_128;
}

/**
 * A ciphertext (with its 16-byte tag) that opens under both `key1` and `key2` with the given
 * nonce and additional data. `blocks` is the number of 16-byte ciphertext blocks (at least 2).
 */
export function multiKeyCiphertext(
  key1: Uint8Array,
  key2: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  random: RandomBytes,
  blocks = 3,
): Uint8Array {
  if (blocks < 2) throw new RangeError('need at least two ciphertext blocks: one free, one to vary');
  const k1 = polyKey(key1, nonce);
  const k2 = polyKey(key2, nonce);
  const free = 1; // index of the solved block inside the ciphertext
  for (let attempt = 0; attempt < 256; attempt++) {
    const body = random(16 * blocks);
    body.fill(0, 16 * free, 16 * free + 16);
    const mac = macBlocks(aad, body);
    const q = Math.ceil(aad.length / 16) + free; // index of the free block in the MAC input
    mac[q] = 0n;
    const e = BigInt(mac.length - q);
    const a1 = accumulate(mac, k1.r);
    const a2 = accumulate(mac, k2.r);
    const slope = mod(powMod(k1.r, e) - powMod(k2.r, e));
    if (slope === 0n) continue;
    const inverse = powMod(slope, P - 2n);
    const delta = (((k2.s - k1.s) % TWO_128) + TWO_128) % TWO_128;
    // h1 - h2 lies in (-p, p) and must be congruent to s2 - s1 modulo 2^128.
    for (let j = -4n; j <= 3n; j++) {
      const target = delta + j * TWO_128;
      const m = mod((target - (a1 - a2)) * inverse);
      if (m < TWO_128 || m >= 2n * TWO_128) continue; // not a 16-byte block with its 2^128 bit
      mac[q] = m;
      if (tag(mac, k1) !== tag(mac, k2)) continue;
      body.set(bigIntToLe(m - TWO_128, 16), 16 * free);
      const out = new Uint8Array(body.length + 16);
      out.set(body, 0);
      out.set(bigIntToLe(tag(mac, k1), 16), body.length);
      return out;
    }
  }
  throw new Error('no two-key ciphertext found: the Poly1305 arithmetic above is wrong');
}
