import { SimpleGrid, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useCallback, useMemo } from 'react';
import { api, type Meeting, type Session } from '../api.ts';
import { networksApi } from '../api-networks.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { MeetingCalendar } from '../components/MeetingCalendar.tsx';
import { MeetingCard } from '../components/MeetingCard.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';
import { peopleOf, viewerZone } from '../meeting-zones.ts';

/**
 * Meetings in the officer's time zone: a week or month calendar, then the upcoming ones and the
 * past or cancelled ones as cards (replies at a glance, answer, update and cancel, the .ics file).
 * Replies, updates and cancellations that arrive refresh the page as they come.
 */
export function MeetingsPage({ session }: { session: Session }) {
  const t = useT();
  const changed = useChanged('meetings');
  const tz = useMemo(viewerZone, []);
  const { data, error, loading } = useLoad(() => api.meetings(tz), changed);
  // Members' declared zones, for their local times; a node without networks simply has none.
  const nets = useLoad(() => networksApi.list().catch(() => ({ networks: [] })), '');
  const meetings = Array.isArray(data?.meetings) ? data.meetings : [];
  const upcoming = meetings.filter((m) => m.upcoming);
  const past = meetings.filter((m) => !m.upcoming);
  const me = session.node?.authority ?? '';
  const networks = nets.data?.networks;
  const people = useCallback((m: Meeting) => peopleOf(m, networks ?? [], me), [networks, me]);
  const card = (m: Meeting, isPast?: boolean) => (
    <MeetingCard key={m.uid} meeting={m} session={session} people={people(m)} past={isPast} />
  );
  return (
    <Stack>
      <PageHeading>{t('meetings.title')}</PageHeading>
      <ErrorAlert error={error} />
      {loading && !data ? <Skeleton h={160} /> : null}
      <MeetingCalendar meetings={meetings} zone={tz} peopleOf={people} />
      <section aria-labelledby="upcoming-title">
        <Title order={2} size="h3" id="upcoming-title" mb="xs">
          {t('meetings.upcoming')}
        </Title>
        {upcoming.length === 0 && data ? (
          <Text c="dimmed">{t('meetings.noneUpcoming')}</Text>
        ) : (
          <SimpleGrid cols={{ base: 1, md: 2 }}>{upcoming.map((m) => card(m))}</SimpleGrid>
        )}
      </section>
      {past.length ? (
        <section aria-labelledby="past-title">
          <Title order={2} size="h3" id="past-title" mb="xs">
            {t('meetings.past')}
          </Title>
          <SimpleGrid cols={{ base: 1, md: 2 }}>{past.slice(0, 50).map((m) => card(m, true))}</SimpleGrid>
        </section>
      ) : null}
    </Stack>
  );
}
