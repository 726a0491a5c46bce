/**
 * The networks this node holds (for coordinators, and for members who read them): the roster with
 * each member's relay and working hours, the heat map of the slot finder over the coming weeks in
 * the coordinator's time zone, and, for a coordinator, a meeting scheduled at the start picked in
 * it, with each member's local time beside it. A coordinator also changes the roster (members and
 * coordinators); everyone reads the roster's versions.
 */
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Select,
  Skeleton,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMemo, useState } from 'react';
import { networksApi, type NetworkView, type WorkingHoursView } from '../api-networks.ts';
import { DataTable } from '../components/DataTable.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { Heatmap } from '../components/Heatmap.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { RosterManager, RosterRowActions } from '../components/RosterManager.tsx';
import { RosterVersions } from '../components/RosterVersions.tsx';
import { UnverifiedPrompt, unverifiedOf } from '../components/UnverifiedPrompt.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useLocale, useT } from '../i18n.tsx';
import { href, navigate } from '../router.ts';
import { useRosterEditing } from '../roster-editing.ts';
import { localStart } from '../zoned.ts';

const DURATIONS = [30, 60, 90, 120];
const WEEKS = [2, 4, 8];

const ownZone = (): string => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};

function useHoursText(): (h: WorkingHoursView | undefined) => string {
  const t = useT();
  const { locale } = useLocale();
  return (h) => {
    if (!h) return t('networks.noHours');
    const day = new Intl.DateTimeFormat(locale, { weekday: 'short', timeZone: 'UTC' });
    // 2024-01-01 was a Monday: ISO day d is 2024-01-0d.
    const days = h.days.map((d) => day.format(Date.UTC(2024, 0, d))).join(' ');
    return `${days} ${h.start}–${h.end} (${h.tz})`;
  };
}

export function NetworksPage({ id }: { id: string | undefined }) {
  const t = useT();
  const changed = useChanged('meetings', 'keys');
  const list = useLoad(() => networksApi.list(), changed);
  const networks = list.data?.networks ?? [];
  const current = networks.find((n) => n.network === id) ?? networks[0];

  return (
    <Stack>
      <PageHeading>{t('networks.title')}</PageHeading>
      <ErrorAlert error={list.error} />
      {list.loading && !list.data ? <Skeleton h={120} /> : null}
      {list.data && networks.length === 0 ? <Text c="dimmed">{t('networks.none')}</Text> : null}
      {networks.length > 1 ? (
        <Select
          label={t('networks.choose')}
          data={networks.map((n) => ({ value: n.network, label: `${n.name} (${n.network})` }))}
          value={current?.network ?? null}
          onChange={(v) => v && navigate('networks', v)}
          allowDeselect={false}
          data-testid="network-select"
          maw={420}
        />
      ) : null}
      {current ? <NetworkPanel key={current.network} network={current} onChanged={list.reload} /> : null}
    </Stack>
  );
}

function NetworkPanel({ network: n, onChanged }: { network: NetworkView; onChanged: () => void }) {
  const t = useT();
  const editing = useRosterEditing(n.network, onChanged);
  const hoursText = useHoursText();
  const zone = useMemo(ownZone, []);
  const [duration, setDuration] = useState(60);
  const [weeks, setWeeks] = useState(2);
  const [picked, setPicked] = useState<number | null>(null);
  const heat = useLoad(
    () => networksApi.heatmap(n.network, duration, weeks),
    `${n.network}/${duration}/${weeks}/${n.version}`,
  );

  return (
    <Stack>
      <Group gap="xs">
        <Title order={2} size="h3" data-testid="network-name">
          {n.name}
        </Title>
        <Badge variant="light">{t('networks.version', { version: n.version })}</Badge>
        {n.coordinator ? (
          <Badge color="teal" variant="light">
            {t('networks.youCoordinate')}
          </Badge>
        ) : null}
      </Group>
      <DataTable
        label={t('networks.roster')}
        testId="roster"
        minWidth={600}
        rows={n.members}
        rowKey={(m) => m}
        rowTestId="roster-member"
        columns={[
          { header: t('networks.col.member'), cell: (m) => m.split('@')[0], dir: 'ltr' },
          { header: t('networks.col.relay'), cell: (m) => m.split('@')[1] ?? '', dir: 'ltr' },
          { header: t('networks.col.hours'), cell: (m) => hoursText(n.hours[m]) },
          {
            header: t('networks.col.role'),
            cell: (m) => (n.coordinators.includes(m) ? t('networks.coordinator') : t('networks.member')),
          },
          ...(n.coordinator
            ? [
                {
                  header: t('networks.manage.actions'),
                  cell: (m: string) => (
                    <RosterRowActions
                      authority={m}
                      coordinator={n.coordinators.includes(m)}
                      editing={editing}
                    />
                  ),
                },
              ]
            : []),
        ]}
      />
      {n.coordinator ? <RosterManager editing={editing} /> : null}

      <Title order={2} size="h3">
        {t('networks.heatmap.title')}
      </Title>
      <Text size="sm" c="dimmed">
        {t('networks.heatmap.explain', { zone })}
      </Text>
      <Group>
        <Select
          label={t('networks.heatmap.duration')}
          data={DURATIONS.map((d) => ({ value: String(d), label: t('networks.minutes', { minutes: d }) }))}
          value={String(duration)}
          onChange={(v) => v && setDuration(Number(v))}
          allowDeselect={false}
          data-testid="heatmap-duration"
          w={160}
        />
        <Select
          label={t('networks.heatmap.weeks')}
          data={WEEKS.map((w) => ({ value: String(w), label: t('networks.weeks', { weeks: w }) }))}
          value={String(weeks)}
          onChange={(v) => v && setWeeks(Number(v))}
          allowDeselect={false}
          data-testid="heatmap-weeks"
          w={160}
        />
      </Group>
      <ErrorAlert error={heat.error} />
      {heat.data?.withoutHours.length ? (
        <Alert color="orange" variant="light" data-testid="without-hours">
          {t('networks.heatmap.withoutHours', { members: heat.data.withoutHours.join(', ') })}
        </Alert>
      ) : null}
      {heat.data ? (
        <Heatmap map={heat.data} zone={zone} picked={picked} onPick={setPicked} />
      ) : (
        <Skeleton h={200} />
      )}
      {picked !== null ? (
        <SlotPanel network={n} start={picked} durationMin={duration} zone={zone} hoursText={hoursText} />
      ) : null}
      <RosterVersions network={n.network} version={n.version} />
    </Stack>
  );
}

function SlotPanel({
  network: n,
  start,
  durationMin,
  zone,
  hoursText,
}: {
  network: NetworkView;
  start: number;
  durationMin: number;
  zone: string;
  hoursText: (h: WorkingHoursView | undefined) => string;
}) {
  const t = useT();
  const { locale } = useLocale();
  const [title, setTitle] = useState('');
  const [agenda, setAgenda] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const at = (tz: string) =>
    new Intl.DateTimeFormat(locale, {
      timeZone: tz,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    }).format(start);
  const unverified = unverifiedOf(error);

  const schedule = async (confirmed?: string[]) => {
    setBusy(true);
    try {
      await networksApi.schedule(n.network, {
        title: title.trim(),
        start: localStart(start, zone),
        tz: zone,
        durationMin,
        ...(agenda.trim() ? { agenda: agenda.trim() } : {}),
        ...(confirmed ? { confirmed } : {}),
      });
      navigate('meetings');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card withBorder data-testid="slot-panel">
      <Stack gap="sm">
        <Title order={3} size="h4">
          {t('networks.slot.title', { time: at(zone), zone })}
        </Title>
        <Table aria-label={t('networks.slot.localTimes')}>
          <Table.Tbody>
            {n.members.map((m) => {
              const h = n.hours[m];
              return (
                <Table.Tr key={m} data-testid="slot-member">
                  <Table.Td dir="ltr">{m}</Table.Td>
                  <Table.Td>{h ? at(h.tz) : ''}</Table.Td>
                  <Table.Td>
                    <Text size="xs" c="dimmed">
                      {hoursText(h)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        {n.coordinator ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (title.trim()) void schedule();
            }}
          >
            <Stack gap="xs">
              <TextInput
                label={t('networks.slot.meetingTitle')}
                value={title}
                onChange={(e) => setTitle(e.currentTarget.value)}
                required
                data-testid="slot-title"
              />
              <Textarea
                label={t('networks.slot.agenda')}
                value={agenda}
                onChange={(e) => setAgenda(e.currentTarget.value)}
                autosize
                minRows={2}
                data-testid="slot-agenda"
              />
              <ErrorAlert error={unverified ? null : error} />
              {unverified ? (
                <UnverifiedPrompt
                  unverified={unverified}
                  busy={busy}
                  onConfirm={(c) => void schedule(c)}
                  onCancel={() => setError(null)}
                />
              ) : (
                <Group>
                  <Button type="submit" loading={busy} disabled={!title.trim()} data-testid="slot-schedule">
                    {t('networks.slot.schedule', { count: n.members.length })}
                  </Button>
                  <Button component="a" variant="default" href={href('meetings')}>
                    {t('nav.meetings')}
                  </Button>
                </Group>
              )}
            </Stack>
          </form>
        ) : (
          <Text size="sm" c="dimmed">
            {t('networks.slot.onlyCoordinators')}
          </Text>
        )}
      </Stack>
    </Card>
  );
}
