/**
 * What waits on the relay, in the words the storage reports it to the quota ledger
 * (server/domain/quotas.ts). An envelope waits for a local node while its delivery to that node is
 * pending, and for a peer relay while its outbox row to that peer is pending; it waits for its
 * sender while it waits for anyone.
 *
 * The store reports each change after the transaction that made it has committed, never before
 * and never for a transaction that was rolled back, so the ledger follows the database exactly.
 *
 * An envelope is named by its key (`envelopeKey`): its sender and its id, the pair the sender signs.
 * Two senders may use one id (one of them squatting the other's), and each envelope waits apart.
 */

/** The key of an envelope on the relay: its sender and its id (node addresses hold no space). */
export function envelopeKey(sender: string, id: string): string {
  return `${sender} ${id}`;
}

/** One pending delivery (`node` set) or one pending outbox row (`node` null), with its envelope. */
export interface WaitingRow {
  /** The envelope's key (`envelopeKey`). */
  key: string;
  sender: string;
  size: number;
  node: string | null;
}

export type WaitingChange =
  /** A new envelope, waiting for these local nodes and this many peer relays. */
  | { kind: 'accepted'; key: string; sender: string; size: number; nodes: readonly string[]; peers: number }
  /** Its delivery to `node` is no longer pending: the node acknowledged it, or was revoked. */
  | { kind: 'delivery-ended'; key: string; node: string }
  /** One of its outbox rows is no longer pending: forwarded, refused for good, or given up. */
  | { kind: 'forward-ended'; key: string }
  /** Past its time to live: nothing more waits for it. */
  | { kind: 'expired'; key: string };

export type WaitingListener = (changes: readonly WaitingChange[]) => void;
