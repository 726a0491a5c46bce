/**
 * End-to-end encrypted files (shared/files/): the chunked secretstream blob round-trips whatever
 * the piece sizes on either side, its length is the Padmé length (checked against a reference
 * written from the PURBs paper with BigInt), every systematic corruption ends in FILE_DAMAGED with
 * no plaintext from a bad chunk; and the manifest's schema, its cross-entry rules, and the file
 * name a node writes to disk.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toBase64url } from '../../shared/bytes.ts';
import { sodium } from '../../shared/crypto/sodium.ts';
import { EntraideError } from '../../shared/errors.ts';
import {
  blobBytes,
  chunkCount,
  FILE_CHUNK_BYTES,
  FileOpener,
  FileSealer,
  paddedBytes,
  sealedBytes,
} from '../../shared/files/file-crypto.ts';
import {
  FileEntry,
  FileManifest,
  manifestProblem,
  sanitizeFileName,
  type FileEntry as FileEntryType,
} from '../../shared/files/manifest.ts';
import { LIMITS } from '../../shared/limits.ts';
import { isValid } from '../../shared/protocol/validate.ts';
import { entraideErrorOf, random } from './fixtures.ts';

const CHUNK_CIPHER = FILE_CHUNK_BYTES + 17;
const MAX_PIECE = 200 * 1024;

/** A small seeded generator (mulberry32), so that a failing piece pattern can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `bytes` cut into pieces of 1 byte to 200 KiB, sizes drawn from `next`. */
function pieces(bytes: Uint8Array, next: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(next() * MAX_PIECE);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

function seal(key: Uint8Array, plain: Uint8Array, next: () => number = prng(1)): Uint8Array {
  const sealer = new FileSealer(key, plain.length);
  const out = [sealer.header()];
  for (const piece of pieces(plain, next)) out.push(...sealer.push(piece));
  out.push(...sealer.finish());
  return concatBytes(...out);
}

/** Opens a blob in pieces, returning the plaintext chunks received before any error, and the error. */
function open(
  key: Uint8Array,
  size: number,
  blob: Uint8Array,
  next: () => number = prng(2),
): { plain: Uint8Array; error: EntraideError | null } {
  const opener = new FileOpener(key, size);
  const got: Uint8Array[] = [];
  try {
    for (const piece of pieces(blob, next)) got.push(...opener.push(piece));
    opener.finish();
    return { plain: concatBytes(...got), error: null };
  } catch (err) {
    if (!(err instanceof EntraideError)) throw err;
    return { plain: concatBytes(...got), error: err };
  }
}

/** Byte equality without vitest's element-by-element diff, which takes seconds on 200 KiB. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  const differs = Buffer.compare(actual, expected) !== 0;
  expect(differs, 'the bytes differ').toBe(false);
}

function damage(key: Uint8Array, size: number, blob: Uint8Array): EntraideError {
  const { error } = open(key, size, blob);
  expect(error, 'the damaged blob opened').not.toBeNull();
  expect(error!.code).toBe('FILE_DAMAGED');
  expect(error!.status).toBe(422);
  return error!;
}

describe('file blobs round-trip', () => {
  const sizes = [0, 1, 65535, 65536, 65537, 3 * 65536 + 5];

  it.each(sizes)('a file of %i bytes, in pieces of random sizes on both sides', (size) => {
    for (let seed = 1; seed <= 6; seed++) {
      const key = random(32);
      const plain = random(size);
      const blob = seal(key, plain, prng(seed));
      expect(blob.length).toBe(blobBytes(size));
      expect(blob.length).toBe(paddedBytes(sealedBytes(size)));
      const padding = blob.subarray(sealedBytes(size));
      expect(padding.every((b) => b === 0)).toBe(true);
      const { plain: back, error } = open(key, size, blob, prng(seed * 7919));
      expect(error).toBeNull();
      expectSameBytes(back, plain);
    }
  });

  it('lays chunks out as the design says: header, full chunks, the rest, padding', () => {
    const size = 3 * 65536 + 5;
    expect(chunkCount(0)).toBe(1);
    expect(chunkCount(65536)).toBe(1);
    expect(chunkCount(65537)).toBe(2);
    expect(chunkCount(size)).toBe(4);
    expect(sealedBytes(0)).toBe(24 + 17);
    expect(sealedBytes(size)).toBe(24 + 4 * 17 + size);
    const key = random(32);
    const sealer = new FileSealer(key, size);
    expect(sealer.header()).toHaveLength(24);
    // a whole file in one piece: the three full chunks come out, the last waits for finish()
    const chunks = sealer.push(random(size));
    expect(chunks.map((c) => c.length)).toEqual([CHUNK_CIPHER, CHUNK_CIPHER, CHUNK_CIPHER]);
    const rest = sealer.finish();
    expect(rest[0]).toHaveLength(5 + 17);
    expect(rest.slice(1).reduce((n, p) => n + p.length, 0)).toBe(blobBytes(size) - sealedBytes(size));
  });

  it('returns a chunk only once it is complete, one byte at a time', () => {
    const key = random(32);
    const plain = random(65536 + 3);
    const sealer = new FileSealer(key, plain.length);
    const out = [sealer.header()];
    const counts: number[] = [];
    for (let i = 0; i < plain.length; i++) {
      const got = sealer.push(plain.subarray(i, i + 1));
      if (got.length > 0) counts.push(i);
      out.push(...got);
    }
    expect(counts).toEqual([65535]);
    out.push(...sealer.finish());
    expectSameBytes(open(key, plain.length, concatBytes(...out)).plain, plain);
  });

  it('returns large padding as pieces of at most 64 KiB', () => {
    // sealed length 2^24 + 1: Padmé rounds it up to 2^24 + 2^19, a padding of 524,287 bytes
    const size = 16772841;
    expect(sealedBytes(size)).toBe(2 ** 24 + 1);
    const sealer = new FileSealer(random(32), size);
    sealer.header();
    sealer.push(new Uint8Array(size));
    const [last, ...padding] = sealer.finish();
    expect(last).toHaveLength(size - 255 * FILE_CHUNK_BYTES + 17);
    expect(padding.every((p) => p.length > 0 && p.length <= FILE_CHUNK_BYTES)).toBe(true);
    expect(padding.reduce((n, p) => n + p.length, 0)).toBe(2 ** 19 - 1);
    expect(padding.every((p) => p.every((b) => b === 0))).toBe(true);
  });
});

/** Padmé written straight from the paper (PURBs, PETS 2019, Algorithm 1), in BigInt. */
function padmeReference(length: bigint): bigint {
  if (length < 2n) return length;
  const e = BigInt(length.toString(2).length - 1);
  const s = BigInt(e.toString(2).length - 1) + 1n;
  const lastBits = e - s;
  const bitMask = (1n << lastBits) - 1n;
  return (length + bitMask) & ~bitMask;
}

describe('Padmé padding', () => {
  it('leaves lengths 0 to 8 as they are, and rounds known values', () => {
    for (let l = 0; l <= 8; l++) expect(paddedBytes(l)).toBe(l);
    expect(paddedBytes(9)).toBe(10);
    expect(paddedBytes(41)).toBe(44);
    expect(paddedBytes(129)).toBe(144);
    expect(paddedBytes(2 ** 20 + 1)).toBe(1081344);
    expect(paddedBytes(2 ** 32 + 1)).toBe(2 ** 32 + 2 ** 26);
    expect(blobBytes(0)).toBe(44);
    expect(blobBytes(65536)).toBe(67584);
  });

  it('agrees with the reference at every power of two and its neighbours up to 2^53', () => {
    for (let k = 1; k <= 53; k++) {
      for (const l of [2n ** BigInt(k) - 1n, 2n ** BigInt(k), 2n ** BigInt(k) + 1n]) {
        if (l > BigInt(Number.MAX_SAFE_INTEGER)) continue;
        expect(BigInt(paddedBytes(Number(l))), `L = ${l}`).toBe(padmeReference(l));
      }
    }
  });

  it('agrees with the reference on random lengths of every magnitude, is ≥ L and costs at most 12%', () => {
    const anyMagnitude = fc
      .integer({ min: 1, max: 53 })
      .chain((bits) => fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n }));
    fc.assert(
      fc.property(anyMagnitude, (l) => {
        const padded = paddedBytes(Number(l));
        expect(BigInt(padded)).toBe(padmeReference(l));
        expect(padded).toBeGreaterThanOrEqual(Number(l));
        expect(padded - Number(l)).toBeLessThanOrEqual(Number(l) * 0.12);
      }),
      { numRuns: 5000 },
    );
  });

  it('is exact for the largest file the protocol allows', () => {
    const size = LIMITS.maxFileBytes;
    expect(Number.isSafeInteger(blobBytes(size))).toBe(true);
    expect(BigInt(blobBytes(size))).toBe(padmeReference(BigInt(sealedBytes(size))));
    expect(() => paddedBytes(-1)).toThrow(RangeError);
    expect(() => paddedBytes(1.5)).toThrow(RangeError);
  });
});

describe('damaged blobs end in FILE_DAMAGED', () => {
  const size = 3 * 65536 + 5; // four chunks: three full, one of 5 bytes
  const key = new Uint8Array(32).fill(7);
  const plain = new Uint8Array(size).map((_, i) => i % 251);
  const blob = seal(key, plain);
  const chunkAt = (i: number) => 24 + i * CHUNK_CIPHER;
  const chunk = (i: number) => blob.subarray(chunkAt(i), i === 3 ? sealedBytes(size) : chunkAt(i + 1));
  const header = blob.subarray(0, 24);
  const padding = blob.subarray(sealedBytes(size));

  it('the undamaged blob opens', () => {
    expectSameBytes(open(key, size, blob).plain, plain);
  });

  it('one bit flipped in a chunk, returning only the chunks before it', () => {
    for (const [i, offset] of [
      [0, 0],
      [1, 100],
      [2, CHUNK_CIPHER - 1],
      [3, 0],
    ] as const) {
      const bad = blob.slice();
      bad[chunkAt(i) + offset]! ^= 0x10;
      const { plain: got, error } = open(key, size, bad, prng(i + 11));
      expect(error?.code).toBe('FILE_DAMAGED');
      expect(error?.message).toMatch(new RegExp(`^chunk ${i + 1} of 4 fails authentication`));
      expectSameBytes(got, plain.subarray(0, got.length));
      expect(got.length).toBeLessThanOrEqual(i * FILE_CHUNK_BYTES);
    }
  });

  it('one bit flipped in the header', () => {
    const bad = blob.slice();
    bad[5]! ^= 1;
    const error = damage(key, size, bad);
    expect(error.message).toMatch(/^chunk 1 of 4 fails authentication: the key is wrong, or the header/);
    expect(open(key, size, bad).plain).toHaveLength(0);
  });

  it('the wrong key', () => {
    expect(damage(random(32), size, blob).message).toMatch(/^chunk 1 of 4 fails authentication/);
  });

  it('a chunk dropped', () => {
    const bad = concatBytes(header, chunk(0), chunk(2), chunk(3), padding);
    expect(damage(key, size, bad).message).toMatch(/^chunk 2 of 4 fails authentication/);
  });

  it('a chunk duplicated', () => {
    const bad = concatBytes(header, chunk(0), chunk(1), chunk(1), chunk(2), chunk(3), padding);
    expect(damage(key, size, bad).message).toMatch(/more bytes than the padded length|^chunk 3 of 4/);
    const inPlace = concatBytes(header, chunk(0), chunk(0), chunk(2), chunk(3), padding);
    expect(damage(key, size, inPlace).message).toMatch(/^chunk 2 of 4 fails authentication/);
  });

  it('two chunks swapped', () => {
    const bad = concatBytes(header, chunk(0), chunk(2), chunk(1), chunk(3), padding);
    expect(damage(key, size, bad).message).toMatch(/^chunk 2 of 4 fails authentication/);
  });

  it('truncated before the final chunk, or inside it, or in the padding', () => {
    const beforeFinal = blob.subarray(0, chunkAt(3));
    expect(damage(key, size, beforeFinal).message).toMatch(
      /^bytes missing: .*the blob ends after chunk 3 of 4: the chunks after it, the final one included, are missing/,
    );
    expect(damage(key, size, blob.subarray(0, chunkAt(1))).message).toMatch(/ends after chunk 1 of 4/);
    expect(damage(key, size, blob.subarray(0, chunkAt(3) + 3)).message).toMatch(/chunk 4 of 4 is incomplete/);
    expect(damage(key, size, blob.subarray(0, 10)).message).toMatch(/the header is incomplete/);
    expect(damage(key, size, blob.subarray(0, blob.length - 1)).message).toMatch(
      /part of the padding is missing/,
    );
    expect(damage(key, size, new Uint8Array(0)).message).toMatch(/^bytes missing: 0 of/);
  });

  it('extra bytes after the padding', () => {
    expect(damage(key, size, concatBytes(blob, new Uint8Array(1))).message).toMatch(
      /^more bytes than the padded length/,
    );
    const opener = new FileOpener(key, size);
    opener.push(blob);
    expect(entraideErrorOf(() => opener.push(new Uint8Array(1))).message).toMatch(/more bytes/);
  });

  it('padding that is not zero', () => {
    const bad = blob.slice();
    bad[bad.length - 1] = 1;
    expect(damage(key, size, bad).message).toBe(
      `padding is not zero: byte ${bad.length - 1} of the blob is 1`,
    );
  });

  it('a final tag before the end, and a last chunk without the final tag', () => {
    // Only the key holder can place tags; a wrong declared size shows what the checks catch.
    const one = seal(key, new Uint8Array(65536));
    const early = new FileOpener(key, 2 * 65536);
    expect(entraideErrorOf(() => early.push(one.subarray(0, 24 + CHUNK_CIPHER))).message).toBe(
      'chunk 1 of 2 carries the final tag before the end: the file was cut short',
    );
    const two = seal(key, new Uint8Array(2 * 65536));
    const late = new FileOpener(key, 65536);
    expect(entraideErrorOf(() => late.push(two.subarray(0, 24 + CHUNK_CIPHER))).message).toBe(
      'the last chunk (1 of 1) does not carry the final tag: chunks are missing after it',
    );
  });

  it('stays failed: every later call throws the same error', () => {
    const bad = blob.slice();
    bad[chunkAt(1)]! ^= 1;
    const opener = new FileOpener(key, size);
    const first = entraideErrorOf(() => opener.push(bad));
    expect(entraideErrorOf(() => opener.push(new Uint8Array(0)))).toBe(first);
    expect(entraideErrorOf(() => opener.finish())).toBe(first);
  });

  it('every single bit flipped in a small blob', () => {
    const smallKey = random(32);
    const small = seal(smallKey, random(20));
    for (let byte = 0; byte < small.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = small.slice();
        bad[byte]! ^= 1 << bit;
        const { plain: got, error } = open(smallKey, 20, bad, () => 0); // one byte at a time
        expect(error?.code, `byte ${byte} bit ${bit}`).toBe('FILE_DAMAGED');
        // the padding is checked after the last chunk, whose plaintext was already returned
        expect(got).toHaveLength(byte < sealedBytes(20) ? 0 : 20);
      }
    }
  });
});

describe('the sealer keeps to the declared size', () => {
  it('refuses more bytes than declared, at once', () => {
    const sealer = new FileSealer(random(32), 10);
    sealer.header();
    sealer.push(random(6));
    expect(() => sealer.push(random(5))).toThrow(/11 bytes pushed, more than the 10 declared/);
  });

  it('refuses to finish with fewer bytes than declared', () => {
    const sealer = new FileSealer(random(32), 65537);
    sealer.header();
    sealer.push(random(65536));
    expect(() => sealer.finish()).toThrow(/65536 bytes pushed, fewer than the 65537 declared/);
  });

  it('takes the header first and once, and refuses a key of the wrong length or a bad size', () => {
    const sealer = new FileSealer(random(32), 1);
    expect(() => sealer.push(random(1))).toThrow(RangeError);
    sealer.header();
    expect(() => sealer.header()).toThrow(RangeError);
    sealer.push(random(1));
    sealer.finish();
    expect(() => sealer.finish()).toThrow(/already sealed/);
    expect(() => new FileSealer(random(16), 1)).toThrow(RangeError);
    expect(() => new FileSealer(random(32), -1)).toThrow(RangeError);
    expect(() => new FileOpener(random(31), 1)).toThrow(RangeError);
  });

  it('writes a fresh header for each file, even under the same key', () => {
    const key = random(32);
    expect(new FileSealer(key, 0).header()).not.toEqual(new FileSealer(key, 0).header());
  });
});

// ---- the manifest --------------------------------------------------------------------------

const b64 = (n: number) => toBase64url(random(n));

function entry(over: Partial<FileEntryType> = {}): FileEntryType {
  const plain = random(100);
  return {
    blob: b64(16),
    key: b64(32),
    name: 'Commission rogatoire.pdf',
    mediaType: 'application/pdf',
    size: plain.length,
    sha256: toBase64url(sodium().crypto_hash_sha256(plain)),
    ciphertextSha256: b64(32),
    role: 'request_letter',
    ...over,
  };
}

describe('the file manifest schema', () => {
  it('accepts a good entry, with and without its optional fields', () => {
    expect(isValid(FileEntry, entry())).toBe(true);
    expect(isValid(FileEntry, entry({ language: 'pt-BR' }))).toBe(true);
    expect(isValid(FileEntry, entry({ name: 'قرار المحكمة.pdf', size: LIMITS.maxFileBytes }))).toBe(true);
    expect(isValid(FileManifest, [])).toBe(true);
    expect(isValid(FileManifest, [entry(), entry()])).toBe(true);
  });

  it.each([
    ['an extra field', { extra: 1 }],
    ['a bad role', { role: 'evidence' }],
    ['a blob id of 15 bytes', { blob: toBase64url(random(15)) }],
    ['a key of 31 bytes', { key: toBase64url(random(31)) }],
    ['a name with a slash', { name: 'a/b.pdf' }],
    ['a name with a backslash', { name: 'a\\b.pdf' }],
    ['a name with NUL', { name: 'a\u0000b.pdf' }],
    ['a name with a C1 control', { name: 'a\u0085b.pdf' }],
    ['an empty name', { name: '' }],
    ['a name of 256 characters', { name: 'a'.repeat(256) }],
    ['an upper-case media type', { mediaType: 'Application/PDF' }],
    ['a media type without subtype', { mediaType: 'application' }],
    ['a media type of 128 characters', { mediaType: `application/${'x'.repeat(116)}` }],
    ['a negative size', { size: -1 }],
    ['a size past the limit', { size: LIMITS.maxFileBytes + 1 }],
    ['a fractional size', { size: 1.5 }],
    ['a bad language tag', { language: 'French' }],
    ['a bad translationOf', { translationOf: 'x' }],
  ])('refuses %s', (_why, change) => {
    expect(isValid(FileEntry, { ...entry(), ...change })).toBe(false);
  });

  it(`refuses more than ${LIMITS.maxFilesPerItem} files`, () => {
    const many = Array.from({ length: LIMITS.maxFilesPerItem + 1 }, () => entry());
    expect(isValid(FileManifest, many)).toBe(false);
    expect(isValid(FileManifest, many.slice(1))).toBe(true);
  });
});

describe('manifestProblem', () => {
  const original = entry({ role: 'court_order', language: 'fr' });
  const translation = entry({
    role: 'translation',
    translationOf: original.blob,
    language: 'en',
    name: 'Court order (EN).pdf',
  });

  it('accepts files with a translation that travels with its original', () => {
    expect(manifestProblem([])).toBeNull();
    expect(manifestProblem([original, translation, entry({ role: 'other' })])).toBeNull();
    expect(manifestProblem([translation, original])).toBeNull();
  });

  it.each([
    [
      'two files with one blob id',
      () => [original, { ...entry(), blob: original.blob }],
      /blob id of another/,
    ],
    [
      'a translation naming no original',
      () => [original, { ...translation, translationOf: undefined }],
      /names no original/,
    ],
    [
      'an original named by a non-translation',
      () => [original, { ...entry(), translationOf: original.blob }],
      /not a translation/,
    ],
    ['a translation of a file not carried', () => [translation], /does not carry/],
    [
      'a translation of itself',
      () => [{ ...translation, translationOf: translation.blob }],
      /its own original/,
    ],
    [
      'a translation of a translation',
      () => [original, translation, { ...translation, blob: b64(16), translationOf: translation.blob }],
      /another translation/,
    ],
  ] as const)('refuses %s', (_why, files, message) => {
    expect(manifestProblem(files() as FileEntryType[])).toMatch(message);
  });
});

describe('sanitizeFileName', () => {
  const bytes = (s: string) => new TextEncoder().encode(s).length;

  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\Windows\\System32\\cmd.exe', 'cmd.exe'],
    ['/home/officer/', 'officer'],
    ['a\u0000b.pdf', 'ab.pdf'],
    ['a\tb\u001f\u007f\u0085.pdf', 'ab.pdf'],
    ['invoice\u202efdp.exe', 'invoicefdp.exe'],
    ['قرار المحكمة.pdf', 'قرار المحكمة.pdf'],
    ['法院命令.pdf', '法院命令.pdf'],
    ['Решение суда.pdf', 'Решение суда.pdf'],
    ['CON.txt', 'CON.txt'],
    ['a<b>c:d"e|f?g*.pdf', 'a_b_c_d_e_f_g_.pdf'],
    ['  .hidden. ', 'hidden'],
    ['report.pdf...', 'report.pdf'],
    ['', 'file'],
    ['.', 'file'],
    ['..', 'file'],
    ['/', 'file'],
    ['../..', 'file'],
    ['\u0000\u0001', 'file'],
    ['e\u0301te\u0301.pdf', 'été.pdf'],
    ['a\ud800b.pdf', 'a_b.pdf'],
  ])('%j → %j', (name, expected) => {
    expect(sanitizeFileName(name)).toBe(expected);
  });

  it.each([
    ['Latin', 'a'],
    ['Arabic', 'ق'],
    ['Chinese', '法'],
    ['emoji', '📄'],
    ['combining', 'e\u0301\u0301'],
  ])('cuts a %s name of 400 bytes to 255 UTF-8 bytes, keeping ".pdf"', (_script, unit) => {
    const name = unit.repeat(Math.ceil(400 / bytes(unit))) + '.pdf';
    const safe = sanitizeFileName(name);
    expect(bytes(safe)).toBeLessThanOrEqual(255);
    expect(bytes(safe)).toBeGreaterThan(255 - bytes(unit) - 4);
    expect(safe.endsWith('.pdf')).toBe(true);
    expect(name.normalize('NFC').startsWith(safe.slice(0, -4))).toBe(true);
    expect(() => encodeURIComponent(safe)).not.toThrow(); // no lone surrogate
  });

  it('cuts a long name whose "extension" is itself long as a whole', () => {
    const safe = sanitizeFileName(`a.${'b'.repeat(300)}`);
    expect(bytes(safe)).toBe(255);
    expect(safe.startsWith('a.b')).toBe(true);
  });

  /** Names made of what the sanitizer must handle: separators, dots, spaces, controls, wide letters. */
  const awkwardName = fc.string({
    unit: fc.constantFrom(
      '/',
      '\\',
      '.',
      ' ',
      '\u0000',
      '\u0085',
      '\u202e',
      ':',
      '*',
      'a',
      'ق',
      '法',
      '📄',
      '\ud800',
      'e\u0301',
    ),
    maxLength: 300,
  });

  it('always gives a name the schema accepts, that is neither a path nor a dot name', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), awkwardName), (name) => {
        const safe = sanitizeFileName(name);
        // eslint-disable-next-line no-control-regex -- control characters are what must be gone
        expect(safe).not.toMatch(/[/\\<>:"|?*\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
        expect(['', '.', '..']).not.toContain(safe);
        expect(bytes(safe)).toBeLessThanOrEqual(255);
        expect(safe).toBe(safe.trim());
        expect(sanitizeFileName(safe)).toBe(safe);
        expect(() => encodeURIComponent(safe)).not.toThrow();
        expect(isValid(FileEntry, entry({ name: safe }))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
