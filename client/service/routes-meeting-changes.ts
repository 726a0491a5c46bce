/**
 * The organizer's routes for a meeting (registered under /api/v1 by officer-role.ts): a new
 * version (as `meeting update`: title, start, zone, duration, agenda, languages, interpretation,
 * participants) and a cancellation with its reason (`meeting cancel`). Only the organizing
 * authority's nodes may change a meeting, and, as the CLI does, participants whose safety code was
 * never verified are confirmed before anything is signed. Every participant receives the result.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { EntraideError } from '../../shared/errors.ts';
import { MAX_MEETING_MINUTES } from '../../shared/meetings/duration.ts';
import { MEETING_LIMITS } from '../../shared/meetings/meeting.ts';
import { Languages } from '../../shared/meetings/names.ts';
import { LOCAL_TIME_PATTERN } from '../../shared/meetings/zoned-time.ts';
import type { MeetingChanges } from '../meetings.ts';
import { mustBeConfirmed } from './desk-requests.ts';
import type { RouteContext } from './route-context.ts';
import { IdParams, Meeting } from './routes-meetings.ts';

/** Updates and cancellations a minute: each seals and sends a new version to every participant. */
export const MEETING_CHANGES_PER_MINUTE = 20;
/** The longest reason a cancellation carries from the web app. */
export const CANCEL_REASON_MAX = 1000;
/** An update's body: an agenda of 20,000 characters and 500 participants fit well within it. */
const CHANGE_BODY_LIMIT = 256 * 1024;

const Authority = Type.String({ minLength: 3, maxLength: 320 });
const Confirmed = Type.Optional(Type.Array(Authority, { maxItems: MEETING_LIMITS.participants }));

const UpdateBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: MEETING_LIMITS.title })),
    start: Type.Optional(Type.String({ pattern: LOCAL_TIME_PATTERN })),
    tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    durationMin: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_MEETING_MINUTES })),
    agenda: Type.Optional(Type.String({ maxLength: MEETING_LIMITS.agenda })),
    languages: Type.Optional(Languages),
    interpretation: Type.Optional(Type.String({ minLength: 1, maxLength: MEETING_LIMITS.interpretation })),
    participants: Type.Optional(
      Type.Array(Authority, { minItems: 1, maxItems: MEETING_LIMITS.participants }),
    ),
    /** Which of two instants a start repeated by a clock change means (`--when`). */
    when: Type.Optional(Type.Union([Type.Literal('earlier'), Type.Literal('later')])),
    confirmed: Confirmed,
  },
  { additionalProperties: false },
);
type UpdateBody = Static<typeof UpdateBody>;

const CancelBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: CANCEL_REASON_MAX })), confirmed: Confirmed },
  { additionalProperties: false },
);

const CHANGE_FIELDS = [
  'title',
  'start',
  'tz',
  'durationMin',
  'agenda',
  'languages',
  'interpretation',
  'participants',
] as const;

/** The body's changes as node.meetings.update takes them (a duration in minutes becomes '90m'). */
function changesOf(b: UpdateBody): MeetingChanges {
  const { durationMin, when, confirmed: _confirmed, ...rest } = b;
  return {
    ...rest,
    ...(durationMin !== undefined ? { duration: `${durationMin}m` } : {}),
    ...(when ? { disambiguation: when } : {}),
  };
}

export async function meetingChangeRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { node } = ctx;
  const budget = { rateLimit: { max: MEETING_CHANGES_PER_MINUTE, timeWindow: 60_000 } };

  app.post(
    '/meetings/:id/update',
    {
      bodyLimit: CHANGE_BODY_LIMIT,
      config: budget,
      schema: { params: IdParams, body: UpdateBody, response: { 200: Meeting } },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as UpdateBody;
      if (!CHANGE_FIELDS.some((f) => b[f] !== undefined)) {
        throw new EntraideError('MEETING_INVALID', `name at least one change: ${CHANGE_FIELDS.join(', ')}`);
      }
      const previous = node.meetings.ownMeeting(id).event!.participants;
      // Authorities dropped from the meeting receive the new version too.
      const to = [...new Set([...(b.participants ?? []), ...previous])].filter((a) => a !== node.authority);
      const confirmed = await mustBeConfirmed(node, to, b.confirmed);
      const r = await node.meetings.update(id, changesOf(b));
      await node.counterparts.confirm(confirmed);
      ctx.changed('meetings', r.view.uid);
      ctx.changed('sent', r.sent.id);
      return r.view;
    },
  );

  app.post(
    '/meetings/:id/cancel',
    {
      bodyLimit: CHANGE_BODY_LIMIT,
      config: budget,
      schema: { params: IdParams, body: CancelBody, response: { 200: Meeting } },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as Static<typeof CancelBody>;
      const participants = node.meetings.ownMeeting(id).event!.participants;
      const confirmed = await mustBeConfirmed(node, participants, b.confirmed);
      const r = await node.meetings.cancel(id, b.reason);
      await node.counterparts.confirm(confirmed);
      ctx.changed('meetings', r.view.uid);
      ctx.changed('sent', r.sent.id);
      return r.view;
    },
  );
}
