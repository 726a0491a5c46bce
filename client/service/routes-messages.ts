/**
 * The officer's mail through the local service: inbox, sent, reading one item (which sends its
 * read receipt), sending, and the request list and page. The CLI's served commands use these too.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { isAbsolute } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { EntraideError } from '../../shared/errors.ts';
import { FILE_ROLES } from '../../shared/files/manifest.ts';
import { takeUploads, UploadInput, type StagedUploads } from './routes-uploads.ts';
import { LIMITS } from '../../shared/limits.ts';
import { literals } from '../../shared/protocol/literals.ts';
import { inboxView, listing, readView, requestListView, requestShowView, sendView } from './desk.ts';
import { downloadView } from './desk-documents.ts';
import type { RouteContext } from './route-context.ts';

const Id = Type.String({ minLength: 1, maxLength: 200 });
const Address = Type.String({ minLength: 3, maxLength: 320 });
const Limit = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** With the messages' texts (the CLI's --json); lists carry none otherwise. */
  bodies: Type.Optional(Type.Boolean()),
});
type LimitQuery = { limit?: number; bodies?: boolean };
const Override = Type.Optional(Type.String({ minLength: 1, maxLength: 2000 }));

/** A file on this computer to attach, named by the CLI (full path, role, language). */
const AttachmentInput = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    role: literals(FILE_ROLES),
    language: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' })),
    translationOf: Type.Optional(Type.String({ minLength: 2, maxLength: 32 })),
  },
  { additionalProperties: false },
);

/**
 * Reading or writing files by their path on this computer is for the CLI (its token, the officer's
 * own account); a page in a browser uploads the file's bytes instead, and never names a path.
 */
function cliOnly(ctx: RouteContext, req: FastifyRequest, what: string): void {
  if (!ctx.officer(req).startsWith('cli:'))
    throw new EntraideError('FORBIDDEN', `only the entraide command on this computer may ${what}`);
}

export async function messageRoutes(
  app: FastifyInstance,
  ctx: RouteContext,
  staged: StagedUploads,
): Promise<void> {
  const { node } = ctx;
  app.get('/inbox', { schema: { querystring: Limit } }, async (req) =>
    inboxView(node, (req.query as LimitQuery).limit ?? 50, {
      fetch: false,
      bodies: (req.query as LimitQuery).bodies ?? false,
    }),
  );
  app.get('/sent', { schema: { querystring: Limit } }, async (req) =>
    listing(node.sent((req.query as LimitQuery).limit ?? 200), (req.query as LimitQuery).bodies ?? false),
  );
  app.get(
    '/messages/:id',
    { schema: { params: Type.Object({ id: Id }), querystring: Type.Object({ override: Override }) } },
    async (req) => {
      const m = await readView(
        node,
        (req.params as { id: string }).id,
        (req.query as { override?: string }).override,
      );
      ctx.changed('inbox', m.id);
      return m;
    },
  );
  app.post(
    '/messages',
    {
      schema: {
        body: Type.Object(
          {
            to: Type.Array(Address, { minItems: 1, maxItems: 50 }),
            subject: Type.String({ maxLength: 1000 }),
            body: Type.String({ maxLength: 800_000 }),
            language: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
            unverifiedOk: Type.Optional(Type.Boolean()),
            confirmed: Type.Optional(Type.Array(Address, { maxItems: 50 })),
            attachments: Type.Optional(Type.Array(AttachmentInput, { maxItems: LIMITS.maxFilesPerItem })),
            uploads: Type.Optional(Type.Array(UploadInput, { maxItems: LIMITS.maxFilesPerItem })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { uploads, ...input } = req.body as Parameters<typeof sendView>[1] & {
        uploads?: UploadInput[];
      };
      if (input.attachments?.length) cliOnly(ctx, req, 'name files on this computer to attach');
      const files = takeUploads(staged, uploads);
      const r = await sendView(node, { ...input, ...(files.length > 0 ? { files } : {}) });
      ctx.changed('sent', r.id);
      return r;
    },
  );
  app.post(
    '/messages/:id/download',
    {
      schema: {
        params: Type.Object({ id: Id }),
        body: Type.Object(
          { out: Type.String({ minLength: 1, maxLength: 4096 }), override: Override },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      cliOnly(ctx, req, 'write files into a folder of this computer');
      const { out, override } = req.body as { out: string; override?: string };
      if (!isAbsolute(out))
        throw new EntraideError('USAGE', 'name the folder to write into by its full path');
      return downloadView(node, (req.params as { id: string }).id, out, override);
    },
  );
  app.get(
    '/messages/:id/documents/:blob',
    {
      schema: {
        params: Type.Object({ id: Id, blob: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }) }),
        querystring: Type.Object({ override: Override }),
      },
    },
    async (req, reply) => {
      const { id, blob } = req.params as { id: string; blob: string };
      // Its handling code decides who may open an item's documents as it does its text.
      const m = node.read(id, { override: (req.query as { override?: string }).override });
      const entry = node.documents.of(m.id).find((d) => d.blob === blob)?.entry;
      if (!entry) throw new EntraideError('NOT_FOUND', `item ${m.id} carries no document ${blob}`);
      reply.hijack();
      const res = reply.raw;
      let started = false;
      try {
        await node.documents.stream(m.id, blob, async (plain) => {
          if (!started) {
            started = true;
            // Always a download, never shown in the app's own origin, whatever the file claims to be.
            res.writeHead(200, {
              'content-type': 'application/octet-stream',
              'content-length': String(entry.size),
              'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(entry.name)}`,
              'x-content-type-options': 'nosniff',
              'content-security-policy': "default-src 'none'; sandbox",
              'cache-control': 'no-store',
            });
          }
          if (!res.write(plain)) await new Promise((r) => res.once('drain', r));
        });
        if (!started)
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': '0',
            'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(entry.name)}`,
          });
        res.end();
      } catch (err) {
        // Before any byte: the error as JSON; after: the connection is cut, so a partial file is never complete.
        if (started) return void res.destroy();
        const e =
          err instanceof EntraideError
            ? err
            : new EntraideError('INTERNAL', 'the document could not be read');
        res.writeHead(e.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(e.toJSON()));
      }
    },
  );
  app.get(
    '/requests',
    {
      schema: {
        querystring: Type.Object({
          status: Type.Optional(Type.String({ maxLength: 64 })),
          overdue: Type.Optional(Type.Boolean()),
          dueSoon: Type.Optional(Type.Boolean()),
          direction: Type.Optional(Type.Union([Type.Literal('in'), Type.Literal('out')])),
          case: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
      },
    },
    async (req) => requestListView(node, req.query as Parameters<typeof requestListView>[1]),
  );
  app.get(
    '/requests/:id',
    { schema: { params: Type.Object({ id: Id }), querystring: Type.Object({ override: Override }) } },
    async (req) =>
      requestShowView(node, (req.params as { id: string }).id, (req.query as { override?: string }).override),
  );
}
