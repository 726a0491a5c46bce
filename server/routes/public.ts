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
import { DECOY_KEY } from '../auth/challenges.ts';
import { enrol } from '../domain/enrolment.ts';

const errors = errorResponses(400, 401, 403, 409, 410, 413, 415, 422);

/** The one refusal of a login whose node is unknown, revoked, or whose signature is wrong. */
function loginRefused(): EntraideError {
  return new EntraideError(
    'CHALLENGE_INVALID',
    'login refused: not an active node of this relay, or the challenge is not signed with its identity key',
  );
}

export async function publicRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  // Every route here but the health check counts against its source address's budget.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url !== '/healthz') await ctx.budgets.take('anonymous', request.ip);
  });
  app.get(
    '/healthz',
    {
      schema: {
        summary:
          'Readiness: 200 once the relay serves requests; `degraded` while its storage takes no writes',
        response: { 200: Health, ...errorResponses(503) },
      },
    },
    async (_req, reply) => {
      if (!ctx.ready())
        return reply.code(503).send(new EntraideError('INTERNAL', 'the relay is starting').toJSON());
      // Never waits on the database: the last fault met, or a look at the lock that does not wait.
      const storage = ctx.store.storageState();
      const health: Health =
        storage === 'ok'
          ? { status: 'ok', domain: ctx.relay.domain }
          : { status: 'degraded', domain: ctx.relay.domain, storage };
      return health;
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
      // Any well-formed address gets a challenge, enrolled or not: who is enrolled is not told here.
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
    async (request, reply) => {
      const body = request.body as TokenRequest;
      const now = ctx.now();
      ctx.challenges.check(body.challenge, body.node, now);
      // Unknown, revoked and wrongly signed get one answer, after the same work (a signature check).
      const node = ctx.directory.activeNode(body.node);
      const signed = { relay: ctx.relay.domain, node: body.node, challenge: body.challenge };
      const verified = verifyObject(CONTEXTS.authChallenge, signed, body.sig, node?.identityKey ?? DECOY_KEY);
      if (!node || !verified) throw loginRefused();
      ctx.challenges.spend(body.challenge, now);
      ctx.audit.login({ node: body.node });
      const t = await ctx.tokens.issue(body.node, now);
      void reply.header('cache-control', 'no-store');
      return { token: t.token, expiresAt: t.expiresAt.toISOString() };
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
