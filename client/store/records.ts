/** The records the node's storage module reads and writes (client/store/node-store.ts). */

export interface StoredMessage {
  id: string;
  direction: 'in' | 'out';
  sender: string;
  recipients: string[];
  subject: string;
  body: string;
  language: string | null;
  sentAt: string;
  receivedAt: string | null;
  readAt: string | null;
  acceptedAt: string | null;
  /** The content type inside: message, request, status, supplement, receipts. */
  kind: MessageKind;
  /** The request the item belongs to, if any. */
  requestId: string | null;
  /** The handling code (JSON) that travelled with it, if any. */
  handling: string | null;
  /**
   * For an item this node sent: `queued` while it waits in the outbox for the relay to accept it
   * (sealed and stored; it goes out by itself when the link returns), `sent` once accepted. Null
   * for an item received.
   */
  state: 'queued' | 'sent' | null;
}

export type MessageKind =
  | 'message'
  | 'request'
  | 'status'
  | 'supplement'
  | 'receipts'
  | 'network'
  | 'meeting'
  | 'hours'
  | 'consultation'
  | 'consultation-comment';

export interface NewMessage extends Omit<StoredMessage, 'readAt' | 'state'> {
  envelope: string;
  /** The content as JSON, for every kind but plain messages (whose subject and body are columns). */
  content: string | null;
}

export interface PinRecord {
  authority: string;
  masterKey: string;
  safetyCode: string;
  pinnedAt: Date;
  verifiedAt: Date | null;
  /** Set once an officer confirmed sending to it unverified (the CLI asks once). */
  confirmedAt?: Date | null;
}

export interface KeyLogHeadRecord {
  relay: string;
  size: number;
  root: string;
  head: string;
  baseline: number;
  verifiedAt: Date;
}

export interface KeyLogLeafRecord {
  idx: number;
  authority: string;
  leaf: string;
  leafHash: string;
}

/** What an alarm is about; each has a label in the web app's codes catalogues (`alarm.<kind>`). */
export type AlarmKind =
  | 'log-inconsistent'
  | 'keylog-split-view'
  | 'rotation-failed'
  | 'relay-key-rotated'
  | 'master-key-rotated'
  | 'master-key-substituted'
  | 'forged-event'
  | 'own-key-unknown'
  | 'made-elsewhere'
  | 'gossip-head-invalid'
  | 'peer-key-changed'
  | 'peer-key-conflict'
  | 'peer-key-pinned'
  | 'peer-key-rotated'
  | 'peer-key-log-dropped';

export interface AlarmRecord {
  id: number;
  raisedAt: Date;
  kind: AlarmKind;
  /** The relay whose key log the alarm is about, if it is about one. */
  relay: string | null;
  authority: string | null;
  idx: number | null;
  message: string;
  resolvedAt: Date | null;
}

/** A relay's key-log head this node verified and one another node gossiped, which cannot both be true. */
export interface SplitViewRecord {
  id: number;
  raisedAt: Date;
  relay: string;
  /** The node whose signed content carried the other head, and that envelope. */
  sender: string;
  envelopeId: string;
  /** Both heads as the relay signed them (SignedTreeHead JSON). */
  ours: string;
  theirs: string;
}

export interface RejectionRecord {
  envelopeId: string;
  sender: string;
  code: string;
  reason: string;
  receivedAt: string;
}
