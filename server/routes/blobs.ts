/**
 * Blob routes (documents), for a node's session:
 * - uploads speak the tus resumable-upload protocol (1.0.0, creation extension) through @tus/server:
 *   POST /v1/blobs with Upload-Length makes a blob (quotas checked first), HEAD /v1/blobs/:id says
 *   how many bytes the relay holds (durably), PATCH /v1/blobs/:id appends from there; only the
 *   blob's owner may do either;
 * - GET /v1/blobs/:id downloads (HTTP range requests: a cut download resumes where it stopped), for
 *   a recipient node of an accepted envelope that names the blob;
 * - POST /v1/blobs/:id/held: that node holds the blob complete and verified (then it may be deleted).
 * Authorisation, quotas and budgets are checked here, before the tus server sees the request; a
 * refusal is the relay's JSON error, audited like any other.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Server as TusServer } from '@tus/server';
import { DataStore, Upload } from '@tus/utils';
import { EntraideError } from '../../shared/errors.ts';
import { BlobId } from '../../shared/protocol/schemas.ts';
import type { BlobDesk } from '../domain/blobs.ts';
import type { BlobRow } from '../storage/blob-records.ts';
import type { RelayContext } from '../context.ts';
import { bearerSecurity, requireSession } from '../plugins/auth.ts';
import { errorResponses } from './error-responses.ts';

/** What the fastify side decided for a request, handed to the tus server with it. */
interface Decided {
  blob: BlobRow;
}
const decided = new WeakMap<IncomingMessage, Decided>();

function decidedOf(req: { runtime?: { node?: { req?: IncomingMessage } } }): Decided {
  const raw = req.runtime?.node?.req;
  const d = raw ? decided.get(raw) : undefined;
  if (!d) throw new EntraideError('INTERNAL', 'a blob request reached the upload server unchecked');
  return d;
}

/** The tus server's view of the relay's blobs: the desk decides, the files hold the bytes. */
class RelayBlobStore extends DataStore {
  constructor(private readonly desk: BlobDesk) {
    super();
    this.extensions = ['creation'];
  }

  override async create(upload: Upload): Promise<Upload> {
    // The blob was made (quotas checked, row and empty file written) before the tus server ran.
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const length = await this.desk.files.length(id);
    const row = this.desk.row(id);
    if (length === null || !row) throw { status_code: 404, body: 'Not found\n' };
    return new Upload({ id, size: row.size, offset: length, creation_date: row.createdAt });
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const row = this.desk.row(id);
    if (!row) throw { status_code: 404, body: 'Not found\n' };
    const length = await this.desk.files.append(id, offset, stream, row.size - offset);
    await this.desk.written(row, length);
    return length;
  }
}

const Params = Type.Object({ id: BlobId }, { additionalProperties: false });
/** What these POSTs carry: nothing (a body sent anyway is read and ignored). */
const NoBody = Type.Unknown({ description: 'none: the request says everything in its headers and path' });
const errors = errorResponses(400, 401, 403, 404, 409, 413, 416, 429);

export async function blobRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const desk = ctx.blobs;
  requireSession(app, ctx);
  // Upload bodies go to the tus server as they arrive, never parsed nor buffered.
  app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));

  const tus = new TusServer({
    path: '/v1/blobs',
    datastore: new RelayBlobStore(desk),
    relativeLocation: true,
    respectForwardedHeaders: false,
    namingFunction: (req) => decidedOf(req as never).blob.id,
    maxSize: ctx.limits.blobs.maxBlobBytes,
    disableTerminationForFinishedUploads: true,
    // Same origin only: the node's service, not a browser, talks to the relay.
    allowedOrigins: [],
  });

  /** Hands a checked request to the tus server, which answers it. */
  const toTus = async (request: FastifyRequest, reply: FastifyReply, d: Decided): Promise<void> => {
    decided.set(request.raw, d);
    reply.hijack();
    reply.raw.setHeader('x-content-type-options', 'nosniff');
    reply.raw.setHeader('cache-control', 'no-store');
    await tus.handle(request.raw, reply.raw);
  };

  app.post(
    '/v1/blobs',
    {
      schema: {
        summary:
          'Create a blob for a document (tus creation; Upload-Length: its padded size; Upload-Metadata: blob <its id>)',
        security: bearerSecurity,
        body: NoBody,
        response: errors,
      },
    },
    async (request, reply) => {
      if (request.headers['upload-defer-length'] !== undefined)
        throw new EntraideError(
          'SCHEMA_INVALID',
          'give the blob’s size with Upload-Length; it cannot be deferred',
        );
      const size = Number(request.headers['upload-length']);
      const id = await desk.create(request.sessionNode, size, blobIdOf(request.headers['upload-metadata']));
      await toTus(request, reply, { blob: desk.row(id)! });
    },
  );

  app.route({
    method: ['HEAD', 'PATCH'],
    url: '/v1/blobs/:id',
    schema: {
      summary: 'Resume an upload: HEAD says the bytes held, PATCH appends (tus); the owner only',
      security: bearerSecurity,
      params: Params,
      response: errors,
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      const blob = desk.ownedBy(id, request.sessionNode);
      if (request.method === 'PATCH' && blob.completedAt)
        throw new EntraideError('BLOB_COMPLETE', `blob ${id} is complete: nothing more can be written to it`);
      await toTus(request, reply, { blob });
    },
  });

  app.get(
    '/v1/blobs/:id',
    {
      exposeHeadRoute: false,
      schema: {
        summary: 'Download a blob, whole or from a byte range (Range: bytes=N-); its recipients only',
        security: bearerSecurity,
        params: Params,
        response: {
          200: Type.Unknown({ description: 'The blob’s bytes (application/octet-stream)' }),
          206: Type.Unknown({ description: 'The bytes of the range asked for' }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const blob = desk.readableBy(id, request.sessionNode);
      const range = byteRange(request.headers.range, blob.size);
      void reply
        .header('accept-ranges', 'bytes')
        .header('cache-control', 'no-store')
        .type('application/octet-stream');
      if (!range)
        return reply.header('content-length', blob.size).send(desk.files.read(id, 0, blob.size - 1));
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${blob.size}`)
        .header('content-length', range.end - range.start + 1)
        .send(desk.files.read(id, range.start, range.end));
    },
  );

  app.post(
    '/v1/blobs/:id/held',
    {
      schema: {
        summary: 'Say that this node holds the blob complete and verified (the relay may then delete it)',
        security: bearerSecurity,
        body: NoBody,
        params: Params,
        response: { 200: Type.Object({ held: Type.Literal(true) }), ...errors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      desk.held(desk.readableBy(id, request.sessionNode), request.sessionNode);
      return { held: true as const };
    },
  );
}

/** The blob id a node proposes in tus metadata (`Upload-Metadata: blob <base64 of the id>`). */
function blobIdOf(header: string | string[] | undefined): string {
  for (const pair of (typeof header === 'string' ? header : '').split(',')) {
    const [key, value] = pair.trim().split(' ');
    if (key === 'blob' && value) return Buffer.from(value, 'base64').toString('latin1');
  }
  throw new EntraideError('SCHEMA_INVALID', 'name the blob’s id in Upload-Metadata: blob <base64 of the id>');
}

/** One range of bytes=START-END or bytes=START- (or a suffix, bytes=-N); null for the whole blob. */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    throw new EntraideError(
      'RANGE_NOT_SATISFIABLE',
      `Range must be one range of bytes (bytes=N- or bytes=N-M), not ${header.slice(0, 60)}`,
    );
  }
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) {
    throw new EntraideError(
      'RANGE_NOT_SATISFIABLE',
      `the blob has ${size} bytes; bytes ${header.slice(6, 60)} are not in it`,
    );
  }
  return { start, end };
}
