/** Wall-clock parts of an instant in an IANA time zone (for the heat map and meeting starts). */

export interface ZonedParts {
  /** YYYY-MM-DD */
  date: string;
  hour: number;
  minute: number;
}

/** A reader of `zone`'s wall clock: build it once, call it for many instants. */
export function zonedClock(zone: string): (t: number) => ZonedParts {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return (t) => {
    const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
    return { date: `${p.year}-${p.month}-${p.day}`, hour: Number(p.hour), minute: Number(p.minute) };
  };
}

/** 'YYYY-MM-DDTHH:MM' of `t` in `zone`: a meeting's local start as `meeting schedule --start` takes it. */
export function localStart(t: number, zone: string): string {
  const p = zonedClock(zone)(t);
  return `${p.date}T${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}
