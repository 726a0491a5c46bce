import { Anchor, Badge, Button, Stack, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useDeferredValue, useMemo, useState } from 'react';
import { api, authorityOf, type InboxView } from '../api.ts';
import { HandlingBadges, UnverifiedMark } from '../components/Badges.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';
import { href } from '../router.ts';
import { senderAuthority, threadsOf, type Thread } from '../threads.ts';

export const PAGE_ROWS = 50;

export function InboxPage() {
  const t = useT();
  const changed = useChanged('inbox');
  const { data, error, loading, reload } = useLoad<InboxView>(() => api.inbox(), changed);
  const [search, setSearch] = useState('');
  const deferred = useDeferredValue(search);
  const [shown, setShown] = useState(PAGE_ROWS);

  const messages = useMemo(() => (Array.isArray(data?.messages) ? data.messages : []), [data]);
  const unverified = useMemo(() => new Set(data?.unverified ?? []), [data]);
  const threads = useMemo(() => threadsOf(messages, senderAuthority), [messages]);
  const filtered = useMemo(() => {
    const words = deferred.trim().toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return threads;
    return threads.filter((th) => words.every((w) => th.haystack.includes(w)));
  }, [threads, deferred]);
  const unread = useMemo(() => threads.reduce((n, th) => n + th.unread, 0), [threads]);

  return (
    <Stack>
      <PageHeading
        actions={
          <>
            <Button variant="default" onClick={reload} loading={loading} data-testid="refresh">
              {t('common.refresh')}
            </Button>
            <Button component="a" href={href('compose')} data-testid="compose-button">
              {t('inbox.compose')}
            </Button>
          </>
        }
      >
        {t('inbox.title')}
      </PageHeading>
      <Text size="sm" c="dimmed" role="status" data-testid="unread-count">
        {t('inbox.unreadCount', { count: unread })}
      </Text>
      <ErrorAlert error={error} />
      <TextInput
        type="search"
        label={t('inbox.search')}
        placeholder={t('inbox.searchPlaceholder')}
        value={search}
        onChange={(e) => {
          setSearch(e.currentTarget.value);
          setShown(PAGE_ROWS);
        }}
        data-testid="inbox-search"
      />
      {!loading && filtered.length === 0 ? (
        <Text c="dimmed" data-testid="empty">
          {search ? t('inbox.noMatch') : t('inbox.empty')}
        </Text>
      ) : (
        <ThreadTable threads={filtered.slice(0, shown)} unverified={unverified} />
      )}
      {filtered.length > shown ? (
        <Button variant="subtle" onClick={() => setShown((n) => n + PAGE_ROWS)} data-testid="show-more">
          {t('common.showMore', { shown, total: filtered.length })}
        </Button>
      ) : null}
    </Stack>
  );
}

function ThreadTable({ threads, unverified }: { threads: Thread[]; unverified: Set<string> }) {
  const t = useT();
  const [open, setOpen] = useState<Set<string>>(() => new Set());
  const toggle = (key: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  return (
    <Table.ScrollContainer minWidth={480}>
      <Table highlightOnHover verticalSpacing="xs" data-testid="inbox-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">{t('inbox.from')}</Table.Th>
            <Table.Th scope="col">{t('inbox.subject')}</Table.Th>
            <Table.Th scope="col">{t('inbox.received')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {threads.map((th) => (
            <ThreadRows
              key={th.key}
              thread={th}
              unverified={unverified}
              expanded={open.has(th.key)}
              onToggle={() => toggle(th.key)}
            />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function ThreadRows({
  thread,
  unverified,
  expanded,
  onToggle,
}: {
  thread: Thread;
  unverified: Set<string>;
  expanded: boolean;
  onToggle: () => void;
}) {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const m = thread.latest;
  const unread = thread.unread > 0;
  const count = thread.messages.length;
  return (
    <>
      <Table.Tr
        data-testid="message-row"
        data-unread={unread}
        data-id={m.id}
        className={unread ? 'row-unread' : undefined}
      >
        <Table.Td>
          {/* Plain elements in the rows: a page of them renders at once on a large inbox (bench/web.ts). */}
          <span className="cell-group">
            {thread.counterparts.map((a) => (
              <span key={a} className="cell-group cell-nowrap">
                <span dir="ltr">{a}</span>
                {unverified.has(a) ? <UnverifiedMark authority={a} /> : null}
              </span>
            ))}
          </span>
        </Table.Td>
        <Table.Td>
          <span className="cell-group">
            {unread ? (
              <Badge size="sm" color="indigo" data-testid="unread-badge">
                {t('inbox.unread')}
              </Badge>
            ) : null}
            {m.kind && m.kind !== 'message' ? (
              <Badge size="sm" variant="light" color="gray">
                {code('messageKind', m.kind)}
              </Badge>
            ) : null}
            <a href={href('messages', m.id)} className="row-link" dir="auto" data-testid="message-link">
              {thread.subject || t('message.noSubject')}
            </a>
            {count > 1 ? (
              <UnstyledButton onClick={onToggle} aria-expanded={expanded} data-testid="thread-toggle">
                <Badge size="sm" variant="outline" style={{ cursor: 'pointer' }}>
                  {t('inbox.threadCount', { count })}
                </Badge>
              </UnstyledButton>
            ) : null}
            <HandlingBadges handling={m.handling} />
            {thread.requestId ? (
              <Anchor href={href('requests', thread.requestId)} size="xs">
                {t('inbox.openRequest')}
              </Anchor>
            ) : null}
          </span>
        </Table.Td>
        <Table.Td>{dateTime(m.receivedAt ?? m.sentAt)}</Table.Td>
      </Table.Tr>
      {expanded
        ? thread.messages.slice(1).map((x) => (
            <Table.Tr
              key={x.id}
              data-testid="thread-message-row"
              className={!x.readAt && x.direction === 'in' ? 'row-unread' : undefined}
            >
              <Table.Td ps="xl">
                <Text size="sm" dir="ltr">
                  {x.direction === 'in' ? authorityOf(x.sender) : t('inbox.you')}
                </Text>
              </Table.Td>
              <Table.Td>
                <Anchor href={href('messages', x.id)} size="sm" dir="auto">
                  {x.subject || t('message.noSubject')}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{dateTime(x.receivedAt ?? x.sentAt)}</Text>
              </Table.Td>
            </Table.Tr>
          ))
        : null}
    </>
  );
}
