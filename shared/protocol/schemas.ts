/**
 * JSON schemas of every wire object, with the TypeScript types derived from them.
 * Objects are closed (no extra fields); binary fields are base64url of an exact length.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  AUTHORITY_ADDRESS_PATTERN,
  AUTHORITY_ID_PATTERN,
  DOMAIN_PATTERN,
  NODE_ADDRESS_PATTERN,
  NODE_NAME_PATTERN,
} from '../addresses.ts';
import { base64urlLength } from '../bytes.ts';
import { LIMITS } from '../limits.ts';
import { UUID_PATTERN } from '../uuid.ts';

const closed = { additionalProperties: false } as const;

/** base64url of exactly n bytes. */
export const B64 = (bytes: number, description?: string) =>
  Type.String({ pattern: `^[A-Za-z0-9_-]{${base64urlLength(bytes)}}$`, description });

export const Rfc3339 = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'RFC 3339 date-time',
});

export const Domain = Type.String({ pattern: `^${DOMAIN_PATTERN}$`, maxLength: 253 });
export const AuthorityId = Type.String({ pattern: `^${AUTHORITY_ID_PATTERN}$`, maxLength: 64 });
export const NodeName = Type.String({ pattern: `^${NODE_NAME_PATTERN}$`, maxLength: 32 });
export const AuthorityAddress = Type.String({ pattern: `^${AUTHORITY_ADDRESS_PATTERN}$`, maxLength: 320 });
export const NodeAddress = Type.String({ pattern: `^${NODE_ADDRESS_PATTERN}$`, maxLength: 360 });
export const EnvelopeId = Type.String({ pattern: `^${UUID_PATTERN}$`, description: 'UUIDv7' });
export const PublicKey = B64(32, 'Ed25519 or X25519 public key');
export const Signature = B64(64, 'Ed25519 signature');
export const KeyId = B64(16, 'encryption key id');

/** What a node or relay says it reads: numbers it does not know are ignored by whoever reads the list. */
export const Formats = Type.Array(Type.Integer({ minimum: 1, maximum: 255 }), {
  minItems: 1,
  maxItems: 16,
  uniqueItems: true,
  description: 'Envelope formats read (absent: [1])',
});

// ---- node certificate -------------------------------------------------------------------
export const NodeCertificateBody = Type.Object(
  {
    v: Type.Literal(1),
    authority: AuthorityAddress,
    node: NodeAddress,
    identityKey: PublicKey,
    encryptionKey: PublicKey,
    encKeyNotAfter: Rfc3339,
    issuedAt: Rfc3339,
    /** The envelope formats the node reads (absent: [1]); see ENVELOPE_FORMATS below. */
    formats: Type.Optional(Formats),
  },
  closed,
);
export const NodeCertificate = Type.Object(
  { ...NodeCertificateBody.properties, sig: Signature },
  { ...closed, description: 'A node certificate signed by the authority master key' },
);
export type NodeCertificateBody = Static<typeof NodeCertificateBody>;
export type NodeCertificate = Static<typeof NodeCertificate>;

/** The authority master key (AMK) announces itself, signed by itself (proof of possession). */
export const AuthorityDeclaration = Type.Object(
  {
    v: Type.Literal(1),
    authority: AuthorityAddress,
    masterKey: PublicKey,
    issuedAt: Rfc3339,
    sig: Signature,
  },
  { ...closed, description: 'An authority master key, self-signed' },
);
export type AuthorityDeclaration = Static<typeof AuthorityDeclaration>;

// ---- envelope ---------------------------------------------------------------------------
export const RecipientEntry = Type.Object(
  { node: NodeAddress, encKeyId: KeyId, wrappedKey: B64(32 + 48, 'crypto_box_seal(contentKey)') },
  closed,
);
export type RecipientEntry = Static<typeof RecipientEntry>;

/**
 * Envelope formats (DESIGN: Versions). The envelope's `v` is also the format of the content inside
 * it. v2 adds `masterKeys` to the signed header: the fingerprint of each recipient authority's
 * master key as the sender pinned it, so that the recipient can tell when a relay gave the sender
 * another key (shared/crypto/master-key-fingerprint.ts). A node or relay that names no formats
 * reads v1 only. v3 adds `blobs`: the documents (encrypted files, uploaded beside the envelope) its
 * content names, so that the relay binds them to the envelope, forwards them first and deletes them
 * once every recipient holds them. A sender writes v3 only for an item with files; v2 otherwise.
 */
export const ENVELOPE_FORMATS = [1, 2, 3] as const;
export type EnvelopeFormat = (typeof ENVELOPE_FORMATS)[number];
export const CURRENT_ENVELOPE_FORMAT: EnvelopeFormat = 3;
/** The format an item with files needs at least (`blobs` in the header). */
export const BLOB_ENVELOPE_FORMAT = 3;

/** A document's blob on the relays: 16 random bytes the sender's relay chose, base64url. */
export const BlobId = B64(16, 'blob id');
export const MasterKeyReference = Type.Object(
  { authority: AuthorityAddress, fingerprint: B64(16, 'master key fingerprint') },
  closed,
);
export type MasterKeyReference = Static<typeof MasterKeyReference>;

const headerFields = {
  id: EnvelopeId,
  from: NodeAddress,
  to: Type.Array(AuthorityAddress, {
    minItems: 1,
    maxItems: LIMITS.maxRecipientAuthorities,
    uniqueItems: true,
  }),
  sentAt: Rfc3339,
  ttl: Type.Integer({ minimum: LIMITS.minTtlSeconds, maximum: LIMITS.maxTtlSeconds }),
  recipients: Type.Array(RecipientEntry, { minItems: 1, maxItems: LIMITS.maxRecipientNodes }),
  keyCommitment: B64(32, 'BLAKE2b-256 keyed by the content key'),
};
const bodyFields = {
  nonce: B64(24, 'XChaCha20-Poly1305 nonce'),
  ciphertext: Type.String({
    pattern: '^[A-Za-z0-9_-]+$',
    minLength: base64urlLength(16),
    maxLength: base64urlLength(LIMITS.maxContentBytes + 16),
  }),
  sig: Signature,
};

export const EnvelopeHeaderV1 = Type.Object({ v: Type.Literal(1), ...headerFields }, closed);
export const EnvelopeHeaderV2 = Type.Object(
  {
    v: Type.Literal(2),
    ...headerFields,
    masterKeys: Type.Array(MasterKeyReference, {
      minItems: 1,
      maxItems: LIMITS.maxRecipientAuthorities,
      description: 'One per `to` authority: its master key as the sender pinned it',
    }),
  },
  closed,
);
export const EnvelopeHeaderV3 = Type.Object(
  {
    ...EnvelopeHeaderV2.properties,
    v: Type.Literal(3),
    blobs: Type.Array(BlobId, {
      minItems: 1,
      maxItems: LIMITS.maxFilesPerItem,
      uniqueItems: true,
      description: 'The blobs (encrypted documents) the content names',
    }),
  },
  closed,
);
export const EnvelopeHeader = Type.Union([EnvelopeHeaderV1, EnvelopeHeaderV2, EnvelopeHeaderV3]);
export type EnvelopeHeader = Static<typeof EnvelopeHeader>;

export const EnvelopeV1 = Type.Object(
  { ...EnvelopeHeaderV1.properties, ...bodyFields },
  { ...closed, description: 'An end-to-end encrypted envelope signed by the sending node (format 1)' },
);
export const EnvelopeV2 = Type.Object(
  { ...EnvelopeHeaderV2.properties, ...bodyFields },
  {
    ...closed,
    description:
      'An end-to-end encrypted envelope signed by the sending node (format 2: names the recipients’ master keys)',
  },
);
export const EnvelopeV3 = Type.Object(
  { ...EnvelopeHeaderV3.properties, ...bodyFields },
  {
    ...closed,
    description:
      'An end-to-end encrypted envelope signed by the sending node (format 3: names the blobs of its documents)',
  },
);
export const Envelope = Type.Union([EnvelopeV1, EnvelopeV2, EnvelopeV3], {
  description: 'An end-to-end encrypted envelope signed by the sending node',
});
export type Envelope = Static<typeof Envelope>;

/** The `v` an envelope claims, if it claims a number (read before its schema is checked). */
export function envelopeFormatOf(raw: unknown): number | undefined {
  const v = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).v : undefined;
  return typeof v === 'number' ? v : undefined;
}

/**
 * The schema of the format an envelope claims, so that a refusal names the field that is wrong
 * in that format rather than the first difference from another one.
 */
export function envelopeSchemaOf(raw: unknown): typeof EnvelopeV1 | typeof EnvelopeV2 | typeof EnvelopeV3 {
  const v = envelopeFormatOf(raw);
  return v === 3 ? EnvelopeV3 : v === 2 ? EnvelopeV2 : EnvelopeV1;
}

// ---- relay identity, enrolment, login ---------------------------------------------------
/**
 * The relay hands its key over to a new one (`entraide relay key rotate`): signed by the previous
 * key (`sig`) and by the new one (`newSig`), each under its own context (shared/keys/relay-key-rollover.ts).
 */
export const RelayKeyRollover = Type.Object(
  {
    v: Type.Literal(1),
    relay: Domain,
    previousKey: PublicKey,
    newKey: PublicKey,
    issuedAt: Rfc3339,
    sig: Signature,
    newSig: Signature,
  },
  { ...closed, description: 'A new relay key, signed by the previous one and by itself' },
);
export type RelayKeyRollover = Static<typeof RelayKeyRollover>;

/** Rollovers a relay keeps and shows at most: far more than a relay's lifetime of yearly rotations. */
export const MAX_RELAY_KEY_ROLLOVERS = 64;
/** A relay's rollovers, oldest first: each starts from the key the one before introduced. */
export const RelayKeyHistory = Type.Array(RelayKeyRollover, { maxItems: MAX_RELAY_KEY_ROLLOVERS });

export const RelayInfo = Type.Object(
  {
    domain: Domain,
    publicKey: PublicKey,
    version: Type.String(),
    /** Present once the relay rotated its key: how its first key leads to `publicKey`. */
    keyHistory: Type.Optional(RelayKeyHistory),
    /** The envelope formats the relay accepts (absent: [1]). */
    formats: Type.Optional(Formats),
  },
  closed,
);
export type RelayInfo = Static<typeof RelayInfo>;

export const EnrolmentProofBody = Type.Object(
  { relay: Domain, authority: AuthorityAddress, masterKey: PublicKey, node: NodeAddress },
  closed,
);
export type EnrolmentProofBody = Static<typeof EnrolmentProofBody>;

export const EnrolmentRequest = Type.Object(
  {
    invitation: Type.String({ pattern: '^[A-Za-z0-9_-]{16,128}$' }),
    authority: AuthorityAddress,
    masterKey: PublicKey,
    declaration: AuthorityDeclaration,
    certificate: NodeCertificate,
    proof: Signature,
  },
  { ...closed, description: 'Enrols an authority and its first node with a one-time invitation' },
);
export type EnrolmentRequest = Static<typeof EnrolmentRequest>;

export const EnrolmentResponse = Type.Object(
  { authority: AuthorityAddress, node: NodeAddress, relay: RelayInfo },
  closed,
);
export type EnrolmentResponse = Static<typeof EnrolmentResponse>;

export const ChallengeRequest = Type.Object({ node: NodeAddress }, closed);
export const ChallengeResponse = Type.Object({ challenge: B64(32), expiresAt: Rfc3339 }, closed);
export type ChallengeResponse = Static<typeof ChallengeResponse>;

export const AuthChallengeBody = Type.Object(
  { relay: Domain, node: NodeAddress, challenge: B64(32) },
  closed,
);
export type AuthChallengeBody = Static<typeof AuthChallengeBody>;

export const TokenRequest = Type.Object({ node: NodeAddress, challenge: B64(32), sig: Signature }, closed);
export type TokenRequest = Static<typeof TokenRequest>;
export const TokenResponse = Type.Object({ token: Type.String(), expiresAt: Rfc3339 }, closed);
export type TokenResponse = Static<typeof TokenResponse>;

// ---- envelopes: submission, inbox, delivery state ---------------------------------------
export const SubmitResult = Type.Object(
  {
    id: EnvelopeId,
    status: Type.Literal('accepted'),
    acceptedAt: Rfc3339,
    duplicate: Type.Boolean({ description: 'true when this id was already accepted with the same content' }),
  },
  closed,
);
export type SubmitResult = Static<typeof SubmitResult>;

export const InboxPage = Type.Object({ envelopes: Type.Array(Envelope), more: Type.Boolean() }, closed);
export type InboxPage = Static<typeof InboxPage>;
/**
 * An inbox page as a node reads it: the page's shape is checked at once, each envelope on its own
 * (so that one malformed envelope is rejected alone and the rest of the page still arrives).
 */
export const InboxPageUnchecked = Type.Object(
  { envelopes: Type.Array(Type.Unknown(), { maxItems: 1000 }), more: Type.Boolean() },
  closed,
);

export const AckRequest = Type.Object(
  { ids: Type.Array(EnvelopeId, { minItems: 1, maxItems: 500, uniqueItems: true }) },
  closed,
);
export type AckRequest = Static<typeof AckRequest>;
export const AckResult = Type.Object({ acknowledged: Type.Integer({ minimum: 0 }) }, closed);
export type AckResult = Static<typeof AckResult>;

export const DeliveryState = Type.Object(
  {
    id: EnvelopeId,
    acceptedAt: Rfc3339,
    expiresAt: Rfc3339,
    deliveries: Type.Array(
      Type.Object(
        {
          node: NodeAddress,
          state: Type.Union([
            Type.Literal('pending'),
            Type.Literal('delivered'),
            Type.Literal('expired'),
            Type.Literal('revoked'),
          ]),
          deliveredAt: Type.Union([Rfc3339, Type.Null()]),
        },
        closed,
      ),
    ),
    forwards: Type.Array(
      Type.Object(
        {
          peer: Domain,
          state: Type.Union([
            Type.Literal('pending'),
            Type.Literal('forwarded'),
            Type.Literal('refused'),
            Type.Literal('expired'),
          ]),
          forwardedAt: Type.Union([Rfc3339, Type.Null()]),
          lastError: Type.Union([Type.String(), Type.Null()]),
        },
        closed,
      ),
      {
        description:
          'Per peer relay that holds recipients: pending in the outbox, forwarded, refused or expired',
      },
    ),
    conflicts: Type.Optional(
      Type.Array(Type.Object({ relay: Domain, otherSender: NodeAddress, detectedAt: Rfc3339 }, closed), {
        description:
          'Another sender’s envelope under the same id, met on this relay or reported by a peer: both are kept and delivered',
      }),
    ),
  },
  closed,
);
export type DeliveryState = Static<typeof DeliveryState>;

export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String(),
        message: Type.String(),
        /** Seconds to wait before a retry may succeed (429 and 503 answers). */
        retryAfter: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      closed,
    ),
  },
  { ...closed, description: 'Every error: a stable code and a message for people' },
);

/**
 * GET /healthz, once the relay serves requests (before that: 503). `ok`: the relay serves and its
 * storage takes writes. `degraded`: the relay answers, but its storage does not take writes just
 * now (`storage` says why: another writer holds the lock, the disk is full, or reading or writing
 * it fails), so submissions get 503 STORAGE_UNAVAILABLE with Retry-After until it recovers. Both
 * are 200: the process is alive and answering, and restarting it would free neither the lock nor
 * the disk; monitoring alerts on `degraded`.
 */
export const Health = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    domain: Domain,
    storage: Type.Optional(
      Type.Union([Type.Literal('busy'), Type.Literal('full'), Type.Literal('io')], {
        description: 'Only when degraded: what keeps the storage from taking writes',
      }),
    ),
  },
  closed,
);
export type Health = Static<typeof Health>;

export type { TSchema };
