/**
 * The narrow port between a node's desks (requests, receipts, networks, meetings, keys) and the
 * node that hosts them. Desks import this file, never `node.ts`: what one desk needs of another
 * is handed to its constructor. Types only, so that nothing here imports back up.
 */
import type { KeyEvent, KeyEventResult } from '../shared/protocol/key-log.ts';
import type { AuthorityProfile } from '../shared/protocol/profile.ts';
import type { Content } from '../shared/protocol/content.ts';
import type { Handling } from '../shared/requests/handling.ts';
import type { FileEntry } from '../shared/files/manifest.ts';
import type { Attachment } from './documents/seal-file.ts';
import type { NodeConfig } from './home.ts';
import type { Keystore, KeyMaterial } from './keystore.ts';
import type { MessageKind, NodeStore } from './store/node-store.ts';
import type { RelayClient } from './transport/relay-client.ts';
import type { TrustStore } from './trust.ts';

export interface SendOptions {
  to: string[];
  subject: string;
  body: string;
  language?: string;
  ttl?: number;
  /** The request the message belongs to. */
  request?: string;
  handling?: Handling;
  /** Files to seal and send with the message (documents). */
  attachments?: Attachment[];
  /** Documents sealed already (a page's uploads): sent as they are. */
  files?: FileEntry[];
}

export interface SendResult {
  id: string;
  /** When the relay accepted it; null while it waits in the outbox (`queued`). */
  acceptedAt: string | null;
  /**
   * True when the relay did not answer: the item is sealed and stored in the node's outbox and
   * goes out by itself when the link returns (listen or serve, or the next command that reaches it).
   */
  queued: boolean;
  recipients: string[];
  sentAt: string;
  /** SHA-256 of the envelope's ciphertext, as the relay's audit log and receipts name it. */
  ciphertextHash: string;
}

/** How an item is listed in the node's own record, sent or received. */
interface ItemListing {
  kind: MessageKind;
  subject: string;
  body: string;
  language: string | null;
  requestId: string | null;
}

/** What `dispatch` seals, sends and records. */
export interface Dispatch {
  to: string[];
  content: Content;
  /** How the item is listed in the node's own record. */
  record: ItemListing & { handling: Handling | null };
  /** Seal for only these nodes of `authority` (a handling code with visibility "named"). */
  restrict?: { authority: string; nodes: string[] } | undefined;
  /** Also seal for this authority's other nodes (default true). */
  ownNodes?: boolean;
  /** Keep the item in the node's database (default true; receipts are tracked elsewhere). */
  store?: boolean;
  ttl?: number | undefined;
  /** The documents the content names, sealed already (documents/desk.ts): the envelope lists their blobs. */
  files?: FileEntry[];
  /** Runs in the transaction that stores the item, before it is submitted. */
  then?: (envelope: { id: string; sentAt: string }) => void;
}

/** What an acceptor says to store for an item that arrived, and what to do in the same transaction. */
export interface AcceptedRecord {
  /** The handling code and the content as stored: JSON text, or null. */
  record: ItemListing & { handling: string | null; content: string | null };
  then?: () => void;
}

/** What every desk may use of its node. */
export interface NodePort {
  /** This node's address, e.g. desk1/sn.moj@relay.wacap.example. */
  readonly address: string;
  /** This node's authority address, e.g. sn.moj@relay.wacap.example. */
  readonly authority: string;
  readonly identitySecretKey: Uint8Array;
  /** The identity public key, base64url, as certified. */
  readonly identityPublicKey: string;
  readonly store: NodeStore;
  /** Seals, stores and submits any content (see `Outbound.dispatch`). */
  dispatch(d: Dispatch): Promise<SendResult>;
  /** Sends a plain message. */
  send(opts: SendOptions): Promise<SendResult>;
  /** Seals files into the node's documents folder, for an item about to be sent. */
  readonly documents: { seal(attachments: readonly Attachment[]): Promise<FileEntry[]> };
  /** An authority's profile in force, from its verified key events (undefined: none published). */
  profileOf(authority: string): Promise<AuthorityProfile | undefined>;
}

/** What the key desk (key-manager.ts) needs besides: the keystore, the key log, the relay. */
export interface KeyPort extends NodePort {
  readonly config: NodeConfig;
  readonly keystore: Keystore;
  readonly keys: KeyMaterial;
  readonly approved: boolean;
  readonly trust: TrustStore;
  readonly relay: RelayClient;
  /** Reloads the private encryption keys after the keystore changed. */
  loadEncryptionKeys(): void;
  /** The envelope formats this node reads, published with each new encryption key. */
  readonly formats: readonly number[];
  /** Logs a key event this node made (remembered first, for self-monitoring). */
  publish(event: KeyEvent): Promise<KeyEventResult>;
}
