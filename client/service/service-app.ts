/**
 * The node's local service: the web app and a JSON API over the node `entraide serve` holds open,
 * for officers' browsers and the CLI. The service holds decrypted keys, so every request is treated
 * as possibly hostile:
 * - it listens on loopback only (serve.ts refuses anything else);
 * - the Host header must name the service itself (127.0.0.1, [::1] or localhost on its port): a web
 *   page that rebinds its own DNS name to 127.0.0.1 is refused (ORIGIN_REFUSED);
 * - an Origin other than the service's own, or a browser's `Sec-Fetch-Site: cross-site`, is refused:
 *   no other site's page may drive it; a browser request that changes something must carry its
 *   Origin;
 * - /api/v1 answers to the bearer token of service.json (owner-only file, the CLI) or to an
 *   officer's session cookie (HttpOnly, SameSite=Strict), opened with the keystore's passphrase
 *   and ended by the lock button or after the idle time (AUTH_REQUIRED);
 * - pages get a strict Content-Security-Policy (scripts from the service only, no inline script;
 *   styles from the service or carrying the page's nonce), and helmet's other headers;
 * - bodies are bounded, requests budgeted per address (RATE_LIMITED), unlocking more tightly.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { OFFICER_NAME_MAX } from '../../shared/audit/node-record.ts';
import { EntraideError } from '../../shared/errors.ts';
import { asOfficer } from '../officer-context.ts';
import type { LiveEvents } from './live-events.ts';
import { sessionCookie, type Sessions } from './sessions.ts';

/** A message's text (768 KB at most in an envelope) is sent by the CLI's --body-file: room for it. */
export const SERVICE_BODY_LIMIT = 1024 * 1024;
/** Requests per minute and address: far above an officer's pace, well below a runaway loop's. */
export const SERVICE_RATE_PER_MINUTE = 600;
/** Unlock attempts per minute and address: each costs an Argon2id derivation. */
export const UNLOCK_RATE_PER_MINUTE = 10;

/**
 * What the service serves: an authority's node to its officers, or an auditor's accounts on relays
 * to the auditor (client/service/audit-role.ts). Each service has its own sessions and cookie, so a
 * session opened on one can never call the other's API.
 */
export interface ServiceRole {
  kind: 'officer' | 'auditor';
  /** Throws (PASSPHRASE_WRONG) unless `passphrase` opens this folder's keys. */
  checkPassphrase(passphrase: string): void;
  /** What the session route tells the page about this service, beside the name and the role. */
  view(): Record<string, unknown>;
  /** The OpenAPI document's description of the API. */
  description: string;
  /** Whether the service is connected to its relay just now (the live events' first word). */
  connected?: () => boolean;
  /** The role's routes, behind the token or a live session. */
  routes(guarded: FastifyInstance, ctx: RoleContext): Promise<void>;
}

export interface RoleContext {
  /** The name a request is made under (the officer's or auditor's, or cli:<user> for the token). */
  officer: (req: FastifyRequest) => string;
  /** The browser session (or 'cli') a request comes from. */
  session: (req: FastifyRequest) => string;
}

export interface ServiceAppOptions {
  role: ServiceRole;
  token: string;
  /** The port the service listens on (read after listening when 0 was asked). */
  port: () => number;
  sessions: Sessions;
  live: LiveEvents;
  /** The built web app (index.html and assets/), when there is one. */
  webRoot?: string | undefined;
}

/** Who a request to /api/v1 comes from: the CLI's token, or an officer's browser session. */
interface Caller {
  officer: string;
  session: string;
  browser: boolean;
}

const callers = new WeakMap<FastifyRequest, Caller>();

function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The name the CLI's requests are recorded under: the account that can read service.json. */
const cliOfficer = `cli:${userInfo().username}`.slice(0, OFFICER_NAME_MAX);

const OfficerName = Type.String({
  minLength: 1,
  maxLength: OFFICER_NAME_MAX,
  // Letters, marks, digits, spaces and the punctuation of names; no control or format characters.
  pattern: "^[\\p{L}\\p{M}\\p{N} .,'’()-]+$",
});

function cspNonce(res: ServerResponse): string {
  return (res as ServerResponse & { styleNonce?: string }).styleNonce ?? '';
}

export async function buildServiceApp(o: ServiceAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: SERVICE_BODY_LIMIT,
    // An unknown field is refused, not silently dropped (fastify's default removes it).
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  });
  await app.register(cookie);
  // Before helmet's own hook, which writes the policy with this nonce.
  app.addHook('onRequest', async (_req, reply) => {
    (reply.raw as ServerResponse & { styleNonce?: string }).styleNonce = randomBytes(18).toString('base64');
  });
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Mantine writes its theme variables in <style> elements: each carries the page's nonce.
        styleSrc: ["'self'", (_req, res) => `'nonce-${cspNonce(res as ServerResponse)}'`],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
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
  });

  app.setErrorHandler((err: FastifyError | EntraideError, req, reply) => {
    const e =
      err instanceof EntraideError
        ? err
        : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? new EntraideError(
              'PAYLOAD_TOO_LARGE',
              // A route may allow more than the service's bound (a node's record for the auditor).
              `the body is over ${req.routeOptions.bodyLimit ?? SERVICE_BODY_LIMIT} bytes`,
            )
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
    // The officer's own service may say which counterparts are unverified, with their safety codes.
    const unverified = e.code === 'UNVERIFIED_COUNTERPART' ? e.details?.unverified : undefined;
    const body = e.toJSON();
    void reply.code(e.status).send(unverified ? { error: { ...body.error, unverified } } : body);
  });
  app.setNotFoundHandler(async (req) => {
    throw new EntraideError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: o.role.kind === 'auditor' ? 'entraide auditor service' : 'entraide node service',
        version: '0.1.0',
        description: o.role.description,
      },
      components: {
        securitySchemes: {
          service: { type: 'http', scheme: 'bearer' },
          officer: { type: 'apiKey', in: 'cookie', name: 'entraide_session_<port>' },
        },
      },
      security: [{ service: [] }, { officer: [] }],
    },
  });

  await app.register(async (api) => apiRoutes(api, o), { prefix: '/api/v1' });
  await webRoutes(app, o.webRoot);
  await app.ready();
  return app;
}

/** The session routes, then everything else behind the token or a live session. */
async function apiRoutes(api: FastifyInstance, o: ServiceAppOptions): Promise<void> {
  const { role, sessions, live } = o;
  const cookieOf = (req: FastifyRequest): string | undefined => req.cookies[sessionCookie(o.port())];
  const caller = (req: FastifyRequest): Caller => {
    const c = callers.get(req);
    if (!c) throw new EntraideError('AUTH_REQUIRED', 'unlock the web app with your name and passphrase');
    return c;
  };
  const sessionView = (officer: string) => ({
    officer,
    role: role.kind,
    ...role.view(),
    idleLockMinutes: sessions.idleMinutes,
  });

  api.get('/session', async (req) => {
    const s = sessions.find(cookieOf(req), true);
    if (!s) throw new EntraideError('AUTH_REQUIRED', 'unlock the web app with your name and passphrase');
    return sessionView(s.officer);
  });
  api.post(
    '/session',
    {
      config: { rateLimit: { max: UNLOCK_RATE_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        body: Type.Object(
          { officer: OfficerName, passphrase: Type.String({ minLength: 1, maxLength: 1024 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const { officer, passphrase } = req.body as { officer: string; passphrase: string };
      role.checkPassphrase(passphrase);
      const s = sessions.open(officer.trim());
      void reply.setCookie(sessionCookie(o.port()), s.id, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: false,
      });
      return sessionView(s.officer);
    },
  );
  api.delete('/session', async (req, reply) => {
    const id = cookieOf(req);
    if (id) sessions.end(id);
    void reply.clearCookie(sessionCookie(o.port()), { path: '/' });
    return reply.code(204).send();
  });

  await api.register(async (guarded) => {
    guarded.addHook('onRequest', async (req) => {
      if (bearerMatches(req.headers.authorization, o.token)) {
        callers.set(req, { officer: cliOfficer, session: 'cli', browser: false });
        return;
      }
      const s = sessions.find(cookieOf(req), req.url !== '/api/v1/events');
      if (!s)
        throw new EntraideError(
          'AUTH_REQUIRED',
          req.headers.authorization
            ? 'the node’s service needs the token of its service.json'
            : 'unlock the web app with your name and passphrase',
        );
      // Chromium may leave Origin off a same-origin fetch; its Sec-Fetch-Site, which a page
      // cannot forge, says the same thing.
      if (
        req.method !== 'GET' &&
        req.method !== 'HEAD' &&
        req.headers.origin === undefined &&
        req.headers['sec-fetch-site'] !== 'same-origin'
      )
        throw new EntraideError(
          'ORIGIN_REFUSED',
          'a browser request that changes something must carry its Origin',
        );
      callers.set(req, { officer: s.officer, session: s.id, browser: true });
    });
    // Each handler runs as its officer: what it sends or opens is recorded under their name.
    guarded.addHook('onRoute', (route) => {
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, req, reply) {
        return asOfficer(caller(req).officer, () => handler.call(this, req, reply));
      };
    });
    guarded.get('/openapi.json', async () => api.swagger());
    guarded.get('/events', async (req, reply) => {
      reply.hijack();
      // The hijacked answer skips fastify's hooks: it carries helmet's headers itself.
      for (const [name, value] of Object.entries(reply.getHeaders()))
        if (value !== undefined) reply.raw.setHeader(name, value);
      live.open(caller(req).session, reply.raw, role.connected?.() ?? true);
    });
    await role.routes(guarded, {
      officer: (req) => caller(req).officer,
      session: (req) => caller(req).session,
    });
  });
}

/** The web app: index.html with the page's style nonce, and its hashed assets. */
async function webRoutes(app: FastifyInstance, webRoot: string | undefined): Promise<void> {
  const index = webRoot ? join(webRoot, 'index.html') : undefined;
  const page = index && existsSync(index) ? readFileSync(index, 'utf8') : undefined;
  app.get('/', async (_req, reply) => {
    if (!page)
      throw new EntraideError(
        'NOT_FOUND',
        'the web app is not built in this checkout: run `npm run build`, then restart entraide serve',
      );
    return reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(page.replaceAll('__CSP_NONCE__', cspNonce(reply.raw)));
  });
  if (webRoot && existsSync(join(webRoot, 'assets')))
    await app.register(fastifyStatic, {
      root: join(webRoot, 'assets'),
      prefix: '/assets/',
      index: false,
      immutable: true,
      maxAge: 365 * 24 * 3600 * 1000,
    });
}
