/**
 * A node's own record: what it sent, received and opened, and the receipts it holds, as an
 * append-only Merkle log whose heads the node signs with its identity key. Metadata only: ids,
 * addresses, the kind of item, the ciphertext's hash, times. An authority can show its record to
 * an auditor, who checks it the same way as a relay's audit log, and reconcile it with the relay's.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fromBase64url, toBase64url } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { EntraideError } from '../errors.ts';
import { literals } from '../protocol/literals.ts';
import { AuthorityAddress, B64, EnvelopeId, NodeAddress, Rfc3339, Signature } from '../protocol/schemas.ts';
import { RECEIPT_KINDS } from '../receipts/receipt.ts';

/** An officer's name as they sign in to their node's local service. */
export const OFFICER_NAME_MAX = 100;

export const NODE_RECORD_KINDS = ['sent', 'received', 'opened', 'receipt', 'rejected'] as const;
export const ITEM_KINDS = [
  'message',
  'request',
  'status',
  'supplement',
  'receipts',
  'network',
  'meeting',
  'hours',
  'consultation',
  'consultation-comment',
] as const;

export const NodeRecordEvent = Type.Object(
  {
    v: Type.Literal(1),
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    at: Rfc3339,
    node: NodeAddress,
    kind: literals(NODE_RECORD_KINDS),
    envelope: EnvelopeId,
    item: Type.Optional(literals(ITEM_KINDS)),
    /** The other party: recipient authorities of what was sent, the sending node of what arrived. */
    counterparts: Type.Optional(Type.Array(Type.Union([AuthorityAddress, NodeAddress]), { maxItems: 32 })),
    ciphertextHash: Type.Optional(B64(32)),
    /** For `receipt`: which receipt, and the node that signed it. */
    receipt: Type.Optional(
      Type.Object({ kind: literals(RECEIPT_KINDS), node: NodeAddress }, { additionalProperties: false }),
    ),
    reason: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z_]{1,40}$' })),
    /** For `sent` and `opened` through the local service: the officer who signed in and did it. */
    officer: Type.Optional(Type.String({ minLength: 1, maxLength: OFFICER_NAME_MAX })),
  },
  { additionalProperties: false },
);
export type NodeRecordEvent = Static<typeof NodeRecordEvent>;

export const NodeRecordHead = Type.Object(
  {
    v: Type.Literal(1),
    log: Type.Literal('node'),
    node: NodeAddress,
    size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    root: B64(32),
    timestamp: Rfc3339,
    sig: Signature,
  },
  { additionalProperties: false },
);
export type NodeRecordHead = Static<typeof NodeRecordHead>;

export function nodeRecordLeaf(e: NodeRecordEvent): Uint8Array {
  return canonicalBytes(e);
}

export function signNodeRecordHead(
  input: { node: string; size: number; root: Uint8Array; timestamp: Date },
  identitySecretKey: Uint8Array,
): NodeRecordHead {
  const body = {
    v: 1 as const,
    log: 'node' as const,
    node: input.node,
    size: input.size,
    root: toBase64url(input.root),
    timestamp: input.timestamp.toISOString(),
  };
  return { ...body, sig: signObject(CONTEXTS.nodeRecordHead, body, identitySecretKey) };
}

/** Throws PROOF_INVALID unless the head is the record of `node`, signed by its identity key. */
export function verifyNodeRecordHead(
  head: NodeRecordHead,
  expected: { node: string; identityKey: Uint8Array },
): void {
  if (head.node !== expected.node) {
    throw new EntraideError(
      'PROOF_INVALID',
      `a head of the record of ${head.node} was given for ${expected.node}`,
    );
  }
  fromBase64url(head.root, 'head.root', 32);
  if (!verifyObject(CONTEXTS.nodeRecordHead, withoutSig(head), head.sig, expected.identityKey)) {
    throw new EntraideError('PROOF_INVALID', `the head of size ${head.size} is not signed by ${head.node}`);
  }
}
