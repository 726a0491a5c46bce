/**
 * Wire objects of key management and key transparency: the signed statements that change an
 * authority's keys, the key-log leaf that records each of them, signed tree heads, proofs, and
 * the join request of a new node.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  AuthorityAddress,
  AuthorityDeclaration,
  B64,
  Domain,
  Formats,
  NodeAddress,
  NodeCertificate,
  PublicKey,
  Rfc3339,
  Signature,
} from './schemas.ts';

import { AuthorityProfile } from './profile.ts';

export { AuthorityDeclaration };

const closed = { additionalProperties: false } as const;
export const Hash = B64(32, 'SHA-256 hash');

// ---- signed statements ---------------------------------------------------------------------
/** A node's next encryption key, signed by the node's identity key (which the AMK certified). */
export const EncryptionKeyStatement = Type.Object(
  {
    v: Type.Literal(1),
    node: NodeAddress,
    encryptionKey: PublicKey,
    issuedAt: Rfc3339,
    notAfter: Rfc3339,
    /** The envelope formats the node reads from this key on (absent: [1]). */
    formats: Type.Optional(Formats),
    sig: Signature,
  },
  { ...closed, description: 'A rotated node encryption key, signed by the node identity key' },
);
export type EncryptionKeyStatement = Static<typeof EncryptionKeyStatement>;

/** The AMK hands over to a new key: signed by the previous key (`sig`) and by the new one (`newSig`). */
export const MasterKeyRotation = Type.Object(
  {
    v: Type.Literal(1),
    authority: AuthorityAddress,
    previousKey: PublicKey,
    masterKey: PublicKey,
    issuedAt: Rfc3339,
    sig: Signature,
    newSig: Signature,
  },
  { ...closed, description: 'A new authority master key, signed by the previous one and by itself' },
);
export type MasterKeyRotation = Static<typeof MasterKeyRotation>;

export const NodeRevocation = Type.Object(
  {
    v: Type.Literal(1),
    authority: AuthorityAddress,
    node: NodeAddress,
    identityKey: PublicKey,
    revokedAt: Rfc3339,
    reason: Type.String({ maxLength: 200 }),
    sig: Signature,
  },
  { ...closed, description: 'A node revoked by the authority master key' },
);
export type NodeRevocation = Static<typeof NodeRevocation>;

// ---- key events: one leaf of the key log each ------------------------------------------------
export const KeyEvent = Type.Union(
  [
    Type.Object({ type: Type.Literal('authority-enrolled'), declaration: AuthorityDeclaration }, closed),
    Type.Object({ type: Type.Literal('node-certified'), certificate: NodeCertificate }, closed),
    Type.Object({ type: Type.Literal('encryption-key-rotated'), statement: EncryptionKeyStatement }, closed),
    Type.Object({ type: Type.Literal('master-key-rotated'), rotation: MasterKeyRotation }, closed),
    Type.Object({ type: Type.Literal('node-revoked'), revocation: NodeRevocation }, closed),
    Type.Object({ type: Type.Literal('profile-published'), profile: AuthorityProfile }, closed),
  ],
  { description: 'A change to an authority’s keys, carrying its own signature' },
);
export type KeyEvent = Static<typeof KeyEvent>;
export type KeyEventType = KeyEvent['type'];

/** The bytes of a key-log leaf are the RFC 8785 encoding of this object. */
export const KeyLogLeaf = Type.Object(
  { v: Type.Literal(1), authority: AuthorityAddress, loggedAt: Rfc3339, event: KeyEvent },
  { ...closed, description: 'One key-log entry: the event and when the relay logged it' },
);
export type KeyLogLeaf = Static<typeof KeyLogLeaf>;

// ---- tree heads and proofs -------------------------------------------------------------------
export const TreeHeadBody = Type.Object(
  {
    v: Type.Literal(1),
    log: Type.Union([Type.Literal('key'), Type.Literal('audit')]),
    relay: Domain,
    size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    root: Hash,
    timestamp: Rfc3339,
  },
  closed,
);
export type TreeHeadBody = Static<typeof TreeHeadBody>;
export const SignedTreeHead = Type.Object(
  { ...TreeHeadBody.properties, sig: Signature },
  { ...closed, description: 'A Merkle tree head signed by the relay key' },
);
export type SignedTreeHead = Static<typeof SignedTreeHead>;

const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Proof = Type.Array(Hash, { maxItems: 64 });

export const KeyLogEntry = Type.Object({ index: Index, leaf: KeyLogLeaf }, closed);
export type KeyLogEntry = Static<typeof KeyLogEntry>;

export const ProvenKeyLogEntry = Type.Object({ index: Index, leaf: KeyLogLeaf, proof: Proof }, closed);
export type ProvenKeyLogEntry = Static<typeof ProvenKeyLogEntry>;

export const KeyLogEntries = Type.Object(
  { entries: Type.Array(KeyLogEntry, { maxItems: 1000 }) },
  { ...closed, description: 'Key-log entries in index order' },
);
export type KeyLogEntries = Static<typeof KeyLogEntries>;

export const ConsistencyProof = Type.Object(
  { from: Index, to: Index, proof: Proof },
  { ...closed, description: 'RFC 9162 consistency proof between two tree sizes' },
);
export type ConsistencyProof = Static<typeof ConsistencyProof>;

/** A directory answer: every key event of the authority, each proven against one signed head. */
export const DirectoryEntry = Type.Object(
  {
    authority: AuthorityAddress,
    head: SignedTreeHead,
    events: Type.Array(ProvenKeyLogEntry, { maxItems: 100_000 }),
    /** One page of a longer answer: ask again with `after` = the last index (see collectDirectory). */
    more: Type.Optional(Type.Boolean()),
  },
  { ...closed, description: 'An authority’s key events with inclusion proofs against a signed tree head' },
);
export type DirectoryEntry = Static<typeof DirectoryEntry>;

export const KeyEventResult = Type.Object(
  { index: Index, duplicate: Type.Boolean(), head: SignedTreeHead },
  closed,
);
export type KeyEventResult = Static<typeof KeyEventResult>;

// ---- joining a node to an existing authority ----------------------------------------------------
export const JoinRequest = Type.Object(
  {
    v: Type.Literal(1),
    relay: Domain,
    node: NodeAddress,
    identityKey: PublicKey,
    encryptionKey: PublicKey,
    encKeyNotAfter: Rfc3339,
    createdAt: Rfc3339,
    /** The envelope formats the node reads, for its certificate (absent: [1]). */
    formats: Type.Optional(Formats),
    sig: Signature,
  },
  { ...closed, description: 'A new node asks its authority for a certificate; signed by its identity key' },
);
export type JoinRequest = Static<typeof JoinRequest>;

export const JoinCode = Type.String({
  pattern: '^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$',
  description: 'Join code: 24 Crockford base32 characters in groups of 4',
});
export const JoinAccepted = Type.Object({ code: JoinCode, expiresAt: Rfc3339 }, closed);

/** A join ticket: written like a join code, issued by a node of the authority, spent by one join request. */
export const JoinTicket = Type.String({
  pattern: '^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$',
  description: 'Join ticket: 24 Crockford base32 characters in groups of 4',
});

/** What a new node sends: its signed join request and the ticket a node of its authority gave it. */
export const JoinSubmission = Type.Object({ request: JoinRequest, ticket: JoinTicket }, closed);
export type JoinSubmission = Static<typeof JoinSubmission>;

/** A node of the authority asks for a ticket, for one named new node or for any. */
export const TicketRequest = Type.Object({ node: Type.Optional(NodeAddress) }, closed);
export type TicketRequest = Static<typeof TicketRequest>;

export const TicketIssued = Type.Object(
  { ticket: JoinTicket, authority: AuthorityAddress, node: Type.Optional(NodeAddress), expiresAt: Rfc3339 },
  closed,
);
export type TicketIssued = Static<typeof TicketIssued>;

/** The join requests waiting for an authority's approval. */
export const PendingJoins = Type.Object(
  {
    joins: Type.Array(
      Type.Object({ code: JoinCode, node: NodeAddress, createdAt: Rfc3339, expiresAt: Rfc3339 }, closed),
      { maxItems: 64 },
    ),
  },
  closed,
);
export type PendingJoins = Static<typeof PendingJoins>;
export type JoinAccepted = Static<typeof JoinAccepted>;
