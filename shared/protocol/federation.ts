/** Wire objects between peer relays. */
import { Type, type Static } from '@sinclair/typebox';
import { B64, BlobId, Domain, Envelope, EnvelopeId, NodeAddress, PublicKey, Rfc3339 } from './schemas.ts';
import { SignedTreeHead } from './key-log.ts';

const closed = { additionalProperties: false } as const;

export const ForwardBatch = Type.Object(
  { envelopes: Type.Array(Envelope, { minItems: 1, maxItems: 100 }) },
  { ...closed, description: 'Envelopes a peer relay forwards, in acceptance order' },
);
export type ForwardBatch = Static<typeof ForwardBatch>;

/**
 * Another sender's envelope that holds the same id on the answering relay: both are kept there, and
 * the forwarding relay records the conflict for its operator and the sender.
 */
export const IdConflictReport = Type.Object(
  { otherSender: NodeAddress, otherCiphertextHash: Type.Optional(B64(32)) },
  closed,
);
export type IdConflictReport = Static<typeof IdConflictReport>;

export const ForwardResult = Type.Object(
  {
    id: EnvelopeId,
    status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate'), Type.Literal('refused')]),
    error: Type.Optional(
      Type.Object(
        {
          code: Type.String(),
          message: Type.String(),
          /**
           * The refusal is about the answering relay's state just now (its storage, its clock, the
           * sender's keys it could not read), not a verdict on the envelope: try it again later.
           */
          transient: Type.Optional(Type.Boolean()),
        },
        closed,
      ),
    ),
    conflicts: Type.Optional(Type.Array(IdConflictReport, { minItems: 1, maxItems: 16 })),
  },
  closed,
);
export const ForwardResults = Type.Object({ results: Type.Array(ForwardResult) }, closed);
export type ForwardResults = Static<typeof ForwardResults>;

export const PeerInfo = Type.Object(
  {
    domain: Domain,
    publicKey: PublicKey,
    /** Set when gossip found the peer's key log inconsistent with what this relay saw before. */
    alarm: Type.Union([Type.String(), Type.Null()]),
  },
  closed,
);
export const PeerList = Type.Object(
  { peers: Type.Array(PeerInfo) },
  { ...closed, description: 'The relays this relay federates with, and their keys' },
);
export type PeerList = Static<typeof PeerList>;

export const DeliveryReports = Type.Object(
  {
    reports: Type.Array(
      Type.Object(
        {
          envelopeId: EnvelopeId,
          /** The envelope's sender: with the id, the pair that names it (two senders may use one id). */
          from: Type.Optional(NodeAddress),
          node: NodeAddress,
          deliveredAt: Rfc3339,
        },
        closed,
      ),
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

export const HeadsSeen = Type.Object(
  { heads: Type.Array(SignedTreeHead, { minItems: 1, maxItems: 16 }) },
  { ...closed, description: 'Heads of the receiving relay’s own logs that the sending relay verified' },
);
export type HeadsSeen = Static<typeof HeadsSeen>;
export const HeadsSeenResult = Type.Object(
  { consistent: Type.Boolean(), reason: Type.Optional(Type.String()) },
  closed,
);
export type HeadsSeenResult = Static<typeof HeadsSeenResult>;

/**
 * Documents between relays: before it forwards an envelope that names blobs, a relay announces each
 * blob to the peer (its id, the node that uploaded it, its size and SHA-256) and sends its bytes in
 * signed pieces, each at the offset the peer holds; the peer answers with how much it holds, and
 * checks the whole blob against the announced SHA-256 once the last byte arrived.
 */
export const BLOB_PIECE_BYTES = 640 * 1024;

export const BlobOffer = Type.Object(
  {
    id: BlobId,
    sender: NodeAddress,
    size: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    sha256: B64(32),
  },
  closed,
);
export type BlobOffer = Static<typeof BlobOffer>;

export const BlobPiece = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    data: Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength: Math.ceil((BLOB_PIECE_BYTES * 4) / 3) }),
  },
  closed,
);
export type BlobPiece = Static<typeof BlobPiece>;

/** How much of the blob the peer holds, and whether it is complete (checked against its SHA-256). */
export const BlobHeld = Type.Object(
  { offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), complete: Type.Boolean() },
  closed,
);
export type BlobHeld = Static<typeof BlobHeld>;
