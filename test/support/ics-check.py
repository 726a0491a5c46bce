#!/usr/bin/python3
"""
A second, optional reader of the .ics files that shared/meetings/ics.ts writes. The meetings
tests always read them with test/support/ics-check.ts (Mozilla's ical.js, from npm); they also run
this script, and require the same answer, only where Debian's /usr/bin/python3 has
python3-icalendar 4.0.3, python3-dateutil and python3-tz (.ci/run installs them); the python3 on
PATH may lack them.

Reads one iCalendar object on stdin, parses it with icalendar.Calendar.from_ical, and prints
JSON describing its one VEVENT. Each zoned DTSTART/DTEND is turned into UTC three ways:
  - dtstart_utc: from the file's own VTIMEZONE, through icalendar's Timezone.to_tz()
    (icalendar 4.0.3 itself would use pytz's copy of the zone for a known TZID and ignore the
    VTIMEZONE, so the component is converted explicitly);
  - dtstart_utc_tzical: from the same VTIMEZONE text, through dateutil.tz.tzical;
  - dtstart_utc_zoneinfo: from the system tz database (zoneinfo), ignoring the VTIMEZONE.
A local time that happens twice is read as its first occurrence (RFC 5545 section 3.3.5).
Exits non-zero, with a reason on stderr, when the object cannot be parsed.

With --many, stdin is instead a JSON array of .ics texts and the output a JSON array with, for
each, the object above or {"error": reason}: one Python start-up for many files keeps tests fast.
"""
import io
import json
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import icalendar
from dateutil import tz as dateutil_tz


def utc_text(dt):
    return dt.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def first_occurrence_pytz(tzinfo, local):
    """UTC of naive `local` in a pytz-style zone, first occurrence if repeated; refuses a gap."""
    candidates = set()
    for is_dst in (True, False):
        aware = tzinfo.normalize(tzinfo.localize(local, is_dst=is_dst))
        if aware.replace(tzinfo=None) == local:
            candidates.add(aware.astimezone(timezone.utc))
    if not candidates:
        raise ValueError(f'{local} does not exist in {tzinfo.zone}')
    return min(candidates)


def instants(event, name, vtimezones):
    """The UTC instant of DTSTART or DTEND, computed three ways; None when absent."""
    if name not in event:
        return None
    prop = event[name]
    dt = prop.dt
    tzid = prop.params.get('TZID')
    if tzid is None:
        if not isinstance(dt, datetime) or dt.tzinfo is None:
            raise ValueError(f'{name} is neither zoned nor UTC')
        text = utc_text(dt)
        return {'vtimezone': text, 'tzical': text, 'zoneinfo': text, 'tzid': None, 'local': None}
    if tzid not in vtimezones:
        raise ValueError(f'{name} names TZID {tzid} but the file has no such VTIMEZONE')
    local = dt.replace(tzinfo=None)
    component = vtimezones[tzid]
    by_component = first_occurrence_pytz(component.to_tz(), local)
    tzical = dateutil_tz.tzical(io.StringIO(component.to_ical().decode('utf-8'))).get(tzid)
    by_tzical = local.replace(tzinfo=tzical, fold=0)
    by_zoneinfo = local.replace(tzinfo=ZoneInfo(tzid), fold=0)
    return {
        'vtimezone': utc_text(by_component),
        'tzical': utc_text(by_tzical),
        'zoneinfo': utc_text(by_zoneinfo),
        'tzid': tzid,
        'local': local.strftime('%Y-%m-%dT%H:%M'),
    }


def text_or_none(event, name):
    return str(event[name]) if name in event else None


def attendees(event):
    raw = event.get('ATTENDEE')
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [
        {
            'address': str(a),
            'cn': a.params.get('CN'),
            'partstat': a.params.get('PARTSTAT'),
            'rsvp': a.params.get('RSVP'),
        }
        for a in items
    ]


def describe(text):
    """The JSON description of one .ics text; raises when it cannot be read."""
    cal = icalendar.Calendar.from_ical(text)
    vtimezones = {str(c['TZID']): c for c in cal.walk('VTIMEZONE')}
    events = cal.walk('VEVENT')
    if len(events) != 1:
        raise ValueError(f'expected one VEVENT, found {len(events)}')
    event = events[0]
    start = instants(event, 'DTSTART', vtimezones)
    end = instants(event, 'DTEND', vtimezones)
    organizer = event.get('ORGANIZER')
    return {
        'version': text_or_none(cal, 'VERSION'),
        'prodid': text_or_none(cal, 'PRODID'),
        'method': text_or_none(cal, 'METHOD'),
        'uid': text_or_none(event, 'UID'),
        'sequence': int(event['SEQUENCE']) if 'SEQUENCE' in event else None,
        'status': text_or_none(event, 'STATUS'),
        'dtstamp': utc_text(event['DTSTAMP'].dt) if 'DTSTAMP' in event else None,
        'dtstart_utc': start and start['vtimezone'],
        'dtend_utc': end and end['vtimezone'],
        'dtstart_utc_tzical': start and start['tzical'],
        'dtend_utc_tzical': end and end['tzical'],
        'dtstart_utc_zoneinfo': start and start['zoneinfo'],
        'dtend_utc_zoneinfo': end and end['zoneinfo'],
        'dtstart_local': start and start['local'],
        'dtend_local': end and end['local'],
        'tzid': (start and start['tzid']) or next(iter(vtimezones), None),
        'vtimezones': sorted(vtimezones),
        'summary': text_or_none(event, 'SUMMARY'),
        'description': text_or_none(event, 'DESCRIPTION'),
        'location': text_or_none(event, 'LOCATION'),
        'url': text_or_none(event, 'URL'),
        'organizer': None if organizer is None else {'address': str(organizer), 'cn': organizer.params.get('CN')},
        'attendees': attendees(event),
    }


def failure(err):
    return f'{type(err).__name__}: {err}'


def main():
    data = sys.stdin.buffer.read().decode('utf-8')
    if sys.argv[1:] == ['--many']:
        results = []
        for text in json.loads(data):
            try:
                results.append(describe(text))
            except Exception as err:  # reported per file
                results.append({'error': failure(err)})
        json.dump(results, sys.stdout, ensure_ascii=False)
        sys.stdout.write('\n')
        return 0
    try:
        out = describe(data)
    except Exception as err:  # any failure to read the file is the finding
        print(f'ics-check: {failure(err)}', file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
