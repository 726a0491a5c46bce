import { Anchor, Badge, Button, Group, Paper, Skeleton, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { api, authorityOf } from '../api.ts';
import { HandlingBadges } from '../components/Badges.tsx';
import { DocumentsList } from '../components/Documents.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';
import { href } from '../router.ts';

/** One message: its text is shown as text (pre-wrap), never as HTML. Opening it sends the read receipt. */
export function MessagePage({ id }: { id: string }) {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  // Read again when documents were downloaded or receipts came: the documents' states follow.
  const changed = useChanged('documents', 'sent');
  const { data: m, error, loading } = useLoad(() => api.message(id), `${id}|${changed}`);

  if (loading && !m) return <Skeleton h={200} aria-label={t('common.loading')} />;
  if (!m) return <ErrorAlert error={error} />;
  const replySubject = /^re\s*:/i.test(m.subject ?? '') ? m.subject : `Re: ${m.subject ?? ''}`;
  const replyTo =
    m.direction === 'in' ? authorityOf(m.sender) : (m.recipients ?? []).map(authorityOf).join(',');
  return (
    <Stack>
      <PageHeading
        actions={
          <>
            <Button variant="default" component="a" href={href(m.direction === 'out' ? 'sent' : 'inbox')}>
              {t('common.back')}
            </Button>
            <Button
              component="a"
              href={`#/compose?to=${encodeURIComponent(replyTo)}&subject=${encodeURIComponent(replySubject)}`}
              data-testid="reply"
            >
              {t('message.reply')}
            </Button>
          </>
        }
      >
        <span dir="auto" data-testid="message-subject">
          {m.subject || t('message.noSubject')}
        </span>
      </PageHeading>
      <Paper withBorder p="md">
        <Stack gap={6}>
          <Meta label={t('message.from')}>
            <span dir="ltr" data-testid="message-sender">
              {m.sender}
            </span>
          </Meta>
          <Meta label={t('message.to')}>
            <span dir="ltr" data-testid="message-recipients">
              {(m.recipients ?? []).join(', ')}
            </span>
          </Meta>
          <Meta label={t('message.sentAt')}>{dateTime(m.sentAt)}</Meta>
          {m.receivedAt ? <Meta label={t('message.receivedAt')}>{dateTime(m.receivedAt)}</Meta> : null}
          {m.readAt ? <Meta label={t('message.readAt')}>{dateTime(m.readAt)}</Meta> : null}
          <Group gap="xs">
            {m.kind && m.kind !== 'message' ? (
              <Badge variant="light">{code('messageKind', m.kind)}</Badge>
            ) : null}
            {m.language ? <Badge variant="outline">{code('language', m.language)}</Badge> : null}
            <HandlingBadges handling={m.handling} />
            {m.state === 'queued' ? (
              <Badge color="orange" data-testid="queued">
                {t('sent.queued')}
              </Badge>
            ) : null}
            {m.requestId ? (
              <Anchor href={href('requests', m.requestId)} size="sm">
                {t('inbox.openRequest')}
              </Anchor>
            ) : null}
          </Group>
        </Stack>
      </Paper>
      <Paper withBorder p="md">
        <Text
          component="div"
          className="plain-text"
          data-testid="message-body"
          lang={m.language ?? undefined}
          dir="auto"
        >
          {m.body}
        </Text>
      </Paper>
      <DocumentsList messageId={m.id} documents={m.documents} />
    </Stack>
  );
}

function Meta({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Group gap="xs" wrap="nowrap" align="baseline">
      <Text size="sm" c="dimmed" miw={110}>
        {label}
      </Text>
      <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
        {children}
      </Text>
    </Group>
  );
}
