/** Routes without a session: health, relay identity, enrolment, login. */
import type { FastifyInstance } from 'fastify';
import { parseNodeAddress } from '../../shared/addresses.ts';
import { CONTEXTS, verifyObject } from '../../shared/crypto/signing.ts';
import { EntraideError } from '../../shared/errors.ts';
import {
  ChallengeRequest,
  ChallengeResponse,
  EnrolmentRequest,
  EnrolmentResponse,
  Health,
  RelayInfo,
  TokenRequest,
  TokenResponse,
} from '../../shared/protocol/schemas.ts';
import type { RelayContext } from '../context.ts';
import { errorResponses } from './error-responses.ts';
import { enrol } from '../domain/enrolment.ts';

const errors = errorResponses(400, 401, 403, 409, 410, 413, 415, 422);

export async function publicRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Readiness: 200 once the relay serves requests',
        response: { 200: Health, ...errorResponses(503) },
      },
    },
    async (_req, reply) => {
      if (!ctx.ready())
        return reply.code(503).send(new EntraideError('INTERNAL', 'the relay is starting').toJSON());
      return { status: 'ok' as const, domain: ctx.relay.domain };
    },
  );

  app.get(
    '/v1/relay',
    { schema: { summary: 'The relay’s domain and public key', response: { 200: RelayInfo } } },
    async () => ctx.relay,
  );

  app.post(
    '/v1/enrol',
    {
      schema: {
        summary: 'Enrol an authority and its first node with a one-time invitation',
        body: EnrolmentRequest,
        response: { 200: EnrolmentResponse, ...errors },
      },
    },
    async (request) => enrol(request.body as EnrolmentRequest, { ...ctx, now: ctx.now() }),
  );

  app.post(
    '/v1/auth/challenge',
    {
      schema: {
        summary: 'Ask for a login challenge for a node',
        body: ChallengeRequest,
        response: { 200: ChallengeResponse, ...errors },
      },
    },
    async (request) => {
      const { node } = request.body as { node: string };
      parseNodeAddress(node);
      ctx.directory.requireActive(
        node,
        () => new EntraideError('UNKNOWN_SENDER', `${node} is not an active node of this relay`),
      );
      const c = ctx.challenges.issue(node, ctx.now());
      return { challenge: c.challenge, expiresAt: c.expiresAt.toISOString() };
    },
  );

  app.post(
    '/v1/auth/token',
    {
      schema: {
        summary: 'Exchange a signed challenge for a session token (EdDSA JWT)',
        body: TokenRequest,
        response: { 200: TokenResponse, ...errors },
      },
    },
    async (request) => {
      const body = request.body as TokenRequest;
      const now = ctx.now();
      ctx.challenges.consume(body.challenge, body.node, now);
      const node = ctx.directory.requireActive(
        body.node,
        () => new EntraideError('UNKNOWN_SENDER', `${body.node} is not an active node of this relay`),
      );
      const signed = { relay: ctx.relay.domain, node: body.node, challenge: body.challenge };
      if (!verifyObject(CONTEXTS.authChallenge, signed, body.sig, node.identityKey)) {
        throw new EntraideError(
          'CHALLENGE_INVALID',
          'the challenge signature does not verify under the node identity key',
        );
      }
      const t = await ctx.tokens.issue(body.node, now);
      return { token: t.token, expiresAt: t.expiresAt.toISOString() };
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
