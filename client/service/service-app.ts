/**
 * The node's local service: a JSON API over the node `entraide serve` holds open, for the officer's
 * CLI commands (and, next, the web app). The service holds decrypted keys, so every request is
 * treated as possibly hostile:
 * - it listens on loopback only (serve.ts refuses anything else);
 * - the Host header must name the service itself (127.0.0.1, [::1] or localhost on its port): a web
 *   page that rebinds its own DNS name to 127.0.0.1 is refused (ORIGIN_REFUSED);
 * - an Origin other than the service's own, or a browser's `Sec-Fetch-Site: cross-site`, is refused:
 *   no other site's page may drive it;
 * - /api/ answers only to the bearer token of service.json (owner-only file; AUTH_REQUIRED), compared
 *   in constant time;
 * - bodies are bounded (64 KiB: a message's text and its recipients), requests budgeted per address
 *   (RATE_LIMITED), and security headers set on every answer (helmet; no script, no framing).
 */
import { timingSafeEqual } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { EntraideError } from '../../shared/errors.ts';
import type { AuthorityNode } from '../node.ts';
import { inboxView, readView, requestListView, requestShowView, sendView } from './desk.ts';

/** A message's text (768 KB at most in an envelope) is sent by the CLI's --body-file: room for it. */
export const SERVICE_BODY_LIMIT = 1024 * 1024;
/** Requests per minute and address: far above an officer's pace, well below a runaway loop's. */
export const SERVICE_RATE_PER_MINUTE = 600;

export interface ServiceAppOptions {
  node: AuthorityNode;
  token: string;
  /** The port the service listens on (read after listening when 0 was asked). */
  port: () => number;
  /** Whether the node is connected to its relay just now. */
  connected: () => boolean;
}

const Id = Type.String({ minLength: 1, maxLength: 200 });
const Address = Type.String({ minLength: 3, maxLength: 320 });

function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function buildServiceApp(o: ServiceAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: SERVICE_BODY_LIMIT,
    // An unknown field is refused, not silently dropped (fastify's default removes it).
    ajv: { customOptions: { removeAdditional: false } },
  });
  await app.register(helmet, { global: true });
  await app.register(rateLimit, {
    max: SERVICE_RATE_PER_MINUTE,
    timeWindow: 60_000,
    errorResponseBuilder: (_req, ctx) =>
      new EntraideError('RATE_LIMITED', `more than ${ctx.max} requests a minute to the node’s service`, {
        retryAfter: Math.ceil(ctx.ttl / 1000),
      }),
  });

  app.addHook('onRequest', async (req) => {
    const port = o.port();
    const hosts = [`127.0.0.1:${port}`, `[::1]:${port}`, `localhost:${port}`];
    const host = req.headers.host ?? '';
    if (!hosts.includes(host))
      throw new EntraideError(
        'ORIGIN_REFUSED',
        `the Host ${JSON.stringify(host.slice(0, 100))} is not this service’s`,
      );
    const origin = req.headers.origin;
    if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`))
      throw new EntraideError(
        'ORIGIN_REFUSED',
        `requests from ${JSON.stringify(origin.slice(0, 100))} are refused`,
      );
    if (req.headers['sec-fetch-site'] === 'cross-site')
      throw new EntraideError('ORIGIN_REFUSED', 'requests from another site are refused');
    if (req.url.startsWith('/api/') && !bearerMatches(req.headers.authorization, o.token))
      throw new EntraideError('AUTH_REQUIRED', 'the node’s service needs the token of its service.json');
  });

  app.setErrorHandler((err: FastifyError | EntraideError, _req, reply) => {
    const e =
      err instanceof EntraideError
        ? err
        : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? new EntraideError('PAYLOAD_TOO_LARGE', `the body is over ${SERVICE_BODY_LIMIT} bytes`)
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? new EntraideError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json')
            : err.validation
              ? new EntraideError(
                  'SCHEMA_INVALID',
                  `the ${err.validationContext ?? 'request'} ${err.message}`,
                )
              : err.statusCode === 400
                ? new EntraideError('INVALID_JSON', 'the body is not well-formed JSON')
                : new EntraideError('INTERNAL', 'the node’s service could not complete the request');
    const retryAfter = e.details?.retryAfter;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    void reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler(async (req) => {
    throw new EntraideError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'entraide node service',
        version: '0.1.0',
        description: 'The officer’s API of one authority node, on this machine only (entraide serve).',
      },
      components: { securitySchemes: { service: { type: 'http', scheme: 'bearer' } } },
      security: [{ service: [] }],
    },
  });

  const { node } = o;
  app.get('/api/v1/openapi.json', async () => app.swagger());
  app.get('/api/v1/node', async () => ({
    address: node.address,
    authority: node.authority,
    relay: node.config.relay.domain,
    connected: o.connected(),
  }));
  app.get(
    '/api/v1/inbox',
    {
      schema: {
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }),
      },
    },
    async (req) => inboxView(node, (req.query as { limit?: number }).limit ?? 50),
  );
  app.get(
    '/api/v1/sent',
    {
      schema: {
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }),
      },
    },
    async (req) => node.sent((req.query as { limit?: number }).limit ?? 200).map((m) => ({ ...m })),
  );
  app.get(
    '/api/v1/messages/:id',
    {
      schema: {
        params: Type.Object({ id: Id }),
        querystring: Type.Object({ override: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) }),
      },
    },
    async (req) =>
      readView(node, (req.params as { id: string }).id, (req.query as { override?: string }).override),
  );
  app.post(
    '/api/v1/messages',
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
    async (req) => sendView(node, req.body as Parameters<typeof sendView>[1]),
  );
  app.get(
    '/api/v1/requests',
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
    '/api/v1/requests/:id',
    {
      schema: {
        params: Type.Object({ id: Id }),
        querystring: Type.Object({ override: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) }),
      },
    },
    async (req) =>
      requestShowView(node, (req.params as { id: string }).id, (req.query as { override?: string }).override),
  );
  await app.ready();
  return app;
}
