/**
 * Where the relay keeps the bytes of blobs (documents, end-to-end encrypted by their sender): an
 * interface, so that a relay in a high-availability setup can keep them in object storage, and
 * its default, a folder beside the database (`<data folder>/blobs/<id>`). The relay never reads
 * them but to hash them once complete and to serve them to their recipients.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntraideError } from '../../shared/errors.ts';

export interface BlobFiles {
  /** Makes an empty blob. */
  create(id: string): Promise<void>;
  /**
   * Appends what `source` yields at `offset` (the blob's current length), at most `max` bytes, and
   * returns the new length once those bytes are durable (fsync): an offset answered to a client is
   * never lost. A source that ends early (a cut connection) keeps what arrived.
   */
  append(id: string, offset: number, source: Readable, max: number): Promise<number>;
  /** The blob's length, or null when there is none. */
  length(id: string): Promise<number | null>;
  /** Bytes `start` to `end` (inclusive). */
  read(id: string, start: number, end: number): Readable;
  /** SHA-256 of the whole blob, base64url. */
  sha256(id: string): Promise<string>;
  remove(id: string): Promise<void>;
  /** Every blob held. */
  list(): Promise<string[]>;
}

const ID = /^[A-Za-z0-9_-]{22}$/;

/** Blobs as files in one folder, readable by the relay's user only. */
export class FolderBlobFiles implements BlobFiles {
  constructor(private readonly dir: string) {}

  private path(id: string): string {
    // Ids are the relay's own (base64url of 16 bytes); anything else never reaches the disk.
    if (!ID.test(id)) throw new EntraideError('NOT_FOUND', `no blob ${id}`);
    return join(this.dir, id);
  }

  async create(id: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const handle = await open(this.path(id), 'wx', 0o600);
    await handle.close();
  }

  async append(id: string, offset: number, source: Readable, max: number): Promise<number> {
    const handle = await open(this.path(id), 'r+');
    let written = 0;
    try {
      const limit = new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (written + chunk.length > max) {
            done(new EntraideError('PAYLOAD_TOO_LARGE', `more bytes than the blob's declared size`));
            return;
          }
          written += chunk.length;
          done(null, chunk);
        },
      });
      const sink = createWriteStream('', { fd: handle.fd, start: offset, autoClose: false });
      try {
        await pipeline(source, limit, sink);
      } catch (err) {
        // A cut connection keeps the bytes that arrived (once the write under way is done); a blob
        // too long keeps none of the excess.
        if (!sink.closed) await once(sink, 'close');
        if (err instanceof EntraideError) throw err;
      }
      await handle.sync();
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  }

  async length(id: string): Promise<number | null> {
    try {
      return (await stat(this.path(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  read(id: string, start: number, end: number): Readable {
    return createReadStream(this.path(id), { start, end, highWaterMark: 256 * 1024 });
  }

  async sha256(id: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(this.path(id), { highWaterMark: 1024 * 1024 }), hash);
    return hash.digest('base64url');
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((name) => ID.test(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}
