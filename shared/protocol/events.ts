/** socket.io event maps shared by the relay and the node. */
import type { ErrorBody } from '../errors.ts';
import type { Envelope, SubmitResult } from './schemas.ts';

export type Ack<T> = (answer: T | ErrorBody) => void;

/** Events the relay sends to a node. */
export interface ServerToNodeEvents {
  /** One envelope for this node; the node acknowledges after it has stored it. */
  envelope: (envelope: Envelope, ack: (answer: { ok: true } | ErrorBody) => void) => void;
  /** Sent once after the backlog present at connection time has been pushed. */
  'inbox:drained': (info: { pending: number }) => void;
  /** Sent before the relay closes the socket, with the reason. */
  'session:closing': (info: ErrorBody) => void;
}

/** Events a node sends to the relay. */
export interface NodeToServerEvents {
  'envelope:submit': (envelope: unknown, ack: Ack<SubmitResult>) => void;
}
