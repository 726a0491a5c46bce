/** Wire formats of the audit API (auditors only) and of auditor logins. */
import { Type, type Static } from '@sinclair/typebox';
import { B64, Domain, Rfc3339, Signature } from './schemas.ts';
import { SignedTreeHead } from './key-log.ts';

const closed = { additionalProperties: false } as const;
const Hash = B64(32, 'SHA-256');
const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Proof = Type.Array(Hash, { maxItems: 64 });

/** An auditor's name on a relay: lower-case letters, digits, dots and hyphens. */
export const AuditorName = Type.String({ pattern: '^[a-z0-9](?:[a-z0-9.-]{0,30}[a-z0-9])?$' });

export const AuditChallengeRequest = Type.Object({ auditor: AuditorName }, closed);
export const AuditChallenge = Type.Object({ challenge: B64(32), expiresAt: Rfc3339 }, closed);
export const AuditTokenRequest = Type.Object(
  { auditor: AuditorName, challenge: B64(32), sig: Signature },
  closed,
);
export type AuditTokenRequest = Static<typeof AuditTokenRequest>;
export const AuditToken = Type.Object(
  { token: Type.String({ maxLength: 4096 }), expiresAt: Rfc3339 },
  closed,
);

/** Entries in index order; `leaf` is the entry's canonical JSON, whose leaf hash the auditor computes. */
export const AuditEntries = Type.Object(
  {
    entries: Type.Array(Type.Object({ index: Index, leaf: Type.String({ maxLength: 16_384 }) }, closed), {
      maxItems: 10_000,
    }),
  },
  closed,
);
export type AuditEntries = Static<typeof AuditEntries>;

/** One page of the heads the relay signed, smallest first; `more` when a next page exists (ask with `after` = the last size). */
export const AuditHeads = Type.Object(
  { heads: Type.Array(SignedTreeHead, { maxItems: 1_000 }), more: Type.Boolean() },
  closed,
);
export type AuditHeads = Static<typeof AuditHeads>;

export const AuditProof = Type.Object({ proof: Proof }, closed);
export type AuditProof = Static<typeof AuditProof>;

/** An envelope's entries, each with its inclusion proof against `head`. */
export const AuditEnvelopeRecord = Type.Object(
  {
    head: SignedTreeHead,
    entries: Type.Array(
      Type.Object({ index: Index, leaf: Type.String({ maxLength: 16_384 }), proof: Proof }, closed),
      {
        maxItems: 1000,
      },
    ),
  },
  closed,
);
export type AuditEnvelopeRecord = Static<typeof AuditEnvelopeRecord>;

/** The latest head of each peer's audit log that the relay verified by gossip, and its alarm. */
export const AuditPeers = Type.Object(
  {
    peers: Type.Array(
      Type.Object(
        {
          domain: Domain,
          auditHead: Type.Union([SignedTreeHead, Type.Null()]),
          alarm: Type.Union([Type.String(), Type.Null()]),
        },
        { additionalProperties: false },
      ),
      { maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
);
export type AuditPeers = Static<typeof AuditPeers>;
