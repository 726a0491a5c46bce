/** Signed tree heads: the relay vouches for the size and root of one of its logs at a time. */
import { fromBase64url, toBase64url } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import type { SignedTreeHead, TreeHeadBody } from '../protocol/key-log.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { parseTimestamp } from '../time.ts';
import { relayKeyAt, type RelayKeyTimeline } from './relay-key-rollover.ts';

export function signTreeHead(
  input: { log: TreeHeadBody['log']; relay: string; size: number; root: Uint8Array; timestamp: Date },
  relaySecretKey: Uint8Array,
): SignedTreeHead {
  const body: TreeHeadBody = {
    v: 1,
    log: input.log,
    relay: input.relay,
    size: input.size,
    root: toBase64url(input.root),
    timestamp: input.timestamp.toISOString(),
  };
  return { ...body, sig: signObject(CONTEXTS.treeHead, body, relaySecretKey) };
}

/**
 * Checks the relay's signature and that the head is for the expected log and relay. `relayKey` is
 * the relay's one key, or the timeline of its keys (relay-key-rollover.ts): then the head must be
 * signed by the key that was current at its timestamp.
 */
export function verifyTreeHead(
  head: SignedTreeHead,
  expected: { log: TreeHeadBody['log']; relay: string; relayKey: Uint8Array | RelayKeyTimeline },
): void {
  fromBase64url(head.root, 'head.root', 32);
  const at = parseTimestamp(head.timestamp, 'head.timestamp');
  if (head.log !== expected.log || head.relay !== expected.relay) {
    throw new EntraideError(
      'PROOF_INVALID',
      `a tree head of the ${head.log} log of ${head.relay} was served for the ${expected.log} log of ${expected.relay}`,
    );
  }
  const { relayKey } = expected;
  const key = relayKey instanceof Uint8Array ? relayKey : relayKeyAt(relayKey, at);
  if (!verifyObject(CONTEXTS.treeHead, withoutSig(head), head.sig, key)) {
    const when =
      relayKey instanceof Uint8Array || relayKey.keys.length === 1
        ? ''
        : ` with the key it held at ${head.timestamp}`;
    throw new EntraideError(
      'PROOF_INVALID',
      `the tree head of size ${head.size} is not signed by relay ${head.relay}${when}`,
    );
  }
}

export function headRoot(head: SignedTreeHead): Uint8Array {
  return fromBase64url(head.root, 'head.root', 32);
}
