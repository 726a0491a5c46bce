/**
 * Envelopes forwarded by a peer relay. A relay accepts from a peer only envelopes whose sender is
 * homed on that peer and that name at least one authority homed here; it stores them for its own
 * recipient nodes only (no second hop), deduplicated by sender and id like any other: another
 * sender's envelope under the same id is kept beside it, and the answer names that sender so
 * that the forwarding relay records the conflict too.
 *
 * The sender's signature is checked here too, against the sender's keys proven in the peer's key log
 * (remote-keys.ts), and again end to end by every recipient node.
 */
import { parseAuthorityAddress, parseNodeAddress } from '../../shared/addresses.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { envelopeSigningBytes } from '../../shared/crypto/envelope.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { ForwardResults } from '../../shared/protocol/federation.ts';
import type { Peer } from '../federation/peers.ts';
import { forwardRefusal, requestRefusal } from './forward-refusal.ts';
import {
  checkEnvelopeDates,
  envelopeHash,
  parseEnvelope,
  storeEnvelope,
  type EnvelopeContext,
} from './envelopes.ts';

type Result = ForwardResults['results'][number];

async function acceptFromPeer(raw: unknown, peer: Peer, ctx: EnvelopeContext): Promise<Result> {
  const { env, body } = parseEnvelope(raw, ctx.formats);
  const sender = parseNodeAddress(env.from);
  if (sender.domain !== peer.domain) {
    throw new EntraideError('FORBIDDEN', `${env.from} is not homed on ${peer.domain}, which forwarded it`);
  }
  const now = ctx.now();
  const expiresAt = checkEnvelopeDates(env, now);
  const local = env.to.filter((a) => parseAuthorityAddress(a).domain === ctx.domain);
  if (local.length === 0) {
    throw new EntraideError(
      'UNKNOWN_RECIPIENT',
      `envelope ${env.id} names no authority homed on ${ctx.domain}`,
    );
  }
  for (const a of local) {
    if (!ctx.directory.hasAuthority(a)) {
      throw new EntraideError('UNKNOWN_RECIPIENT', `${a} is not an authority enrolled on this relay`);
    }
  }
  const allowed = new Set(local);
  const nodes = new Set<string>();
  for (const r of env.recipients) {
    const n = parseNodeAddress(r.node);
    if (n.domain !== ctx.domain) continue; // for the sender's relay or another peer
    if (!allowed.has(n.authority) || !ctx.directory.activeNode(r.node)) {
      throw new EntraideError(
        'UNKNOWN_RECIPIENT',
        `${r.node} is not an active node of a recipient authority`,
      );
    }
    nodes.add(r.node);
  }
  // Last, the costly check: the sender's keys from the peer's key log, and the signature.
  const signed = envelopeSigningBytes(env);
  const sig = fromBase64url(env.sig, 'sig', 64);
  const key = await ctx.remoteKeys.identityKey(peer, sender.authority, env.from);
  if (!(await ctx.verifier.verify(signed, sig, key))) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the envelope signature does not verify under the key of ${env.from}`,
    );
  }
  const outcome = await storeEnvelope(ctx, {
    env,
    body,
    hash: envelopeHash(signed, sig),
    now,
    expiresAt,
    recipientNodes: [...nodes],
    peers: [], // no second hop
    fromPeer: peer.domain,
  });
  return {
    id: env.id,
    status: outcome.kind === 'accepted' ? 'accepted' : 'duplicate',
    ...(outcome.conflicts.length > 0 ? { conflicts: outcome.conflicts.slice(0, 16) } : {}),
  };
}

/**
 * Each envelope of the batch is accepted or refused on its own; all share one group commit. A
 * refusal carries its code, and `transient: true` when it is no verdict on the envelope (over a
 * quota here, dated ahead of this relay's clock): the peer's outbox tries that envelope again later;
 * any other refusal of one envelope is final. A failure of this relay or of its link to the peer
 * (storage failing, the senders' keys not readable from the peer just now, an unexpected error)
 * refuses the whole request instead (forward-refusal.ts): the peer sends the batch again, in order;
 * what this request stored meanwhile is then answered as duplicates.
 */
export async function acceptForwarded(
  envelopes: unknown[],
  peer: Peer,
  ctx: EnvelopeContext,
): Promise<ForwardResults> {
  const settled = await Promise.all(
    envelopes.map((raw) =>
      acceptFromPeer(raw, peer, ctx).then(
        (result) => ({ result }),
        (err: unknown) => ({ err, id: (raw as { id: string }).id }),
      ),
    ),
  );
  for (const s of settled) {
    const whole = 'err' in s ? requestRefusal(s.err, peer.domain) : undefined;
    if (whole !== undefined) throw whole;
  }
  return {
    results: settled.map((s): Result =>
      'result' in s
        ? s.result
        : { id: s.id, status: 'refused', error: forwardRefusal(s.err as EntraideError) },
    ),
  };
}
