/** What routes and socket handlers share: built once by app.ts. */
import type { KeyObject } from 'node:crypto';
import type { AuditLog } from './domain/audit-log.ts';
import type { RelayInfo } from '../shared/protocol/schemas.ts';
import type { LoginChallenges } from './auth/challenges.ts';
import type { TokenService } from './auth/tokens.ts';
import type { Directory } from './domain/directory.ts';
import type { EnvelopeContext } from './domain/envelopes.ts';
import type { BlobDesk } from './domain/blobs.ts';
import type { KeyEventContext } from './domain/key-events.ts';
import type { KeyLog } from './domain/key-log.ts';
import type { DeliveryHub } from './realtime/delivery-hub.ts';
import type { RelayStore } from './storage/relay-store.ts';
import type { Outbox } from './federation/outbox.ts';
import type { Gossip } from './federation/gossip.ts';
import type { PeerClient } from './federation/peer-client.ts';
import type { PeerRegistry } from './federation/peers.ts';
import type { FederationVerifier } from './federation/s2s-token.ts';
import type { RelayLimits } from './limits.ts';
import type { Budgets } from './budgets.ts';

export interface RelayContext {
  /** Budgets, quotas and bounds (server/limits.ts). */
  limits: RelayLimits;
  /** Rate budgets over the limits (server/budgets.ts). */
  budgets: Budgets;
  relay: RelayInfo;
  store: RelayStore;
  directory: Directory;
  keyLog: KeyLog;
  audit: AuditLog;
  keyEvents: KeyEventContext;
  tokens: TokenService;
  challenges: LoginChallenges;
  hub: DeliveryHub;
  envelopes: EnvelopeContext;
  /** Documents: blobs, their quotas, bindings, forwarding and deletion. */
  blobs: BlobDesk;
  federation: {
    peers: PeerRegistry;
    verifier: FederationVerifier;
    client: PeerClient;
    outbox: Outbox;
    gossip: Gossip;
    /** How long one request to a peer may take (ENTRAIDE_PEER_TIMEOUT_MS). */
    timeoutMs: number;
    /** The relay key, which signs the answers to peers. */
    signingKey: KeyObject;
  };
  now: () => Date;
  ready: () => boolean;
}
