/**
 * An independent reader of the .ics files that shared/meetings/ics.ts writes, for the meetings
 * tests. Mozilla's ical.js (the parser behind Thunderbird's calendar, an npm devDependency) parses
 * the file, and each zoned DTSTART/DTEND is turned into UTC two ways:
 *  - dtstart_utc: from the file's own VTIMEZONE, through ical.js's Timezone;
 *  - dtstart_utc_zoneinfo: from the system tz database through Intl, ignoring the VTIMEZONE.
 * The tests hold both to the instants the node computed; a VTIMEZONE with a wrong offset shows as
 * a difference between the two. A local time that happens twice is read as its first occurrence
 * (RFC 5545 section 3.3.5); one that never happens (skipped by a change) is refused.
 * readIcs throws, with a reason, when the text cannot be read.
 *
 * The fields and their names are those that test/support/ics-check.py prints. That script (Python's
 * icalendar with dateutil, run with Debian's /usr/bin/python3) is a second, optional parser: the
 * tests also run it when hasPythonIcalendar() says it can run (CI installs it), never otherwise.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ICAL from 'ical.js';

type Component = InstanceType<typeof ICAL.Component>;
type Timezone = InstanceType<typeof ICAL.Timezone>;
type Time = InstanceType<typeof ICAL.Time>;

export interface IcsAttendee {
  address: string;
  cn: string | null;
  partstat: string | null;
  rsvp: string | null;
}

/** What one .ics text says, as test/support/ics-check.py describes it (minus its dateutil reading). */
export interface IcsReading {
  version: string | null;
  prodid: string | null;
  method: string | null;
  uid: string | null;
  sequence: number | null;
  status: string | null;
  dtstamp: string | null;
  /** UTC, 'YYYY-MM-DDTHH:MM:SSZ', from the file's VTIMEZONE; null when the event has no DTSTART. */
  dtstart_utc: string | null;
  dtend_utc: string | null;
  /** The same local times through the system tz database (Intl), ignoring the VTIMEZONE. */
  dtstart_utc_zoneinfo: string | null;
  dtend_utc_zoneinfo: string | null;
  /** The local time written, 'YYYY-MM-DDTHH:MM'; null when written in UTC or absent. */
  dtstart_local: string | null;
  dtend_local: string | null;
  /** DTSTART's TZID, or else the first VTIMEZONE's. */
  tzid: string | null;
  /** The TZIDs of the file's VTIMEZONEs, sorted. */
  vtimezones: string[];
  summary: string | null;
  description: string | null;
  location: string | null;
  url: string | null;
  organizer: { address: string; cn: string | null } | null;
  attendees: IcsAttendee[];
}

/** What ics-check.py prints: the reading above plus a third one, dateutil's tzical of the VTIMEZONE. */
export interface PythonIcsReading extends IcsReading {
  dtstart_utc_tzical: string | null;
  dtend_utc_tzical: string | null;
}

/** Reads one iCalendar object holding one VEVENT; throws with a reason when it cannot. */
export function readIcs(text: string): IcsReading {
  const jcal: unknown = ICAL.parse(text);
  // One component parses to ['vcalendar', props, subs]; several to an array of those.
  if (!Array.isArray(jcal) || jcal[0] !== 'vcalendar') throw new Error('expected one VCALENDAR object');
  const cal = new ICAL.Component(jcal);
  const zones = ownTimezones(cal);
  const events = cal.getAllSubcomponents('vevent');
  if (events.length !== 1) throw new Error(`expected one VEVENT, found ${events.length}`);
  const event = events[0]!;
  const start = instants(event, 'dtstart', zones);
  const end = instants(event, 'dtend', zones);
  const organizer = event.getFirstProperty('organizer');
  const sequence = event.getFirstPropertyValue('sequence');
  return {
    version: textOrNull(cal, 'version'),
    prodid: textOrNull(cal, 'prodid'),
    method: textOrNull(cal, 'method'),
    uid: textOrNull(event, 'uid'),
    sequence: sequence === null ? null : Number(sequence),
    status: textOrNull(event, 'status'),
    dtstamp: dtstamp(event),
    dtstart_utc: start && start.vtimezone,
    dtend_utc: end && end.vtimezone,
    dtstart_utc_zoneinfo: start && start.zoneinfo,
    dtend_utc_zoneinfo: end && end.zoneinfo,
    dtstart_local: start && start.local,
    dtend_local: end && end.local,
    tzid: start?.tzid ?? [...zones.keys()][0] ?? null,
    vtimezones: [...zones.keys()].sort(),
    summary: textOrNull(event, 'summary'),
    description: textOrNull(event, 'description'),
    location: textOrNull(event, 'location'),
    url: textOrNull(event, 'url'),
    organizer: organizer && { address: String(organizer.getFirstValue()), cn: param(organizer, 'cn') },
    attendees: event.getAllProperties('attendee').map((a) => ({
      address: String(a.getFirstValue()),
      cn: param(a, 'cn'),
      partstat: param(a, 'partstat'),
      rsvp: param(a, 'rsvp'),
    })),
  };
}

// ---- the file's own zones ---------------------------------------------------------------------

interface OwnZone {
  zone: Timezone;
  /** Every TZOFFSETFROM and TZOFFSETTO of the VTIMEZONE, in seconds. */
  offsets: number[];
}

/**
 * The file's VTIMEZONEs by TZID, each as an ical.js Timezone. They are registered here, per file,
 * not in ical.js's global TimezoneService: two files may describe one TZID differently (the tests
 * break an offset on purpose), and a TZID must never be read with another file's zone.
 */
function ownTimezones(cal: Component): Map<string, OwnZone> {
  const zones = new Map<string, OwnZone>();
  for (const component of cal.getAllSubcomponents('vtimezone')) {
    const tzid = component.getFirstPropertyValue('tzid');
    if (typeof tzid !== 'string' || tzid === '') throw new Error('a VTIMEZONE has no TZID');
    if (zones.has(tzid)) throw new Error(`two VTIMEZONEs have the TZID ${tzid}`);
    const offsets = new Set<number>();
    for (const period of component.getAllSubcomponents()) {
      for (const name of ['tzoffsetfrom', 'tzoffsetto']) {
        const offset = period.getFirstPropertyValue(name);
        if (!(offset instanceof ICAL.UtcOffset)) throw new Error(`a period of ${tzid} has no ${name}`);
        offsets.add(offset.toSeconds());
      }
    }
    zones.set(tzid, {
      zone: new ICAL.Timezone({ component, tzid }),
      offsets: [...offsets].sort((a, b) => a - b),
    });
  }
  return zones;
}

/**
 * The UTC offset (seconds) of a local time in a VTIMEZONE, from ical.js's Timezone.utcOffset. That
 * reads a repeated local time as its later occurrence (a change to offset `o` takes effect, for
 * local times, where the new offset's local times begin), so each other offset `c` of the zone is
 * tried `|c - o|` earlier: if the local time there still had offset `c`, the time lies in the span
 * around a change from `c` to `o`, repeated (c > o: its first occurrence had `c`) or skipped.
 */
function offsetIn(own: OwnZone, tzid: string, local: Time): number {
  const o = own.zone.utcOffset(local);
  for (const c of own.offsets) {
    if (c === o) continue;
    const before = local.clone();
    before.adjust(0, 0, 0, -Math.abs(c - o));
    if (own.zone.utcOffset(before) !== c) continue;
    if (c > o) return c;
    throw new Error(`${localText(local)} does not exist in ${tzid}: a change skips it`);
  }
  return o;
}

// ---- DTSTART and DTEND ------------------------------------------------------------------------

interface Instants {
  vtimezone: string;
  zoneinfo: string;
  tzid: string | null;
  local: string | null;
}

/** The UTC instant of DTSTART or DTEND, read through the VTIMEZONE and through Intl; null when absent. */
function instants(event: Component, name: 'dtstart' | 'dtend', zones: Map<string, OwnZone>): Instants | null {
  const prop = event.getFirstProperty(name);
  if (prop === null) return null;
  const NAME = name.toUpperCase();
  const value = prop.getFirstValue();
  if (!(value instanceof ICAL.Time) || value.isDate) throw new Error(`${NAME} is not a date-time`);
  const tzid = prop.getParameter('tzid');
  if (tzid === undefined) {
    if (value.zone !== ICAL.Timezone.utcTimezone) throw new Error(`${NAME} is neither zoned nor UTC`);
    const text = utcText(value.toUnixTime() * 1000);
    return { vtimezone: text, zoneinfo: text, tzid: null, local: null };
  }
  if (typeof tzid !== 'string') throw new Error(`${NAME} has more than one TZID`);
  const own = zones.get(tzid);
  if (!own) throw new Error(`${NAME} names TZID ${tzid} but the file has no such VTIMEZONE`);
  const wall = Date.UTC(value.year, value.month - 1, value.day, value.hour, value.minute, value.second);
  return {
    vtimezone: utcText(wall - offsetIn(own, tzid, value) * 1000),
    zoneinfo: utcText(instantInZone(wall, tzid, localText(value))),
    tzid,
    local: localText(value),
  };
}

function dtstamp(event: Component): string | null {
  const value = event.getFirstPropertyValue('dtstamp');
  if (value === null) return null;
  if (!(value instanceof ICAL.Time) || value.zone !== ICAL.Timezone.utcTimezone)
    throw new Error('DTSTAMP is not a UTC date-time');
  return utcText(value.toUnixTime() * 1000);
}

// ---- the system tz database, through Intl -----------------------------------------------------

const DAY = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

/** The offset (ms) of `tz` at a whole-second instant, from Intl; throws for an unknown zone. */
function zoneOffsetAt(instant: number, tz: string): number {
  let format = formats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, format);
  }
  const parts = format.formatToParts(new Date(instant));
  const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - instant;
}

/**
 * The instant of a wall-clock time (local time read as UTC, ms) in `tz`: of the offsets the zone
 * has a day either side, those that give back this wall-clock time; the earliest instant if two do.
 */
function instantInZone(wall: number, tz: string, local: string): number {
  const offsets = new Set([wall - DAY, wall, wall + DAY].map((t) => zoneOffsetAt(t, tz)));
  const found = [...offsets].map((o) => wall - o).filter((u) => zoneOffsetAt(u, tz) === wall - u);
  if (found.length === 0) throw new Error(`${local} does not exist in ${tz} (tz database)`);
  return Math.min(...found);
}

// ---- values -----------------------------------------------------------------------------------

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const utcText = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const localText = (t: Time) =>
  `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}`;

function textOrNull(component: Component, name: string): string | null {
  const value = component.getFirstPropertyValue(name);
  return value === null ? null : String(value);
}

function param(prop: InstanceType<typeof ICAL.Property>, name: string): string | null {
  const value = prop.getParameter(name);
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(',') : value;
}

// ---- the second, optional parser: Python's icalendar --------------------------------------------

const PYTHON = '/usr/bin/python3';
const PYTHON_CHECKER = fileURLToPath(new URL('./ics-check.py', import.meta.url));
let pythonFound: boolean | undefined;

/** Whether Debian's /usr/bin/python3 can import icalendar and dateutil (CI installs them). */
export function hasPythonIcalendar(): boolean {
  if (pythonFound === undefined) {
    try {
      execFileSync(PYTHON, ['-c', 'import icalendar, dateutil'], { stdio: 'ignore' });
      pythonFound = true;
    } catch {
      pythonFound = false;
    }
  }
  return pythonFound;
}

/** Runs ics-check.py on one .ics text; throws (with its stderr) if it cannot parse it. */
export function pythonReadIcs(ics: string): PythonIcsReading {
  const out = execFileSync(PYTHON, [PYTHON_CHECKER], {
    input: ics,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as PythonIcsReading;
}

/** Runs ics-check.py once on many texts (Python starts once): per text, its reading or the reason. */
export function pythonReadMany(texts: string[]): (PythonIcsReading | { error: string })[] {
  const out = execFileSync(PYTHON, [PYTHON_CHECKER, '--many'], {
    input: JSON.stringify(texts),
    encoding: 'utf8',
  });
  return JSON.parse(out) as (PythonIcsReading | { error: string })[];
}
