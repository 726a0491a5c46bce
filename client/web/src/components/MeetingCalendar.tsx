/**
 * The meetings on a week or a month, in the officer's time zone: a CSS grid of days that follows
 * the page's direction (Arabic runs right to left), days and months named by Intl in the page's
 * language, the week starting on the locale's first day. Each meeting is a button in its day;
 * hovering or focusing it shows each participant's local time, and choosing it moves to its card.
 */
import {
  Button,
  Group,
  SegmentedControl,
  Stack,
  Text,
  Title,
  Tooltip,
  UnstyledButton,
  VisuallyHidden,
} from '@mantine/core';
import { useMemo, useState } from 'react';
import type { Meeting } from '../api.ts';
import { calendarDays, dayInstant, firstDayOf, stepAnchor, type CalendarMode } from '../calendar.ts';
import { useLocale, useT } from '../i18n.tsx';
import { useZonedTime } from '../meeting-zones.ts';
import { zonedClock } from '../zoned.ts';

type People = (m: Meeting) => { authority: string; tz: string; organizer: boolean }[];

export function MeetingCalendar({
  meetings,
  zone,
  peopleOf,
}: {
  meetings: Meeting[];
  zone: string;
  peopleOf: People;
}) {
  const t = useT();
  const { locale } = useLocale();
  const today = useMemo(() => zonedClock(zone)(Date.now()).date, [zone]);
  const [mode, setMode] = useState<CalendarMode>('week');
  const [anchor, setAnchor] = useState(today);
  const firstDay = useMemo(() => firstDayOf(locale), [locale]);
  const days = calendarDays(anchor, mode, firstDay);
  const month = anchor.slice(0, 7);

  const byDay = useMemo(() => {
    const clock = zonedClock(zone);
    const out = new Map<string, Meeting[]>();
    const sorted = [...meetings].sort((a, b) => (a.startUtc ?? '').localeCompare(b.startUtc ?? ''));
    for (const m of sorted) {
      const at = Date.parse(m.startUtc ?? '');
      if (Number.isNaN(at)) continue;
      const day = clock(at).date;
      out.set(day, [...(out.get(day) ?? []), m]);
    }
    return out;
  }, [meetings, zone]);

  const f = useMemo(() => {
    const utc = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(locale, { ...o, timeZone: 'UTC' });
    return {
      weekday: utc({ weekday: 'short' }),
      long: utc({ dateStyle: 'full' }),
      dayNumber: utc({ day: 'numeric' }),
      range: utc({ dateStyle: 'medium' }),
      month: utc({ month: 'long', year: 'numeric' }),
      time: new Intl.DateTimeFormat(locale, { timeZone: zone, hour: '2-digit', minute: '2-digit' }),
    };
  }, [locale, zone]);
  const title =
    mode === 'month'
      ? f.month.format(dayInstant(anchor))
      : f.range.formatRange(dayInstant(days[0]!), dayInstant(days[6]!));

  return (
    <section aria-labelledby="calendar-title" data-testid="meeting-calendar" data-mode={mode}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap">
          <Title order={2} size="h3" id="calendar-title">
            {t('meetings.calendar.title')}
          </Title>
          <SegmentedControl
            value={mode}
            onChange={(v) => setMode(v === 'month' ? 'month' : 'week')}
            data={[
              { value: 'week', label: t('meetings.calendar.week') },
              { value: 'month', label: t('meetings.calendar.month') },
            ]}
            aria-label={t('meetings.calendar.mode')}
            data-testid="calendar-mode"
          />
        </Group>
        <Group gap="xs" wrap="wrap">
          <Button
            variant="default"
            size="xs"
            onClick={() => setAnchor(stepAnchor(anchor, mode, -1))}
            data-testid="calendar-prev"
          >
            <span aria-hidden="true" className="mirror-rtl">
              ‹
            </span>
            &nbsp;{t('meetings.calendar.previous', { mode })}
          </Button>
          <Button variant="default" size="xs" onClick={() => setAnchor(today)} data-testid="calendar-today">
            {t('meetings.calendar.today')}
          </Button>
          <Button
            variant="default"
            size="xs"
            onClick={() => setAnchor(stepAnchor(anchor, mode, 1))}
            data-testid="calendar-next"
          >
            {t('meetings.calendar.next', { mode })}&nbsp;
            <span aria-hidden="true" className="mirror-rtl">
              ›
            </span>
          </Button>
          <Text fw={600} aria-live="polite" data-testid="calendar-range">
            {title}
          </Text>
        </Group>
        <Text size="xs" c="dimmed">
          {t('meetings.calendar.zone', { zone })}
        </Text>
        <div className="calendar-grid" aria-hidden="true">
          {days.slice(0, 7).map((d) => (
            <div key={d} className="calendar-weekday">
              {f.weekday.format(dayInstant(d))}
            </div>
          ))}
        </div>
        <ol className="calendar-grid calendar-days" data-mode={mode}>
          {days.map((d) => (
            <li
              key={d}
              className="calendar-day"
              data-date={d}
              data-outside={mode === 'month' && d.slice(0, 7) !== month}
              data-testid="calendar-day"
              {...(d === today ? { 'aria-current': 'date' as const } : {})}
            >
              <time dateTime={d} className="calendar-date" title={f.long.format(dayInstant(d))}>
                <span aria-hidden="true">{f.dayNumber.format(dayInstant(d))}</span>
                <VisuallyHidden>{f.long.format(dayInstant(d))}</VisuallyHidden>
              </time>
              {(byDay.get(d) ?? []).map((m) => (
                <CalendarMeeting key={m.uid} m={m} time={f.time} people={peopleOf(m)} />
              ))}
            </li>
          ))}
        </ol>
      </Stack>
    </section>
  );
}

function CalendarMeeting({
  m,
  time,
  people,
}: {
  m: Meeting;
  time: Intl.DateTimeFormat;
  people: ReturnType<People>;
}) {
  const t = useT();
  const at = useZonedTime();
  const start = Date.parse(m.startUtc ?? '');
  const label = (
    <Stack gap={2} data-testid="calendar-local-times">
      <Text size="xs" fw={700}>
        {t('meetings.calendar.localTimes')}
      </Text>
      {people.map((p) => (
        <Text size="xs" key={p.authority}>
          <span dir="ltr">{p.authority}</span>: {at(start, p.tz)} <span dir="ltr">({p.tz})</span>
        </Text>
      ))}
    </Stack>
  );
  return (
    <Tooltip label={label} multiline w={320} events={{ hover: true, focus: true, touch: true }} withArrow>
      <UnstyledButton
        className="calendar-meeting"
        data-testid="calendar-meeting"
        data-uid={m.uid}
        data-cancelled={!!m.cancelled}
        onClick={() => {
          const card = document.getElementById(`meeting-${m.uid}`);
          card?.scrollIntoView({ block: 'center' });
          card?.focus({ preventScroll: true });
        }}
      >
        <time dateTime={m.startUtc} className="calendar-time">
          {time.format(start)}
        </time>{' '}
        <span dir="auto">{m.title || t('meetings.untitled')}</span>
        {m.cancelled ? <VisuallyHidden> ({t('meetings.cancelled')})</VisuallyHidden> : null}
      </UnstyledButton>
    </Tooltip>
  );
}
