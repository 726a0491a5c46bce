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
import { isOverBudget, type Budgets } from '../budgets.ts';
import { strictParser } from './strict-parser.ts';

export interface GatewayDeps {
  tokens: TokenService;
  directory: Directory;
  hub: DeliveryHub;
  envelopes: EnvelopeContext;
  budgets: Budgets;
  /** socket.io connections one node may hold at once. */
  socketsPerNode: number;
  log: { error: (obj: unknown, msg: string) => void };
  /** Records a refused submission in the audit log (once each). */
  refused: (code: ErrorCode, what: string, who: { node: string }) => void;
  /** Counts a refused handshake (no node known yet) per code and source address. */
  refusedAnonymously: (code: ErrorCode, what: string, source: string) => void;
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
      // WebSocket only: no long-polling sessions, which anyone could open and keep without a token.
      transports: ['websocket'],
      parser: strictParser,
    },
  );

  const audit = (code: ErrorCode, what: string, who: { node: string }) => {
    try {
      deps.refused(code, what, who);
    } catch (err) {
      deps.log.error({ err }, 'audit append failed');
    }
  };
  /** Sockets open per node, reserved when the handshake is accepted. */
  const open = new Map<string, number>();

  io.use((socket, rawNext) => {
    const source = deps.budgets.sourceOf(socket.request);
    // A refused handshake spends its source address's budget; past it, the answer is RATE_LIMITED.
    const refuse = (e: EntraideError) => {
      deps.budgets.take('anonymous', source).then(
        () => rawNext(withData(e)),
        (limited: unknown) => rawNext(withData(limited as EntraideError)),
      );
      try {
        deps.refusedAnonymously(e.code, 'socket.io handshake', source);
      } catch (err) {
        deps.log.error({ err }, 'audit append failed');
      }
    };
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string') {
      refuse(new EntraideError('AUTH_REQUIRED', 'connect with auth: { token } from POST /v1/auth/token'));
      return;
    }
    deps.tokens.verify(token).then(
      async (session) => {
        try {
          deps.directory.requireActive(
            session.node,
            () => new EntraideError('TOKEN_INVALID', `${session.node} is not an active node of this relay`),
          );
        } catch (err) {
          refuse(err as EntraideError);
          return;
        }
        try {
          deps.budgets.takeNow('socketEvents', session.node);
        } catch (err) {
          rawNext(withData(err as EntraideError));
          return;
        }
        const held = open.get(session.node) ?? 0;
        if (held >= deps.socketsPerNode) {
          rawNext(
            withData(
              new EntraideError(
                'RATE_LIMITED',
                `${session.node} already holds ${held} connections, the most one node may hold; close one`,
                { retryAfter: 30 },
              ),
            ),
          );
          return;
        }
        open.set(session.node, held + 1);
        socket.on('disconnect', () => {
          const n = (open.get(session.node) ?? 1) - 1;
          if (n > 0) open.set(session.node, n);
          else open.delete(session.node);
        });
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
        rawNext();
      },
      (err: unknown) =>
        refuse(err instanceof EntraideError ? err : new EntraideError('TOKEN_INVALID', 'invalid token')),
    );
  });

  io.on('connection', (socket: NodeSocket) => {
    // One envelope and an acknowledgement: any other shape is answered SCHEMA_INVALID when it can be.
    socket.on('envelope:submit', (...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack !== 'function') return; // nobody to answer: the node sent no acknowledgement
      const answer = ack as (body: unknown) => void;
      const node = socket.data.node;
      if (args.length !== 2) {
        const e = new EntraideError(
          'SCHEMA_INVALID',
          'envelope:submit takes one envelope and an acknowledgement',
        );
        audit(e.code, 'socket.io envelope:submit', { node });
        answer(e.toJSON());
        return;
      }
      let accepting;
      try {
        deps.budgets.takeNow('socketEvents', node);
        accepting = acceptEnvelope(args[0], node, deps.envelopes);
      } catch (err) {
        accepting = Promise.reject(err as Error);
      }
      accepting.then(
        (result) => answer(result),
        (err: unknown) => {
          if (!(err instanceof EntraideError)) deps.log.error({ err }, 'envelope submission failed');
          else if (isOverBudget(err.code)) {
            // Past its budget a node is counted, not written once per refusal.
            try {
              deps.refusedAnonymously(
                err.code,
                'socket.io envelope:submit',
                deps.budgets.sourceOf(socket.request),
              );
            } catch (auditErr) {
              deps.log.error({ err: auditErr }, 'audit append failed');
            }
          } else if (err.status < 500) audit(err.code, 'socket.io envelope:submit', { node });
          answer(toErrorBody(err));
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
