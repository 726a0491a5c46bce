/**
 * One leaf of a relay's audit log: a delivery event, a refused request or a login, with metadata
 * only (ids, addresses, sizes, the ciphertext's hash, times), never content nor tokens. The leaf is the RFC 8785 form of the event, so
 * every party that holds the event can recompute its leaf hash.
 */
import { Type, type Static } from '@sinclair/typebox';
import { utf8 } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { leafHash } from '../merkle/hash.ts';
import { AuditorName } from '../protocol/audit.ts';
import { literals } from '../protocol/literals.ts';
import {
  AuthorityAddress,
  B64,
  BlobId,
  Domain,
  EnvelopeId,
  NodeAddress,
  Rfc3339,
} from '../protocol/schemas.ts';

/**
 * `id_conflict` is an alarm: two senders' envelopes under one id (one may be squatting the id of an
 * envelope it received). The relay keeps both; the entry names the id, both senders and their
 * ciphertext hashes, and the peer relay the envelope came from, or (at the sender's relay) the peer
 * that reported the conflict in its answer.
 *
 * `blob_*` entries follow a document's blob: uploaded (complete, with its size and hash), forwarded
 * to a peer relay, downloaded complete by a recipient node, deleted (every recipient holds it, or
 * the envelopes naming it expired, or it was never bound to one).
 *
 * A receipt travels end to end encrypted like any other content, so the relay logs its envelope
 * as accepted and delivered without knowing it is one: the receipts a node holds are in the
 * node's own record (shared/audit/node-record.ts), which an auditor sets against this log.
 */
export const AUDIT_EVENT_KINDS = [
  'accepted',
  'rejected',
  'forwarded',
  'received',
  'delivered',
  'expired',
  'auth_failed',
  'forbidden',
  'login',
  'key_event',
  'id_conflict',
  'blob_uploaded',
  'blob_forwarded',
  'blob_downloaded',
  'blob_deleted',
] as const;
export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[number];

/** Free text in the log (a refusal's reason) is bounded and made printable (see `printable`). */
export const MAX_DETAIL_CHARS = 300;

export const AuditEvent = Type.Object(
  {
    v: Type.Literal(1),
    /** The leaf's index in the log. */
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    at: Rfc3339,
    relay: Domain,
    kind: literals(AUDIT_EVENT_KINDS),
    envelope: Type.Optional(EnvelopeId),
    /** A document's blob (blob_* entries: its size and, once complete, the SHA-256 of its bytes). */
    blob: Type.Optional(BlobId),
    sender: Type.Optional(NodeAddress),
    recipients: Type.Optional(Type.Array(AuthorityAddress, { maxItems: 32 })),
    /** The node an envelope was delivered to, that a receipt came from, or that logged in. */
    node: Type.Optional(NodeAddress),
    /** The auditor who logged in (a node's login names the node). */
    auditor: Type.Optional(AuditorName),
    /** The peer relay an envelope was forwarded to or received from. */
    peer: Type.Optional(Domain),
    size: Type.Optional(Type.Integer({ minimum: 0 })),
    ciphertextHash: Type.Optional(B64(32)),
    /** id_conflict: the sender of the other envelope under the same id, and its ciphertext hash. */
    otherSender: Type.Optional(NodeAddress),
    otherCiphertextHash: Type.Optional(B64(32)),
    /** The error code of a rejection or of a refused login. */
    reason: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z_]{1,40}$' })),
    detail: Type.Optional(Type.String({ maxLength: MAX_DETAIL_CHARS })),
    /**
     * Refused requests of callers who did not authenticate are written once per code and source
     * address per interval: `count` of them from `source` since `since` (the entry's `at` ends
     * the interval), `detail` naming the first one.
     */
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    since: Type.Optional(Rfc3339),
  },
  { additionalProperties: false },
);
export type AuditEvent = Static<typeof AuditEvent>;

/**
 * Text that came from outside (a path, a header, a refused value) as it may enter the log: control
 * characters (CR, LF, ESC of ANSI sequences, NUL...) and lone surrogates become U+FFFD, so that
 * nothing written to a terminal, a CSV cell or a log line can forge another line or recolour it;
 * then cut to MAX_DETAIL_CHARS. JSON escaping does the rest.
 */
export function printable(text: string): string {
  const clean = text
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '\ufffd')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return [...clean].slice(0, MAX_DETAIL_CHARS).join('');
}

/** The leaf bytes of an event: its canonical JSON. */
export function auditLeaf(event: AuditEvent): Uint8Array {
  return canonicalBytes(event);
}

/** RFC 9162 leaf hash of an event. */
export function auditLeafHash(event: AuditEvent): Uint8Array {
  return leafHash(auditLeaf(event));
}

/** The leaf hash of a leaf given as its JSON text (as stored or exported). */
export function auditLeafHashOfText(leaf: string): Uint8Array {
  return leafHash(utf8(leaf));
}
