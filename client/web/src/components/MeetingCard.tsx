/**
 * One meeting on the Meetings page: when (in the officer's zone, the organizer's beside it), who,
 * the reminder when it starts within a day, the replies at a glance, the officer's own answer,
 * the organizer's update and cancel, the video link and the calendar file.
 */
import { Anchor, Badge, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useIntl } from 'react-intl';
import { api, type Meeting, type Session } from '../api.ts';
import { useNow } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';
import { href } from '../router.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { CancelMeetingModal, UpdateMeetingModal } from './MeetingChangeModals.tsx';
import { MeetingReplies } from './MeetingReplies.tsx';
import { UnverifiedPrompt, unverifiedOf } from './UnverifiedPrompt.tsx';

const ANSWERS = ['accept', 'tentative', 'decline'] as const;
/** How long before a meeting its card reminds of it (as `entraide listen` does). */
const REMINDER_BEFORE_MS = 24 * 3_600_000;

/** "Starts in 3 hours" within a day of the start, "under way" until its end; nothing otherwise. */
function Reminder({ m }: { m: Meeting }) {
  const t = useT();
  const intl = useIntl();
  const now = useNow();
  const start = Date.parse(m.startUtc ?? '');
  const end = Date.parse(m.endUtc ?? '');
  if (m.cancelled || Number.isNaN(start)) return null;
  if (now >= start && now < end)
    return (
      <Badge color="teal" data-testid="meeting-reminder" data-state="underway">
        {t('meetings.underway')}
      </Badge>
    );
  const ahead = start - now;
  if (ahead <= 0 || ahead > REMINDER_BEFORE_MS) return null;
  const minutes = Math.round(ahead / 60_000);
  const when =
    minutes < 60
      ? intl.formatRelativeTime(minutes, 'minute')
      : intl.formatRelativeTime(Math.round(minutes / 60), 'hour');
  return (
    <Badge color="orange" variant="light" data-testid="meeting-reminder" data-state="soon">
      {t('meetings.reminder', { when })}
    </Badge>
  );
}

export function MeetingCard({
  meeting: initial,
  session,
  people,
  past,
}: {
  meeting: Meeting;
  session: Session;
  people: { authority: string; tz: string; organizer: boolean }[];
  past?: boolean;
}) {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const [m, setM] = useState(initial);
  const [seen, setSeen] = useState(initial);
  if (seen !== initial) {
    setSeen(initial);
    setM(initial);
  }
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [dialog, setDialog] = useState<'update' | 'cancel' | null>(null);
  const me = session.node?.authority ?? '';
  const replies = m.replies ?? {};
  const mine = replies[me] ?? replies[session.node?.address ?? ''];
  const organizer = m.organizer ?? '';
  const iOrganize = organizer === me || organizer.endsWith(`/${me}`);
  const open = !past && !m.cancelled;

  const answer = async (a: string, confirmed?: string[]) => {
    setBusy(a);
    setPending(a);
    try {
      const r = await api.rsvp(m.uid, a, confirmed);
      if (r && typeof r === 'object' && 'uid' in r) setM({ ...m, ...r });
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const changedTo = (r: Meeting) => {
    if (r && typeof r === 'object' && 'uid' in r) setM({ ...m, ...r });
    setDialog(null);
  };
  const unverified = unverifiedOf(error);
  const url = m.conference?.url;
  const safeUrl = url && /^https:\/\//i.test(url) ? url : null;

  return (
    <Card
      withBorder
      padding="md"
      id={`meeting-${m.uid}`}
      tabIndex={-1}
      data-testid="meeting-card"
      data-uid={m.uid}
      data-sequence={m.sequence}
      data-cancelled={!!m.cancelled}
    >
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Title order={3} size="h4" dir="auto">
            {m.title || t('meetings.untitled')}
          </Title>
          {m.cancelled ? (
            <Badge color="red" data-testid="meeting-cancelled">
              {t('meetings.cancelled')}
            </Badge>
          ) : (
            <Reminder m={m} />
          )}
        </Group>
        <Text size="sm" fw={600} data-testid="meeting-when">
          {dateTime(m.startUtc ?? m.start)}
          {m.endUtc ? ` – ${dateTime(m.endUtc)}` : ''}
        </Text>
        {m.tz ? (
          <Text size="xs" c="dimmed">
            {t('meetings.organizerZone', { zone: m.tz, time: m.start ?? '' })}
          </Text>
        ) : null}
        <Text size="sm">
          {t('meetings.organizer')}{' '}
          <Text span dir="ltr" inherit>
            {organizer}
          </Text>
        </Text>
        {m.languages?.length ? (
          <Text size="sm">{m.languages.map((l) => code('language', l)).join(', ')}</Text>
        ) : null}
        {m.agenda ? (
          <Text size="sm" className="plain-text" dir="auto" component="div">
            {m.agenda}
          </Text>
        ) : null}
        {m.cancelReason ? (
          <Text size="sm" dir="auto" data-testid="meeting-cancel-reason">
            {m.cancelReason}
          </Text>
        ) : null}
        <MeetingReplies meeting={m} people={people} />
        {safeUrl ? (
          <Anchor href={safeUrl} target="_blank" rel="noopener noreferrer" size="sm" dir="ltr">
            {t('meetings.join')}
          </Anchor>
        ) : url ? (
          <Text size="sm" dir="ltr">
            {url}
          </Text>
        ) : null}
        {m.conference?.room || m.conference?.passcode ? (
          <Text size="xs" c="dimmed" dir="ltr">
            {[m.conference.room, m.conference.passcode].filter(Boolean).join(' · ')}
          </Text>
        ) : null}
        {m.request ? (
          <Anchor href={href('requests', m.request)} size="sm">
            {t('inbox.openRequest')}
          </Anchor>
        ) : null}
        {mine ? (
          <Text size="sm" data-testid="my-answer">
            {t('meetings.yourAnswer', { answer: code('rsvp', mine.answer) })}
          </Text>
        ) : null}
        {open && !iOrganize ? (
          <Group gap="xs" role="group" aria-label={t('meetings.answer')}>
            {ANSWERS.map((a) => (
              <Button
                key={a}
                size="xs"
                variant={mine?.answer === a ? 'filled' : 'light'}
                color={a === 'decline' ? 'red' : a === 'accept' ? 'teal' : 'yellow'}
                loading={busy === a}
                aria-pressed={mine?.answer === a}
                onClick={() => void answer(a)}
                data-testid={`rsvp-${a}`}
              >
                {code('rsvp', a)}
              </Button>
            ))}
          </Group>
        ) : null}
        {open && iOrganize ? (
          <Group gap="xs">
            <Button
              size="xs"
              variant="light"
              onClick={() => setDialog('update')}
              data-testid="meeting-update"
            >
              {t('meetings.change.open')}
            </Button>
            <Button
              size="xs"
              variant="light"
              color="red"
              onClick={() => setDialog('cancel')}
              data-testid="meeting-cancel"
            >
              {t('meetings.cancel.open')}
            </Button>
          </Group>
        ) : null}
        {unverified ? (
          <UnverifiedPrompt
            unverified={unverified}
            busy={busy !== null}
            onConfirm={(c) => pending && void answer(pending, c)}
            onCancel={() => setError(null)}
          />
        ) : (
          <ErrorAlert error={error} onClose={() => setError(null)} />
        )}
        <Anchor href={api.icsUrl(m.uid)} download size="sm" data-testid="ics-link">
          {t('meetings.ics')}
        </Anchor>
      </Stack>
      {dialog === 'update' ? (
        <UpdateMeetingModal meeting={m} opened onClose={() => setDialog(null)} onDone={changedTo} />
      ) : null}
      {dialog === 'cancel' ? (
        <CancelMeetingModal meeting={m} opened onClose={() => setDialog(null)} onDone={changedTo} />
      ) : null}
    </Card>
  );
}
