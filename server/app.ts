/**
 * Builds the relay: storage, identity, directory, fastify routes and the socket.io gateway.
 * It never listens by itself; main.ts (or a test) calls listen().
 */
import { AuditLog } from './domain/audit-log.ts';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import helmet from '@fastify/helmet';
import { Ajv } from 'ajv';
import type { Server } from 'socket.io';
import type { TSchema } from '@sinclair/typebox';
import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { EntraideError } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { check } from '../shared/protocol/validate.ts';
import { formatsToPublish } from '../shared/protocol/formats.ts';
import { ENVELOPE_FORMATS, type EnvelopeFormat } from '../shared/protocol/schemas.ts';
import { LoginChallenges } from './auth/challenges.ts';
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
import { blobRoutes } from './routes/blobs.ts';
import { BlobDesk } from './domain/blobs.ts';
import { FolderBlobFiles, type BlobFiles } from './storage/blob-files.ts';
import { Outbox, type OutboxOptions } from './federation/outbox.ts';
import { PeerClient } from './federation/peer-client.ts';
import { PeerRegistry } from './federation/peers.ts';
import { FederationVerifier } from './federation/s2s-token.ts';
import { Gossip } from './federation/gossip.ts';
import { PeerKeyFollower } from './federation/peer-key-follow.ts';
import { RemoteKeys } from './federation/remote-keys.ts';
import { RelayStore } from './storage/relay-store.ts';
import { QuotaLedger } from './domain/quotas.ts';
import { toEntraideError } from './errors.ts';
import { isOverBudget, registerBudgets } from './budgets.ts';
import { clientError, frameworkError, MAX_PARAM_LENGTH } from './framework-errors.ts';
import { storageFaultOf } from '../prisma/storage-faults.ts';
import { checkJsonText } from '../shared/protocol/strict-json.ts';
import { relayLimits, type RelayLimits } from './limits.ts';

export const VERSION = '0.1.0';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a route that wrote its own audit entry for the refusal it is about to answer. */
    refusalAudited: boolean;
  }
}

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
  /**
   * The envelope formats the relay accepts and advertises (default: every format this code knows).
   * [1] models a relay not upgraded yet: it refuses anything newer and advertises nothing.
   */
  formats?: readonly EnvelopeFormat[];
  /** Where blobs (documents) are kept (default: the folder blobs/ in the data folder). */
  blobFiles?: BlobFiles;
  /** Serve HTTPS (and socket.io over wss) with this PEM pair; main.ts replaces it as the files change. */
  https?: { cert: string; key: string };
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
  /** Documents: blobs, their quotas, bindings and deletion. */
  blobs: BlobDesk;
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
    // Both connections must commit durably (WAL, synchronous=FULL) or the relay does not start.
    await store.connect();
    store.setLocalDomain(identity.domain);
    // What waits on the relay, loaded once and then told of every commit (none can come between).
    const quotas = limits.enforced ? QuotaLedger.load(limits.quota, store.waitingEnvelopes()) : undefined;
    if (quotas) store.watchWaiting((changes) => quotas.apply(changes));
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
      limits.pages.peerAnswerBytes,
    );
    // The outbox logs through fastify's logger, which exists once the app is built below.
    const outboxLog: { target?: { warn: (obj: unknown, msg: string) => void } } = {};
    const outbox = new Outbox(
      store,
      peers,
      peerClient,
      now,
      { warn: (obj, msg) => outboxLog.target?.warn(obj, msg) },
      { batchBytes: limits.pages.federationBatchBytes, ...opts.outbox },
    );
    // Peers that rotated their key are followed through the rollovers they sign (peer-key-follow.ts).
    const followPeerKeys = new PeerKeyFollower(store, peers, (msg) => outboxLog.target?.warn({}, msg));
    peerClient.followKeysWith(followPeerKeys);
    const tokens = new TokenService(
      identity.domain,
      identity.privateKeyObject,
      identity.publicKeyObject,
      opts.tokenLifetimeSeconds,
      now,
    );
    const hub = new DeliveryHub(store, now, opts.ackTimeoutMs, undefined, limits.pages.catchUpBytes);
    const formats = opts.formats ?? ENVELOPE_FORMATS;
    const relayInfo = {
      domain: identity.domain,
      publicKey: identity.publicKeyB64,
      version: VERSION,
      // Once the key was rotated: the signed rollovers its nodes, auditors and peers follow.
      ...(identity.keyHistory.length > 0 ? { keyHistory: identity.keyHistory } : {}),
      // A relay that reads format 1 only says nothing, as one from before formats did.
      ...(formatsToPublish(formats) ? { formats: [...formats] } : {}),
    };
    const blobs = new BlobDesk(
      store,
      opts.blobFiles ?? new FolderBlobFiles(join(opts.dataDir, 'blobs')),
      limits.blobs,
      limits.enforced,
      now,
    );
    await blobs.sweepFolder();
    outbox.forwardBlobsWith(blobs);
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
      quotas,
      onAccepted: (env, nodes) => hub.notify(env, nodes),
      onForward: (domains) => domains.forEach((d) => outbox.kick(d)),
      formats,
    };
    const keyEvents: KeyEventContext = {
      store,
      directory,
      keyLog,
      domain: identity.domain,
      now,
      limits,
      onRevoked: (node) =>
        hub.disconnect(
          node,
          new EntraideError('NODE_REVOKED', `${node} was revoked by its authority`).toJSON(),
        ),
    };
    const app = Fastify({
      logger: { level: opts.logLevel ?? process.env.LOG_LEVEL ?? 'warn' },
      bodyLimit: LIMITS.maxRequestBytes,
      return503OnClosing: true,
      ...(opts.https ? { https: opts.https } : {}),
      // Behind the reverse proxy, request.ip is the client's address from X-Forwarded-For.
      trustProxy: limits.trustedProxies.length > 0 ? limits.trustedProxies : false,
      routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
      // What fastify and the HTTP parser would answer by themselves, in the registry's words.
      frameworkErrors: frameworkError((code, what, source) => audit.refusedAnonymously(code, what, source)),
      clientErrorHandler: clientError,
    });
    // Security headers on every answer (a JSON API: no framing, no sniffing, no referrer, HSTS).
    await app.register(helmet, { global: true });
    const budgets = await registerBudgets(app, limits);
    const ctx: RelayContext = {
      limits,
      budgets,
      federation: {
        peers,
        client: peerClient,
        verifier: new FederationVerifier(identity.domain, peers, store, now, followPeerKeys),
        outbox,
        gossip: new Gossip(identity.domain, store, peers, peerClient, keyLog, now, followPeerKeys),
        timeoutMs: opts.outbox?.timeoutMs ?? 15_000,
        signingKey: identity.privateKeyObject,
      },
      relay: relayInfo,
      store,
      directory,
      keyLog,
      audit,
      keyEvents,
      tokens,
      challenges: new LoginChallenges(),
      hub,
      envelopes,
      blobs,
      now,
      ready: () => ready,
    };

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
    app.decorateRequest('refusalAudited', false);
    app.removeContentTypeParser('text/plain');
    // JSON bodies: no key twice in an object, no __proto__ or constructor key, bounded nesting
    // (shared/protocol/strict-json.ts), then fastify's own parser, which refuses prototype poisoning.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      try {
        checkJsonText(body as string);
      } catch (err) {
        done(err as Error, undefined);
        return;
      }
      parseJson(request, body as string, done);
    });
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
      else if (e.code === 'STORAGE_UNAVAILABLE') request.log.warn({ err }, 'storage unavailable');
      // Every refused request is in the audit log: once each when the caller is known (a node,
      // a peer, an auditor), counted per code and source address per interval when it is not.
      else if (e.status < 500 && !request.refusalAudited) {
        const what = `${request.method} ${request.url.split('?')[0]}`;
        // Past a budget, known callers are counted too: a refusal must not cost a durable write.
        const caller = isOverBudget(e.code) ? undefined : callerOf(request);
        try {
          if (caller) audit.refused(e.code, what, caller);
          else audit.refusedAnonymously(e.code, what, request.ip);
        } catch (auditErr) {
          request.log.error({ err: auditErr }, 'audit append failed');
        }
      }
      if (e.retryAfter) void reply.header('retry-after', String(e.retryAfter));
      void reply.code(e.status).send(e.toJSON());
    });
    // A probe of a path that does not exist is a refused anonymous request like any other.
    app.setNotFoundHandler(async (request) => {
      await budgets.take('anonymous', request.ip);
      throw new EntraideError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
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
            auditor: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (EdDSA), an auditor’s token' },
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
    await app.register(async (scope) => blobRoutes(scope, ctx));
    await app.ready();

    outboxLog.target = app.log;
    outbox.start();
    ctx.federation.gossip.start(opts.gossipIntervalMs);
    audit.start(opts.auditHeadIntervalMs);
    audit.startRefusals(limits.refusalIntervalSeconds * 1000);
    const io = createGateway(app.server, {
      tokens,
      directory,
      hub,
      envelopes,
      log: app.log,
      budgets,
      socketsPerNode: limits.socketsPerNode,
      refused: (code, what, who) => audit.refused(code, what, who),
      refusedAnonymously: (code, what, source) => audit.refusedAnonymously(code, what, source),
    });
    const sweeper = setInterval(() => {
      try {
        store!.expire(now());
        store!.purgeFederationTokens(now());
        void store!.deleteExpiredJoins(now()).catch(() => undefined);
        void blobs.collect().catch((err: unknown) => app.log.error({ err }, 'blob sweep failed'));
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
      blobs,
      async listen(host: string, port: number) {
        const address = await app.listen({ host, port });
        ready = true;
        // A relay whose key was rotated shows its peers the new key at once: each request of this
        // gossip round is signed with it, and a peer that fails to verify one follows the rollover.
        if (identity.keyHistory.length > 0) void ctx.federation.gossip.round().catch(() => undefined);
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

/** Who made a request, once authenticated: a node's session, a peer's signature, an auditor's token. */
function callerOf(request: FastifyRequest): { node?: string; peer?: string; auditor?: string } | undefined {
  const r = request as FastifyRequest & {
    sessionNode?: string;
    peer?: { domain: string } | null;
    auditor?: string;
  };
  if (r.sessionNode) return { node: r.sessionNode };
  if (r.peer) return { peer: r.peer.domain };
  if (r.auditor) return { auditor: r.auditor };
  return undefined;
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
  // Any other refusal of fastify's own (a body cut short, a bad Content-Length): the request was unreadable.
  if (
    !storageFaultOf(err) &&
    typeof err.statusCode === 'number' &&
    err.statusCode >= 400 &&
    err.statusCode < 500
  )
    return new EntraideError(
      'SCHEMA_INVALID',
      'the request could not be read (its body was cut short or malformed)',
    );
  return toEntraideError(err);
}
