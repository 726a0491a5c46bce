/**
 * Every budget, quota and bound of the relay, in one place. The defaults are set so that a real
 * network never meets them in normal use (a ministry's nodes behind one address, a burst of a
 * hundred messages, a day of key upkeep) while a script, a botnet or a careless client does.
 *
 * A relay runs one named profile (`relay start --limits NAME`, or $ENTRAIDE_RELAY_LIMITS):
 * - `default`: what every relay runs unless told otherwise;
 * - `test`: higher budgets for test suites and benchmarks that drive thousands of requests from
 *   one address; the same checks run, only the numbers differ. Never for a relay that faces users;
 * - `unlimited`: no budget is checked at all, only to measure what the checks cost (`npm run bench`).
 * An operator may change single values with a JSON file (`--limits-file F`) holding a part of this
 * object, for example `{ "quota": { "senderBytes": 1073741824 } }`: its keys are checked, and a
 * value the relay does not know is refused at start.
 *
 * The protocol's own sizes (largest envelope, TTL range, lifetimes) are in shared/limits.ts.
 */
import { readFileSync } from 'node:fs';
import { EntraideError } from '../shared/errors.ts';

/** At most `max` requests per `windowSeconds`, counted per key (source address, node, peer, auditor). */
export interface Budget {
  max: number;
  windowSeconds: number;
}

export interface RelayLimits {
  /** The profile these values come from (printed by `relay start`). */
  profile: LimitsProfile;
  /** false only in the `unlimited` profile: budgets and quotas are not checked. */
  enforced: boolean;
  /**
   * Addresses (or CIDR ranges) of the reverse proxy in front of the relay. A request from one of
   * them is counted under the first address of X-Forwarded-For that is not a proxy; any other
   * request is counted under its own source address, whatever its headers say.
   */
  trustedProxies: string[];
  rate: {
    /** Routes without a session (enrolment, login challenges and tokens, joins, relay info), per source address. */
    anonymous: Budget;
    /** Routes of a node's session, per node. */
    session: Budget;
    /** socket.io events of a node (submissions and acknowledgements), per node, over all its sockets. */
    socketEvents: Budget;
    /** Federation requests, per peer relay. */
    federation: Budget;
    /** The audit API, per auditor. */
    audit: Budget;
  };
  /** socket.io connections one node may hold at once. */
  socketsPerNode: number;
  /**
   * What may wait on the relay, undelivered: past it a new envelope gets 429 QUOTA_EXCEEDED and is
   * not stored (server/domain/quotas.ts). From a peer relay, such an envelope is refused alone in
   * its batch, and the peer's outbox tries it again later.
   */
  quota: {
    /**
     * Bytes and envelopes sent by one node (here or on a peer) that a node here has not yet
     * acknowledged, or that still wait in the outbox for a peer relay.
     */
    senderBytes: number;
    senderEnvelopes: number;
    /** Bytes and envelopes waiting for one recipient authority (all its nodes). */
    recipientBytes: number;
    recipientEnvelopes: number;
  };
  /**
   * Documents (blobs, server/domain/blobs.ts): the largest blob (413 PAYLOAD_TOO_LARGE), and the
   * bytes of blobs held for one node and for one authority until every recipient has them
   * (429 QUOTA_EXCEEDED); refused before anything is stored. A blob never named by an envelope is
   * deleted after `unboundHours`.
   */
  blobs: {
    maxBlobBytes: number;
    nodeBytes: number;
    authorityBytes: number;
    unboundHours: number;
  };
  keyEvents: {
    /** Shortest time between two encryption-key rotations of one node. */
    minRotationIntervalSeconds: number;
    /** Key events one node may submit per day (rotations, certifications, revocations). */
    perNodePerDay: number;
    /** How far a key event's issuedAt may be from the relay's clock. */
    maxClockSkewSeconds: number;
  };
  pages: {
    /** Bytes of envelopes in one inbox page, one socket catch-up batch, one federation batch. */
    inboxBytes: number;
    catchUpBytes: number;
    federationBatchBytes: number;
    /** Entries per page of a directory answer and of /v1/audit/heads. */
    directoryEntries: number;
    auditHeads: number;
    /** Bytes the relay reads of a peer's answer at most. */
    peerAnswerBytes: number;
  };
  /** Refused anonymous requests are written to the audit log once per code and source per this interval, with a count. */
  refusalIntervalSeconds: number;
}

export type LimitsProfile = 'default' | 'test' | 'unlimited';
export const LIMITS_PROFILES: readonly LimitsProfile[] = ['default', 'test', 'unlimited'];

const MiB = 1024 * 1024;

const DEFAULT: RelayLimits = {
  profile: 'default',
  enforced: true,
  trustedProxies: [],
  rate: {
    anonymous: { max: 120, windowSeconds: 60 },
    session: { max: 1200, windowSeconds: 60 },
    socketEvents: { max: 3000, windowSeconds: 60 },
    federation: { max: 6000, windowSeconds: 60 },
    audit: { max: 600, windowSeconds: 60 },
  },
  socketsPerNode: 8,
  quota: {
    senderBytes: 512 * MiB,
    senderEnvelopes: 20_000,
    recipientBytes: 2048 * MiB,
    recipientEnvelopes: 100_000,
  },
  blobs: {
    // A court file of 2 GiB, sealed and padded (Padmé adds at most 1/16 at that size).
    maxBlobBytes: 2304 * MiB,
    nodeBytes: 8 * 1024 * MiB,
    authorityBytes: 16 * 1024 * MiB,
    unboundHours: 24,
  },
  keyEvents: {
    minRotationIntervalSeconds: 60,
    perNodePerDay: 48,
    maxClockSkewSeconds: 300,
  },
  pages: {
    inboxBytes: 8 * MiB,
    catchUpBytes: 8 * MiB,
    federationBatchBytes: 2 * MiB,
    directoryEntries: 200,
    auditHeads: 100,
    peerAnswerBytes: 16 * MiB,
  },
  refusalIntervalSeconds: 60,
};

const TEST: RelayLimits = {
  ...DEFAULT,
  profile: 'test',
  rate: {
    anonymous: { max: 100_000, windowSeconds: 60 },
    session: { max: 100_000, windowSeconds: 60 },
    socketEvents: { max: 1_000_000, windowSeconds: 60 },
    federation: { max: 1_000_000, windowSeconds: 60 },
    audit: { max: 100_000, windowSeconds: 60 },
  },
  socketsPerNode: 64,
  keyEvents: { ...DEFAULT.keyEvents, minRotationIntervalSeconds: 0, perNodePerDay: 10_000 },
};

const UNLIMITED: RelayLimits = { ...TEST, profile: 'unlimited', enforced: false };

const PROFILES: Record<LimitsProfile, RelayLimits> = { default: DEFAULT, test: TEST, unlimited: UNLIMITED };

function isProfile(name: string): name is LimitsProfile {
  return (LIMITS_PROFILES as readonly string[]).includes(name);
}

/** The limits of a profile, with the overrides of `file` (a JSON object holding a part of RelayLimits) applied. */
export function relayLimits(profile: string = 'default', file?: string): RelayLimits {
  if (!isProfile(profile)) {
    throw new EntraideError(
      'USAGE',
      `unknown limits profile "${profile}"; use one of ${LIMITS_PROFILES.join(', ')}`,
    );
  }
  const base = structuredClone(PROFILES[profile]);
  if (!file) return base;
  let overrides: unknown;
  try {
    overrides = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EntraideError('USAGE', `cannot read the limits file ${file}: ${(err as Error).message}`);
  }
  return applyOverrides(base, overrides, file);
}

/** `overrides` merged into `base`, each key and value checked against the shape of `base`. */
export function applyOverrides(base: RelayLimits, overrides: unknown, source: string): RelayLimits {
  const merge = (target: Record<string, unknown>, patch: unknown, path: string): void => {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new EntraideError('USAGE', `${source}: ${path || 'the file'} must be a JSON object`);
    }
    for (const [key, value] of Object.entries(patch)) {
      const at = path ? `${path}.${key}` : key;
      if (key === 'profile' || key === 'enforced' || !Object.prototype.hasOwnProperty.call(target, key)) {
        throw new EntraideError('USAGE', `${source}: "${at}" is not a limit the relay knows`);
      }
      const current = target[key];
      if (Array.isArray(current)) {
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
          throw new EntraideError('USAGE', `${source}: "${at}" must be a list of addresses`);
        }
        target[key] = [...value];
      } else if (typeof current === 'object' && current !== null) {
        merge(current as Record<string, unknown>, value, at);
      } else if (!Number.isSafeInteger(value) || (value as number) < (key === 'max' ? 1 : 0)) {
        throw new EntraideError('USAGE', `${source}: "${at}" must be a whole number (${current} by default)`);
      } else {
        target[key] = value;
      }
    }
  };
  merge(base as unknown as Record<string, unknown>, overrides, '');
  return base;
}

/**
 * The limits a relay process starts with, from its environment: ENTRAIDE_RELAY_LIMITS (a profile
 * name), ENTRAIDE_RELAY_LIMITS_FILE (overrides, see relayLimits) and ENTRAIDE_TRUSTED_PROXIES
 * (addresses or CIDR ranges of the reverse proxy, comma-separated), each overridden by the
 * options of `relay start` when given.
 */
export function limitsFromEnv(
  env: NodeJS.ProcessEnv,
  options: { profile?: string; file?: string; trustedProxies?: string } = {},
): RelayLimits {
  const limits = relayLimits(
    options.profile ?? (env.ENTRAIDE_RELAY_LIMITS || 'default'),
    options.file ?? (env.ENTRAIDE_RELAY_LIMITS_FILE || undefined),
  );
  const proxies = (options.trustedProxies ?? env.ENTRAIDE_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (proxies.length > 0) limits.trustedProxies = proxies;
  return limits;
}
