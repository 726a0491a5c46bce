/**
 * What waits on the relay, in the words the storage reports it to the quota ledger
 * (server/domain/quotas.ts). An envelope waits for a local node while its delivery to that node is
 * pending, and for a peer relay while its outbox row to that peer is pending; it waits for its
 * sender while it waits for anyone.
 *
 * The store reports each change after the transaction that made it has committed, never before
 * and never for a transaction that was rolled back, so the ledger follows the database exactly.
 */

/** One pending delivery (`node` set) or one pending outbox row (`node` null), with its envelope. */
export interface WaitingRow {
  id: string;
  sender: string;
  size: number;
  node: string | null;
}

export type WaitingChange =
  /** A new envelope, waiting for these local nodes and this many peer relays. */
  | { kind: 'accepted'; id: string; sender: string; size: number; nodes: readonly string[]; peers: number }
  /** Its delivery to `node` is no longer pending: the node acknowledged it, or was revoked. */
  | { kind: 'delivery-ended'; id: string; node: string }
  /** One of its outbox rows is no longer pending: forwarded, refused for good, or given up. */
  | { kind: 'forward-ended'; id: string }
  /** Past its time to live: nothing more waits for it. */
  | { kind: 'expired'; id: string };

export type WaitingListener = (changes: readonly WaitingChange[]) => void;
