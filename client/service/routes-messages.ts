/**
 * The officer's mail through the local service: inbox, sent, reading one item (which sends its
 * read receipt), sending, and the request list and page. The CLI's served commands use these too.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { inboxView, listing, readView, requestListView, requestShowView, sendView } from './desk.ts';
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

export async function messageRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
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
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const r = await sendView(node, req.body as Parameters<typeof sendView>[1]);
      ctx.changed('sent', r.id);
      return r;
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
