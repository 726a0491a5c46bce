/**
 * Relay key rollovers. The relay hands its key over to a new one with a statement signed by both
 * (RelayKeyRollover in protocol/schemas.ts), and whoever pinned any key of the chain follows it.
 *
 * A chain is verified from the key the verifier pinned: every link is signed by its previous key
 * (`sig`) and by its new key (`newSig`), each under its own context; each link starts from the key
 * the link before introduced, is issued strictly later and names this relay; no key comes twice;
 * the last key is the one the relay shows; and the pinned key is one of the chain's keys. The new
 * key's signature is what lets a verifier who pinned a later key trust the earlier ones too.
 *
 * The keys then form a timeline: a signed head is checked against the key that was current at the
 * head's timestamp, so that heads signed before a rollover keep verifying and a head dated after a
 * rollover but signed with the old key does not.
 */
import { fromBase64url, toBase64url } from '../bytes.ts';
import { relayKeyFingerprint } from '../crypto/relay-key.ts';
import { CONTEXTS, signObject, verifyObject } from '../crypto/signing.ts';
import { EntraideError } from '../errors.ts';
import { MAX_RELAY_KEY_ROLLOVERS, type RelayKeyRollover } from '../protocol/schemas.ts';
import { parseTimestamp } from '../time.ts';

interface SigningKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** The statement that hands `relay` over from `previous` to `next` at `issuedAt`, signed by both. */
export function signRelayKeyRollover(
  input: { relay: string; issuedAt: Date },
  previous: SigningKeyPair,
  next: SigningKeyPair,
): RelayKeyRollover {
  const body = {
    v: 1 as const,
    relay: input.relay,
    previousKey: toBase64url(previous.publicKey),
    newKey: toBase64url(next.publicKey),
    issuedAt: input.issuedAt.toISOString(),
  };
  return {
    ...body,
    sig: signObject(CONTEXTS.relayKeyRollover, body, previous.secretKey),
    newSig: signObject(CONTEXTS.relayKeyRolloverNew, body, next.secretKey),
  };
}

/** True when the link is signed by its previous key and by its new key, and changes the key. */
export function rolloverSigned(r: RelayKeyRollover): boolean {
  const { sig, newSig, ...body } = r;
  let previous: Uint8Array;
  let next: Uint8Array;
  try {
    previous = fromBase64url(r.previousKey, 'rollover.previousKey', 32);
    next = fromBase64url(r.newKey, 'rollover.newKey', 32);
  } catch {
    return false;
  }
  return (
    r.previousKey !== r.newKey &&
    verifyObject(CONTEXTS.relayKeyRollover, body, sig, previous) &&
    verifyObject(CONTEXTS.relayKeyRolloverNew, body, newSig, next)
  );
}

/** The keys a relay signed with, proven from a pinned key: which one was current when. */
export interface RelayKeyTimeline {
  relay: string;
  /** The key the relay shows now: the last of the chain. */
  current: string;
  /** Every key of the chain, oldest first, with the instant (ms) it took over; null for the first. */
  keys: { key: string; bytes: Uint8Array; since: number | null }[];
}

/** A relay known by one key and no rollover. */
export function singleKeyTimeline(relay: string, key: string): RelayKeyTimeline {
  return { relay, current: key, keys: [{ key, bytes: fromBase64url(key, 'relay key', 32), since: null }] };
}

/**
 * Verifies that the rollovers `history` (oldest first) lead from `pinned` to `shown`, the key the
 * relay `relay` shows now; returns the timeline of its keys. RELAY_MISMATCH, saying which link
 * fails, otherwise. Preconditions: libsodium is loaded; `pinned` and `shown` are base64url keys.
 */
export function relayKeyTimeline(
  relay: string,
  pinned: string,
  shown: string,
  history: readonly RelayKeyRollover[] = [],
): RelayKeyTimeline {
  const refuse = (why: string) =>
    new EntraideError(
      'RELAY_MISMATCH',
      `relay ${relay} shows the key with fingerprint ${relayKeyFingerprint(shown)}, and no valid chain of rollovers leads to it from the key pinned here (fingerprint ${relayKeyFingerprint(pinned)}): ${why}`,
    );
  if (history.length > MAX_RELAY_KEY_ROLLOVERS)
    throw refuse(`${history.length} rollovers, more than the ${MAX_RELAY_KEY_ROLLOVERS} a relay may show`);
  if (history.length === 0) {
    if (shown !== pinned) throw refuse('the relay shows no rollover');
    return singleKeyTimeline(relay, shown);
  }
  const keys: RelayKeyTimeline['keys'] = [
    {
      key: history[0]!.previousKey,
      bytes: fromBase64url(history[0]!.previousKey, 'relay key', 32),
      since: null,
    },
  ];
  let last = -Infinity;
  for (const [i, r] of history.entries()) {
    const link = `rollover ${i + 1} of ${history.length} (issued ${r.issuedAt})`;
    if (r.relay !== relay) throw refuse(`${link} is for relay ${r.relay}`);
    if (r.previousKey !== keys.at(-1)!.key)
      throw refuse(`${link} does not start from the key the rollover before it introduced: a gap`);
    if (!rolloverSigned(r)) throw refuse(`${link} is not signed by both its previous and its new key`);
    const at = parseTimestamp(r.issuedAt, 'rollover.issuedAt');
    if (at <= last) throw refuse(`${link} is not issued after the rollover before it`);
    if (keys.some((k) => k.key === r.newKey)) throw refuse(`${link} brings back a key the relay held before`);
    keys.push({ key: r.newKey, bytes: fromBase64url(r.newKey, 'relay key', 32), since: at });
    last = at;
  }
  if (keys.at(-1)!.key !== shown) throw refuse('the chain ends at another key than the one the relay shows');
  if (!keys.some((k) => k.key === pinned)) throw refuse('the pinned key is not in the chain');
  return { relay, current: shown, keys };
}

/** The key that was current at `at` (ms since the epoch). */
export function relayKeyAt(timeline: RelayKeyTimeline, at: number): Uint8Array {
  let key = timeline.keys[0]!;
  for (const k of timeline.keys) if (k.since === null || k.since <= at) key = k;
  return key.bytes;
}
