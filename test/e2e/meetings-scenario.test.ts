/**
 * Networks and meetings end to end, with real processes only: two relays (`entraide relay start`)
 * peered with each other, four authority nodes initialised with `entraide init`, and every step an
 * `entraide` command run by an officer. WACAP's coordinator (Senegal) and Nigeria are on relay A,
 * Ghana and Cabo Verde on relay B; each works 09:00–17:00, Monday to Friday, in its own zone.
 * Senegal builds the network, finds a slot, schedules a meeting, updates and cancels it; each
 * member sees it in its own local time, answers it, and exports it as iCalendar, which
 * test/support/ics-check.ts reads back (Mozilla's ical.js; Python's icalendar too, where
 * /usr/bin/python3 has it). Bad input is refused with its code and stores nothing, and the relays
 * never hold the title or agenda. No safety code is verified here, so every command that sends to
 * another authority passes --unverified-ok; without it, a script is refused and nothing is sent.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.ts';
import { hasPythonIcalendar, pythonReadIcs, readIcs, type IcsReading } from '../support/ics-check.ts';
import { cli, spawnRelay, type CliResult, type RelayProcess } from '../support/processes.ts';
import { sleep } from '../support/wait.ts';

const PASS = { ENTRAIDE_PASSPHRASE: 'meetings scenario passphrase' };
/** Federation retries shortened, so that what crosses from one relay to the other arrives at once. */
const FAST_OUTBOX = {
  ENTRAIDE_OUTBOX_BASE_MS: '50',
  ENTRAIDE_OUTBOX_MAX_MS: '400',
  ENTRAIDE_OUTBOX_POLL_MS: '100',
  ENTRAIDE_PEER_TIMEOUT_MS: '5000',
};
const A = 'relay.a.test';
const B = 'relay.b.test';
const SN = `sn.moj@${A}`;
const NG = `ng.moj@${A}`;
const GH = `gh.moj@${B}`;
const CV = `cv.moj@${B}`;
const ALL = [SN, NG, GH, CV];
/** As in examples/networks.json. */
const NETWORK = 'wacap';
const NETWORK_NAME = 'West African Network of Central Authorities and Prosecutors against Organized Crime';
/** Each authority's zone: UTC+0 (Dakar, Accra), UTC+1 (Lagos), UTC−1 (Cabo Verde), no DST. */
const ZONE: Record<string, string> = {
  [SN]: 'Africa/Dakar',
  [NG]: 'Africa/Lagos',
  [GH]: 'Africa/Accra',
  [CV]: 'Atlantic/Cape_Verde',
};
const SECRET = 'OKAPI-7731';
const AGENDA = `Case ${SECRET} briefing\n1. Témoignages à Lagos\n2. Entraide avec Praia`;
const TITLE = 'Réunion WACAP — coopération São Tomé/Côte d’Ivoire (nº 4471)';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];

interface Hours {
  tz: string;
  days: number[];
  start: string;
  end: string;
}
interface NetworkView {
  network: string;
  name: string;
  version: number;
  coordinators: string[];
  members: string[];
  languages?: string[];
  hours: Record<string, Hours>;
  issuedBy: string;
  at: string;
}
interface NetworkSummary {
  network: string;
  name: string;
  version: number;
  members: number;
  coordinator: boolean;
}
interface Local {
  tz: string;
  start: string;
  end: string;
}
interface Reply {
  answer: string;
  note?: string;
  sequence: number;
  at: string;
}
interface MeetingView {
  uid: string;
  sequence: number;
  title: string;
  agenda?: string;
  start: string;
  tz: string;
  startUtc: string;
  endUtc: string;
  durationMin: number;
  local: Local;
  organizer: string;
  participants: string[];
  cancelled: boolean;
  conference: { url: string; room: string; passcode: string };
  network?: string;
  replies: Record<string, Reply>;
  languages?: string[];
  interpretation?: string;
}
interface MeetingSummary {
  uid: string;
  sequence: number;
  title: string;
  startUtc: string;
  endUtc: string;
  local: Local;
  organizer: string;
  cancelled: boolean;
  network?: string;
}
interface Scheduled {
  uid: string;
  sequence: number;
  startUtc: string;
  participants: string[];
}
interface Slot {
  start: string;
  end: string;
  available: string[];
  outside: string[];
}

/** The local date, ISO weekday name and minute of the day of an instant in `tz`, from Intl. */
function wall(ms: number, tz: string): { date: string; weekday: string; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return {
    date: `${get('year')}-${get('month')}-${get('day')}`,
    weekday: get('weekday'),
    minute: Number(get('hour')) * 60 + Number(get('minute')),
  };
}

/**
 * Reads the text with the independent iCalendar reader (ical.js); throws if it cannot. Where
 * /usr/bin/python3 has icalendar, Python's reading must be the same (with dateutil's agreeing).
 */
function icsCheck(ics: string): IcsReading {
  const reading = readIcs(ics);
  if (hasPythonIcalendar()) {
    const { dtstart_utc_tzical, dtend_utc_tzical, ...python } = pythonReadIcs(ics);
    expect(python).toEqual(reading);
    expect([dtstart_utc_tzical, dtend_utc_tzical]).toEqual([reading.dtstart_utc, reading.dtend_utc]);
  }
  return reading;
}

const sorted = (xs: readonly string[]) => [...xs].sort();

describe('a WACAP meeting across two relays, through the CLI', { timeout: 600_000 }, () => {
  const work = tempDir('entraide-e2e-meetings-');
  const data: Record<string, string> = { [A]: join(work, 'relay-a'), [B]: join(work, 'relay-b') };
  const relays: RelayProcess[] = [];
  const home: Record<string, string> = {
    [SN]: join(work, 'sn'),
    [NG]: join(work, 'ng'),
    [GH]: join(work, 'gh'),
    [CV]: join(work, 'cv'),
  };
  const MEMBERS = [NG, GH, CV];
  let uid = '';
  let conference: MeetingView['conference'] | undefined;

  // ---- helpers ------------------------------------------------------------------------------

  /** `entraide --home <home of who> ...`: `cmd` is split at spaces, `rest` are arguments that hold spaces. */
  const run = (who: string, cmd: string, ...rest: string[]): Promise<CliResult> =>
    cli(['--home', home[who]!, ...cmd.split(' ').filter(Boolean), ...rest], PASS);
  /** A command that must succeed; returns its stdout. */
  async function ok(who: string, cmd: string, ...rest: string[]): Promise<string> {
    const r = await run(who, cmd, ...rest);
    expect(r.code, `${who}: ${cmd} ${rest.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
    return r.stdout;
  }
  /** A --json command that must succeed, parsed. */
  async function okJson<T>(who: string, cmd: string, ...rest: string[]): Promise<T> {
    const stdout = await ok(who, cmd, ...rest);
    try {
      return JSON.parse(stdout) as T;
    } catch {
      throw new Error(`${who}: ${cmd}: stdout is not JSON:\n${stdout}`);
    }
  }
  /**
   * Runs `inbox` at `who`, then the --json command `cmd`, until `done` holds for its output: at most
   * four rounds, half a second apart. Returns the last output, which must have been JSON.
   */
  async function received<T>(who: string, cmd: string, done: (v: T) => boolean): Promise<T> {
    let last: CliResult | undefined;
    for (let round = 0; round < 4; round++) {
      if (round > 0) await sleep(500);
      await ok(who, 'inbox');
      last = await run(who, cmd);
      if (last.code === 0 && done(JSON.parse(last.stdout) as T)) break;
    }
    expect(last!.code, `${who}: ${cmd}\n${last!.stderr}`).toBe(0);
    return JSON.parse(last!.stdout) as T;
  }
  /** A command refused with exit code 1 and [code]; returns its stderr. */
  async function refused(who: string, code: string, cmd: string, ...rest: string[]): Promise<string> {
    const r = await run(who, cmd, ...rest);
    expect(r.code, `${who}: ${cmd} ${rest.join(' ')}\n${r.stdout}${r.stderr}`).toBe(1);
    expect(r.stderr, `${who}: ${cmd}`).toContain(`[${code}]`);
    return r.stderr;
  }
  const showNetwork = (who: string) => okJson<NetworkView>(who, `network show ${NETWORK} --json`);
  const listMeetings = (who: string) => okJson<MeetingSummary[]>(who, 'meeting list --json');

  // ---- relays and nodes ---------------------------------------------------------------------

  beforeAll(async () => {
    for (const domain of [A, B]) relays.push(await spawnRelay(data[domain]!, 0, domain, FAST_OUTBOX));
    const keys = relays.map((r) => /public key:\s+(\S+)/.exec(r.output())?.[1]);
    expect(keys.every(Boolean), relays.map((r) => r.output()).join('\n')).toBe(true);
    const peer = async (self: 0 | 1, other: 0 | 1) => {
      const r = await cli(
        [
          'relay',
          'peer',
          'add',
          '--domain',
          [A, B][other]!,
          '--url',
          relays[other]!.url,
          '--key',
          keys[other]!,
        ],
        { ENTRAIDE_RELAY_DATA: data[[A, B][self]!]! },
      );
      expect(r.code, r.stderr).toBe(0);
    };
    await peer(0, 1);
    await peer(1, 0);

    await Promise.all(
      ALL.map(async (authority) => {
        const [id, domain] = authority.split('@') as [string, string];
        const inv = await cli(['relay', 'invite', id, '--json'], { ENTRAIDE_RELAY_DATA: data[domain]! });
        expect(inv.code, inv.stderr).toBe(0);
        const { invitation } = JSON.parse(inv.stdout) as { authority: string; invitation: string };
        const init = await run(authority, `init --invite ${invitation} --authority ${id} --node desk1`);
        expect(init.code, init.stderr).toBe(0);
        expect(init.stdout).toContain(`desk1/${authority}`);
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop()));
  });

  // ---- the scenario -------------------------------------------------------------------------

  it('1. each authority declares its working hours, Monday to Friday 09:00–17:00 in its zone', async () => {
    expect(await okJson<Hours | null>(CV, 'hours show --json')).toBeNull();
    await Promise.all([
      ok(SN, `hours set --tz ${ZONE[SN]} --days 1-5 --start 09:00 --end 17:00`),
      ok(NG, `hours set --tz ${ZONE[NG]} --days 1-5 --start 09:00 --end 17:00`),
      // Ghana and Cabo Verde rely on the defaults: Monday to Friday, 09:00 to 17:00.
      ok(GH, `hours set --tz ${ZONE[GH]}`),
      ok(CV, `hours set --tz ${ZONE[CV]}`),
    ]);
    for (const who of [SN, CV]) {
      expect(await okJson<Hours>(who, 'hours show --json')).toEqual({
        tz: ZONE[who],
        days: [1, 2, 3, 4, 5],
        start: '09:00',
        end: '17:00',
      });
    }
  });

  it('2. Senegal builds WACAP; every member holds the roster; slots fit everyone’s hours', async () => {
    await ok(SN, `network create ${NETWORK} --name`, NETWORK_NAME);
    await ok(SN, `network add ${NETWORK} ${NG} ${GH} ${CV} --unverified-ok`);
    const atSenegal = await okJson<NetworkSummary[]>(SN, 'network list --json');
    expect(atSenegal).toEqual([
      expect.objectContaining({ network: NETWORK, name: NETWORK_NAME, members: 4, coordinator: true }),
    ]);
    expect(atSenegal[0]!.version).toBeGreaterThanOrEqual(2);

    const complete = (v: NetworkView) => v.version >= 2 && v.members.length === 4;
    const views = await Promise.all(
      MEMBERS.map((who) => received<NetworkView>(who, `network show ${NETWORK} --json`, complete)),
    );
    for (const [i, v] of views.entries()) {
      expect(v.network, MEMBERS[i]).toBe(NETWORK);
      expect(v.name).toBe(NETWORK_NAME);
      expect(v.version, `${MEMBERS[i]}: ${JSON.stringify(v)}`).toBeGreaterThanOrEqual(2);
      expect(sorted(v.members)).toEqual(sorted(ALL));
      expect(v.coordinators).toEqual([SN]);
      expect(v.issuedBy).toBe(`desk1/${SN}`);
    }
    const atNigeria = await okJson<NetworkSummary[]>(NG, 'network list --json');
    expect(atNigeria).toEqual([
      expect.objectContaining({ network: NETWORK, name: NETWORK_NAME, members: 4, coordinator: false }),
    ]);

    // Members sent their hours to the coordinator when they accepted the roster.
    const withHours = await received<NetworkView>(
      SN,
      `network show ${NETWORK} --json`,
      (v) => Object.keys(v.hours ?? {}).length === 4,
    );
    expect(sorted(Object.keys(withHours.hours ?? {})), JSON.stringify(withHours)).toEqual(sorted(ALL));
    for (const who of ALL) {
      expect(withHours.hours[who], who).toEqual({
        tz: ZONE[who],
        days: [1, 2, 3, 4, 5],
        start: '09:00',
        end: '17:00',
      });
    }

    const slots = await okJson<Slot[]>(
      SN,
      `meeting slots --network ${NETWORK} --duration 60m --within 2w --json`,
    );
    expect(slots.length, 'slots in the next two weeks').toBeGreaterThan(0);
    const now = Date.now();
    for (const slot of slots) {
      const [start, end] = [Date.parse(slot.start), Date.parse(slot.end)];
      expect(end - start, JSON.stringify(slot)).toBe(60 * 60_000);
      expect(start).toBeGreaterThanOrEqual(now - 60_000);
      expect(end).toBeLessThanOrEqual(now + 15 * 24 * 3600_000);
      expect(sorted(slot.available), JSON.stringify(slot)).toEqual(sorted(ALL));
      expect(slot.outside).toEqual([]);
      for (const who of ALL) {
        const [first, last] = [wall(start, ZONE[who]!), wall(end - 60_000, ZONE[who]!)];
        const where = `${slot.start} in ${ZONE[who]}`;
        expect(WEEKDAYS, where).toContain(first.weekday);
        expect(last.date, where).toBe(first.date);
        expect(first.minute, where).toBeGreaterThanOrEqual(9 * 60);
        expect(last.minute, where).toBeLessThan(17 * 60);
      }
    }
  });

  it('3. a member that does not coordinate cannot change the roster', async () => {
    const before = await showNetwork(NG);
    await refused(NG, 'NOT_COORDINATOR', `network add ${NETWORK} bj.moj@${A} --unverified-ok`);
    expect(await showNetwork(NG)).toEqual(before);
  });

  it('3b. a script sends no roster to members whose safety code was never verified', async () => {
    const before = await showNetwork(SN);
    const stderr = await refused(SN, 'UNVERIFIED_COUNTERPART', `network add ${NETWORK} ${NG}`);
    for (const who of MEMBERS) expect(stderr, who).toContain(`${who} is not verified`);
    expect(stderr).toContain('--unverified-ok');
    expect(await showNetwork(SN), 'no new roster version').toEqual(before);
  });

  it('4. Senegal schedules a meeting; each member sees it in its own local time', async () => {
    const agendaFile = join(work, 'agenda.txt');
    writeFileSync(agendaFile, AGENDA);
    const scheduled = await okJson<Scheduled>(
      SN,
      `meeting schedule --network ${NETWORK} --start 2027-01-14T10:00 --tz Africa/Dakar --duration 90m ` +
        `--agenda-file ${agendaFile} --languages fr,en --unverified-ok --json --title`,
      TITLE,
      '--interpretation',
      'Français ↔ English, consecutive',
    );
    expect(scheduled.uid).toMatch(UUID);
    expect(scheduled.sequence).toBe(0);
    expect(Date.parse(scheduled.startUtc)).toBe(Date.parse('2027-01-14T10:00:00Z'));
    expect(sorted(scheduled.participants)).toEqual(sorted(MEMBERS));
    uid = scheduled.uid;

    const expected: Record<string, Local> = {
      [NG]: { tz: 'Africa/Lagos', start: '2027-01-14 11:00', end: '2027-01-14 12:30' },
      [GH]: { tz: 'Africa/Accra', start: '2027-01-14 10:00', end: '2027-01-14 11:30' },
      [CV]: { tz: 'Atlantic/Cape_Verde', start: '2027-01-14 09:00', end: '2027-01-14 10:30' },
    };
    const views = await Promise.all(
      MEMBERS.map((who) => received<MeetingView>(who, `meeting show ${uid} --json`, () => true)),
    );
    for (const [i, v] of views.entries()) {
      const who = MEMBERS[i]!;
      expect(v, `${who}: ${JSON.stringify(v)}`).toMatchObject({
        uid,
        sequence: 0,
        title: TITLE,
        start: '2027-01-14T10:00',
        tz: 'Africa/Dakar',
        durationMin: 90,
        local: expected[who],
        organizer: SN,
        cancelled: false,
        network: NETWORK,
      });
      expect(v.agenda).toContain(SECRET);
      expect(Date.parse(v.startUtc)).toBe(Date.parse('2027-01-14T10:00:00Z'));
      expect(Date.parse(v.endUtc)).toBe(Date.parse('2027-01-14T11:30:00Z'));
      expect(sorted(v.participants)).toEqual(sorted(MEMBERS));
      expect(v.conference.room).toMatch(/^entraide(?:-[a-z2-7]{4}){8}$/);
      expect(v.conference.url).toMatch(/^https?:\/\//);
      expect(v.conference.url.endsWith(`/${v.conference.room}`)).toBe(true);
      expect(v.conference.passcode).toMatch(/^[0-9]{8}$/);
    }
    conference = views[0]!.conference;
    for (const v of views) expect(v.conference).toEqual(conference);
  });

  it('5. members answer; Senegal sees the three replies', async () => {
    await Promise.all([
      ok(NG, `meeting rsvp ${uid} accept --unverified-ok`),
      ok(GH, `meeting rsvp ${uid} decline --unverified-ok --note`, 'Our officer is in court that day.'),
      ok(CV, `meeting rsvp ${uid} tentative --unverified-ok`),
    ]);
    const v = await received<MeetingView>(
      SN,
      `meeting show ${uid} --json --tz America/New_York`,
      (m) => Object.keys(m.replies ?? {}).length === 3,
    );
    expect(sorted(Object.keys(v.replies ?? {})), JSON.stringify(v)).toEqual(sorted(MEMBERS));
    expect(v.replies[NG]).toMatchObject({ answer: 'accept', sequence: 0 });
    expect(v.replies[GH]).toMatchObject({
      answer: 'decline',
      note: 'Our officer is in court that day.',
      sequence: 0,
    });
    expect(v.replies[CV]).toMatchObject({ answer: 'tentative', sequence: 0 });
    for (const r of Object.values(v.replies)) expect(Number.isNaN(Date.parse(r.at))).toBe(false);
    // --tz shows the meeting in any zone: 10:00 in Dakar is 05:00 in New York (EST).
    expect(v.local).toEqual({ tz: 'America/New_York', start: '2027-01-14 05:00', end: '2027-01-14 06:30' });
    expect(v.conference).toEqual(conference);
  });

  it('6. an update moves it a week later, a cancellation ends it; both export as iCalendar', async () => {
    await ok(SN, `meeting update ${uid} --start 2027-01-21T10:00 --unverified-ok`);
    const moved: Record<string, Local> = {
      [NG]: { tz: 'Africa/Lagos', start: '2027-01-21 11:00', end: '2027-01-21 12:30' },
      [GH]: { tz: 'Africa/Accra', start: '2027-01-21 10:00', end: '2027-01-21 11:30' },
      [CV]: { tz: 'Atlantic/Cape_Verde', start: '2027-01-21 09:00', end: '2027-01-21 10:30' },
    };
    const updated = await Promise.all(
      MEMBERS.map((who) => received<MeetingView>(who, `meeting show ${uid} --json`, (m) => m.sequence >= 1)),
    );
    for (const [i, v] of updated.entries()) {
      const who = MEMBERS[i]!;
      expect(v.sequence, `${who}: ${JSON.stringify(v)}`).toBe(1);
      expect(v.local).toEqual(moved[who]);
      expect(v.start).toBe('2027-01-21T10:00');
      expect(Date.parse(v.startUtc)).toBe(Date.parse('2027-01-21T10:00:00Z'));
      expect(v.title).toBe(TITLE);
      expect(v.durationMin).toBe(90);
      expect(v.cancelled).toBe(false);
    }

    // The active meeting, as Cabo Verde's calendar program would import it.
    const active = await run(CV, `meeting ics ${uid}`);
    expect(active.code, active.stderr).toBe(0);
    expect(active.stdout).toMatch(/^BEGIN:VCALENDAR\r\n/);
    const request = icsCheck(active.stdout);
    expect(request).toMatchObject({ method: 'REQUEST', sequence: 1, status: 'CONFIRMED', summary: TITLE });
    expect(request.uid).toContain(uid);
    expect(request.dtstart_utc).not.toBeNull();
    expect(Date.parse(request.dtstart_utc!)).toBe(Date.parse(updated[2]!.startUtc));
    expect(Date.parse(request.dtend_utc!)).toBe(Date.parse(updated[2]!.endUtc));
    expect(request.dtstart_utc_zoneinfo).toBe(request.dtstart_utc);

    await ok(SN, `meeting cancel ${uid} --unverified-ok --reason`, 'Postponed to the plenary in March.');
    const cancelled = await Promise.all(
      MEMBERS.map((who) => received<MeetingView>(who, `meeting show ${uid} --json`, (m) => m.cancelled)),
    );
    for (const [i, v] of cancelled.entries()) {
      expect(v.cancelled, `${MEMBERS[i]}: ${JSON.stringify(v)}`).toBe(true);
      expect(v.title).toBe(TITLE);
    }

    const file = join(work, 'cancelled.ics');
    await ok(GH, `meeting ics ${uid} --out ${file}`);
    const cancel = icsCheck(readFileSync(file, 'utf8'));
    expect(cancel).toMatchObject({ method: 'CANCEL', status: 'CANCELLED', sequence: 2 });
    expect(cancel.uid).toContain(uid);
    expect(cancel.dtstart_utc).not.toBeNull();
    expect(Date.parse(cancel.dtstart_utc!)).toBe(Date.parse(cancelled[1]!.startUtc));
    expect(Date.parse(cancel.dtstart_utc!)).toBe(Date.parse('2027-01-21T10:00:00Z'));
  });

  it('7. refuses bad times, zones, durations, foreign answers and non-coordinators, storing nothing', async () => {
    const scheduleAt = (start: string, tz: string, duration = '60m', unverifiedOk = true) =>
      `meeting schedule --network ${NETWORK} --start ${start} --tz ${tz} --duration ${duration} --title Refused` +
      (unverifiedOk ? ' --unverified-ok' : '');

    const atSenegal = await listMeetings(SN);
    expect(atSenegal, JSON.stringify(atSenegal)).toEqual([
      expect.objectContaining({ uid, title: TITLE, organizer: SN, cancelled: true }),
    ]);
    await refused(SN, 'TIME_NONEXISTENT', scheduleAt('2027-03-14T02:30', 'America/New_York'));
    await refused(SN, 'TIME_AMBIGUOUS', scheduleAt('2027-11-07T01:30', 'America/New_York'));
    await refused(SN, 'TIMEZONE_UNKNOWN', scheduleAt('2027-01-14T10:00', 'Mars/Olympus'));
    await refused(SN, 'DURATION_INVALID', scheduleAt('2027-01-14T10:00', 'Africa/Dakar', '0m'));
    await refused(SN, 'DURATION_INVALID', scheduleAt('2027-01-14T10:00', 'Africa/Dakar', '25h'));
    // A valid invitation, but to members whose safety code was never verified: a script must say
    // --unverified-ok (as in 4), or nothing is sent.
    const unverified = await refused(
      SN,
      'UNVERIFIED_COUNTERPART',
      scheduleAt('2027-01-14T10:00', 'Africa/Dakar', '60m', false),
    );
    expect(unverified).toContain('nothing was sent');
    for (const who of MEMBERS) expect(unverified, who).toContain(`${who} is not verified`);
    expect(await listMeetings(SN), 'meetings at Senegal after the refusals').toEqual(atSenegal);

    await Promise.all([
      (async () => {
        const before = await listMeetings(GH);
        await refused(GH, 'MEETING_NOT_INVITED', `meeting rsvp ${randomUUID()} accept`);
        expect(await listMeetings(GH), 'meetings at Ghana').toEqual(before);
      })(),
      (async () => {
        const before = await listMeetings(NG);
        await refused(NG, 'NOT_COORDINATOR', scheduleAt('2027-01-14T10:00', 'Africa/Lagos'));
        expect(await listMeetings(NG), 'meetings at Nigeria').toEqual(before);
      })(),
    ]);
  });

  it('8. the relays’ databases hold neither the title nor the agenda', () => {
    const needles = [SECRET, TITLE, 'Témoignages à Lagos'].map((s) => Buffer.from(s, 'utf8'));
    for (const domain of [A, B]) {
      const dir = data[domain]!;
      const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .map((f) => join(dir, f))
        .filter((f) => statSync(f).isFile());
      expect(
        files.some((f) => f.endsWith('relay.db')),
        `${domain}: ${files.join(', ')}`,
      ).toBe(true);
      // A control: the bytes read are the relay's data, where its own authorities' addresses are.
      const own = Buffer.from(domain === A ? 'sn.moj' : 'gh.moj', 'utf8');
      expect(
        files.some((f) => readFileSync(f).includes(own)),
        `${domain}: no file names ${own.toString()}`,
      ).toBe(true);
      for (const file of files) {
        const bytes = readFileSync(file);
        for (const needle of needles) {
          expect(bytes.includes(needle), `${file} holds "${needle.toString('utf8')}"`).toBe(false);
        }
      }
    }
  });
});
