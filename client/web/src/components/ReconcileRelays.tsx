/**
 * Two relays' audit logs set against each other by the local service (`entraide audit reconcile
 * --relay A --relay B`): each log verified, what each relay forwarded to the other against what the
 * other received, both ways, and the alarms each relay holds on the other, shown first and in red.
 */
import { Alert, Button, Group, Select, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { auditApi, type AuditRelay, type Reconciliation } from '../api-audit.ts';
import { useT } from '../i18n.tsx';
import { relayDifferences, relaysCsv } from '../reconcile-files.ts';
import { DataTable } from './DataTable.tsx';
import { useRun } from '../hooks.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { ReconcileDownload } from './ReconcileDownload.tsx';

export function ReconcileRelays({ relays }: { relays: AuditRelay[] }) {
  const t = useT();
  const domains = relays.map((r) => r.domain);
  const [a, setA] = useState(domains[0] ?? '');
  const [b, setB] = useState(domains[1] ?? '');
  const { result, error, busy, run: start } = useRun<Reconciliation>();
  const run = () => start(() => auditApi.reconcileRelays(a, b));

  return (
    <Stack component="section" aria-labelledby="reconcile-relays" gap="sm">
      <Title order={2} size="h4" id="reconcile-relays">
        {t('audit.reconcile.relays.title')}
      </Title>
      <Text size="sm" c="dimmed">
        {t('audit.reconcile.relays.explain')}
      </Text>
      {relays.length < 2 ? (
        <Alert color="gray" data-testid="reconcile-relays-need-two">
          {t('audit.reconcile.relays.needTwo')}
        </Alert>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run();
          }}
        >
          <Group align="flex-end" wrap="wrap">
            {[
              { label: 'audit.reconcile.relays.a', value: a, set: setA, id: 'reconcile-relay-a' },
              { label: 'audit.reconcile.relays.b', value: b, set: setB, id: 'reconcile-relay-b' },
            ].map((s) => (
              <Select
                key={s.id}
                label={t(s.label)}
                data={domains}
                value={s.value}
                onChange={(v) => v && s.set(v)}
                allowDeselect={false}
                data-testid={s.id}
                dir="ltr"
              />
            ))}
            <Button type="submit" loading={busy} disabled={a === b} data-testid="reconcile-relays-run">
              {t('audit.reconcile.relays.run')}
            </Button>
          </Group>
          {a === b ? (
            <Text size="sm" c="dimmed" mt="xs">
              {t('audit.reconcile.relays.same')}
            </Text>
          ) : null}
        </form>
      )}
      <ErrorAlert error={error} />
      {result ? <RelaysResult result={result} /> : null}
    </Stack>
  );
}

function RelaysResult({ result }: { result: Reconciliation }) {
  const t = useT();
  const differences = relayDifferences(result);
  const broken = result.logs.flatMap((l) => (l.problem ? [{ relay: l.relay, problem: l.problem }] : []));
  const agree = differences.length === 0 && broken.length === 0 && result.alarms.length === 0;
  return (
    <Stack gap="sm" data-testid="reconcile-relays-result" data-differences={differences.length}>
      {result.alarms.map((x) => (
        <Alert
          key={`${x.relay} ${x.peer}`}
          color="red"
          role="alert"
          variant="filled"
          title={t('audit.reconcile.alarm', { relay: x.relay, peer: x.peer })}
          data-testid="reconcile-alarm"
        >
          <Text size="sm" dir="ltr" style={{ overflowWrap: 'anywhere' }}>
            {x.alarm}
          </Text>
        </Alert>
      ))}
      {broken.map((l) => (
        <Alert
          key={l.relay}
          color="red"
          role="alert"
          title={t('audit.reconcile.logProblem', { relay: l.relay, index: l.problem.index })}
        >
          <Text size="sm" dir="ltr" style={{ overflowWrap: 'anywhere' }}>
            {l.problem.message}
          </Text>
        </Alert>
      ))}
      {agree ? (
        <Alert
          color="green"
          role="status"
          title={t('audit.reconcile.agree')}
          data-testid="reconcile-relays-agree"
        >
          {t('audit.reconcile.agreeText')}
        </Alert>
      ) : differences.length > 0 ? (
        <Alert color="red" role="alert" title={t('audit.reconcile.differ', { count: differences.length })}>
          {t('audit.reconcile.differHint')}
        </Alert>
      ) : null}
      <DataTable
        label={t('audit.reconcile.logs')}
        rows={result.logs}
        rowKey={(l) => l.relay}
        minWidth={400}
        columns={[
          { header: t('audit.reconcile.col.relay'), cell: (l) => l.relay, dir: 'ltr' },
          { header: t('audit.reconcile.col.size'), cell: (l) => l.size },
          {
            header: t('audit.reconcile.col.state'),
            cell: (l) =>
              l.problem
                ? t('audit.reconcile.notHold', { index: l.problem.index })
                : t('audit.reconcile.verified'),
          },
        ]}
      />
      {result.directions.map((d) => {
        const rows = differences.filter((x) => x.from === d.from && x.to === d.to);
        return (
          <Stack
            key={`${d.from} ${d.to}`}
            gap="xs"
            data-testid="reconcile-direction"
            data-matched={d.matched}
          >
            <Title order={3} size="h5">
              {t('audit.reconcile.direction', { from: d.from, to: d.to })}
            </Title>
            <Text size="sm">{t('audit.reconcile.matched', { count: d.matched })}</Text>
            {rows.length > 0 ? (
              <DataTable
                label={t('audit.reconcile.direction', { from: d.from, to: d.to })}
                rows={rows}
                rowKey={(x) => `${x.kind} ${x.envelope}`}
                rowTestId="reconcile-relay-difference"
                columns={[
                  { header: t('audit.reconcile.col.kind'), cell: (x) => t(`audit.reconcile.kind.${x.kind}`) },
                  {
                    header: t('audit.reconcile.col.envelope'),
                    cell: (x) => <code>{x.envelope}</code>,
                    dir: 'ltr',
                  },
                ]}
              />
            ) : null}
          </Stack>
        );
      })}
      <ReconcileDownload
        name={`reconcile-${result.directions[0]?.from ?? ''}-${result.directions[0]?.to ?? ''}`}
        report={result}
        csv={() => relaysCsv(result)}
        testId="reconcile-relays-download"
      />
    </Stack>
  );
}
