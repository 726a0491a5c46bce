/**
 * Accepting an envelope: every check happens here, once, at the edge of the relay, before the
 * envelope is committed; nothing is acknowledged before the commit.
 */
import { ciphertextHashOf } from '../../prisma/sha256.ts';
import { createHash } from 'node:crypto';
import { parseAuthorityAddress, parseNodeAddress } from '../../shared/addresses.ts';
import { fromBase64url, isCanonicalBase64urlTail } from '../../shared/bytes.ts';
import { envelopeSigningBytes } from '../../shared/crypto/envelope.ts';
import { EntraideError } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import { parseTimestamp } from '../../shared/time.ts';
import {
  envelopeFormatOf,
  envelopeSchemaOf,
  type Envelope,
  type SubmitResult,
} from '../../shared/protocol/schemas.ts';
import { check } from '../../shared/protocol/validate.ts';
import type { AcceptOutcome, RelayStore } from '../storage/relay-store.ts';
import { envelopeKey } from '../storage/waiting.ts';
import type { Directory } from './directory.ts';
import type { SignatureVerifier } from './signature-verifier.ts';
import type { PeerRegistry } from '../federation/peers.ts';
import type { RemoteKeys } from '../federation/remote-keys.ts';
import type { QuotaLedger } from './quotas.ts';

export interface EnvelopeContext {
  store: RelayStore;
  directory: Directory;
  domain: string;
  now: () => Date;
  verifier: SignatureVerifier;
  peers: PeerRegistry;
  /** Keys of senders homed on peers, proven in their key logs. */
  remoteKeys: RemoteKeys;
  /** What may wait on the relay per sender and recipient authority; absent when limits are not enforced. */
  quotas?: QuotaLedger;
  /** Called after the commit, to push the envelope to recipient nodes that are online. */
  onAccepted: (envelope: Envelope, recipientNodes: string[]) => void;
  /** Called after the commit when the envelope waits in the outbox of these peers. */
  onForward: (peers: string[]) => void;
  /** The envelope formats this relay accepts (RelayOptions.formats). */
  formats: readonly number[];
}

/**
 * Every binary field must be the canonical base64url of its bytes. The schema has checked the
 * alphabet and the lengths, so only the last character's spare bits remain to check.
 */
function checkBinaryFields(env: Envelope): void {
  const fields: [string, string][] = [
    ['envelope.keyCommitment', env.keyCommitment],
    ['envelope.nonce', env.nonce],
    ['envelope.ciphertext', env.ciphertext],
    ['envelope.sig', env.sig],
  ];
  env.recipients.forEach((r, i) => {
    fields.push(
      [`envelope.recipients.${i}.encKeyId`, r.encKeyId],
      [`envelope.recipients.${i}.wrappedKey`, r.wrappedKey],
    );
  });
  for (const [name, text] of fields) {
    if (!isCanonicalBase64urlTail(text))
      throw new EntraideError(
        'SCHEMA_INVALID',
        `${name} is not valid base64url: it is not in canonical form`,
      );
  }
}

/** An envelope in a format this relay does not accept is refused as such, before its schema is read. */
export function envelopeFormatMustBeAccepted(raw: unknown, formats: readonly number[]): void {
  const v = envelopeFormatOf(raw);
  if (typeof v === 'number' && !formats.includes(v)) {
    throw new EntraideError(
      'FORMAT_UNSUPPORTED',
      `envelope is in format ${v}; this relay accepts format ${formats.join(', ')}`,
    );
  }
}

/**
 * Size, format, schema and canonical binary fields: the first checks of every envelope, from a node
 * or a peer. The relay reads nothing of a format's own fields (format 2's masterKeys are for nodes).
 */
export function parseEnvelope(raw: unknown, formats: readonly number[]): { env: Envelope; body: string } {
  const body = JSON.stringify(raw);
  if (body === undefined) throw new EntraideError('SCHEMA_INVALID', 'envelope is missing');
  if (body.length > LIMITS.maxRequestBytes) {
    throw new EntraideError(
      'PAYLOAD_TOO_LARGE',
      `envelope is ${body.length} bytes; the limit is ${LIMITS.maxRequestBytes}`,
    );
  }
  envelopeFormatMustBeAccepted(raw, formats);
  const env = check(envelopeSchemaOf(raw), raw, 'envelope');
  checkBinaryFields(env);
  return { env, body };
}

/** Dates: not from the future, not expired; returns when the envelope expires (ms). */
export function checkEnvelopeDates(env: Envelope, now: Date): number {
  const sentAt = parseTimestamp(env.sentAt, 'envelope.sentAt');
  if (sentAt > now.getTime() + LIMITS.maxClockSkewSeconds * 1000) {
    throw new EntraideError(
      'ENVELOPE_CLOCK_SKEW',
      `envelope ${env.id} is dated ${env.sentAt}, in the future`,
    );
  }
  const expiresAt = sentAt + env.ttl * 1000;
  if (expiresAt <= now.getTime())
    throw new EntraideError(
      'ENVELOPE_EXPIRED',
      `envelope ${env.id} expired at ${new Date(expiresAt).toISOString()}`,
    );
  return expiresAt;
}

export function envelopeHash(signed: Uint8Array, sig: Uint8Array): string {
  return createHash('sha256').update(signed).update(sig).digest('hex');
}

export async function acceptEnvelope(
  raw: unknown,
  sessionNode: string,
  ctx: EnvelopeContext,
): Promise<SubmitResult> {
  const { env, body } = parseEnvelope(raw, ctx.formats);
  if (env.from !== sessionNode) {
    throw new EntraideError('SESSION_MISMATCH', `this session belongs to ${sessionNode}, not to ${env.from}`);
  }
  const sender = ctx.directory.activeNode(env.from);
  if (!sender) throw new EntraideError('UNKNOWN_SENDER', `${env.from} is not an active node of this relay`);
  const signed = envelopeSigningBytes(env);
  const sig = fromBase64url(env.sig, 'sig', 64);
  if (!(await ctx.verifier.verify(signed, sig, sender.identityKey))) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the envelope signature does not verify under the key of ${env.from}`,
    );
  }
  const now = ctx.now();
  const expiresAt = checkEnvelopeDates(env, now);

  // Recipients homed here must be enrolled; those homed on a peer relay go through its outbox.
  const peers = new Set<string>();
  for (const to of env.to) {
    const a = parseAuthorityAddress(to);
    if (a.domain === ctx.domain) {
      if (!ctx.directory.hasAuthority(to)) {
        throw new EntraideError('UNKNOWN_RECIPIENT', `${to} is not an authority enrolled on this relay`);
      }
    } else if (ctx.peers.cached(a.domain)) {
      peers.add(a.domain);
    } else {
      throw new EntraideError(
        'UNKNOWN_RECIPIENT',
        `${to} is homed on ${a.domain}, which is not a peer of this relay`,
      );
    }
  }
  const allowed = new Set([...env.to, sender.authority]);
  const nodes = new Set<string>();
  for (const r of env.recipients) {
    if (nodes.has(r.node))
      throw new EntraideError('SCHEMA_INVALID', `recipient node ${r.node} appears twice`);
    nodes.add(r.node);
    const n = parseNodeAddress(r.node);
    const local = n.domain === ctx.domain;
    if (!allowed.has(n.authority) || (local && !ctx.directory.activeNode(r.node))) {
      throw new EntraideError(
        'UNKNOWN_RECIPIENT',
        `${r.node} is not an active node of a recipient authority`,
      );
    }
    if (!local) nodes.delete(r.node); // the peer relay delivers to its own nodes
  }
  nodes.delete(env.from);

  const outcome = await storeEnvelope(ctx, {
    env,
    body,
    hash: envelopeHash(signed, sig),
    now,
    expiresAt,
    recipientNodes: [...nodes],
    peers: [...peers],
  });
  return {
    id: env.id,
    status: 'accepted',
    acceptedAt: outcome.acceptedAt,
    duplicate: outcome.kind === 'duplicate',
  };
}

/**
 * Commits a checked envelope with its deliveries (and outbox rows), then pushes it to the recipient
 * nodes online and wakes the outbox; nothing is announced before the commit. Over a quota it throws
 * QUOTA_EXCEEDED before anything enters the group commit: nothing of it is stored.
 */
export async function storeEnvelope(
  ctx: EnvelopeContext,
  e: {
    env: Envelope;
    body: string;
    hash: string;
    now: Date;
    expiresAt: number;
    recipientNodes: string[];
    peers: string[];
    /** The peer relay it came from, for envelopes received through federation. */
    fromPeer?: string;
  },
): Promise<AcceptOutcome> {
  // Counted from here until its commit is answered, so that one batch cannot overshoot a quota.
  const release = ctx.quotas?.reserve({
    key: envelopeKey(e.env.from, e.env.id),
    sender: e.env.from,
    size: e.body.length,
    nodes: e.recipientNodes,
    peers: e.peers.length,
  });
  let outcome: AcceptOutcome;
  try {
    outcome = await ctx.store.acceptEnvelope({
      id: e.env.id,
      sender: e.env.from,
      hash: e.hash,
      body: e.body,
      acceptedAt: e.now.toISOString(),
      expiresAt: new Date(e.expiresAt).toISOString(),
      recipientNodes: e.recipientNodes,
      peers: e.peers,
      to: e.env.to,
      ciphertextHash: ciphertextHashOf(e.env.ciphertext),
      fromPeer: e.fromPeer ?? null,
      ...(e.env.v === 3 ? { blobs: e.env.blobs } : {}),
    });
  } finally {
    release?.();
  }
  if (outcome.kind === 'accepted') {
    ctx.onAccepted(e.env, e.recipientNodes);
    if (e.peers.length > 0) ctx.onForward(e.peers);
  }
  return outcome;
}
