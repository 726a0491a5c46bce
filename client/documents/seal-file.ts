/**
 * A document leaves the officer's disk encrypted: read in pieces, sealed chunk by chunk under a
 * fresh key (shared/files/file-crypto.ts) and written to the node's documents folder as the blob
 * the relay will hold, never whole in memory and never in plaintext in the node's folder. Opening
 * goes the other way, chunk by chunk, each chunk authenticated before a byte of it is written.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { toBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { blobBytes, FileOpener, FileSealer } from '../../shared/files/file-crypto.ts';
import { sanitizeFileName, type FileEntry, type FileRole } from '../../shared/files/manifest.ts';
import { LIMITS } from '../../shared/limits.ts';
import { random } from '../random.ts';

/** Pieces read from disk at a time: a few chunks, so that memory stays flat whatever the file's size. */
const READ_BYTES = 256 * 1024;

export interface Attachment {
  path: string;
  role: FileRole;
  language?: string;
  /** For a translation: the blob of the document it translates (sealed in the same item). */
  translationOf?: string;
  /** The name recipients see (default: the file's own name). */
  name?: string;
  mediaType?: string;
}

export type Progress = (done: number, total: number) => void;

const MEDIA_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.rtf': 'application/rtf',
  '.xml': 'application/xml',
  '.json': 'application/json',
  '.html': 'text/html',
  '.eml': 'message/rfc822',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.zip': 'application/zip',
  '.7z': 'application/x-7z-compressed',
};

export function mediaTypeOf(name: string): string {
  return MEDIA_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Where a document's blob lives in the node's folder. */
export function blobPath(dir: string, blob: string): string {
  return join(dir, blob);
}

/** Writes `path`'s bytes to disk for good before it is renamed into place. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Seals one file into `dir` (as `<blob>`): a fresh key and blob id, the plaintext's SHA-256 and the
 * blob's, and the manifest entry recipients will find in the signed content.
 */
export async function sealFile(a: Attachment, dir: string, progress?: Progress): Promise<FileEntry> {
  let size: number;
  try {
    const st = await stat(a.path);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    throw new EntraideError(
      'USAGE',
      `${a.path} is not a file this node can read: name an existing file to attach`,
    );
  }
  if (size > LIMITS.maxFileBytes) {
    throw new EntraideError(
      'PAYLOAD_TOO_LARGE',
      `${a.path} has ${size} bytes; a document may have ${LIMITS.maxFileBytes} at most`,
    );
  }
  const blob = toBase64url(random(16));
  const key = random(32);
  const keyText = toBase64url(key);
  const sealer = new FileSealer(key, size);
  const plainHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const partial = join(dir, `${blob}.sealing`);
  let done = 0;
  async function* seal(source: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
    const header = sealer.header();
    blobHash.update(header);
    yield header;
    for await (const piece of source) {
      plainHash.update(piece);
      done += piece.length;
      progress?.(done, size);
      for (const c of sealer.push(piece)) {
        blobHash.update(c);
        yield c;
      }
    }
    for (const c of sealer.finish()) {
      blobHash.update(c);
      yield c;
    }
  }
  try {
    await pipeline(
      createReadStream(a.path, { highWaterMark: READ_BYTES }),
      seal,
      createWriteStream(partial, { mode: 0o600 }),
    );
    await syncFile(partial);
    await rename(partial, blobPath(dir, blob));
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof EntraideError) throw err;
    throw new EntraideError(
      'USAGE',
      `${a.path} could not be read to the end (it changed or went away while it was sealed): attach it again`,
    );
  } finally {
    key.fill(0);
  }
  const name = sanitizeFileName(a.name ?? basename(a.path));
  return {
    blob,
    key: keyText,
    name,
    mediaType: a.mediaType ?? mediaTypeOf(name),
    size,
    sha256: plainHash.digest('base64url'),
    ciphertextSha256: blobHash.digest('base64url'),
    role: a.role,
    ...(a.translationOf ? { translationOf: a.translationOf } : {}),
    ...(a.language ? { language: a.language } : {}),
  };
}

/**
 * Opens a blob chunk by chunk and hands each authenticated piece of plaintext to `sink` (or
 * nowhere, to verify only); throws FILE_DAMAGED when any byte differs from what the sender sealed:
 * a chunk altered, dropped, repeated or moved, the end cut, the hashes other than the manifest's.
 */
export async function openBlob(
  path: string,
  entry: FileEntry,
  sink?: (plain: Uint8Array) => Promise<void> | void,
  progress?: Progress,
): Promise<void> {
  const opener = new FileOpener(Buffer.from(entry.key, 'base64url'), entry.size);
  const plainHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const total = blobBytes(entry.size);
  let read = 0;
  let length: number;
  try {
    length = (await stat(path)).size;
  } catch {
    throw new EntraideError('FILE_DAMAGED', `the document ${entry.name} is not held by this node`);
  }
  if (length !== total) {
    throw new EntraideError(
      'FILE_DAMAGED',
      `the document ${entry.name} has ${length} bytes where its sender sealed ${total}`,
    );
  }
  for await (const piece of createReadStream(path, { highWaterMark: READ_BYTES }) as AsyncIterable<Buffer>) {
    blobHash.update(piece);
    read += piece.length;
    for (const plain of opener.push(piece)) {
      plainHash.update(plain);
      if (sink) await sink(plain);
    }
    progress?.(read, total);
  }
  opener.finish();
  if (
    blobHash.digest('base64url') !== entry.ciphertextSha256 ||
    plainHash.digest('base64url') !== entry.sha256
  ) {
    throw new EntraideError(
      'FILE_DAMAGED',
      `the document ${entry.name} does not match the hashes its sender signed`,
    );
  }
}
