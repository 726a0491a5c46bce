/** Routes that need a node's session: envelopes and inbox. */
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
import type { RelayContext } from '../context.ts';
import { errorResponses } from './error-responses.ts';
import { acceptEnvelope } from '../domain/envelopes.ts';
import { bearerSecurity, requireSession } from '../plugins/auth.ts';

const errors = errorResponses(400, 401, 403, 404, 409, 413, 415, 422);

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
      const meta = ctx.store.envelopeMeta(id);
      // Only the sending authority learns anything, even that the envelope exists.
      if (!meta || authorityOfNode(meta.sender) !== authorityOfNode(request.sessionNode)) {
        throw new EntraideError('NOT_FOUND', `no envelope ${id} sent by your authority`);
      }
      return {
        id,
        acceptedAt: meta.acceptedAt,
        expiresAt: meta.expiresAt,
        deliveries: ctx.store.deliveries(id),
        forwards: ctx.store.forwards(id),
      };
    },
  );

  app.get(
    '/v1/inbox',
    {
      schema: {
        summary: 'Envelopes waiting for this node, oldest first',
        security: bearerSecurity,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: InboxPage, ...errors },
      },
    },
    async (request) => {
      const limit = (request.query as { limit?: number }).limit ?? 100;
      const rows = ctx.store.pendingFor(request.sessionNode, 0, limit + 1).filter((r) => r.body !== null);
      return {
        envelopes: rows.slice(0, limit).map((r) => JSON.parse(r.body) as Envelope),
        more: rows.length > limit,
      };
    },
  );

  app.post(
    '/v1/inbox/ack',
    {
      schema: {
        summary: 'Acknowledge envelopes this node has stored',
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
