import { Anchor, Button, Checkbox, Group, SegmentedControl, Select, Stack, Table, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import { STATUSES } from '../../../../shared/requests/vocabulary.ts';
import { api } from '../api.ts';
import { FlagBadges, StatusBadge, UnverifiedBadge } from '../components/Badges.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';
import { href } from '../router.ts';

export function RequestsPage() {
  const t = useT();
  const code = useCode();
  const { date } = useDates();
  const [status, setStatus] = useState<string | null>(null);
  const [direction, setDirection] = useState<'all' | 'in' | 'out'>('all');
  const [overdue, setOverdue] = useState(false);
  const [dueSoon, setDueSoon] = useState(false);
  const changed = useChanged('requests');
  const filter = {
    ...(status ? { status } : {}),
    ...(direction !== 'all' ? { direction } : {}),
    ...(overdue ? { overdue } : {}),
    ...(dueSoon ? { dueSoon } : {}),
  };
  const key = `${changed}|${JSON.stringify(filter)}`;
  const { data, error, loading, reload } = useLoad(() => api.requests(filter), key);
  const requests = useMemo(() => (Array.isArray(data?.requests) ? data.requests : []), [data]);
  const unverified = useMemo(() => new Set(data?.unverified ?? []), [data]);

  return (
    <Stack>
      <PageHeading
        actions={
          <>
            <Button variant="default" onClick={reload} loading={loading}>
              {t('common.refresh')}
            </Button>
            <Button component="a" href={href('requests', 'new')} data-testid="new-request-button">
              {t('nav.newRequest')}
            </Button>
          </>
        }
      >
        {t('requests.title')}
      </PageHeading>
      <Group align="flex-end" gap="md" wrap="wrap" role="group" aria-label={t('requests.filters')}>
        <Select
          label={t('requests.status')}
          placeholder={t('requests.anyStatus')}
          value={status}
          onChange={setStatus}
          data={STATUSES.map((s) => ({ value: s, label: code('status', s) }))}
          clearable
          data-testid="filter-status"
          w={240}
        />
        <div>
          <Text size="sm" fw={500} mb={4} id="direction-label">
            {t('requests.direction')}
          </Text>
          <SegmentedControl
            aria-labelledby="direction-label"
            value={direction}
            onChange={(v) => setDirection(v as 'all' | 'in' | 'out')}
            data={[
              { value: 'all', label: t('requests.directionAll') },
              { value: 'in', label: t('requests.directionIn') },
              { value: 'out', label: t('requests.directionOut') },
            ]}
            data-testid="filter-direction"
          />
        </div>
        <Checkbox
          label={t('flag.overdue')}
          checked={overdue}
          onChange={(e) => setOverdue(e.currentTarget.checked)}
          data-testid="filter-overdue"
        />
        <Checkbox
          label={t('flag.due_soon')}
          checked={dueSoon}
          onChange={(e) => setDueSoon(e.currentTarget.checked)}
          data-testid="filter-due-soon"
        />
      </Group>
      {data && data.fetched === false ? (
        <Text size="sm" c="orange.9" role="status">
          {t('requests.notFetched')}
        </Text>
      ) : null}
      <ErrorAlert error={error} />
      {!loading && requests.length === 0 ? (
        <Text c="dimmed" data-testid="empty">
          {t('requests.empty')}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={720}>
          <Table highlightOnHover verticalSpacing="xs" data-testid="requests-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">{t('requests.titleColumn')}</Table.Th>
                <Table.Th scope="col">{t('requests.type')}</Table.Th>
                <Table.Th scope="col">{t('requests.counterpart')}</Table.Th>
                <Table.Th scope="col">{t('requests.status')}</Table.Th>
                <Table.Th scope="col">{t('requests.deadline')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {requests.map((r) => (
                <Table.Tr key={r.id} data-testid="request-row" data-id={r.id} data-status={r.state}>
                  <Table.Td>
                    <Anchor href={href('requests', r.id)} dir="auto" size="sm">
                      {r.title || r.references?.requesting || r.id}
                    </Anchor>
                    <Text size="xs" c="dimmed">
                      {t(r.direction === 'in' ? 'requests.received' : 'requests.sentOut')}
                      {r.references?.requesting ? ` · ${r.references.requesting}` : ''}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{code('requestType', r.requestType)}</Text>
                    {r.urgency && r.urgency !== 'routine' ? (
                      <Text size="xs" c="red.8" fw={600}>
                        {code('urgency', r.urgency)}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      <Text size="sm" dir="ltr">
                        {r.counterpart}
                      </Text>
                      {unverified.has(r.counterpart) ? <UnverifiedBadge authority={r.counterpart} /> : null}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Stack gap={4}>
                      <StatusBadge status={r.state} />
                      <FlagBadges flags={r.flags} />
                    </Stack>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{date(r.deadline)}</Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
