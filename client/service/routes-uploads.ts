/**
 * Files an officer drops on a page, on their way into an item: the page uploads each to the node's
 * own service by the tus protocol (tus-js-client; @tus/server here, under the service's guard:
 * a live session or the CLI's token, the Origin checks, the budgets), and the service seals it chunk
 * by chunk as its bytes arrive (shared/files/file-crypto.ts) into the documents folder: it is never
 * written in plaintext. Paused and resumed from the page, an upload goes on from the offset the
 * service holds, for as long as the service runs (the sealing state lives in its memory). The item
 * that sends it names it by its upload id (`uploads` of POST /messages); unsent, it is dropped when
 * the service stops.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Server as TusServer } from '@tus/server';
import { DataStore, Upload } from '@tus/utils';
import { toBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { FileSealer } from '../../shared/files/file-crypto.ts';
import { FILE_ROLES, sanitizeFileName, type FileEntry, type FileRole } from '../../shared/files/manifest.ts';
import { literals } from '../../shared/protocol/literals.ts';
import { Type } from '@sinclair/typebox';
import { LIMITS } from '../../shared/limits.ts';
import { mediaTypeOf } from '../documents/seal-file.ts';
import { random } from '../random.ts';

/** Uploads held at once (unsent): more are refused until some are sent or the service restarts. */
const MAX_STAGED = 64;

interface Staged {
  id: string;
  size: number;
  offset: number;
  name: string;
  mediaType: string;
  blob: string;
  key: string;
  sealer: FileSealer;
  out: FileHandle;
  partial: string;
  plain: Hash;
  sealed: Hash;
  entry?: Omit<FileEntry, 'role'>;
}

/** The uploads the service is sealing or has sealed, until an item takes them. */
export class StagedUploads {
  readonly byId = new Map<string, Staged>();

  constructor(readonly dir: string) {}

  /** A complete upload's manifest entry, once: the item that sends it gives its role and language. */
  take(id: string, role: FileEntry['role'], language?: string): FileEntry {
    const s = this.byId.get(id);
    if (!s?.entry)
      throw new EntraideError('NOT_FOUND', `no complete upload ${id} on this service: upload the file again`);
    this.byId.delete(id);
    return { ...s.entry, role, ...(language ? { language } : {}) };
  }

  /** Drops what was never sent (the service stops). */
  async clear(): Promise<void> {
    for (const s of this.byId.values()) {
      await s.out.close().catch(() => undefined);
      await rm(s.partial, { force: true });
    }
    this.byId.clear();
  }
}

function metaValue(metadata: Record<string, string | null> | undefined, key: string): string | undefined {
  const v = metadata?.[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

class SealingStore extends DataStore {
  constructor(private readonly staged: StagedUploads) {
    super();
    this.extensions = ['creation', 'termination'];
  }

  override async create(upload: Upload): Promise<Upload> {
    const size = upload.size;
    if (size === undefined || !Number.isSafeInteger(size) || size < 0)
      throw { status_code: 400, body: 'Upload-Length is required\n' };
    if (size > LIMITS.maxFileBytes)
      throw { status_code: 413, body: `a document may have ${LIMITS.maxFileBytes} bytes at most\n` };
    if (this.staged.byId.size >= MAX_STAGED)
      throw { status_code: 429, body: 'too many files waiting to be sent\n' };
    const name = sanitizeFileName(metaValue(upload.metadata, 'filename') ?? 'file');
    const blob = toBase64url(random(16));
    const keyBytes = random(32);
    const partial = join(this.staged.dir, `${blob}.sealing`);
    const out = await open(partial, 'wx', 0o600);
    const sealer = new FileSealer(keyBytes, size);
    const s: Staged = {
      id: upload.id,
      size,
      offset: 0,
      name,
      mediaType: mediaTypeOf(name),
      blob,
      key: toBase64url(keyBytes),
      sealer,
      out,
      partial,
      plain: createHash('sha256'),
      sealed: createHash('sha256'),
    };
    keyBytes.fill(0);
    await this.put(s, [sealer.header()]);
    this.staged.byId.set(upload.id, s);
    if (size === 0) await this.complete(s);
    return upload;
  }

  private async put(s: Staged, chunks: Uint8Array[]): Promise<void> {
    for (const c of chunks) {
      s.sealed.update(c);
      await s.out.write(c);
    }
  }

  private async complete(s: Staged): Promise<void> {
    await this.put(s, s.sealer.finish());
    await s.out.sync();
    await s.out.close();
    await rename(s.partial, join(this.staged.dir, s.blob));
    s.entry = {
      blob: s.blob,
      key: s.key,
      name: s.name,
      mediaType: s.mediaType,
      size: s.size,
      sha256: s.plain.digest('base64url'),
      ciphertextSha256: s.sealed.digest('base64url'),
    };
  }

  override async getUpload(id: string): Promise<Upload> {
    const s = this.staged.byId.get(id);
    if (!s) throw { status_code: 404, body: 'Not found\n' };
    return new Upload({ id, size: s.size, offset: s.offset });
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const s = this.staged.byId.get(id);
    if (!s || s.entry) throw { status_code: 404, body: 'Not found\n' };
    if (offset !== s.offset) throw { status_code: 409, body: 'Upload-Offset does not match\n' };
    try {
      for await (const piece of stream as AsyncIterable<Buffer>) {
        if (s.offset + piece.length > s.size)
          throw { status_code: 413, body: 'more bytes than Upload-Length\n' };
        s.plain.update(piece);
        await this.put(s, s.sealer.push(piece));
        s.offset += piece.length;
      }
    } catch (err) {
      // A cut connection (a pause) keeps what arrived; the page resumes from s.offset.
      if (typeof err === 'object' && err !== null && 'status_code' in err) throw err;
    }
    if (s.offset === s.size) await this.complete(s);
    return s.offset;
  }

  override async remove(id: string): Promise<void> {
    const s = this.staged.byId.get(id);
    if (!s) throw { status_code: 404, body: 'Not found\n' };
    this.staged.byId.delete(id);
    await s.out.close().catch(() => undefined);
    await rm(s.partial, { force: true });
    if (s.entry) await rm(join(this.staged.dir, s.blob), { force: true });
  }
}

/** A file a page uploaded, named by the item that sends it, with its role and language. */
export const UploadInput = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
    role: literals(FILE_ROLES),
    language: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' })),
  },
  { additionalProperties: false },
);
export type UploadInput = { id: string; role: FileRole; language?: string };

/** The manifest entries of an item's uploads: all complete, or none taken (NOT_FOUND). */
export function takeUploads(
  staged: StagedUploads | undefined,
  uploads: readonly UploadInput[] | undefined,
): FileEntry[] {
  if (!uploads?.length) return [];
  if (!staged) throw new EntraideError('NOT_FOUND', 'this service takes no uploads');
  for (const u of uploads)
    if (!staged.byId.get(u.id)?.entry)
      throw new EntraideError(
        'NOT_FOUND',
        `no complete upload ${u.id} on this service: upload the file again`,
      );
  return uploads.map((u) => staged.take(u.id, u.role, u.language));
}

/** POST /uploads (create), HEAD/PATCH/DELETE /uploads/:id: the tus protocol, inside the guarded API. */
export async function uploadRoutes(app: FastifyInstance, staged: StagedUploads): Promise<void> {
  app.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));
  const tus = new TusServer({
    path: '/api/v1/uploads',
    datastore: new SealingStore(staged),
    relativeLocation: true,
    respectForwardedHeaders: false,
    maxSize: LIMITS.maxFileBytes,
    allowedOrigins: [],
  });
  const handle = async (
    req: { raw: import('node:http').IncomingMessage },
    reply: import('fastify').FastifyReply,
  ) => {
    reply.hijack();
    // The hijacked answer skips fastify's hooks: it carries helmet's headers itself.
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined) reply.raw.setHeader(name, value);
    await tus.handle(req.raw, reply.raw);
  };
  app.post('/uploads', handle);
  app.route({ method: ['HEAD', 'PATCH', 'DELETE'], url: '/uploads/:id', handler: handle });
}
