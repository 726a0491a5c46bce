/**
 * Builds the relay: storage, identity, directory, fastify routes and the socket.io gateway.
 * It never listens by itself; main.ts (or a test) calls listen().
 */
import { AuditLog } from './domain/audit-log.ts';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { Server } from 'socket.io';
import type { TSchema } from '@sinclair/typebox';
import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { EntraideError } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { check } from '../shared/protocol/validate.ts';
import { ChallengeStore } from './auth/challenges.ts';
import { TokenService } from './auth/tokens.ts';
import type { RelayContext } from './context.ts';
import { Directory } from './domain/directory.ts';
import { KeyLog } from './domain/key-log.ts';
import type { KeyEventContext } from './domain/key-events.ts';
import type { EnvelopeContext } from './domain/envelopes.ts';
import { createVerifier } from './domain/signature-verifier.ts';
import { loadRelayIdentity, type RelayIdentity } from './identity.ts';
import { lockFolder, type FolderLock } from '../prisma/folder-lock.ts';
import { DeliveryHub } from './realtime/delivery-hub.ts';
import { createGateway } from './realtime/gateway.ts';
import { publicRoutes } from './routes/public.ts';
import { sessionRoutes } from './routes/session.ts';
import { keyPublicRoutes, keySessionRoutes } from './routes/keys.ts';
import { federationRoutes } from './routes/federation.ts';
import { relayRoutes } from './routes/relays.ts';
import { auditLoginRoutes, auditRoutes } from './routes/audit.ts';
import { Outbox, type OutboxOptions } from './federation/outbox.ts';
import { PeerClient } from './federation/peer-client.ts';
import { PeerRegistry } from './federation/peers.ts';
import { FederationVerifier } from './federation/s2s-token.ts';
import { Gossip } from './federation/gossip.ts';
import { RemoteKeys } from './federation/remote-keys.ts';
import { RelayStore } from './storage/relay-store.ts';
import { toEntraideError } from './errors.ts';
import { relayLimits, type RelayLimits } from './limits.ts';

export const VERSION = '0.1.0';

export interface RelayOptions {
  dataDir: string;
  domain?: string;
  /** Create the data folder and identity when missing (true for `relay start`). */
  create?: boolean;
  logLevel?: string;
  sweepIntervalMs?: number;
  ackTimeoutMs?: number;
  tokenLifetimeSeconds?: number;
  /** How often tree heads are compared with peers (default 30 s). */
  gossipIntervalMs?: number;
  /** How often the audit log's head is signed while entries come in (default 10 s). */
  auditHeadIntervalMs?: number;
  /** Federation outbox timing (tests shorten it). */
  outbox?: OutboxOptions;
  /** Worker threads that verify envelope signatures (default 1; 0 verifies on the event loop). */
  verifyWorkers?: number;
  /** Budgets, quotas and bounds (default: the `default` profile of server/limits.ts). */
  limits?: RelayLimits;
  now?: () => Date;
}

export interface Relay {
  app: FastifyInstance;
  io: Server;
  identity: RelayIdentity;
  store: RelayStore;
  ctx: RelayContext;
  /** The audit log: signed heads over the entries the store appends. */
  audit: AuditLog;
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

// Query strings and path parameters arrive as text: coerce them; bodies are never coerced.
const coercing = new Ajv({ coerceTypes: true, removeAdditional: false, strict: false });

/** How long a closing relay waits for the requests it is answering before it resets their connections. */
const CLOSE_ANSWER_LIMIT_MS = 5_000;

export async function buildRelay(opts: RelayOptions): Promise<Relay> {
  await loadSodium();
  const now = opts.now ?? (() => new Date());
  const limits = opts.limits ?? relayLimits();
  if (!existsSync(opts.dataDir)) {
    if (!opts.create)
      throw new EntraideError('RELAY_DATA_MISSING', `relay data folder ${opts.dataDir} does not exist`);
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  }
  const lock: FolderLock = lockFolder(
    join(opts.dataDir, 'relay.lock'),
    'DATA_DIR_LOCKED',
    `relay data folder ${opts.dataDir}`,
  );
  let store: RelayStore | undefined;
  try {
    const identity = loadRelayIdentity(opts.dataDir, opts.domain, opts.create ?? true);
    store = RelayStore.open(opts.dataDir);
    store.setLocalDomain(identity.domain);
    const directory = new Directory(store);
    await directory.load();
    const keyLog = new KeyLog(store, { domain: identity.domain, secretKey: identity.secretKey }, now);
    await keyLog.load();
    const audit = new AuditLog(store, { domain: identity.domain, secretKey: identity.secretKey }, now);
    const peers = new PeerRegistry(store);
    await peers.load();
    const peerClient = new PeerClient(
      { domain: identity.domain, privateKey: identity.privateKeyObject },
      now,
    );
    // The outbox logs through fastify's logger, which exists once the app is built below.
    const outboxLog: { target?: { warn: (obj: unknown, msg: string) => void } } = {};
    const outbox = new Outbox(
      store,
      peers,
      peerClient,
      now,
      { warn: (obj, msg) => outboxLog.target?.warn(obj, msg) },
      opts.outbox,
    );
    const tokens = new TokenService(
      identity.domain,
      identity.privateKeyObject,
      identity.publicKeyObject,
      opts.tokenLifetimeSeconds,
    );
    const hub = new DeliveryHub(store, now, opts.ackTimeoutMs);
    const relayInfo = { domain: identity.domain, publicKey: identity.publicKeyB64, version: VERSION };
    let ready = false;
    const verifier = createVerifier(opts.verifyWorkers ?? 1);
    const envelopes: EnvelopeContext = {
      store,
      directory,
      domain: identity.domain,
      now,
      verifier,
      peers,
      remoteKeys: new RemoteKeys(peerClient),
      onAccepted: (env, nodes) => hub.notify(env, nodes),
      onForward: (domains) => domains.forEach((d) => outbox.kick(d)),
    };
    const keyEvents: KeyEventContext = {
      store,
      directory,
      keyLog,
      domain: identity.domain,
      now,
      onRevoked: (node) =>
        hub.disconnect(
          node,
          new EntraideError('NODE_REVOKED', `${node} was revoked by its authority`).toJSON(),
        ),
    };
    const ctx: RelayContext = {
      limits,
      federation: {
        peers,
        client: peerClient,
        verifier: new FederationVerifier(identity.domain, peers, store, now),
        outbox,
        gossip: new Gossip(identity.domain, store, peers, peerClient, keyLog, now),
        timeoutMs: opts.outbox?.timeoutMs ?? 15_000,
      },
      relay: relayInfo,
      store,
      directory,
      keyLog,
      audit,
      keyEvents,
      tokens,
      challenges: new ChallengeStore(),
      hub,
      envelopes,
      now,
      ready: () => ready,
    };

    const app = Fastify({
      logger: { level: opts.logLevel ?? process.env.LOG_LEVEL ?? 'warn' },
      bodyLimit: LIMITS.maxRequestBytes,
      return503OnClosing: true,
    });
    // The HTTP server's close waits for every connection but ends only idle ones; a connection left
    // open holds it until its client drops it: 70 s for a peer's fetch (undici keeps a connection for
    // fastify's keepAliveTimeout, 72 s, less 2 s). So once close() begins, each answer ends its
    // connection, and close() resets what is left once every request received has been answered.
    let closing: Promise<void> | undefined;
    app.addHook('onSend', async (_request, reply) => {
      if (closing) void reply.header('connection', 'close');
    });
    let answering = 0;
    let answered: (() => void) | undefined;
    app.server.on('request', (_req, res) => {
      answering++;
      res.once('close', () => {
        if (--answering === 0) answered?.();
      });
    });
    /**
     * Resets the connections left once no request is being answered (they carry none: opened,
     * unused), or after CLOSE_ANSWER_LIMIT_MS at the latest: a close never waits on a client.
     */
    const resetUnusedConnections = async () => {
      const deadline = Date.now() + CLOSE_ANSWER_LIMIT_MS;
      while (answering > 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          answered = resolve;
          setTimeout(resolve, deadline - Date.now()).unref();
        });
      }
      if (answering > 0) app.log.warn({ answering }, 'closing with requests still unanswered');
      app.server.closeAllConnections();
    };
    app.removeContentTypeParser('text/plain');
    app.setValidatorCompiler(({ schema, httpPart }) => {
      if (httpPart === 'body') {
        return (data: unknown) => {
          try {
            return { value: check(schema as TSchema, data, 'body') };
          } catch (err) {
            return { error: err as Error };
          }
        };
      }
      const fn = coercing.compile(schema);
      return (data: unknown) => {
        if (fn(data)) return { value: data };
        const e = fn.errors?.[0];
        return {
          error: new EntraideError(
            'SCHEMA_INVALID',
            `${httpPart}${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`,
          ),
        };
      };
    });
    app.setErrorHandler((err: FastifyError, request, reply) => {
      const e = mapError(err);
      if (e.code === 'INTERNAL') request.log.error({ err }, 'request failed');
      // Every refused request is in the audit log once: authentication, authorisation, bad input.
      else if (e.status < 500) {
        try {
          audit.refused(e.code, `${request.method} ${request.url.split('?')[0]}`);
        } catch (auditErr) {
          request.log.error({ err: auditErr }, 'audit append failed');
        }
      }
      if (e.retryAfter) void reply.header('retry-after', String(e.retryAfter));
      void reply.code(e.status).send(e.toJSON());
    });
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0];
      // A probe of a path that does not exist is a refused request too.
      try {
        audit.refused('NOT_FOUND', `${request.method} ${path}`);
      } catch (err) {
        request.log.error({ err }, 'audit append failed');
      }
      void reply
        .code(404)
        .send(new EntraideError('NOT_FOUND', `no route ${request.method} ${path}`).toJSON());
    });
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'entraide relay',
          version: VERSION,
          description: 'Stores and forwards end-to-end encrypted envelopes between authority nodes.',
        },
        components: {
          securitySchemes: {
            session: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (EdDSA)' },
            federation: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT (EdDSA), signed by a peer relay',
            },
          },
        },
      },
    });
    await app.register(async (scope) => publicRoutes(scope, ctx));
    await app.register(async (scope) => sessionRoutes(scope, ctx));
    await app.register(async (scope) => keyPublicRoutes(scope, ctx));
    await app.register(async (scope) => keySessionRoutes(scope, ctx));
    await app.register(async (scope) => relayRoutes(scope, ctx));
    await app.register(async (scope) => federationRoutes(scope, ctx));
    await app.register(async (scope) => auditLoginRoutes(scope, ctx));
    await app.register(async (scope) => auditRoutes(scope, ctx));
    await app.ready();

    outboxLog.target = app.log;
    outbox.start();
    ctx.federation.gossip.start(opts.gossipIntervalMs);
    audit.start(opts.auditHeadIntervalMs);
    const io = createGateway(app.server, {
      tokens,
      directory,
      hub,
      envelopes,
      log: app.log,
      refused: (code, what, who) => audit.refused(code, what, who),
    });
    const sweeper = setInterval(() => {
      try {
        store!.expire(now());
        store!.purgeFederationTokens(now());
        void store!.deleteExpiredJoins(now()).catch(() => undefined);
      } catch (err) {
        app.log.error({ err }, 'expiry sweep failed');
      }
    }, opts.sweepIntervalMs ?? 60_000);
    sweeper.unref();

    return {
      app,
      io,
      identity,
      store,
      ctx,
      audit,
      async listen(host: string, port: number) {
        const address = await app.listen({ host, port });
        ready = true;
        return address;
      },
      close() {
        closing ??= (async () => {
          ready = false;
          clearInterval(sweeper);
          audit.close();
          // Outgoing federation first: its requests in flight are aborted, and the drains, delivery
          // reports and gossip rounds that made them have stopped (writing nothing more) when this resolves.
          await Promise.all([outbox.close(), ctx.federation.gossip.close()]);
          // Then the incoming side: sockets, then HTTP requests in flight, answered before the store closes.
          io.disconnectSockets(true);
          // Stop listening at once; io.close() and app.close() then wait for the last connection to end.
          app.server.close();
          await Promise.all([io.close(), app.close().catch(() => undefined), resetUnusedConnections()]);
          await verifier.close();
          await store!.close();
          lock.release();
        })();
        return closing;
      },
    };
  } catch (err) {
    await store?.close().catch(() => undefined);
    lock.release();
    throw err;
  }
}

function mapError(err: FastifyError): EntraideError {
  if (err instanceof EntraideError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new EntraideError(
        'PAYLOAD_TOO_LARGE',
        `the body is larger than ${LIMITS.maxRequestBytes} bytes`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new EntraideError('UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new EntraideError('INVALID_JSON', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new EntraideError('INVALID_JSON', 'the body is not well-formed JSON');
  }
  if (err instanceof SyntaxError && err.statusCode === 400)
    return new EntraideError('INVALID_JSON', 'the body is not well-formed JSON');
  if (err.validation) return new EntraideError('SCHEMA_INVALID', err.message);
  return toEntraideError(err);
}
