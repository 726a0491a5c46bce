/**
 * The coordinator's routes (registered under /api/v1 by officer-role.ts): the networks this node
 * holds with their rosters and members' hours (as `network list` / `network show`), the heat map of
 * the slot finder (how many members are inside their hours at each start over the coming weeks),
 * and scheduling a network meeting (as `meeting schedule --network`, with the same rule for
 * members whose safety code was never verified). The roster's changes and versions: routes-roster.ts.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { MAX_MEETING_MINUTES } from '../../shared/meetings/duration.ts';
import { NetworkId } from '../../shared/meetings/names.ts';
import { mustBeConfirmed } from './desk-requests.ts';
import type { RouteContext } from './route-context.ts';
import { rosterRoutes } from './routes-roster.ts';

/** Heat maps a minute: each checks up to eight weeks of starts for every member. */
export const HEATMAP_PER_MINUTE = 60;
/** Meetings scheduled a minute: each seals and sends an invitation to every member. */
export const SCHEDULE_PER_MINUTE = 20;

const NetworkParams = Type.Object({ id: NetworkId }, { additionalProperties: false });
const Authority = Type.String({ minLength: 3, maxLength: 320 });

export async function networkRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { node } = ctx;
  await rosterRoutes(app, ctx);

  app.get('/networks', async () => ({ networks: node.networks.list() }));
  app.get('/networks/:id', { schema: { params: NetworkParams } }, async (req) =>
    node.networks.show((req.params as { id: string }).id),
  );
  app.get(
    '/networks/:id/heatmap',
    {
      config: { rateLimit: { max: HEATMAP_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        params: NetworkParams,
        querystring: Type.Object(
          {
            duration: Type.Integer({ minimum: 15, maximum: MAX_MEETING_MINUTES }),
            weeks: Type.Integer({ minimum: 1, maximum: 8 }),
            step: Type.Optional(Type.Integer({ minimum: 15, maximum: 120, multipleOf: 15 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const q = req.query as { duration: number; weeks: number; step?: number };
      return node.meetings.heatmap((req.params as { id: string }).id, q.duration, q.weeks, q.step ?? 30);
    },
  );
  app.post(
    '/networks/:id/meetings',
    {
      config: { rateLimit: { max: SCHEDULE_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        params: NetworkParams,
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 300 }),
            start: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}$' }),
            tz: Type.String({ minLength: 1, maxLength: 64 }),
            durationMin: Type.Integer({ minimum: 15, maximum: MAX_MEETING_MINUTES }),
            agenda: Type.Optional(Type.String({ maxLength: 4000 })),
            confirmed: Type.Optional(Type.Array(Authority, { maxItems: 500 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const network = (req.params as { id: string }).id;
      const b = req.body as {
        title: string;
        start: string;
        tz: string;
        durationMin: number;
        agenda?: string;
        confirmed?: string[];
      };
      const members = node.networks.show(network).members.filter((m) => m !== node.authority);
      const confirmed = await mustBeConfirmed(node, members, b.confirmed);
      const r = await node.meetings.schedule({
        title: b.title,
        start: b.start,
        tz: b.tz,
        duration: `${b.durationMin}m`,
        network,
        ...(b.agenda ? { agenda: b.agenda } : {}),
        ...(process.env.ENTRAIDE_CONFERENCE_URL
          ? { conferenceUrl: process.env.ENTRAIDE_CONFERENCE_URL }
          : {}),
      });
      await node.counterparts.confirm(confirmed);
      ctx.changed('meetings', r.view.uid);
      ctx.changed('sent', r.sent.id);
      return reply.code(201).send(r.view);
    },
  );
}
