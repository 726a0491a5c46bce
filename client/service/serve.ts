/**
 * `entraide serve`: the node as one long-running local service. It unlocks the keystore once,
 * stays connected to its relay as `listen` does (what arrives is stored and acknowledged, receipts
 * signed and sent, keys kept fresh, queued items sent again), and answers the officer's CLI commands
 * on the same folder through its JSON API (service-app.ts), so that they need neither a start-up
 * nor an unlock of their own. It writes service.json (owner only) with its URL and token, and
 * removes it when it stops.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { toBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { NewAlarm } from '../key-log-monitor.ts';
import { AuthorityNode, type ReceiveOutcome } from '../node.ts';
import { LiveEvents } from './live-events.ts';
import { officerRole } from './officer-role.ts';
import { buildServiceApp } from './service-app.ts';
import { DEFAULT_IDLE_LOCK_MINUTES, Sessions } from './sessions.ts';
import { announceService, removeServiceFile, type ServiceFile } from './service-file.ts';

export const DEFAULT_SERVICE_PORT = 7900;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export interface ServeOptions {
  home: string;
  passphrase: string;
  host?: string | undefined;
  port?: number | undefined;
  /** Minutes without an officer's request after which the web app locks (default 15). */
  idleLockMinutes?: number | undefined;
  /** The built web app (default: dist/web of this checkout). */
  webRoot?: string | undefined;
  /** What happens, for the operator's terminal. */
  onEvent?: (e: ServiceEvent) => void;
}

export type ServiceEvent =
  | { kind: 'received'; outcome: ReceiveOutcome }
  | { kind: 'connected' }
  | { kind: 'disconnected'; reason: string }
  | { kind: 'alarm'; alarm: NewAlarm }
  | { kind: 'error'; error: EntraideError };

export interface RunningService {
  node: AuthorityNode;
  app: FastifyInstance;
  file: ServiceFile;
  close(): Promise<void>;
}

export function checkServiceHost(host: string): void {
  if (!LOOPBACK.has(host)) {
    throw new EntraideError(
      'USAGE',
      `the node’s service listens on this machine only (127.0.0.1, ::1 or localhost), not on ${host}: it holds the node’s open keys, and serving them to a network needs TLS, which entraide serve does not offer yet. Reach it from elsewhere through an SSH tunnel`,
    );
  }
}

/** The built web app of this checkout: dist/web beside the compiled code, or under the sources. */
export function defaultWebRoot(): string | undefined {
  const candidates = ['../../web/', '../../dist/web/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((c) => existsSync(`${c}index.html`));
}

/** Opens the node, connects it to its relay, serves the API; resolves once service.json is written. */
export async function startService(o: ServeOptions): Promise<RunningService> {
  const host = o.host ?? '127.0.0.1';
  checkServiceHost(host);
  const port = o.port ?? DEFAULT_SERVICE_PORT;
  const node = await AuthorityNode.open(o.home, o.passphrase);
  // The service needs the node's own keys all the time; the master key only for an operation an
  // officer confirms with the passphrase (approve, revoke, rotate): it stays in the keystore file.
  node.keystore.withholdMasterKey();
  const live = new LiveEvents();
  const sessions = new Sessions(o.idleLockMinutes ?? DEFAULT_IDLE_LOCK_MINUTES);
  sessions.onEnd((id) => live.locked(id));
  const sweep = setInterval(() => sessions.sweep(), 15_000);
  sweep.unref();
  const report = o.onEvent ?? (() => undefined);
  const emit = (e: ServiceEvent) => {
    report(e);
    tellPages(live, e);
  };
  let connected = false;
  let app: FastifyInstance | undefined;
  try {
    node.onAlarm((alarm) => emit({ kind: 'alarm', alarm }));
    const token = toBase64url(randomBytes(32));
    let bound = port;
    app = await buildServiceApp({
      role: officerRole(node, () => connected, live),
      token,
      port: () => bound,
      sessions,
      live,
      webRoot: o.webRoot ?? defaultWebRoot(),
    });
    await app.listen({ host: host === 'localhost' ? '127.0.0.1' : host, port });
    const address = app.server.address();
    bound = typeof address === 'object' && address ? address.port : port;
    // Documents come down in the background as their items arrive (and, after a restart, as soon as
    // the relay answers): an open page shows them held, or damaged, once that is known.
    const fetchDocuments = (outcome?: ReceiveOutcome) => {
      const id = outcome?.kind === 'message' ? outcome.message.id : undefined;
      if (outcome && (id === undefined || node.documents.of(id).length === 0)) return;
      void node.documents
        .fetch(id)
        .then(() => {
          live.changed('documents', id);
          if (outcome?.kind === 'message' && outcome.message.requestId)
            live.changed('requests', outcome.message.requestId);
        })
        .catch((err: unknown) => {
          if (err instanceof EntraideError && err.code !== 'RELAY_UNREACHABLE')
            emit({ kind: 'error', error: err });
        });
    };
    await node.listen({
      onReceive: (outcome) => {
        emit({ kind: 'received', outcome });
        fetchDocuments(outcome);
      },
      onConnect: () => {
        connected = true;
        emit({ kind: 'connected' });
        fetchDocuments();
      },
      onDisconnect: (reason) => {
        connected = false;
        if (reason !== 'io client disconnect') emit({ kind: 'disconnected', reason });
      },
      onError: (error) => emit({ kind: 'error', error }),
      startOffline: true,
    });
    const file = announceService(o.home, host, bound, token);
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      node,
      app: running,
      file,
      close: () =>
        (closing ??= (async () => {
          removeServiceFile(o.home, process.pid);
          clearInterval(sweep);
          live.close();
          await running.close();
          node.stopListening();
          await node.close();
        })()),
    };
  } catch (err) {
    clearInterval(sweep);
    live.close();
    await app?.close().catch(() => undefined);
    await node.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new EntraideError('USAGE', `port ${port} on ${host} is taken: choose another with --port`);
    throw err;
  }
}

/** What open pages refresh when the node receives, connects, loses its relay or raises an alarm. */
function tellPages(live: LiveEvents, e: ServiceEvent): void {
  if (e.kind === 'connected' || e.kind === 'disconnected') live.connection(e.kind === 'connected');
  else if (e.kind === 'alarm') live.changed('alarms');
  else if (e.kind === 'received') {
    const o = e.outcome;
    if (o.kind === 'receipts') live.changed('sent', o.envelopeId);
    else if (o.kind === 'message') {
      if (o.message.requestId) live.changed('requests', o.message.requestId);
      live.changed(o.message.kind === 'meeting' ? 'meetings' : 'inbox', o.message.id);
    }
  }
}
