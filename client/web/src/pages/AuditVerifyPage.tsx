/**
 * The check of a relay's audit log, run by the local service (the same check as `entraide audit
 * verify`): every signed head, their consistency, every entry against them. The page follows its
 * progress (entries and heads checked, time left), may cancel it, and shows the result: the log
 * holds, or the first index from which it is not what the relay signed.
 */
import { Alert, Button, Group, Progress, Stack, Text } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { auditApi, type VerifyJob } from '../api-audit.ts';
import { DataTable } from '../components/DataTable.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useCode, useDates, useT } from '../i18n.tsx';

/** How often a running check is asked for its progress. */
const POLL_MS = 250;

const COLOURS: Record<VerifyJob['state'], string> = {
  running: 'blue',
  ok: 'green',
  failed: 'red',
  cancelled: 'orange',
  error: 'red',
};

export function AuditVerifyPage({ relay }: { relay: string }) {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const [job, setJob] = useState<VerifyJob | null>(null);
  const [earlier, setEarlier] = useState<VerifyJob[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const refreshList = useCallback(() => {
    auditApi.jobs(relay).then(
      (r) => {
        setEarlier(r.jobs);
        setJob((j) => j ?? r.jobs.find((x) => x.state === 'running') ?? null);
      },
      (err: unknown) => setError(err),
    );
  }, [relay]);
  useEffect(() => refreshList(), [refreshList]);

  const running = job?.state === 'running';
  useEffect(() => {
    if (!running || !job) return;
    const timer = setTimeout(() => {
      auditApi.job(job.id).then(
        (j) => {
          setJob(j);
          if (j.state !== 'running') refreshList();
        },
        (err: unknown) => setError(err),
      );
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [job, running, refreshList]);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      setJob(await auditApi.verify(relay));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    if (!job) return;
    try {
      setJob(await auditApi.cancel(job.id));
    } catch (err) {
      setError(err);
    }
  };

  const percent = job && job.total > 0 ? Math.min(100, (100 * job.done) / job.total) : 0;
  return (
    <Stack>
      <PageHeading
        actions={
          running ? (
            <Button color="orange" onClick={() => void cancel()} data-testid="verify-cancel">
              {t('audit.verify.cancel')}
            </Button>
          ) : (
            <Button onClick={() => void start()} loading={busy} data-testid="verify-start">
              {t('audit.verify.start')}
            </Button>
          )
        }
      >
        {t('audit.verify.title', { relay })}
      </PageHeading>
      <Text size="sm" c="dimmed">
        {t('audit.verify.explain')}
      </Text>
      <ErrorAlert error={error} />
      {job ? (
        <Stack
          gap="xs"
          data-testid="verify-job"
          data-state={job.state}
          data-done={job.done}
          data-total={job.total}
        >
          <Progress
            value={job.state === 'ok' ? 100 : percent}
            color={COLOURS[job.state]}
            size="lg"
            animated={running}
            aria-label={t('audit.verify.progress')}
            data-testid="verify-progress"
            data-value={Math.round(job.state === 'ok' ? 100 : percent)}
          />
          <Group gap="lg" wrap="wrap">
            <Text size="sm" data-testid="verify-entries">
              {t('audit.verify.entries', { done: job.done, total: job.total })}
            </Text>
            <Text size="sm" data-testid="verify-heads">
              {t('audit.verify.heads', { heads: job.heads, consistency: job.consistency })}
            </Text>
            <Text size="sm" data-testid="verify-time">
              {running
                ? job.secondsLeft === null
                  ? t('audit.verify.estimating')
                  : t('audit.verify.left', { seconds: Math.ceil(job.secondsLeft) })
                : t('audit.verify.took', { seconds: job.seconds.toFixed(1) })}
            </Text>
          </Group>
          {job.state === 'ok' ? (
            <Alert color="green" role="status" data-testid="verify-result" title={t('audit.verify.okTitle')}>
              {t('audit.verify.ok', { size: job.total, heads: job.heads, consistency: job.consistency })}
            </Alert>
          ) : job.state === 'failed' && job.problem ? (
            <Alert color="red" role="alert" data-testid="verify-result" title={t('audit.verify.failedTitle')}>
              <Text size="sm" data-testid="verify-index" data-index={job.problem.index}>
                {t('audit.verify.failed', { index: job.problem.index })}
              </Text>
              <Text size="sm" c="dimmed" dir="ltr" style={{ overflowWrap: 'anywhere' }}>
                {job.problem.message}
              </Text>
            </Alert>
          ) : job.state === 'cancelled' ? (
            <Alert
              color="orange"
              role="status"
              data-testid="verify-result"
              title={code('error', 'VERIFY_CANCELLED')}
            >
              {code('errorHint', 'VERIFY_CANCELLED')}
            </Alert>
          ) : job.state === 'error' && job.error ? (
            <Alert color="red" role="alert" data-testid="verify-result" title={code('error', job.error.code)}>
              {code('errorHint', job.error.code)}
            </Alert>
          ) : null}
        </Stack>
      ) : null}
      {earlier.length > 0 ? (
        <DataTable
          label={t('audit.verify.earlier')}
          rows={earlier}
          rowKey={(j) => j.id}
          columns={[
            { header: t('audit.verify.col.started'), cell: (j) => dateTime(j.startedAt) },
            { header: t('audit.verify.col.result'), cell: (j) => t(`audit.verify.state.${j.state}`) },
            { header: t('audit.verify.col.entries'), cell: (j) => j.total },
            { header: t('audit.verify.col.index'), cell: (j) => (j.problem ? j.problem.index : '') },
          ]}
        />
      ) : null}
    </Stack>
  );
}
