/** socket.io: authenticates each socket with its session token, then serves push and submission. */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import type { NodeToServerEvents, ServerToNodeEvents } from '../../shared/protocol/events.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { Directory } from '../domain/directory.ts';
import { acceptEnvelope, type EnvelopeContext } from '../domain/envelopes.ts';
import type { DeliveryHub, NodeSocket } from './delivery-hub.ts';
import { toErrorBody } from '../errors.ts';

export interface GatewayDeps {
  tokens: TokenService;
  directory: Directory;
  hub: DeliveryHub;
  envelopes: EnvelopeContext;
  log: { error: (obj: unknown, msg: string) => void };
  /** Records a refused handshake or submission in the audit log (once each). */
  refused: (code: ErrorCode, what: string, who?: { node?: string }) => void;
}

export function createGateway(server: HttpServer, deps: GatewayDeps): Server {
  const io = new Server<NodeToServerEvents, ServerToNodeEvents, Record<string, never>, { node: string }>(
    server,
    {
      serveClient: false,
      // Frames a little larger than the envelope limit reach the handler and get PAYLOAD_TOO_LARGE;
      // anything beyond this is cut by engine.io before it is parsed.
      maxHttpBufferSize: 2 * LIMITS.maxRequestBytes,
      pingInterval: 10_000,
      pingTimeout: 10_000,
    },
  );

  const audit = (code: ErrorCode, what: string, who?: { node?: string }) => {
    try {
      deps.refused(code, what, who);
    } catch (err) {
      deps.log.error({ err }, 'audit append failed');
    }
  };

  io.use((socket, rawNext) => {
    const next = (err?: Error & { data?: unknown }) => {
      if (err) {
        const code =
          (err.data as { error?: { code?: ErrorCode } } | undefined)?.error?.code ?? 'TOKEN_INVALID';
        audit(code, 'socket.io handshake');
      }
      rawNext(err);
    };
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string') {
      next(
        withData(new EntraideError('AUTH_REQUIRED', 'connect with auth: { token } from POST /v1/auth/token')),
      );
      return;
    }
    deps.tokens.verify(token).then(
      (session) => {
        try {
          deps.directory.requireActive(
            session.node,
            () => new EntraideError('TOKEN_INVALID', `${session.node} is not an active node of this relay`),
          );
        } catch (err) {
          next(withData(err as EntraideError));
          return;
        }
        socket.data.node = session.node;
        // The socket lives no longer than its token: the node reconnects with a fresh one.
        const timer = setTimeout(
          () => {
            socket.emit(
              'session:closing',
              new EntraideError('TOKEN_EXPIRED', 'the session token has expired').toJSON(),
            );
            socket.disconnect(true);
          },
          Math.max(0, session.expiresAt - Date.now()),
        );
        timer.unref();
        socket.on('disconnect', () => clearTimeout(timer));
        next();
      },
      (err: unknown) =>
        next(
          withData(err instanceof EntraideError ? err : new EntraideError('TOKEN_INVALID', 'invalid token')),
        ),
    );
  });

  io.on('connection', (socket: NodeSocket) => {
    socket.on('envelope:submit', (raw, ack) => {
      if (typeof ack !== 'function') return;
      acceptEnvelope(raw, socket.data.node, deps.envelopes).then(
        (result) => ack(result),
        (err: unknown) => {
          if (!(err instanceof EntraideError)) deps.log.error({ err }, 'envelope submission failed');
          else if (err.status < 500) audit(err.code, 'socket.io envelope:submit', { node: socket.data.node });
          ack(toErrorBody(err));
        },
      );
    });
    deps.hub.attach(socket);
  });

  return io;
}

/** socket.io passes `data` of a middleware error to the client's connect_error. */
function withData(err: EntraideError): Error & { data: unknown } {
  return Object.assign(new Error(err.message), { data: err.toJSON() });
}
