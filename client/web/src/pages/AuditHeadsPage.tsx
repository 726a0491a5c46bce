/**
 * The heads of a relay's audit log this auditor kept from the checks that held (the relay is held
 * to them at the next check), and the heads of the peer relays' logs that this relay keeps by
 * gossip, with their alarms: a relay that showed its peers another history (a split view) is shown
 * first, in red.
 */
import { Alert, Badge, Stack, Table, Text, Title } from '@mantine/core';
import { auditApi } from '../api-audit.ts';
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
        <Table.ScrollContainer minWidth={500}>
          <Table striped aria-label={t('audit.heads.peers')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('audit.heads.col.peer')}</Table.Th>
                <Table.Th>{t('audit.heads.col.size')}</Table.Th>
                <Table.Th>{t('audit.heads.col.time')}</Table.Th>
                <Table.Th>{t('audit.heads.col.state')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.peers.map((p) => (
                <Table.Tr key={p.domain} data-testid="peer-head">
                  <Table.Td dir="ltr">{p.domain}</Table.Td>
                  <Table.Td>{p.auditHead?.size ?? ''}</Table.Td>
                  <Table.Td>{p.auditHead ? dateTime(p.auditHead.timestamp) : ''}</Table.Td>
                  <Table.Td>
                    <Badge color={p.alarm ? 'red' : 'green'} variant="light">
                      {p.alarm ? t('audit.heads.split') : t('audit.heads.consistent')}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      <Title order={2} size="h4">
        {t('audit.heads.kept')}
      </Title>
      {data && data.kept.length === 0 ? <Text c="dimmed">{t('audit.heads.noneKept')}</Text> : null}
      {data && data.kept.length > 0 ? (
        <Table.ScrollContainer minWidth={500}>
          <Table striped aria-label={t('audit.heads.kept')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('audit.heads.col.size')}</Table.Th>
                <Table.Th>{t('audit.heads.col.time')}</Table.Th>
                <Table.Th>{t('audit.heads.col.root')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.kept.slice(0, 200).map((h) => (
                <Table.Tr key={`${h.size}:${h.root}`} data-testid="kept-head">
                  <Table.Td>{h.size}</Table.Td>
                  <Table.Td>{dateTime(h.timestamp)}</Table.Td>
                  <Table.Td dir="ltr">
                    <code>{h.root.slice(0, 16)}…</code>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
    </Stack>
  );
}
