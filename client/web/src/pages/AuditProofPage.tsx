/**
 * An envelope's events in a relay's audit log, each with its inclusion proof under a signed head,
 * verified by the local service; the proof downloads as the file `entraide audit check` verifies
 * offline.
 */
import { Alert, Badge, Button, Group, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { auditApi, type ProofView } from '../api-audit.ts';
import { DataTable } from '../components/DataTable.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useLoad } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';
import { navigate } from '../router.ts';

/** The proof as `entraide audit proof --json` writes it, for offline checking. */
function download(p: ProofView, envelope: string): void {
  const file = { head: p.head, events: p.events.map(({ index, leaf, proof }) => ({ index, leaf, proof })) };
  const url = URL.createObjectURL(new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `proof-${envelope}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function AuditProofPage({ relay, envelope }: { relay: string; envelope: string | undefined }) {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const [typed, setTyped] = useState(envelope ?? '');
  const { data, error, loading } = useLoad(
    () => (envelope ? auditApi.proof(relay, envelope) : Promise.resolve(undefined)),
    `${relay}/${envelope ?? ''}`,
  );

  return (
    <Stack>
      <PageHeading>{t('audit.proof.title')}</PageHeading>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) navigate('proof', typed.trim());
        }}
      >
        <Group align="flex-end" wrap="wrap">
          <TextInput
            label={t('audit.proof.envelope')}
            value={typed}
            onChange={(e) => setTyped(e.currentTarget.value)}
            dir="ltr"
            style={{ flex: '1 1 22rem' }}
            data-testid="proof-envelope"
          />
          <Button type="submit" data-testid="proof-show">
            {t('audit.proof.show')}
          </Button>
        </Group>
      </form>
      <ErrorAlert error={error} />
      {envelope && data && !loading ? (
        <Stack gap="sm" data-testid="proof">
          <Alert color="green" role="status" title={t('audit.proof.verified', { count: data.events.length })}>
            <Text size="sm">
              {t('audit.proof.head', { size: data.head.size, time: dateTime(data.head.timestamp) })}
            </Text>
            <Text size="xs" c="dimmed" dir="ltr" style={{ overflowWrap: 'anywhere' }}>
              {data.head.root}
            </Text>
          </Alert>
          <Group>
            <Button variant="default" onClick={() => download(data, envelope)} data-testid="proof-download">
              {t('audit.proof.download')}
            </Button>
          </Group>
          <DataTable
            label={t('audit.proof.events')}
            minWidth={600}
            rows={data.events}
            rowKey={(e) => String(e.index)}
            rowTestId="proof-event"
            columns={[
              { header: t('audit.log.col.seq'), cell: (e) => e.index, dir: 'ltr' },
              { header: t('audit.log.col.at'), cell: (e) => dateTime(e.event.at) },
              { header: t('audit.log.col.kind'), cell: (e) => code('auditKind', e.event.kind) },
              {
                header: t('audit.log.col.parties'),
                cell: (e) => [e.event.sender, e.event.node, e.event.peer].filter(Boolean).join(' · '),
                dir: 'ltr',
              },
              {
                header: t('audit.proof.proof'),
                cell: (e) => (
                  <Badge color="green" variant="light">
                    {t('audit.proof.hashes', { count: e.proof.length })}
                  </Badge>
                ),
              },
            ]}
          />
        </Stack>
      ) : null}
    </Stack>
  );
}
