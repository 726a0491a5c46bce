/**
 * A node's own record, exported by its officers (`entraide record export`), set against its relay's
 * audit log by the local service (`entraide audit reconcile --relay A --record file`): the record
 * checked under the node's key as the relay's key log proves it, then every difference listed by
 * kind, or a clear statement that there is none.
 */
import { Alert, Button, FileInput, Group, Select, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { pickedText } from '../api.ts';
import { auditApi, type AuditRelay, type RecordReport } from '../api-audit.ts';
import { useDates, useT } from '../i18n.tsx';
import { RECORD_KINDS, recordCsv, recordDifferences } from '../reconcile-files.ts';
import { DataTable } from './DataTable.tsx';
import { useRun } from '../hooks.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { ReconcileDownload } from './ReconcileDownload.tsx';

export function ReconcileRecord({ relays, relay }: { relays: AuditRelay[]; relay: string }) {
  const t = useT();
  const [chosen, setChosen] = useState(relay);
  const [file, setFile] = useState<File | null>(null);
  const { result, error, busy, run: start, clear } = useRun<RecordReport>();
  const run = async () => {
    if (file) await start(async () => auditApi.reconcileRecord(chosen, await pickedText(file)));
  };

  return (
    <Stack component="section" aria-labelledby="reconcile-record" gap="sm">
      <Title order={2} size="h4" id="reconcile-record">
        {t('audit.reconcile.record.title')}
      </Title>
      <Text size="sm" c="dimmed">
        {t('audit.reconcile.record.explain')}
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <Group align="flex-end" wrap="wrap">
          <FileInput
            label={t('audit.reconcile.record.file')}
            accept="application/json,.json"
            value={file}
            onChange={(f) => {
              setFile(f);
              clear();
            }}
            miw="16rem"
            name="record"
          />
          <Select
            label={t('audit.reconcile.record.relay')}
            data={relays.map((r) => r.domain)}
            value={chosen}
            onChange={(v) => v && setChosen(v)}
            allowDeselect={false}
            data-testid="record-relay"
            dir="ltr"
          />
          <Button type="submit" loading={busy} disabled={!file} data-testid="record-run">
            {t('audit.reconcile.record.run')}
          </Button>
        </Group>
      </form>
      <ErrorAlert error={error} />
      {result ? <RecordResult report={result} /> : null}
    </Stack>
  );
}

function RecordResult({ report }: { report: RecordReport }) {
  const t = useT();
  const { dateTime } = useDates();
  const differences = recordDifferences(report);
  const { record, log } = report;
  return (
    <Stack gap="sm" data-testid="record-result" data-differences={differences.length}>
      {record.problem ? (
        <Alert
          color="red"
          role="alert"
          title={t('audit.reconcile.record.problem', { node: report.node, index: record.problem.index })}
          data-testid="record-problem"
        >
          <Text size="sm" dir="ltr" style={{ overflowWrap: 'anywhere' }}>
            {record.problem.message}
          </Text>
        </Alert>
      ) : null}
      {log.problem ? (
        <Alert
          color="red"
          role="alert"
          title={t('audit.reconcile.logProblem', { relay: log.relay, index: log.problem.index })}
        >
          <Text size="sm" dir="ltr" style={{ overflowWrap: 'anywhere' }}>
            {log.problem.message}
          </Text>
        </Alert>
      ) : null}
      {!record.problem && !log.problem ? (
        <>
          <Text size="sm">
            {t('audit.reconcile.record.summary', {
              node: report.node,
              size: record.size,
              heads: record.heads,
              until: report.until ? dateTime(report.until) : '',
            })}
          </Text>
          <Text size="sm">
            {t('audit.reconcile.record.matched', {
              sent: report.matched.sent,
              received: report.matched.received,
              receipts: report.matched.receipts,
            })}
          </Text>
          {differences.length === 0 ? (
            <Alert
              color="green"
              role="status"
              title={t('audit.reconcile.record.none')}
              data-testid="record-no-differences"
            >
              {t('audit.reconcile.record.noneText')}
            </Alert>
          ) : (
            <Alert
              color="red"
              role="alert"
              title={t('audit.reconcile.record.count', { count: differences.length })}
              data-testid="record-differ"
            >
              {t('audit.reconcile.differHint')}
            </Alert>
          )}
        </>
      ) : null}
      {RECORD_KINDS.map((kind) => {
        const rows = differences.filter((d) => d.kind === kind);
        if (rows.length === 0) return null;
        const label = t(`audit.reconcile.record.kind.${kind}`);
        return (
          <Stack key={kind} gap="xs" data-testid="record-kind" data-kind={kind} data-count={rows.length}>
            <Title order={3} size="h5">
              {label}
            </Title>
            <DataTable
              label={label}
              rows={rows}
              rowKey={(d) => `${d.envelope} ${d.node ?? ''}`}
              rowTestId="record-difference"
              minWidth={400}
              columns={[
                {
                  header: t('audit.reconcile.col.envelope'),
                  cell: (d) => <code>{d.envelope}</code>,
                  dir: 'ltr',
                },
                ...(kind === 'receiptWithoutDelivery'
                  ? [
                      {
                        header: t('audit.reconcile.col.signer'),
                        cell: (d: (typeof rows)[0]) => d.node,
                        dir: 'ltr' as const,
                      },
                    ]
                  : []),
              ]}
            />
          </Stack>
        );
      })}
      <ReconcileDownload
        name={`record-${report.node.replace(/[^A-Za-z0-9.@-]+/g, '_')}`}
        report={report}
        csv={() => recordCsv(report)}
        testId="record-download"
      />
    </Stack>
  );
}
