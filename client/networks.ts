/**
 * A node's side of networks: a coordinator signs each version of a network's roster and sends it
 * to every member; members accept a version only from a coordinator of the version they hold
 * (shared/meetings/roster.ts). Each authority declares its own working hours, which go to the
 * coordinators of its networks for the slot finder.
 *
 * Rosters this node issues are version 2: they list the key of each member's relay, as this node
 * pinned it. A member trusts such keys (peer-pins.ts) only from a coordinator whose safety code its
 * officers verified.
 */
import { authorityOfNode, parseAuthorityAddress } from '../shared/addresses.ts';
import { EntraideError, isTransient } from '../shared/errors.ts';
import {
  acceptRoster,
  Roster as RosterSchema,
  rosterHash,
  rosterProblem,
  signRoster,
  verifyRoster,
  type Roster,
  type RosterDiff,
  type UnsignedRoster,
} from '../shared/meetings/roster.ts';
import { rosterHistory, type RosterVersion } from '../shared/meetings/roster-history.ts';
import { checkWorkingHours, type WorkingHours } from '../shared/meetings/working-hours.ts';
import type { HoursContent } from '../shared/protocol/content.ts';
import type { Envelope } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import type { AcceptedRecord, NodePort, SendResult } from './node-port.ts';
import type { RosterRelayClaim } from './peer-pins.ts';

export interface NetworkView extends Omit<Roster, 'sig' | 'hours' | 'v' | 'type' | 'prev'> {
  /** Declared working hours of members: the newest this node holds. */
  hours: Record<string, WorkingHours>;
  coordinator: boolean;
}

/** How a network item is listed among the node's messages. */
export const itemRecord = (kind: 'network' | 'hours' | 'meeting', subject: string) => ({
  kind,
  subject,
  body: '',
  language: null,
  requestId: null,
  handling: null,
});
const record = (
  subject: string,
  content: unknown,
  kind: 'network' | 'hours' = 'network',
): AcceptedRecord['record'] => ({ ...itemRecord(kind, subject), content: JSON.stringify(content) });

export class NetworkDesk {
  /** Networks whose coordinators should receive this authority's working hours. */
  private readonly hoursDue = new Set<string>();

  /**
   * @param relayKey the key this node holds for a relay (its own, or a peer's as pinned), which the
   *   rosters it issues list for members of that relay.
   */
  constructor(
    private readonly node: NodePort,
    private readonly relayKey: (domain: string) => Promise<string>,
  ) {}

  /** The key of each member's relay, for a version-2 roster. */
  private async relaysOf(members: string[]): Promise<Record<string, string>> {
    const relays: Record<string, string> = {};
    for (const d of [...new Set(members.map((m) => parseAuthorityAddress(m).domain))].sort())
      relays[d] = await this.relayKey(d);
    return relays;
  }

  /**
   * The keys that the newest rosters held give relay `domain`, each from a coordinator this
   * authority verified (its safety code compared: Pin.verifiedAt). Rosters this authority issued
   * list the keys its own nodes pinned, so they are no second source.
   */
  async relayClaims(domain: string): Promise<RosterRelayClaim[]> {
    const claims: RosterRelayClaim[] = [];
    for (const row of this.store.latestRosters()) {
      const r = JSON.parse(row.signed) as Roster;
      const key = r.v === 2 ? r.relays?.[domain] : undefined;
      if (!key) continue;
      const issuer = authorityOfNode(r.issuedBy);
      if (issuer === this.node.authority || !(await this.node.store.pin(issuer))?.verifiedAt) continue;
      claims.push({ network: r.network, version: r.version, key, receivedAt: new Date(row.receivedAt) });
    }
    return claims;
  }

  private get store() {
    return this.node.store.meetings;
  }

  roster(network: string): Roster | null {
    const row = this.store.latestRoster(network);
    return row ? (JSON.parse(row.signed) as Roster) : null;
  }

  mustHold(network: string): Roster {
    const r = this.roster(network);
    if (!r) {
      throw new EntraideError(
        'NOT_FOUND',
        `this node holds no roster of network ${network}: see entraide network list`,
      );
    }
    return r;
  }

  /** The roster held of a network this authority coordinates (NOT_FOUND, NOT_COORDINATOR). */
  mustCoordinate(network: string): Roster {
    const current = this.mustHold(network);
    if (!current.coordinators.includes(this.node.authority)) {
      throw new EntraideError(
        'NOT_COORDINATOR',
        `${this.node.authority} is not a coordinator of ${network}; its coordinators are ${current.coordinators.join(', ')}`,
      );
    }
    return current;
  }

  list(): NetworkView[] {
    return this.store.latestRosters().map((row) => this.view(JSON.parse(row.signed) as Roster));
  }

  show(network: string): NetworkView {
    return this.view(this.mustHold(network));
  }

  /** Every version of the roster this node holds, newest first, each with its change (NOT_FOUND if none). */
  versions(network: string): RosterVersion[] {
    this.mustHold(network);
    return rosterHistory(this.store.rosters(network).map((row) => JSON.parse(row.signed) as Roster));
  }

  /** Each member's hours: as declared to this node, else as a roster carried them. */
  private memberHours(members: string[], inRoster: Roster['hours']): Record<string, WorkingHours> {
    const hours: Record<string, WorkingHours> = {};
    for (const m of members) {
      const held = this.store.hours(m);
      const h = held ? (JSON.parse(held.hours) as WorkingHours) : inRoster?.[m];
      if (h) hours[m] = h;
    }
    return hours;
  }

  private view(r: Roster): NetworkView {
    const hours = this.memberHours(r.members, r.hours);
    return {
      network: r.network,
      name: r.name,
      version: r.version,
      coordinators: r.coordinators,
      members: r.members,
      ...(r.languages ? { languages: r.languages } : {}),
      hours,
      ...(r.relays ? { relays: r.relays } : {}),
      issuedBy: r.issuedBy,
      at: r.at,
      coordinator: r.coordinators.includes(this.node.authority),
    };
  }

  /** Creates a network whose first coordinator and member is this authority. */
  async create(network: string, name: string, languages?: string[]): Promise<NetworkView> {
    if (this.roster(network)) {
      throw new EntraideError('ROSTER_STALE', `this node already holds network ${network}`);
    }
    const me = this.node.authority;
    await this.issue(null, {
      v: 2,
      type: 'network-roster',
      network,
      name,
      version: 1,
      coordinators: [me],
      members: [me],
      relays: await this.relaysOf([me]),
      ...(languages && languages.length > 0 ? { languages } : {}),
      issuedBy: this.node.address,
      at: new Date().toISOString(),
    });
    return this.show(network);
  }

  /** The next version: members or coordinators added or removed. Only a coordinator may issue it. */
  async change(
    network: string,
    c: { add?: string[]; remove?: string[]; addCoordinators?: string[]; removeCoordinators?: string[] },
  ): Promise<{ view: NetworkView; diff: RosterDiff; sent: SendResult | null }> {
    const current = this.mustCoordinate(network);
    const remove = new Set(c.remove ?? []);
    const removeCoordinators = new Set([...(c.removeCoordinators ?? []), ...remove]);
    const members = [...new Set([...current.members, ...(c.add ?? []), ...(c.addCoordinators ?? [])])].filter(
      (m) => !remove.has(m),
    );
    const coordinators = [...new Set([...current.coordinators, ...(c.addCoordinators ?? [])])].filter(
      (m) => !removeCoordinators.has(m),
    );
    // The newest hours held of each member travel with the roster.
    const hours = this.memberHours(members, current.hours);
    const next: UnsignedRoster = {
      v: 2,
      type: 'network-roster',
      network,
      name: current.name,
      version: current.version + 1,
      coordinators,
      members,
      ...(current.languages ? { languages: current.languages } : {}),
      ...(Object.keys(hours).length > 0 ? { hours } : {}),
      relays: await this.relaysOf(members),
      issuedBy: this.node.address,
      at: new Date().toISOString(),
      prev: rosterHash(current),
    };
    // Removed members learn that they were removed.
    const removed = current.members.filter((m) => !members.includes(m));
    const { diff, sent } = await this.issue(current, next, removed);
    return { view: this.show(network), diff, sent };
  }

  /** Signs, checks as a member would, stores and sends a roster version. */
  private async issue(
    current: Roster | null,
    unsigned: UnsignedRoster,
    alsoTo: string[] = [],
  ): Promise<{ diff: RosterDiff; sent: SendResult | null }> {
    const roster = signRoster(unsigned, this.node.identitySecretKey);
    const problem = rosterProblem(roster);
    if (problem) throw new EntraideError('ROSTER_INVALID', problem);
    const { diff } = acceptRoster(current, roster, true);
    const hash = rosterHash(roster);
    const save = () =>
      this.store.addRoster({
        network: roster.network,
        version: roster.version,
        hash,
        signed: JSON.stringify(roster),
        receivedAt: new Date().toISOString(),
      });
    const to = [...new Set([...roster.members, ...alsoTo])].filter((a) => a !== this.node.authority);
    if (to.length === 0) {
      save();
      return { diff, sent: null };
    }
    let stored = false;
    try {
      const sent = await this.node.dispatch({
        to,
        content: roster,
        record: itemRecord('network', `roster of ${roster.network}, version ${roster.version}`),
        then: () => {
          stored = true;
          save();
        },
      });
      return { diff, sent };
    } catch (err) {
      if (stored && err instanceof EntraideError && !isTransient(err.code)) {
        this.store.deleteRoster(roster.network, roster.version);
      }
      throw err;
    }
  }

  /** Checks a roster that arrived: signed by its sender, who coordinates the version held. */
  accept(env: Envelope, content: Roster, senderIdentityKey: string): AcceptedRecord {
    const roster = check(RosterSchema, content, 'roster');
    if (roster.issuedBy !== env.from) {
      throw new EntraideError(
        'CONTENT_INVALID',
        `the roster in ${env.id} is issued by ${roster.issuedBy}, not its sender ${env.from}`,
      );
    }
    const current = this.roster(roster.network);
    const { diff } = acceptRoster(current, roster, verifyRoster(roster, senderIdentityKey));
    const hash = rosterHash(roster);
    const me = this.node.authority;
    return {
      record: record(
        `roster of ${roster.network}, version ${roster.version}${diff.addedMembers.includes(me) ? ' (this authority joins)' : ''}${diff.removedMembers.includes(me) ? ' (this authority leaves)' : ''}`,
        roster,
      ),
      then: () => {
        this.store.addRoster({
          network: roster.network,
          version: roster.version,
          hash,
          signed: JSON.stringify(roster),
          receivedAt: new Date().toISOString(),
        });
        const declared = this.ownHours();
        if (
          declared &&
          roster.members.includes(me) &&
          JSON.stringify(roster.hours?.[me]) !== JSON.stringify(declared)
        )
          this.hoursDue.add(roster.network);
      },
    };
  }

  // ---- working hours ----------------------------------------------------------------------

  ownHours(): WorkingHours | null {
    const held = this.store.hours(this.node.authority);
    return held ? (JSON.parse(held.hours) as WorkingHours) : null;
  }

  /** Declares this authority's hours, and sends them to the coordinators of its networks. */
  async setHours(value: unknown): Promise<{ hours: WorkingHours; sentTo: string[] }> {
    const hours = checkWorkingHours(value);
    this.store.setHours(this.node.authority, JSON.stringify(hours), new Date().toISOString());
    for (const r of this.list()) if (r.members.includes(this.node.authority)) this.hoursDue.add(r.network);
    const sentTo = await this.sendHours();
    return { hours, sentTo };
  }

  /** Sends the declared hours to the coordinators of the networks that wait for them. */
  async sendHours(): Promise<string[]> {
    const hours = this.ownHours();
    if (!hours || this.hoursDue.size === 0) return [];
    const to = new Set<string>();
    for (const network of this.hoursDue) {
      for (const c of this.roster(network)?.coordinators ?? []) if (c !== this.node.authority) to.add(c);
    }
    this.hoursDue.clear();
    if (to.size === 0) return [];
    const declared = this.store.hours(this.node.authority)!;
    const content: HoursContent = { type: 'working-hours', hours, at: declared.declaredAt };
    await this.node.dispatch({
      to: [...to],
      content,
      record: itemRecord('hours', `working hours: ${hours.tz}`),
    });
    return [...to];
  }

  /** Working hours declared by a member of a network this authority coordinates. */
  acceptHours(env: Envelope, content: HoursContent): AcceptedRecord {
    const authority = authorityOfNode(env.from);
    const hours = checkWorkingHours(content.hours);
    const coordinated = this.list().some((n) => n.coordinator && n.members.includes(authority));
    if (!coordinated && authority !== this.node.authority) {
      throw new EntraideError(
        'NOT_A_COUNTERPART',
        `${authority} is not a member of a network ${this.node.authority} coordinates`,
      );
    }
    return {
      record: record(`working hours of ${authority}: ${hours.tz}`, content, 'hours'),
      then: () => this.store.setHours(authority, JSON.stringify(hours), content.at),
    };
  }
}
