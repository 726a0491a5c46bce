/** What routes and socket handlers share: built once by app.ts. */
import type { RelayInfo } from '../shared/protocol/schemas.ts';
import type { ChallengeStore } from './auth/challenges.ts';
import type { TokenService } from './auth/tokens.ts';
import type { Directory } from './domain/directory.ts';
import type { EnvelopeContext } from './domain/envelopes.ts';
import type { KeyEventContext } from './domain/key-events.ts';
import type { KeyLog } from './domain/key-log.ts';
import type { DeliveryHub } from './realtime/delivery-hub.ts';
import type { RelayStore } from './storage/relay-store.ts';

export interface RelayContext {
  relay: RelayInfo;
  store: RelayStore;
  directory: Directory;
  keyLog: KeyLog;
  keyEvents: KeyEventContext;
  tokens: TokenService;
  challenges: ChallengeStore;
  hub: DeliveryHub;
  envelopes: EnvelopeContext;
  now: () => Date;
  ready: () => boolean;
}
