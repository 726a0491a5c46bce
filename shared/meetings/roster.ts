/**
 * A network's roster: who its members and coordinators are, as a chain of signed versions. Each
 * version names the hash of the one before (`prev`) and is signed by a node of an authority that
 * coordinates the previous version, so a node that holds version n accepts n+1 only from the
 * coordinators it already knows, and two different versions n+1 show up as a fork.
 *
 * Version 2 of the format also lists the relay key of each member's relay (`relays`), so that a
 * member who verified the coordinator's safety code can pin peer relay keys from a source the home
 * relay does not control (client/peer-pins.ts). Version 1 rosters stay readable.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  AUTHORITY_ADDRESS_PATTERN,
  authorityOfNode,
  DOMAIN_PATTERN,
  parseAuthorityAddress,
} from '../addresses.ts';
import { fromBase64url } from '../bytes.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { EntraideError } from '../errors.ts';
import { AuthorityAddress, B64, NodeAddress, PublicKey, Rfc3339, Signature } from '../protocol/schemas.ts';
import { check } from '../protocol/validate.ts';
import { Languages, NetworkId, objectHash } from './names.ts';
import { checkWorkingHours, WorkingHours } from './working-hours.ts';

export const MAX_ROSTER_MEMBERS = 500;
export const MAX_ROSTER_VERSION = 1_000_000;

export const Roster = Type.Object(
  {
    /** 1: members only; 2: also `relays`. */
    v: Type.Union([Type.Literal(1), Type.Literal(2)]),
    type: Type.Literal('network-roster'),
    network: NetworkId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    version: Type.Integer({ minimum: 1, maximum: MAX_ROSTER_VERSION }),
    /** Coordinators are members too; they issue the next version. */
    coordinators: Type.Array(AuthorityAddress, { maxItems: MAX_ROSTER_MEMBERS }),
    members: Type.Array(AuthorityAddress, { maxItems: MAX_ROSTER_MEMBERS }),
    languages: Type.Optional(Languages),
    /** Members' declared working hours, for the slot finder. */
    hours: Type.Optional(
      Type.Record(Type.String({ pattern: `^${AUTHORITY_ADDRESS_PATTERN}$` }), WorkingHours, {
        additionalProperties: false,
        maxProperties: MAX_ROSTER_MEMBERS,
      }),
    ),
    /** Version 2: the public key of every member's relay, by domain, as the coordinator pinned it. */
    relays: Type.Optional(
      Type.Record(Type.String({ pattern: `^${DOMAIN_PATTERN}$`, maxLength: 253 }), PublicKey, {
        additionalProperties: false,
        maxProperties: MAX_ROSTER_MEMBERS,
      }),
    ),
    issuedBy: NodeAddress,
    at: Rfc3339,
    /** SHA-256 of the previous version (signature included); absent in version 1. */
    prev: Type.Optional(B64(32, 'SHA-256 of the previous roster version')),
    sig: Signature,
  },
  { additionalProperties: false },
);
export type Roster = Static<typeof Roster>;
export type UnsignedRoster = Omit<Roster, 'sig'>;

export interface RosterDiff {
  addedMembers: string[];
  removedMembers: string[];
  addedCoordinators: string[];
  removedCoordinators: string[];
}

export interface AcceptedRoster {
  roster: Roster;
  /** What changed from the roster held before (from nothing, for the first one held). */
  diff: RosterDiff;
}

export function signRoster(r: UnsignedRoster, identitySecretKey: Uint8Array): Roster {
  return { ...r, sig: signObject(CONTEXTS.networkRoster, r, identitySecretKey) };
}

/** True when the issuing node's identity key (base64url) signed this roster. */
export function verifyRoster(r: Roster, identityKey: string): boolean {
  return verifyObject(
    CONTEXTS.networkRoster,
    withoutSig(r),
    r.sig,
    fromBase64url(identityKey, 'identityKey', 32),
  );
}

/** A roster's identity, which the next version names as `prev`. */
export function rosterHash(r: Roster): string {
  return objectHash(r);
}

/** What makes a roster unusable on its own, whatever came before; null when nothing does. */
export function rosterProblem(r: Roster): string | null {
  const members = new Set(r.members);
  if (members.size !== r.members.length) return 'a member is listed twice';
  if (new Set(r.coordinators).size !== r.coordinators.length) return 'a coordinator is listed twice';
  if (r.coordinators.length === 0) return 'a network needs at least one coordinator';
  const outsider = r.coordinators.find((c) => !members.has(c));
  if (outsider) return `coordinator ${outsider} is not a member`;
  for (const [authority, hours] of Object.entries(r.hours ?? {})) {
    if (!members.has(authority)) return `working hours are given for ${authority}, who is not a member`;
    try {
      checkWorkingHours(hours, `working hours of ${authority}`);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  const domains = new Set(r.members.map((m) => parseAuthorityAddress(m).domain));
  if (r.v === 1 && r.relays !== undefined) return 'a version 1 roster lists no relay keys';
  if (r.v === 2) {
    const missing = [...domains].find((d) => r.relays?.[d] === undefined);
    if (missing) return `the relay key of ${missing}, a member’s relay, is missing`;
    const extra = Object.keys(r.relays ?? {}).find((d) => !domains.has(d));
    if (extra) return `a relay key is given for ${extra}, the relay of no member`;
  }
  if (r.version === 1 && r.prev !== undefined) return 'version 1 follows no roster, so it has no prev';
  if (r.version > 1 && r.prev === undefined)
    return `version ${r.version} must name the version it follows (prev)`;
  return null;
}

/**
 * Decides whether `next` may replace `current` (null when this node holds no roster of that
 * network yet: the first roster held is trusted if its issuer coordinates it, whatever its
 * version). `signerKeyOk` is the caller's check of `sig` against the issuing node's certified
 * identity key. Throws SCHEMA_INVALID, BAD_SIGNATURE, ROSTER_INVALID, ROSTER_STALE,
 * NOT_COORDINATOR or ROSTER_FORK, in that order of precedence.
 */
export function acceptRoster(current: Roster | null, next: Roster, signerKeyOk: boolean): AcceptedRoster {
  check(Roster, next, 'roster');
  if (!signerKeyOk) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `roster ${next.network} v${next.version} is not signed by ${next.issuedBy}`,
    );
  }
  const problem = rosterProblem(next);
  if (problem)
    throw new EntraideError('ROSTER_INVALID', `roster ${next.network} v${next.version}: ${problem}`);
  const issuer = authorityOfNode(next.issuedBy);
  if (current === null) {
    if (!next.coordinators.includes(issuer)) {
      throw new EntraideError(
        'NOT_COORDINATOR',
        `roster ${next.network} v${next.version} is issued by ${issuer}, which it does not list as a coordinator`,
      );
    }
    return { roster: next, diff: rosterDiff(null, next) };
  }
  if (next.network !== current.network) {
    throw new EntraideError(
      'ROSTER_INVALID',
      `roster of ${next.network} cannot follow a roster of ${current.network}`,
    );
  }
  if (next.version <= current.version) {
    throw new EntraideError(
      'ROSTER_STALE',
      `roster ${next.network} v${next.version} is not newer than v${current.version}, already held`,
    );
  }
  if (!current.coordinators.includes(issuer)) {
    throw new EntraideError(
      'NOT_COORDINATOR',
      `roster ${next.network} v${next.version} is issued by ${issuer}, not a coordinator of v${current.version} ` +
        `(${current.coordinators.join(', ')})`,
    );
  }
  if (next.version !== current.version + 1) {
    throw new EntraideError(
      'ROSTER_FORK',
      `roster ${next.network} v${next.version} skips versions after v${current.version}: fetch the ones between`,
    );
  }
  if (next.prev !== rosterHash(current)) {
    throw new EntraideError(
      'ROSTER_FORK',
      `roster ${next.network} v${next.version} does not follow v${current.version} held here (prev differs)`,
    );
  }
  return { roster: next, diff: rosterDiff(current, next) };
}

const minus = (a: readonly string[], b: readonly string[]) => a.filter((x) => !b.includes(x)).sort();

/** Members and coordinators added and removed from `a` (null: no roster) to `b`, sorted. */
export function rosterDiff(a: Roster | null, b: Roster): RosterDiff {
  const [am, ac] = a ? [a.members, a.coordinators] : [[], []];
  return {
    addedMembers: minus(b.members, am),
    removedMembers: minus(am, b.members),
    addedCoordinators: minus(b.coordinators, ac),
    removedCoordinators: minus(ac, b.coordinators),
  };
}
