import { Anchor, Badge, Button, Card, Group, SimpleGrid, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { api, type Meeting, type Session } from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { UnverifiedPrompt, unverifiedOf } from '../components/UnverifiedPrompt.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';
import { href } from '../router.ts';

const ANSWERS = ['accept', 'tentative', 'decline'] as const;
const zone = (): string | undefined => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
};

/** Meetings, upcoming first, in the officer's time zone; RSVP and the calendar file. */
export function MeetingsPage({ session }: { session: Session }) {
  const t = useT();
  const changed = useChanged('meetings');
  const tz = useMemo(zone, []);
  const { data, error, loading } = useLoad(() => api.meetings(tz), changed);
  const meetings = Array.isArray(data?.meetings) ? data.meetings : [];
  const upcoming = meetings.filter((m) => m.upcoming);
  const past = meetings.filter((m) => !m.upcoming);
  return (
    <Stack>
      <PageHeading>{t('meetings.title')}</PageHeading>
      <ErrorAlert error={error} />
      {loading && !data ? <Skeleton h={160} /> : null}
      <section aria-labelledby="upcoming-title">
        <Title order={2} size="h3" id="upcoming-title" mb="xs">
          {t('meetings.upcoming')}
        </Title>
        {upcoming.length === 0 && data ? (
          <Text c="dimmed">{t('meetings.noneUpcoming')}</Text>
        ) : (
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            {upcoming.map((m) => (
              <MeetingCard key={m.uid} meeting={m} session={session} />
            ))}
          </SimpleGrid>
        )}
      </section>
      {past.length ? (
        <section aria-labelledby="past-title">
          <Title order={2} size="h3" id="past-title" mb="xs">
            {t('meetings.past')}
          </Title>
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            {past.slice(0, 50).map((m) => (
              <MeetingCard key={m.uid} meeting={m} session={session} past />
            ))}
          </SimpleGrid>
        </section>
      ) : null}
    </Stack>
  );
}

function MeetingCard({
  meeting: initial,
  session,
  past,
}: {
  meeting: Meeting;
  session: Session;
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
  const me = session.node?.authority ?? '';
  const replies = m.replies ?? {};
  const mine = replies[me] ?? replies[session.node?.address ?? ''];
  const organizer = m.organizer ?? '';
  const iOrganize = organizer === me || organizer.endsWith(`/${me}`);

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
  const unverified = unverifiedOf(error);
  const url = m.conference?.url;
  const safeUrl = url && /^https:\/\//i.test(url) ? url : null;

  return (
    <Card withBorder padding="md" data-testid="meeting-card" data-cancelled={!!m.cancelled}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Title order={3} size="h4" dir="auto">
            {m.title || t('meetings.untitled')}
          </Title>
          {m.cancelled ? (
            <Badge color="red" data-testid="meeting-cancelled">
              {t('meetings.cancelled')}
            </Badge>
          ) : null}
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
        {m.participants?.length ? (
          <Text size="sm">
            {t('meetings.participants')}{' '}
            <Text span dir="ltr" inherit>
              {m.participants.join(', ')}
            </Text>
          </Text>
        ) : null}
        {m.languages?.length ? (
          <Text size="sm">{m.languages.map((l) => code('language', l)).join(', ')}</Text>
        ) : null}
        {m.agenda ? (
          <Text size="sm" className="plain-text" dir="auto" component="div">
            {m.agenda}
          </Text>
        ) : null}
        {m.cancelReason ? <Text size="sm">{m.cancelReason}</Text> : null}
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
        {!past && !m.cancelled && !iOrganize ? (
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
    </Card>
  );
}
