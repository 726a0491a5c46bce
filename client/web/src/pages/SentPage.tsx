import { Alert, Anchor, Badge, Button, Group, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDeferredValue, useMemo, useState } from 'react';
import { api, authorityOf, type StoredMessage } from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';
import { href, useRouteQuery } from '../router.ts';
import { PAGE_ROWS } from './InboxPage.tsx';

type Delivery = 'queued' | 'read' | 'delivered' | 'sent';

const truthy = (v: unknown): boolean => (Array.isArray(v) ? v.length > 0 : !!v);

/** Queued in the outbox, read, delivered, or sent (from whatever the service reports). */
export function deliveryOf(m: StoredMessage): Delivery {
  if (m.state === 'queued') return 'queued';
  const o = m as unknown as Record<string, unknown>;
  if (truthy(o.readAt) || truthy(o.readBy) || truthy(o.read)) return 'read';
  if (truthy(o.deliveredAt) || truthy(o.deliveredTo) || truthy(o.delivered) || truthy(m.acceptedAt))
    return 'delivered';
  return 'sent';
}

const COLOURS: Record<Delivery, string> = {
  queued: 'orange',
  read: 'green',
  delivered: 'teal',
  sent: 'blue',
};

export function SentPage() {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const query = useRouteQuery();
  const justSent = query.get('sent');
  const justState = query.get('state');
  const changed = useChanged('sent');
  const { data, error, loading, reload } = useLoad(() => api.sent(), changed);
  const [search, setSearch] = useState('');
  const deferred = useDeferredValue(search);
  const [shown, setShown] = useState(PAGE_ROWS);
  const list = useMemo(() => (Array.isArray(data) ? data : []), [data]);
  const filtered = useMemo(() => {
    const w = deferred.trim().toLowerCase();
    if (!w) return list;
    return list.filter(
      (m) =>
        (m.subject ?? '').toLowerCase().includes(w) ||
        (m.recipients ?? []).join(' ').toLowerCase().includes(w),
    );
  }, [list, deferred]);

  return (
    <Stack>
      <PageHeading
        actions={
          <>
            <Button variant="default" onClick={reload} loading={loading}>
              {t('common.refresh')}
            </Button>
            <Button component="a" href={href('compose')}>
              {t('inbox.compose')}
            </Button>
          </>
        }
      >
        {t('sent.title')}
      </PageHeading>
      {justSent ? (
        <Alert
          color={justState === 'queued' ? 'orange' : 'teal'}
          role="status"
          data-testid="sent-notice"
          data-state={justState}
        >
          {justState === 'queued' ? t('sent.queuedNotice') : t('sent.sentNotice')}
        </Alert>
      ) : null}
      <ErrorAlert error={error} />
      <TextInput
        type="search"
        label={t('sent.search')}
        value={search}
        onChange={(e) => {
          setSearch(e.currentTarget.value);
          setShown(PAGE_ROWS);
        }}
        data-testid="sent-search"
      />
      {!loading && filtered.length === 0 ? (
        <Text c="dimmed">{t('sent.empty')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={480}>
          <Table highlightOnHover verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">{t('sent.to')}</Table.Th>
                <Table.Th scope="col">{t('inbox.subject')}</Table.Th>
                <Table.Th scope="col">{t('sent.state')}</Table.Th>
                <Table.Th scope="col">{t('sent.sentAt')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {filtered.slice(0, shown).map((m) => {
                const d = deliveryOf(m);
                return (
                  <Table.Tr key={m.id} data-testid="sent-row" data-state={d} data-id={m.id}>
                    <Table.Td>
                      <Text size="sm" dir="ltr">
                        {(m.recipients ?? []).map(authorityOf).join(', ')}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={6}>
                        {m.kind && m.kind !== 'message' ? (
                          <Badge size="sm" variant="light" color="gray">
                            {code('messageKind', m.kind)}
                          </Badge>
                        ) : null}
                        <Anchor href={href('messages', m.id)} size="sm" dir="auto">
                          {m.subject || t('message.noSubject')}
                        </Anchor>
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Badge
                        color={COLOURS[d]}
                        variant={d === 'queued' ? 'filled' : 'light'}
                        data-testid="delivery-state"
                      >
                        {t(`sent.${d}`)}
                      </Badge>
                      {d === 'queued' ? (
                        <Text size="xs" c="dimmed">
                          {t('sent.queuedHint')}
                        </Text>
                      ) : null}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{dateTime(m.sentAt)}</Text>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {filtered.length > shown ? (
        <Button variant="subtle" onClick={() => setShown((n) => n + PAGE_ROWS)} data-testid="show-more">
          {t('common.showMore', { shown, total: filtered.length })}
        </Button>
      ) : null}
    </Stack>
  );
}
