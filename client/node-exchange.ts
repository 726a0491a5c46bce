/**
 * The node's two directions of exchange, wired together: sending (outbound.ts) and receiving
 * (inbound.ts), with what both share — the envelope formats this node and each relay read
 * (formats.ts) and the key-log heads gossiped inside signed content (head-gossip.ts).
 */
import {
  RelayInfo,
  type Envelope,
  type EnvelopeFormat,
  type SubmitResult,
} from '../shared/protocol/schemas.ts';
import type { NodeConfig } from './home.ts';
import type { DocumentDesk } from './documents/desk.ts';
import { alertOnArrival } from './alerts.ts';
import { HeadGossip } from './head-gossip.ts';
import { acceptorsOf, Inbound, type AcceptingDesks, type InboundDeps } from './inbound.ts';
import type { KeyLogMonitor, NewAlarm } from './key-log-monitor.ts';
import { Outbound } from './outbound.ts';
import { RelayFormats } from './formats.ts';
import type { NodeStore } from './store/node-store.ts';
import type { RelayHttp } from './transport/http.ts';
import type { RelayClient } from './transport/relay-client.ts';
import type { TrustStore } from './trust.ts';

/** What the exchange needs of its node. */
export interface ExchangeHost extends AcceptingDesks {
  readonly config: NodeConfig;
  readonly store: NodeStore;
  readonly trust: TrustStore;
  readonly monitor: KeyLogMonitor;
  readonly relay: RelayClient;
  readonly identitySecretKey: Uint8Array;
  readonly formats: readonly EnvelopeFormat[];
  readonly receipts: AcceptingDesks['receipts'] & InboundDeps['receipts'] & { flush(): Promise<unknown> };
  readonly requests: AcceptingDesks['requests'] & { mustExist(id: string): unknown };
  keepKeysFresh(): Promise<void>;
  submit(envelope: Envelope): Promise<SubmitResult>;
  readonly documents: DocumentDesk;
  sendQueued(): Promise<void>;
  profileOf(authority: string): Promise<{ onCall?: { node?: string | undefined } | undefined } | undefined>;
}

export function exchangeOf(
  node: ExchangeHost,
  http: RelayHttp,
  encryptionKeys: InboundDeps['encryptionKeys'],
  raise: (a: NewAlarm) => void,
): { outbound: Outbound; inbound: Inbound } {
  const { config, store, trust, monitor } = node;
  const heads = new HeadGossip(monitor, store, trust, () => node.receipts.flush(), raise);
  const relayFormats = new RelayFormats(config.relay.domain, (domain, home) =>
    home
      ? http.request(RelayInfo, 'GET', '/v1/relay')
      : node.relay.get(RelayInfo, `/v1/relays/${encodeURIComponent(domain)}/relay`),
  );
  const outbound = new Outbound({
    address: config.node,
    authority: config.authority,
    identitySecretKey: node.identitySecretKey,
    store,
    trust,
    monitor,
    keepKeysFresh: () => node.keepKeysFresh(),
    submit: (envelope) => node.submit(envelope),
    requestMustExist: (id) => void node.requests.mustExist(id),
    gossip: (to) => heads.outgoing(to),
    formats: node.formats,
    relayFormats: (domain) => relayFormats.of(domain),
    documents: node.documents,
  });
  const inbound = new Inbound({
    address: config.node,
    authority: config.authority,
    store,
    trust,
    relay: node.relay,
    encryptionKeys,
    receipts: node.receipts,
    beforeFetch: () => node.keepKeysFresh(),
    afterFetch: () => node.sendQueued(),
    acceptors: acceptorsOf(node),
    onGossip: (gossip, from) => heads.incoming(gossip, from),
    onStored: async (message, content) => {
      for (const failed of await alertOnArrival(node, message, content))
        process.stderr.write(`entraide: ${failed}\n`);
    },
    formats: node.formats,
    raise,
    documents: node.documents,
  });
  return { outbound, inbound };
}
