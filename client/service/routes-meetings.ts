/**
 * The officer's routes for meetings (registered under /api/v1 by service-app.ts): the list (as
 * `meeting list`), one meeting (`meeting show`), an answer to an invitation (`meeting rsvp`, with
 * the same unverified-organizer rule as sending), and its calendar file (`meeting ics`).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { RSVP_ANSWERS } from '../../shared/meetings/meeting.ts';
import { literals } from '../../shared/protocol/literals.ts';
import { mustBeConfirmed } from './desk-requests.ts';
import { icsFileName, meetingsView } from './desk-meetings.ts';
import type { RouteContext } from './route-context.ts';

const Id = Type.String({ minLength: 6, maxLength: 200 });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
const Zone = Type.String({ minLength: 1, maxLength: 64 });

const Str = () => Type.String();
const meetingFields = {
  uid: Str(),
  sequence: Type.Integer(),
  title: Str(),
  agenda: Type.Optional(Str()),
  start: Str(),
  tz: Str(),
  startUtc: Str(),
  endUtc: Str(),
  durationMin: Type.Integer(),
  local: Type.Object({ tz: Str(), start: Str(), end: Str() }),
  organizer: Str(),
  participants: Type.Array(Str()),
  languages: Type.Array(Str()),
  interpretation: Type.Optional(Str()),
  cancelled: Type.Boolean(),
  cancelReason: Type.Optional(Str()),
  conference: Type.Object({ url: Str(), room: Str(), passcode: Str() }),
  network: Type.Optional(Str()),
  request: Type.Optional(Str()),
  replies: Type.Record(
    Str(),
    Type.Object({
      answer: literals(RSVP_ANSWERS),
      note: Type.Optional(Str()),
      sequence: Type.Integer(),
      at: Str(),
    }),
  ),
};
/** One meeting as the node shows it (MeetingView): the answer of every meeting route. */
export const Meeting = Type.Object(meetingFields);

export async function meetingRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { node } = ctx;

  app.get(
    '/meetings',
    {
      schema: {
        querystring: Type.Object(
          { upcoming: Type.Optional(Type.Boolean()), tz: Type.Optional(Zone) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            meetings: Type.Array(Type.Object({ ...meetingFields, upcoming: Type.Boolean() })),
          }),
        },
      },
    },
    async (req) => ({ meetings: meetingsView(node, req.query as { upcoming?: boolean; tz?: string }) }),
  );

  app.get(
    '/meetings/:id',
    {
      schema: {
        params: IdParams,
        querystring: Type.Object({ tz: Type.Optional(Zone) }, { additionalProperties: false }),
        response: { 200: Meeting },
      },
    },
    async (req) => node.meetings.show((req.params as { id: string }).id, (req.query as { tz?: string }).tz),
  );

  app.post(
    '/meetings/:id/rsvp',
    {
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            answer: literals(RSVP_ANSWERS),
            comment: Type.Optional(Type.String({ maxLength: 2000 })),
            confirmed: Type.Optional(
              Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { maxItems: 1 }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Meeting },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as { answer: string; comment?: string; confirmed?: string[] };
      // As `meeting rsvp`: an organizer whose safety code was never verified is confirmed first.
      const { organizer } = node.meetings.state(id);
      const confirmed = await mustBeConfirmed(node, [organizer], b.confirmed);
      const r = await node.meetings.rsvp(id, b.answer, b.comment);
      await node.counterparts.confirm(confirmed);
      ctx.changed('meetings', r.view.uid);
      ctx.changed('sent', r.sent.id);
      return r.view;
    },
  );

  app.get('/meetings/:id/ics', { schema: { params: IdParams } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const text = node.meetings.ics(id);
    const uid = node.meetings.state(id).uid;
    return reply
      .header('content-type', 'text/calendar; charset=utf-8')
      .header('content-disposition', `attachment; filename="${icsFileName(uid)}"`)
      .send(text);
  });
}
