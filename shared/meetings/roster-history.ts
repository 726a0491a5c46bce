/**
 * A network's roster history as a node holds it: each version with what changed from the version
 * before. A member holds the versions from the one that brought it in, so the first version it
 * holds may follow one it never saw: that version's change is unknown (null), not "everyone added".
 */
import { rosterDiff, type Roster, type RosterDiff } from './roster.ts';

export interface RosterVersion {
  version: number;
  /** The node that signed this version. */
  issuedBy: string;
  at: string;
  coordinators: string[];
  members: string[];
  /** From the version before (from nothing for version 1); null when that version is not held. */
  diff: RosterDiff | null;
}

/**
 * Versions newest first, each with its change from the version before it.
 * Precondition: `rosters` are versions of one network, each version at most once (the store's key).
 */
export function rosterHistory(rosters: readonly Roster[]): RosterVersion[] {
  const byVersion = new Map(rosters.map((r) => [r.version, r]));
  return [...byVersion.values()]
    .sort((a, b) => b.version - a.version)
    .map((r) => {
      const before = byVersion.get(r.version - 1);
      return {
        version: r.version,
        issuedBy: r.issuedBy,
        at: r.at,
        coordinators: r.coordinators,
        members: r.members,
        diff: r.version === 1 ? rosterDiff(null, r) : before ? rosterDiff(before, r) : null,
      };
    });
}
