/** Wire objects between peer relays. */
import { Type, type Static } from '@sinclair/typebox';
import { Domain, Envelope, EnvelopeId, NodeAddress, PublicKey, Rfc3339 } from './schemas.ts';

const closed = { additionalProperties: false } as const;

export const ForwardBatch = Type.Object(
  { envelopes: Type.Array(Envelope, { minItems: 1, maxItems: 100 }) },
  { ...closed, description: 'Envelopes a peer relay forwards, in acceptance order' },
);
export type ForwardBatch = Static<typeof ForwardBatch>;

export const ForwardResult = Type.Object(
  {
    id: EnvelopeId,
    status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate'), Type.Literal('refused')]),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, closed)),
  },
  closed,
);
export const ForwardResults = Type.Object({ results: Type.Array(ForwardResult) }, closed);
export type ForwardResults = Static<typeof ForwardResults>;

export const PeerInfo = Type.Object({ domain: Domain, publicKey: PublicKey }, closed);
export const PeerList = Type.Object(
  { peers: Type.Array(PeerInfo) },
  { ...closed, description: 'The relays this relay federates with, and their keys' },
);
export type PeerList = Static<typeof PeerList>;

export const DeliveryReports = Type.Object(
  {
    reports: Type.Array(
      Type.Object({ envelopeId: EnvelopeId, node: NodeAddress, deliveredAt: Rfc3339 }, closed),
      { minItems: 1, maxItems: 500 },
    ),
  },
  {
    ...closed,
    description: 'A peer relay tells the sender’s relay which of its nodes stored which envelopes',
  },
);
export type DeliveryReports = Static<typeof DeliveryReports>;
export const DeliveryReportsResult = Type.Object(
  { recorded: Type.Integer({ minimum: 0 }), ignored: Type.Integer({ minimum: 0 }) },
  closed,
);
export type DeliveryReportsResult = Static<typeof DeliveryReportsResult>;
