/**
 * The heads of a relay's audit log this auditor kept from the checks that held (the relay is held
 * to them at the next check), and the heads of the peer relays' logs that this relay keeps by
 * gossip, with their alarms: a relay that showed its peers another history (a split view) is shown
 * first, in red.
 */
import { Alert, Badge, Stack, Text, Title } from '@mantine/core';
import { auditApi } from '../api-audit.ts';
import { DataTable } from '../components/DataTable.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useLoad } from '../hooks.ts';
import { useDates, useT } from '../i18n.tsx';

export function AuditHeadsPage({ relay }: { relay: string }) {
  const t = useT();
  const { dateTime } = useDates();
  const { data, error } = useLoad(() => auditApi.heads(relay), relay);
  const alarms = (data?.peers ?? []).filter((p) => p.alarm);

  return (
    <Stack>
      <PageHeading>{t('audit.heads.title', { relay })}</PageHeading>
      <ErrorAlert error={error} />
      {alarms.map((p) => (
        <Alert
          key={p.domain}
          color="red"
          role="alert"
          title={t('audit.heads.alarm', { peer: p.domain })}
          data-testid="peer-alarm"
        >
          <Text size="sm" dir="ltr">
            {p.alarm}
          </Text>
        </Alert>
      ))}
      <Title order={2} size="h4">
        {t('audit.heads.peers')}
      </Title>
      {data && data.peers.length === 0 ? <Text c="dimmed">{t('audit.heads.noPeers')}</Text> : null}
      {data && data.peers.length > 0 ? (
        <DataTable
          label={t('audit.heads.peers')}
          rows={data.peers}
          rowKey={(p) => p.domain}
          rowTestId="peer-head"
          columns={[
            { header: t('audit.heads.col.peer'), cell: (p) => p.domain, dir: 'ltr' },
            { header: t('audit.heads.col.size'), cell: (p) => p.auditHead?.size ?? '' },
            {
              header: t('audit.heads.col.time'),
              cell: (p) => (p.auditHead ? dateTime(p.auditHead.timestamp) : ''),
            },
            {
              header: t('audit.heads.col.state'),
              cell: (p) => (
                <Badge color={p.alarm ? 'red' : 'green'} variant="light">
                  {p.alarm ? t('audit.heads.split') : t('audit.heads.consistent')}
                </Badge>
              ),
            },
          ]}
        />
      ) : null}
      <Title order={2} size="h4">
        {t('audit.heads.kept')}
      </Title>
      {data && data.kept.length === 0 ? <Text c="dimmed">{t('audit.heads.noneKept')}</Text> : null}
      {data && data.kept.length > 0 ? (
        <DataTable
          label={t('audit.heads.kept')}
          rows={data.kept.slice(0, 200)}
          rowKey={(h) => `${h.size}:${h.root}`}
          rowTestId="kept-head"
          columns={[
            { header: t('audit.heads.col.size'), cell: (h) => h.size },
            { header: t('audit.heads.col.time'), cell: (h) => dateTime(h.timestamp) },
            {
              header: t('audit.heads.col.root'),
              cell: (h) => <code>{h.root.slice(0, 16)}…</code>,
              dir: 'ltr',
            },
          ]}
        />
      ) : null}
    </Stack>
  );
}
