/**
 * The relay's key replaced by a new one (`entraide relay key rotate`): a rollover statement signed
 * by the old key and by the new one (shared/keys/relay-key-rollover.ts) joins the chain kept in
 * relay.json, which the relay shows at GET /v1/relay, so that its nodes, auditors and peers follow
 * the new key without a new invitation. The old seed is destroyed (its file replaced); the old public
 * key stays in the chain, so that the heads it signed keep verifying.
 *
 * Precondition: the caller holds the data folder's lock (the relay is stopped); the relay signs with
 * the new key from its next start. Each step survives a crash:
 * 1. the new seed goes to relay-key.next.json;
 * 2. relay.json names the new key and holds the new rollover: from here on the rotation happened
 *    (identity.ts reads the seed from the next file until step 3 is done);
 * 3. relay-key.next.json replaces relay-key.json: the old seed is gone.
 * The next rotation first completes step 3 of one that stopped, or removes a next file that
 * relay.json never named (a crash before step 2).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { toBase64url } from '../shared/bytes.ts';
import { signingKeyPairFromSeed } from '../shared/crypto/keys.ts';
import { EntraideError } from '../shared/errors.ts';
import { signRelayKeyRollover } from '../shared/keys/relay-key-rollover.ts';
import { RelayInfoFile } from '../shared/protocol/relay-files.ts';
import { MAX_RELAY_KEY_ROLLOVERS, type RelayKeyRollover } from '../shared/protocol/schemas.ts';
import {
  loadRelayIdentity,
  readRelayFile,
  relayFiles,
  seedKeyPair,
  writeRelayFile,
  type RelayIdentity,
} from './identity.ts';

export interface RelayKeyRotation {
  domain: string;
  previousKey: string;
  newKey: string;
  /** The statement that joined the chain. */
  rollover: RelayKeyRollover;
}

/**
 * Rotates the key of the relay in `dataDir` at `now`. Refuses (USAGE) a relay that already shows
 * MAX_RELAY_KEY_ROLLOVERS rollovers, and a clock that is not past the last rollover: heads are told
 * apart by their timestamps, so each key's time must come after the previous one's.
 */
export function rotateRelayKey(
  dataDir: string,
  now: Date,
  random: (n: number) => Uint8Array = randomBytes,
): RelayKeyRotation {
  const files = relayFiles(dataDir);
  const identity = finishStoppedRotation(dataDir);
  const history = identity.keyHistory;
  if (history.length >= MAX_RELAY_KEY_ROLLOVERS)
    throw new EntraideError(
      'USAGE',
      `relay ${identity.domain} has rotated its key ${history.length} times, the most a relay may show`,
    );
  const last = history.at(-1);
  if (last && Date.parse(last.issuedAt) >= now.getTime())
    throw new EntraideError(
      'USAGE',
      `the last rotation of this relay's key is dated ${last.issuedAt}, not before now (${now.toISOString()}): check the clock`,
    );

  const seed = random(32);
  const next = signingKeyPairFromSeed(seed);
  const rollover = signRelayKeyRollover({ relay: identity.domain, issuedAt: now }, identity, next);
  writeRelayFile(files.nextKey, { seed: toBase64url(seed) }, 0o600);
  const info = readRelayFile(RelayInfoFile, files.info);
  writeRelayFile(
    files.info,
    { ...info, publicKey: rollover.newKey, keyHistory: [...history, rollover] },
    0o644,
  );
  renameSync(files.nextKey, files.key);
  syncFolder(dataDir);
  return { domain: identity.domain, previousKey: identity.publicKeyB64, newKey: rollover.newKey, rollover };
}

/** The identity, after completing a rotation that stopped after step 2 or undoing one before it. */
function finishStoppedRotation(dataDir: string): RelayIdentity {
  const files = relayFiles(dataDir);
  const identity = loadRelayIdentity(dataDir, undefined, false);
  if (existsSync(files.nextKey)) {
    if (toBase64url(seedKeyPair(files.nextKey).publicKey) === identity.publicKeyB64)
      renameSync(files.nextKey, files.key);
    else unlinkSync(files.nextKey);
    syncFolder(dataDir);
  }
  return identity;
}

/** Makes the renames in the folder durable. */
function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
