/**
 * `entraide serve`: the node as one long-running local service. It unlocks the keystore once,
 * stays connected to its relay as `listen` does (what arrives is stored and acknowledged, receipts
 * signed and sent, keys kept fresh, queued items sent again), and answers the officer's CLI commands
 * on the same folder through its JSON API (service-app.ts), so that they need neither a start-up
 * nor an unlock of their own. It writes service.json (owner only) with its URL and token, and
 * removes it when it stops.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { toBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { NewAlarm } from '../key-log-monitor.ts';
import { AuthorityNode, type ReceiveOutcome } from '../node.ts';
import { buildServiceApp } from './service-app.ts';
import { removeServiceFile, writeServiceFile, type ServiceFile } from './service-file.ts';

export const DEFAULT_SERVICE_PORT = 7900;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export interface ServeOptions {
  home: string;
  passphrase: string;
  host?: string | undefined;
  port?: number | undefined;
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

/** Opens the node, connects it to its relay, serves the API; resolves once service.json is written. */
export async function startService(o: ServeOptions): Promise<RunningService> {
  const host = o.host ?? '127.0.0.1';
  checkServiceHost(host);
  const port = o.port ?? DEFAULT_SERVICE_PORT;
  const node = await AuthorityNode.open(o.home, o.passphrase);
  const emit = o.onEvent ?? (() => undefined);
  let connected = false;
  let app: FastifyInstance | undefined;
  try {
    node.onAlarm((alarm) => emit({ kind: 'alarm', alarm }));
    const token = toBase64url(randomBytes(32));
    let bound = port;
    app = await buildServiceApp({ node, token, port: () => bound, connected: () => connected });
    await app.listen({ host: host === 'localhost' ? '127.0.0.1' : host, port });
    const address = app.server.address();
    bound = typeof address === 'object' && address ? address.port : port;
    await node.listen({
      onReceive: (outcome) => emit({ kind: 'received', outcome }),
      onConnect: () => {
        connected = true;
        emit({ kind: 'connected' });
      },
      onDisconnect: (reason) => {
        connected = false;
        if (reason !== 'io client disconnect') emit({ kind: 'disconnected', reason });
      },
      onError: (error) => emit({ kind: 'error', error }),
    });
    const file: ServiceFile = {
      url: `http://${host === '::1' ? '[::1]' : '127.0.0.1'}:${bound}`,
      pid: process.pid,
      token,
      startedAt: new Date().toISOString(),
    };
    writeServiceFile(o.home, file);
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      node,
      app: running,
      file,
      close: () =>
        (closing ??= (async () => {
          removeServiceFile(o.home, process.pid);
          await running.close();
          node.stopListening();
          await node.close();
        })()),
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await node.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new EntraideError('USAGE', `port ${port} on ${host} is taken: choose another with --port`);
    throw err;
  }
}
