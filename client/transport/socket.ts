/**
 * The node's socket.io link to its relay: pushed envelopes are handed to the node and
 * acknowledged only once stored; submissions go over the open socket. Reconnects with a fresh
 * token after the relay closes an expired session; a revoked node stops trying.
 */
import type { Socket } from 'socket.io-client';
import { EntraideError, errorFromBody } from '../../shared/errors.ts';
import type { NodeToServerEvents, ServerToNodeEvents } from '../../shared/protocol/events.ts';
import { SubmitResult, type Envelope } from '../../shared/protocol/schemas.ts';
import { describeAjvError, validatorOf } from '../../shared/protocol/validate.ts';
import type { RelayClient } from './relay-client.ts';

type NodeSocket = Socket<ServerToNodeEvents, NodeToServerEvents>;

const SUBMIT_TIMEOUT_MS = 30_000;

export interface SocketHandlers<R> {
  /** Stores a pushed envelope; the relay is acknowledged once it resolves. */
  onEnvelope: (raw: unknown) => Promise<R>;
  /** Told what was stored, after the acknowledgement. */
  onStored?: ((result: R) => void) | undefined;
  onDrained?: (pending: number) => void;
  onError?: (err: EntraideError) => void;
  onConnect?: () => void;
  onDisconnect?: (reason: string) => void;
  /**
   * Resolve at once when the relay cannot be reached at first, and connect when it answers (the
   * node's service starts during an outage); otherwise the first failure rejects.
   */
  startOffline?: boolean;
}

export class RelaySocket {
  private socket: NodeSocket | undefined;

  constructor(
    private readonly url: string,
    private readonly relay: RelayClient,
  ) {}

  get open(): boolean {
    return this.socket !== undefined;
  }

  get connected(): boolean {
    return this.socket?.connected === true;
  }

  /** Submits over the open socket; the answer is checked like an HTTP answer. */
  async submit(envelope: Envelope): Promise<SubmitResult> {
    const socket = this.socket;
    if (!socket?.connected)
      throw new EntraideError('RELAY_UNREACHABLE', 'the socket to the relay is not open');
    // No acknowledgement in time is the relay not answering, as an HTTP timeout is.
    const answer: unknown = await socket
      .timeout(SUBMIT_TIMEOUT_MS)
      .emitWithAck('envelope:submit', envelope)
      .catch(() => {
        throw new EntraideError('RELAY_UNREACHABLE', 'the relay did not acknowledge the envelope in time');
      });
    if (typeof answer === 'object' && answer !== null && 'error' in answer) throw errorFromBody(answer);
    const valid = validatorOf(SubmitResult);
    if (!valid(answer)) {
      throw new EntraideError(
        'RELAY_ANSWER_INVALID',
        describeAjvError(valid.errors, "the relay's answer to envelope:submit"),
      );
    }
    return answer as SubmitResult;
  }

  /** Connects; resolves once the relay accepted the handshake, rejects with its refusal. */
  async connect<R>(handlers: SocketHandlers<R>): Promise<void> {
    if (this.socket) return;
    // Loaded on first use: a CLI command that does not listen spares its start-up (~0.2 s).
    const { io } = await import('socket.io-client');
    if (this.socket) return;
    const socket: NodeSocket = io(this.url, {
      auth: (cb) => {
        this.relay.token().then(
          (token) => cb({ token }),
          (err: unknown) => {
            handlers.onError?.(
              err instanceof EntraideError ? err : new EntraideError('RELAY_UNREACHABLE', 'login failed'),
            );
            cb({});
          },
        );
      },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.socket = socket;
    socket.on('envelope', (envelope, ack) => {
      handlers.onEnvelope(envelope).then(
        (result) => {
          ack({ ok: true });
          handlers.onStored?.(result);
        },
        (err: unknown) => {
          const e =
            err instanceof EntraideError
              ? err
              : new EntraideError('INTERNAL', 'could not store the envelope');
          ack(e.toJSON());
          handlers.onError?.(e);
        },
      );
    });
    socket.on('inbox:drained', (info: unknown) => {
      const pending = (info as { pending?: unknown } | null)?.pending;
      if (typeof pending === 'number') handlers.onDrained?.(pending);
    });
    socket.on('session:closing', (info) => {
      this.relay.invalidate();
      const e = errorFromBody(info);
      if (e.code === 'NODE_REVOKED') handlers.onError?.(e);
    });
    socket.on('connect', () => handlers.onConnect?.());
    // socket.io reconnects by itself after network failures, but not when the relay closed the socket
    // (it does so when the session token expires) nor after a refused handshake: log in again, retry.
    let retry: NodeJS.Timeout | undefined;
    const reconnectSoon = (delayMs: number) => {
      this.relay.invalidate();
      if (retry || this.socket !== socket) return;
      retry = setTimeout(() => {
        retry = undefined;
        if (this.socket === socket && !socket.connected) socket.connect();
      }, delayMs);
      retry.unref();
    };
    socket.on('disconnect', (reason) => {
      handlers.onDisconnect?.(reason);
      if (reason === 'io server disconnect') reconnectSoon(250);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { data?: unknown }) => {
        if (!err.data && handlers.startOffline) {
          // A network failure: socket.io goes on trying by itself.
          socket.off('connect', onConnect);
          socket.off('connect_error', onError);
          resolve();
          return;
        }
        const e = err.data
          ? errorFromBody(err.data)
          : new EntraideError('RELAY_UNREACHABLE', `cannot reach the relay at ${this.url}`);
        socket.off('connect', onConnect);
        socket.off('connect_error', onError);
        this.close();
        reject(e);
      };
      const onConnect = () => {
        socket.off('connect_error', onError);
        resolve();
      };
      socket.once('connect', onConnect);
      socket.on('connect_error', onError);
    });
    socket.on('connect_error', (err: Error & { data?: unknown }) => {
      if (!err.data) return; // a network failure: socket.io retries by itself
      const e = errorFromBody(err.data);
      handlers.onError?.(e);
      if (e.code === 'NODE_REVOKED') {
        // A revoked node stays revoked: stop trying.
        socket.disconnect();
        if (this.socket === socket) this.socket = undefined;
        return;
      }
      // A refusal that names its wait (RATE_LIMITED, STORAGE_UNAVAILABLE) is retried no sooner.
      reconnectSoon(Math.max(2_000, (e.retryAfter ?? 0) * 1000));
    });
  }

  close(): void {
    this.socket?.disconnect();
    this.socket = undefined;
  }
}
