/** Routes that need a node's session: envelopes and inbox. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { authorityOfNode } from '../../shared/addresses.ts';
import { EntraideError } from '../../shared/errors.ts';
import {
  AckRequest,
  AckResult,
  DeliveryState,
  Envelope,
  EnvelopeId,
  InboxPage,
  SubmitResult,
} from '../../shared/protocol/schemas.ts';
import type { PendingPage } from '../storage/relay-store.ts';
import type { RelayContext } from '../context.ts';
import { errorResponses } from './error-responses.ts';
import { acceptEnvelope, envelopeFormatMustBeAccepted } from '../domain/envelopes.ts';
import { bearerSecurity, requireSession } from '../plugins/auth.ts';

const errors = errorResponses(400, 401, 403, 404, 409, 413, 415, 422);

/** The bytes an inbox answer adds around its envelopes: `{"envelopes":[` and `],"more":false}`. */
const INBOX_FRAME_BYTES = '{"envelopes":[],"more":false}'.length;

/**
 * An inbox page as JSON text (an InboxPage), written from the stored envelope texts as they are,
 * never parsed and serialised again: each body is one chunk, let go of once written, so that the
 * answer holds the page's bodies once and no more. The relay stored each body as the JSON of an
 * envelope that passed its schema (envelopes.ts), so the text is an InboxPage.
 */
function inboxAnswer(page: PendingPage): Readable {
  // A body is gone only once its envelope expired, which ends its deliveries in the same commit.
  const bodies = page.envelopes.filter((e) => e.body !== null).map((e) => e.body);
  const more = page.more; // the generator holds the bodies alone, not the page's rows
  function* chunks(): Generator<string> {
    yield '{"envelopes":[';
    for (let i = 0; i < bodies.length; i++) {
      if (i > 0) yield ',';
      const body = bodies[i]!;
      bodies[i] = '';
      yield body;
    }
    yield `],"more":${more}}`;
  }
  return Readable.from(chunks());
}

export async function sessionRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  requireSession(app, ctx);

  app.post(
    '/v1/envelopes',
    {
      schema: {
        summary: 'Submit a sealed envelope; answered only after it is committed',
        security: bearerSecurity,
        body: Envelope,
        response: { 200: SubmitResult, ...errors },
      },
      // A format this relay does not read is FORMAT_UNSUPPORTED, not a schema mismatch.
      preValidation: async (request) => envelopeFormatMustBeAccepted(request.body, ctx.envelopes.formats),
    },
    async (request) => acceptEnvelope(request.body, request.sessionNode, ctx.envelopes),
  );

  app.get(
    '/v1/envelopes/:id',
    {
      schema: {
        summary: 'Delivery state of an envelope, for its sending authority',
        security: bearerSecurity,
        params: Type.Object({ id: EnvelopeId }, { additionalProperties: false }),
        response: { 200: DeliveryState, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      // Only the sending authority learns anything, even that the envelope exists. Two senders may
      // use one id: the session node's own envelope first, else its authority's first.
      const authority = authorityOfNode(request.sessionNode);
      const ours = ctx.store.envelopesUnder(id).filter((e) => authorityOfNode(e.sender) === authority);
      const meta = ours.find((e) => e.sender === request.sessionNode) ?? ours[0];
      if (!meta) throw new EntraideError('NOT_FOUND', `no envelope ${id} sent by your authority`);
      // Other senders' envelopes under this id, met here or reported by a peer: both were kept.
      const conflicts = ctx.store.conflicts
        .of(id)
        .filter((c) => c.sender === meta.sender || c.otherSender === meta.sender)
        .map((c) => ({
          relay: c.relay,
          otherSender: c.sender === meta.sender ? c.otherSender : c.sender,
          detectedAt: c.detectedAt,
        }));
      return {
        id,
        acceptedAt: meta.acceptedAt,
        expiresAt: meta.expiresAt,
        deliveries: ctx.store.deliveries(id, meta.sender),
        forwards: ctx.store.forwards(id, meta.sender),
        ...(conflicts.length > 0 ? { conflicts } : {}),
      };
    },
  );

  app.get(
    '/v1/inbox',
    {
      schema: {
        summary: 'Envelopes waiting for this node, oldest first',
        description:
          'A page holds at most `limit` envelopes and the relay’s page budget of bytes (at least one envelope); `more` says that others wait: acknowledge these, then fetch again.',
        security: bearerSecurity,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: InboxPage, ...errors },
      },
    },
    async (request, reply) => {
      const limit = (request.query as { limit?: number }).limit ?? 100;
      const page = ctx.store.pendingPage(
        request.sessionNode,
        0,
        limit,
        Math.max(0, ctx.limits.pages.inboxBytes - INBOX_FRAME_BYTES),
      );
      return reply.type('application/json; charset=utf-8').send(inboxAnswer(page));
    },
  );

  app.post(
    '/v1/inbox/ack',
    {
      schema: {
        summary: 'Acknowledge envelopes this node has stored',
        description:
          'Each id ends the delivery of the first envelope under that id still pending for this node. Two senders may use one id: an envelope under an id already acknowledged in this request is acknowledged with the next request.',
        security: bearerSecurity,
        body: AckRequest,
        response: { 200: AckResult, ...errors },
      },
    },
    async (request) => {
      const { ids } = request.body as AckRequest;
      const now = ctx.now();
      const results = await Promise.all(
        ids.map((id) => ctx.store.markDelivered(id, request.sessionNode, now)),
      );
      return { acknowledged: results.filter(Boolean).length };
    },
  );
}
