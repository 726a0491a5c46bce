/**
 * A roster's history (shared/meetings/roster-history.ts): versions newest first, each with its
 * change from the version before; the change of a version whose predecessor is not held is unknown
 * (null), never "everyone added"; and along a chain held whole, the changes rebuild each version's
 * members and coordinators from nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rosterHistory } from '../../shared/meetings/roster-history.ts';
import type { Roster } from '../../shared/meetings/roster.ts';

const SN = 'sn.moj@relay.a.test';
const NG = 'ng.moj@relay.a.test';
const KE = 'ke.ag@relay.b.test';

/** The fields the history reads; the signature is not its concern (acceptRoster checked it). */
const roster = (version: number, members: string[], coordinators: string[]): Roster => ({
  v: 1,
  type: 'network-roster',
  network: 'wacap',
  name: 'West African Network',
  version,
  members,
  coordinators,
  issuedBy: `desk1/${coordinators[0]!}`,
  at: new Date(Date.UTC(2026, 0, version)).toISOString(),
  sig: 'x',
});

const none = { addedMembers: [], removedMembers: [], addedCoordinators: [], removedCoordinators: [] };

describe('a roster’s history', () => {
  it('lists versions newest first, each with what it changed', () => {
    const h = rosterHistory([
      roster(1, [SN], [SN]),
      roster(3, [SN, KE], [SN, KE]),
      roster(2, [SN, NG, KE], [SN]),
    ]);
    expect(h.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(h.map((v) => v.diff)).toEqual([
      { ...none, removedMembers: [NG], addedCoordinators: [KE] },
      { ...none, addedMembers: [KE, NG] },
      { ...none, addedMembers: [SN], addedCoordinators: [SN] },
    ]);
    expect(h[0]).toMatchObject({ issuedBy: `desk1/${SN}`, at: '2026-01-03T00:00:00.000Z' });
  });

  it('says the change is unknown where the version before is not held', () => {
    const h = rosterHistory([roster(5, [SN, KE], [SN]), roster(7, [SN], [SN]), roster(8, [SN, NG], [SN])]);
    expect(h.map((v) => [v.version, v.diff === null])).toEqual([
      [8, false],
      [7, true],
      [5, true],
    ]);
    expect(rosterHistory([])).toEqual([]);
  });

  it('rebuilds every version of a whole chain from its changes (fast-check)', () => {
    const authority = fc.constantFrom(SN, NG, KE, 'gh.moj@relay.b.test', 'cv.mj@relay.b.test');
    const version = fc
      .uniqueArray(authority, { minLength: 1 })
      .chain((members) =>
        fc.subarray(members, { minLength: 1 }).map((coordinators) => ({ members, coordinators })),
      );
    fc.assert(
      fc.property(fc.array(version, { minLength: 1, maxLength: 12 }), (chain) => {
        const h = rosterHistory(chain.map((v, i) => roster(i + 1, v.members, v.coordinators)));
        let members: string[] = [];
        let coordinators: string[] = [];
        for (const v of [...h].reverse()) {
          const d = v.diff!;
          members = [...members.filter((m) => !d.removedMembers.includes(m)), ...d.addedMembers];
          coordinators = [
            ...coordinators.filter((m) => !d.removedCoordinators.includes(m)),
            ...d.addedCoordinators,
          ];
          expect(members.sort()).toEqual([...v.members].sort());
          expect(coordinators.sort()).toEqual([...v.coordinators].sort());
        }
      }),
    );
  });
});
