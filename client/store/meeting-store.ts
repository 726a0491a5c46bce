/**
 * The node's tables for networks and meetings: roster versions, declared working hours and each
 * meeting's state. Plain better-sqlite3 statements, so that every write can join the transaction
 * that stores the envelope it came in (NodeStore.saveMessage's `then`). A meeting's state (its
 * title, description, conference details, replies) and signed rosters (network names) are sealed
 * (sealed-columns.ts); declared working hours are not content and stay clear.
 */
import type Database from 'better-sqlite3';
import type { SealedColumns } from './sealed-columns.ts';
import { rosterRowId } from './content-seal.ts';

export interface RosterRow {
  network: string;
  version: number;
  hash: string;
  signed: string;
  receivedAt: string;
}

export interface MeetingRow {
  uid: string;
  network: string | null;
  organizer: string;
  startUtc: string;
  endUtc: string;
  sequence: number;
  cancelled: number;
  state: string;
  remindedAt: string | null;
  updatedAt: string;
}

const MEETING_COLUMNS =
  'uid, network, organizer, startUtc, endUtc, sequence, cancelled, state, remindedAt, updatedAt';

export class MeetingStore {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly sealer: SealedColumns,
  ) {
    this.s = {
      insertRoster: db.prepare(
        `INSERT OR IGNORE INTO "Roster" (network, version, hash, signed, receivedAt)
         VALUES (@network, @version, @hash, @signed, @receivedAt)`,
      ),
      latestRoster: db.prepare<[string], RosterRow>(
        'SELECT network, version, hash, signed, receivedAt FROM "Roster" WHERE network = ? ORDER BY version DESC LIMIT 1',
      ),
      latestRosters: db.prepare<[], RosterRow>(
        `SELECT r.network, r.version, r.hash, r.signed, r.receivedAt FROM "Roster" r
         WHERE r.version = (SELECT MAX(version) FROM "Roster" x WHERE x.network = r.network) ORDER BY r.network`,
      ),
      rosters: db.prepare<[string], RosterRow>(
        'SELECT network, version, hash, signed, receivedAt FROM "Roster" WHERE network = ? ORDER BY version DESC',
      ),
      deleteRoster: db.prepare('DELETE FROM "Roster" WHERE network = ? AND version = ?'),
      setHours: db.prepare(
        `INSERT INTO "WorkingHours" (authority, hours, declaredAt) VALUES (@authority, @hours, @declaredAt)
         ON CONFLICT (authority) DO UPDATE SET hours = excluded.hours, declaredAt = excluded.declaredAt
         WHERE excluded.declaredAt >= "WorkingHours".declaredAt`,
      ),
      hours: db.prepare<[string], { hours: string; declaredAt: string }>(
        'SELECT hours, declaredAt FROM "WorkingHours" WHERE authority = ?',
      ),
      allHours: db.prepare<[], { authority: string; hours: string }>(
        'SELECT authority, hours FROM "WorkingHours" ORDER BY authority',
      ),
      putMeeting: db.prepare(
        `INSERT INTO "Meeting" (${MEETING_COLUMNS}) VALUES (@uid, @network, @organizer, @startUtc, @endUtc, @sequence, @cancelled, @state, NULL, @updatedAt)
         ON CONFLICT (uid) DO UPDATE SET network = excluded.network, startUtc = excluded.startUtc, endUtc = excluded.endUtc,
           sequence = excluded.sequence, cancelled = excluded.cancelled, state = excluded.state, updatedAt = excluded.updatedAt,
           remindedAt = CASE WHEN "Meeting".startUtc = excluded.startUtc THEN "Meeting".remindedAt ELSE NULL END`,
      ),
      meeting: db.prepare<[string], MeetingRow>(`SELECT ${MEETING_COLUMNS} FROM "Meeting" WHERE uid = ?`),
      byPrefix: db.prepare<[string], MeetingRow>(
        `SELECT ${MEETING_COLUMNS} FROM "Meeting" WHERE uid LIKE ? LIMIT 2`,
      ),
      deleteMeeting: db.prepare('DELETE FROM "Meeting" WHERE uid = ?'),
      meetings: db.prepare<[{ after: string | null }], MeetingRow>(
        `SELECT ${MEETING_COLUMNS} FROM "Meeting" WHERE (@after IS NULL OR endUtc > @after) ORDER BY startUtc, uid`,
      ),
      due: db.prepare<[{ now: string; until: string }], MeetingRow>(
        `SELECT ${MEETING_COLUMNS} FROM "Meeting" WHERE cancelled = 0 AND remindedAt IS NULL AND startUtc > @now AND startUtc <= @until ORDER BY startUtc`,
      ),
      reminded: db.prepare('UPDATE "Meeting" SET remindedAt = ? WHERE uid = ?'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  addRoster(r: RosterRow): void {
    this.s.insertRoster.run({
      ...r,
      signed: this.sealer.seal('Roster.signed', rosterRowId(r.network, r.version), r.signed),
    });
  }

  /** Removes a roster version this node issued that the relay then refused for good. */
  deleteRoster(network: string, version: number): void {
    this.s.deleteRoster.run(network, version);
  }

  latestRoster(network: string): RosterRow | undefined {
    const row = this.s.latestRoster.get(network);
    return row && this.openRoster(row);
  }

  latestRosters(): RosterRow[] {
    return this.s.latestRosters.all().map((r) => this.openRoster(r));
  }

  /** Every version of a network's roster this node holds, newest first. */
  rosters(network: string): RosterRow[] {
    return this.s.rosters.all(network).map((r) => this.openRoster(r));
  }

  /** Keeps the newest declaration of each authority. */
  setHours(authority: string, hours: string, declaredAt: string): void {
    this.s.setHours.run({ authority, hours, declaredAt });
  }

  hours(authority: string): { hours: string; declaredAt: string } | undefined {
    return this.s.hours.get(authority);
  }

  allHours(): { authority: string; hours: string }[] {
    return this.s.allHours.all();
  }

  putMeeting(m: Omit<MeetingRow, 'remindedAt'>): void {
    this.s.putMeeting.run({ ...m, state: this.sealer.seal('Meeting.state', m.uid, m.state) });
  }

  deleteMeeting(uid: string): void {
    this.s.deleteMeeting.run(uid);
  }

  meeting(uid: string): MeetingRow | undefined {
    const row = this.s.meeting.get(uid);
    return row && this.openMeeting(row);
  }

  meetingsByPrefix(prefix: string): MeetingRow[] {
    return this.s.byPrefix.all(`${prefix.replace(/[%_]/g, '')}%`).map((m) => this.openMeeting(m));
  }

  /** Meetings, by start; with `after`, only those not over by then. */
  meetings(after?: string): MeetingRow[] {
    return this.s.meetings.all({ after: after ?? null }).map((m) => this.openMeeting(m));
  }

  /** Meetings starting within (now, until] that were not reminded of yet. */
  dueForReminder(now: string, until: string): MeetingRow[] {
    return this.s.due.all({ now, until }).map((m) => this.openMeeting(m));
  }

  markReminded(uid: string, at: string): void {
    this.s.reminded.run(at, uid);
  }

  private openMeeting(m: MeetingRow): MeetingRow {
    return { ...m, state: this.sealer.open('Meeting.state', m.uid, m.state) };
  }

  private openRoster(r: RosterRow): RosterRow {
    return { ...r, signed: this.sealer.open('Roster.signed', rosterRowId(r.network, r.version), r.signed) };
  }
}
