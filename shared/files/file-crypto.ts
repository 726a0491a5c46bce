/**
 * End-to-end encryption of one file, in chunks, with libsodium's crypto_secretstream_xchacha20poly1305.
 *
 * The blob the relay stores is `header (24) || chunk_1 || … || chunk_n || zero padding`:
 * - n = max(1, ceil(size / FILE_CHUNK_BYTES)); every chunk holds FILE_CHUNK_BYTES of plaintext but
 *   the last, which holds the rest (0 bytes for an empty file); each ciphertext chunk is its
 *   plaintext plus 17 bytes;
 * - every chunk has `entraide/v1/file-chunk` as additional data, TAG_MESSAGE but the last, which
 *   has TAG_FINAL; the stream's state chains the chunks, so a chunk dropped, duplicated or moved
 *   fails authentication;
 * - the sealed length is padded with zeros to its Padmé length (Nikitin et al., "Reducing Metadata
 *   Leakage from Encrypted Files and Communication with PURBs", PETS 2019, §4), so that the relay
 *   learns little more than the order of magnitude of the size.
 * The plaintext size is declared up front on both sides (it travels in the signed manifest), so the
 * opener knows where each chunk ends, which chunk is the last and how long the padding is.
 */
import { utf8 } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import { sodium, type Sodium } from '../crypto/sodium.ts';

export const FILE_CHUNK_BYTES = 65536;
export const FILE_KEY_BYTES = 32;
export const FILE_HEADER_BYTES = 24;
/** What secretstream adds to each chunk: a 1-byte encrypted tag and a 16-byte Poly1305 MAC. */
export const FILE_CHUNK_OVERHEAD = 17;
const CHUNK_AD = utf8('entraide/v1/file-chunk');

type StreamState = ReturnType<Sodium['crypto_secretstream_xchacha20poly1305_init_pull']>;

/** Shared by every padding piece: zeros, never written into (callers must not write into them either). */
const ZEROS = new Uint8Array(FILE_CHUNK_BYTES);

function checkSize(plainSize: number, what: string): void {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0)
    throw new RangeError(`${what} must be a whole number of bytes from 0, got ${plainSize}`);
}

/** How many chunks a file of this plaintext size has: max(1, ceil(size / FILE_CHUNK_BYTES)). */
export function chunkCount(plainSize: number): number {
  checkSize(plainSize, 'the plaintext size');
  return Math.max(1, Math.ceil(plainSize / FILE_CHUNK_BYTES));
}

/** The blob's length before padding: header, chunks and their overhead. */
export function sealedBytes(plainSize: number): number {
  return FILE_HEADER_BYTES + chunkCount(plainSize) * FILE_CHUNK_OVERHEAD + plainSize;
}

/**
 * Padmé (PURBs, §4): L rounded up so that only its top floor(log2 E) + 1 bits after the leading
 * one may be nonzero, E = floor(log2 L); the overhead stays under 12%. Exact for every safe
 * integer: powers of two are found by doubling, not by Math.log2, and no 32-bit operator is used.
 */
export function paddedBytes(length: number): number {
  checkSize(length, 'the length to pad');
  if (length < 2) return length;
  const e = floorLog2(length);
  const s = floorLog2(e) + 1;
  const unit = Math.pow(2, e - s);
  return Math.ceil(length / unit) * unit;
}

/** floor(log2 n) for a safe integer n ≥ 1. */
function floorLog2(n: number): number {
  let e = 0;
  for (let p = 2; p <= n; p *= 2) e++;
  return e;
}

/** The length of the blob the relay stores for a file of this plaintext size. */
export function blobBytes(plainSize: number): number {
  return paddedBytes(sealedBytes(plainSize));
}

/** Zero pieces of at most FILE_CHUNK_BYTES, all views of one shared buffer, so memory stays bounded. */
function zeroPieces(length: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let left = length; left > 0; left -= FILE_CHUNK_BYTES)
    pieces.push(ZEROS.subarray(0, Math.min(left, FILE_CHUNK_BYTES)));
  return pieces;
}

/**
 * Seals one file as it is read, in pieces of any size. Call header() once, then push() each
 * piece in order, then finish(); write every returned array to the blob in the order returned.
 * Preconditions: a 32-byte key used for this file only (the caller draws it from its randomness),
 * and the exact plaintext size. The padding pieces that finish() returns share one zero buffer.
 */
export class FileSealer {
  readonly plainSize: number;
  readonly #state: StreamState;
  readonly #header: Uint8Array;
  readonly #chunks: number;
  readonly #buffer = new Uint8Array(FILE_CHUNK_BYTES);
  #buffered = 0;
  #pushed = 0;
  #sealedChunks = 0;
  #stage: 'header' | 'body' | 'done' = 'header';

  constructor(key: Uint8Array, plainSize: number) {
    if (key.length !== FILE_KEY_BYTES)
      throw new RangeError(`a file key is ${FILE_KEY_BYTES} bytes, got ${key.length}`);
    checkSize(plainSize, 'the plaintext size');
    if (!Number.isSafeInteger(blobBytes(plainSize)))
      throw new RangeError(`a file of ${plainSize} bytes is too large to seal`);
    this.plainSize = plainSize;
    this.#chunks = chunkCount(plainSize);
    const { state, header } = sodium().crypto_secretstream_xchacha20poly1305_init_push(key);
    this.#state = state;
    this.#header = header;
  }

  /** The 24-byte stream header: the first bytes of the blob. Call once, before push(). */
  header(): Uint8Array {
    if (this.#stage !== 'header') throw new RangeError('the header of a file is taken once, first');
    this.#stage = 'body';
    return this.#header.slice();
  }

  /** Takes the next plaintext piece (any size); returns the ciphertext chunks completed by it. */
  push(plain: Uint8Array): Uint8Array[] {
    if (this.#stage !== 'body')
      throw new RangeError(this.#stage === 'header' ? 'take the header first' : 'the file is already sealed');
    if (this.#pushed + plain.length > this.plainSize)
      throw new RangeError(
        `${this.#pushed + plain.length} bytes pushed, more than the ${this.plainSize} declared`,
      );
    this.#pushed += plain.length;
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < plain.length) {
      // The last chunk waits for finish(): only then is it sealed with the final tag.
      const notLast = this.#sealedChunks < this.#chunks - 1;
      if (this.#buffered === 0 && notLast && plain.length - offset >= FILE_CHUNK_BYTES) {
        out.push(this.#seal(plain.subarray(offset, offset + FILE_CHUNK_BYTES), false));
        offset += FILE_CHUNK_BYTES;
        continue;
      }
      const take = Math.min(FILE_CHUNK_BYTES - this.#buffered, plain.length - offset);
      this.#buffer.set(plain.subarray(offset, offset + take), this.#buffered);
      this.#buffered += take;
      offset += take;
      if (this.#buffered === FILE_CHUNK_BYTES && notLast) {
        out.push(this.#seal(this.#buffer, false));
        this.#buffered = 0;
      }
    }
    return out;
  }

  /** Seals the last chunk and returns it followed by the zero padding. Throws if bytes are missing. */
  finish(): Uint8Array[] {
    if (this.#stage !== 'body')
      throw new RangeError(this.#stage === 'header' ? 'take the header first' : 'the file is already sealed');
    if (this.#pushed !== this.plainSize)
      throw new RangeError(`${this.#pushed} bytes pushed, fewer than the ${this.plainSize} declared`);
    this.#stage = 'done';
    const last = this.#seal(this.#buffer.subarray(0, this.#buffered), true);
    this.#buffer.fill(0);
    this.#buffered = 0;
    return [last, ...zeroPieces(blobBytes(this.plainSize) - sealedBytes(this.plainSize))];
  }

  #seal(plain: Uint8Array, final: boolean): Uint8Array {
    const s = sodium();
    const tag = final
      ? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL
      : s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    this.#sealedChunks++;
    return s.crypto_secretstream_xchacha20poly1305_push(this.#state, plain, CHUNK_AD, tag);
  }
}

/**
 * Opens one blob as it is read, in pieces of any size (the header included at the start).
 * push() returns the plaintext of each chunk once it authenticates, in order; finish() checks that
 * the blob ended where it should. Any fault throws FILE_DAMAGED saying what is wrong, and every
 * later call throws it again. Each chunk returned is authentic, but the file is whole only once
 * finish() has returned: on any error the caller discards what it received.
 * Preconditions: the file's 32-byte key and its plaintext size, both from the signed manifest.
 */
export class FileOpener {
  readonly plainSize: number;
  readonly #key: Uint8Array;
  readonly #chunks: number;
  readonly #lastChunkPlain: number;
  readonly #sealed: number;
  readonly #blob: number;
  readonly #header = new Uint8Array(FILE_HEADER_BYTES);
  readonly #buffer = new Uint8Array(FILE_CHUNK_BYTES + FILE_CHUNK_OVERHEAD);
  #state: StreamState | null = null;
  #buffered = 0;
  #received = 0;
  #openedChunks = 0;
  #failure: EntraideError | null = null;
  #finished = false;

  constructor(key: Uint8Array, plainSize: number) {
    if (key.length !== FILE_KEY_BYTES)
      throw new RangeError(`a file key is ${FILE_KEY_BYTES} bytes, got ${key.length}`);
    checkSize(plainSize, 'the plaintext size');
    if (!Number.isSafeInteger(blobBytes(plainSize)))
      throw new RangeError(`a file of ${plainSize} bytes is too large to open`);
    this.plainSize = plainSize;
    this.#key = key.slice();
    this.#chunks = chunkCount(plainSize);
    this.#lastChunkPlain = plainSize - (this.#chunks - 1) * FILE_CHUNK_BYTES;
    this.#sealed = sealedBytes(plainSize);
    this.#blob = blobBytes(plainSize);
  }

  /** Takes the next ciphertext piece (any size); returns the plaintext chunks it completed. */
  push(cipher: Uint8Array): Uint8Array[] {
    this.#usable();
    if (this.#received + cipher.length > this.#blob)
      this.#fail(
        `more bytes than the padded length: ${this.#received + cipher.length} received, the blob of a ${this.plainSize}-byte file is ${this.#blob}`,
      );
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < cipher.length) {
      const at = this.#received;
      if (at < FILE_HEADER_BYTES) {
        const take = Math.min(FILE_HEADER_BYTES - at, cipher.length - offset);
        this.#header.set(cipher.subarray(offset, offset + take), at);
        this.#received += take;
        offset += take;
        if (this.#received === FILE_HEADER_BYTES)
          this.#state = sodium().crypto_secretstream_xchacha20poly1305_init_pull(this.#header, this.#key);
      } else if (at < this.#sealed) {
        const want = this.#expectedChunkBytes();
        if (this.#buffered === 0 && cipher.length - offset >= want) {
          out.push(this.#open(cipher.subarray(offset, offset + want)));
          this.#received += want;
          offset += want;
          continue;
        }
        const take = Math.min(want - this.#buffered, cipher.length - offset);
        this.#buffer.set(cipher.subarray(offset, offset + take), this.#buffered);
        this.#buffered += take;
        this.#received += take;
        offset += take;
        if (this.#buffered === want) {
          out.push(this.#open(this.#buffer.subarray(0, want)));
          this.#buffered = 0;
        }
      } else {
        for (; offset < cipher.length; offset++, this.#received++) {
          if (cipher[offset] !== 0)
            this.#fail(`padding is not zero: byte ${this.#received} of the blob is ${cipher[offset]}`);
        }
      }
    }
    return out;
  }

  /** Checks that the whole blob was received; throws FILE_DAMAGED naming what is missing. */
  finish(): void {
    this.#usable();
    if (this.#received < this.#blob)
      this.#fail(
        `bytes missing: ${this.#received} of the ${this.#blob} bytes of the blob arrived; ${this.#whatIsMissing()}`,
      );
    this.#finished = true;
    this.#key.fill(0);
    this.#buffer.fill(0);
  }

  #whatIsMissing(): string {
    if (this.#received < FILE_HEADER_BYTES) return 'the header is incomplete';
    if (this.#received >= this.#sealed) return 'part of the padding is missing';
    if (this.#buffered > 0) return `chunk ${this.#openedChunks + 1} of ${this.#chunks} is incomplete`;
    return `the blob ends after chunk ${this.#openedChunks} of ${this.#chunks}: the chunks after it, the final one included, are missing`;
  }

  #usable(): void {
    if (this.#failure) throw this.#failure;
    if (this.#finished) throw new RangeError('the file is already opened');
  }

  #expectedChunkBytes(): number {
    const isLast = this.#openedChunks === this.#chunks - 1;
    return (isLast ? this.#lastChunkPlain : FILE_CHUNK_BYTES) + FILE_CHUNK_OVERHEAD;
  }

  #open(chunk: Uint8Array): Uint8Array {
    const s = sodium();
    const index = this.#openedChunks + 1;
    const isLast = index === this.#chunks;
    const opened = s.crypto_secretstream_xchacha20poly1305_pull(this.#state!, chunk, CHUNK_AD);
    if (!opened)
      this.#fail(
        index === 1
          ? `chunk 1 of ${this.#chunks} fails authentication: the key is wrong, or the header or this chunk was altered`
          : `chunk ${index} of ${this.#chunks} fails authentication: it was altered, dropped, duplicated or moved`,
      );
    const expected = isLast
      ? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL
      : s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    if (opened.tag !== expected) {
      opened.message.fill(0);
      this.#fail(this.#wrongTag(index, opened.tag));
    }
    this.#openedChunks = index;
    return opened.message;
  }

  #wrongTag(index: number, tag: number): string {
    if (tag === sodium().crypto_secretstream_xchacha20poly1305_TAG_FINAL)
      return `chunk ${index} of ${this.#chunks} carries the final tag before the end: the file was cut short`;
    if (index === this.#chunks)
      return `the last chunk (${index} of ${this.#chunks}) does not carry the final tag: chunks are missing after it`;
    return `chunk ${index} of ${this.#chunks} carries the unexpected tag ${tag}`;
  }

  #fail(message: string): never {
    this.#failure = new EntraideError('FILE_DAMAGED', message);
    this.#key.fill(0);
    this.#buffer.fill(0);
    throw this.#failure;
  }
}
