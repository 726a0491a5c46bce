/**
 * Statistics as charts, each with its table and a CSV download: this authority's own figures (as
 * `entraide stats`), its signed export for a network coordinator, and, for a coordinator, the
 * members' exports merged (as `entraide stats merge`): times to acknowledge and to execute per
 * counterpart and per request type, trends per month, overdue, refusals by ground.
 */
import {
  Alert,
  Badge,
  Button,
  Checkbox,
  FileInput,
  Group,
  SegmentedControl,
  Select,
  Skeleton,
  Stack,
  Tabs,
  Text,
} from '@mantine/core';
import { useState } from 'react';
import type { Breakdown } from '../../../../shared/requests/statistics-breakdowns.ts';
import type { StatsRow } from '../../../../shared/requests/statistics.ts';
import { pickedText } from '../api.ts';
import { networksApi } from '../api-networks.ts';
import { statsApi, type NetworkMerge } from '../api-stats.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { CountsFigure, TimesFigure, type TallyRow } from '../components/StatFigure.tsx';
import { useChanged, useLoad, useRun } from '../hooks.ts';
import { useCode, useLocale, useT } from '../i18n.tsx';

/** A month (YYYY-MM) named in the reader's language. */
function useMonth(): (month: string) => string {
  const { locale } = useLocale();
  return (month) =>
    new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', timeZone: 'UTC' }).format(
      Date.parse(`${month}-01T00:00:00Z`),
    );
}

function useGroundRows(): (b: Breakdown<string>) => { key: string; label: string; count: number }[] {
  const code = useCode();
  return (b) =>
    b.counts.map((c) => ({ key: c.code, label: code('refusalGround', c.code), count: c.requests }));
}

export function StatisticsPage() {
  const t = useT();
  return (
    <Stack>
      <PageHeading>{t('stats.title')}</PageHeading>
      <Tabs defaultValue="own" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="own" data-testid="stats-tab-own">
            {t('stats.tab.own')}
          </Tabs.Tab>
          <Tabs.Tab value="network" data-testid="stats-tab-network">
            {t('stats.tab.network')}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="own" pt="md">
          <OwnFigures />
        </Tabs.Panel>
        <Tabs.Panel value="network" pt="md">
          <NetworkFigures />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function ExportLink() {
  const t = useT();
  const networks = useLoad(() => networksApi.list(), 'networks');
  const [network, setNetwork] = useState('');
  const options = [
    { value: '', label: t('stats.export.all') },
    ...(networks.data?.networks ?? []).map((n) => ({ value: n.network, label: `${n.name} (${n.network})` })),
  ];
  return (
    <Group align="flex-end">
      <Select
        label={t('stats.export.for')}
        data={options}
        value={network}
        onChange={(v) => setNetwork(v ?? '')}
        allowDeselect={false}
        w={320}
        data-testid="stats-export-network"
      />
      <Button
        component="a"
        variant="default"
        href={statsApi.exportUrl(network || undefined)}
        download
        data-testid="stats-export"
      >
        {t('stats.export.download')}
      </Button>
    </Group>
  );
}

function OwnFigures() {
  const t = useT();
  const code = useCode();
  const month = useMonth();
  const grounds = useGroundRows();
  const changed = useChanged('requests');
  const { data, error, loading } = useLoad(() => statsApi.own(), changed);
  const [direction, setDirection] = useState<'out' | 'in'>('out');
  const mine = (rows: StatsRow[] | undefined) => (rows ?? []).filter((r) => r.direction === direction);
  const byCounterpart: TallyRow[] = mine(data?.byCounterpart).map((r) => ({
    key: r.counterpart ?? '',
    label: r.counterpart ?? '',
    tally: r,
  }));
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('stats.own.explain')}
      </Text>
      <ExportLink />
      <ErrorAlert error={error} />
      {loading && !data ? <Skeleton h={200} /> : null}
      <SegmentedControl
        value={direction}
        onChange={(v) => setDirection(v as 'out' | 'in')}
        data={[
          { value: 'out', label: t('stats.direction.out') },
          { value: 'in', label: t('stats.direction.in') },
        ]}
        aria-label={t('stats.direction.label')}
        data-testid="stats-direction"
        w="fit-content"
      />
      {data && mine(data.totals).length === 0 ? (
        <Text c="dimmed" data-testid="stats-none">
          {t('stats.none')}
        </Text>
      ) : null}
      {data ? (
        <Figures
          byCounterpart={byCounterpart}
          byType={mine(data.byType).map((r) => ({
            key: r.requestType ?? '',
            label: code('requestType', r.requestType),
            tally: r,
          }))}
          byMonth={data.byMonth
            .filter((m) => m.direction === direction)
            .map((m) => ({ key: m.month, label: month(m.month), tally: m }))}
          refusals={grounds(data.refusalGround[direction])}
          counterpartHeader={t('stats.col.counterpart')}
          counterpartKey="counterpart"
          prefix={`statistics-${direction}`}
        />
      ) : null}
    </Stack>
  );
}

/** The five figures, for one direction of this node or one network of a merge. */
function Figures({
  byCounterpart,
  byType,
  byMonth,
  refusals,
  counterpartHeader,
  counterpartKey,
  prefix,
}: {
  byCounterpart: TallyRow[];
  byType: TallyRow[];
  byMonth: TallyRow[];
  refusals: { key: string; label: string; count: number }[];
  counterpartHeader: string;
  /** The CSV's name of the first column: counterpart (this node), requested (a merge). */
  counterpartKey: string;
  prefix: string;
}) {
  const t = useT();
  if (byCounterpart.length === 0) return null;
  return (
    <Stack>
      <TimesFigure
        title={t('stats.fig.byCounterpart')}
        rows={byCounterpart}
        testId="figure-counterpart"
        keyHeader={counterpartHeader}
        csvKey={counterpartKey}
        csvName={`${prefix}-by-counterpart.csv`}
      />
      <TimesFigure
        title={t('stats.fig.byType')}
        rows={byType}
        testId="figure-type"
        keyHeader={t('stats.col.requestType')}
        csvKey="request_type"
        csvName={`${prefix}-by-type.csv`}
      />
      <TimesFigure
        title={t('stats.fig.byMonth')}
        rows={byMonth}
        testId="figure-month"
        keyHeader={t('stats.col.month')}
        csvKey="month"
        csvName={`${prefix}-by-month.csv`}
        line
      />
      <CountsFigure
        title={t('stats.fig.overdue')}
        rows={byCounterpart
          .filter((r) => r.tally.overdue > 0)
          .map((r) => ({ key: r.key, label: r.label, count: r.tally.overdue }))}
        testId="figure-overdue"
        keyHeader={counterpartHeader}
        csvKey={counterpartKey}
        countHeader={t('stats.col.overdue')}
        csvName={`${prefix}-overdue.csv`}
        empty={t('stats.noneOverdue')}
      />
      <CountsFigure
        title={t('stats.fig.refusals')}
        rows={refusals}
        testId="figure-refusals"
        keyHeader={t('stats.col.ground')}
        csvKey="refusal_ground"
        countHeader={t('stats.col.refused')}
        csvName={`${prefix}-refusals.csv`}
        empty={t('stats.noneRefused')}
      />
    </Stack>
  );
}

function NetworkFigures() {
  const t = useT();
  const networks = useLoad(() => networksApi.list(), 'networks');
  const [network, setNetwork] = useState('');
  const [includeOwn, setIncludeOwn] = useState(true);
  const [files, setFiles] = useState<File[]>([]);
  const { result: merged, error, busy, run } = useRun<NetworkMerge[]>();

  const merge = () =>
    run(async () => {
      const exports = await Promise.all(
        files.map(async (f) => ({ name: f.name, text: await pickedText(f) })),
      );
      return (await statsApi.merge({ ...(network ? { network } : {}), includeOwn, exports })).networks;
    });

  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('stats.network.explain')}
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void merge();
        }}
      >
        <Stack gap="sm" maw={520}>
          <Select
            label={t('stats.network.network')}
            data={[
              { value: '', label: t('stats.network.any') },
              ...(networks.data?.networks ?? []).map((n) => ({
                value: n.network,
                label: `${n.name} (${n.network})`,
              })),
            ]}
            value={network}
            onChange={(v) => setNetwork(v ?? '')}
            allowDeselect={false}
            data-testid="merge-network"
          />
          <FileInput
            label={t('stats.network.files')}
            description={t('stats.network.filesHint')}
            multiple
            accept="application/json,.json"
            value={files}
            onChange={setFiles}
            data-testid="merge-files"
          />
          <Checkbox
            label={t('stats.network.includeOwn')}
            checked={includeOwn}
            onChange={(e) => setIncludeOwn(e.currentTarget.checked)}
            data-testid="merge-own"
          />
          <Group>
            <Button
              type="submit"
              loading={busy}
              disabled={files.length === 0 && !includeOwn}
              data-testid="merge-run"
            >
              {t('stats.network.merge')}
            </Button>
          </Group>
        </Stack>
      </form>
      <ErrorAlert error={error} />
      {merged?.map((s) => (
        <MergedSection key={s.network ?? ''} section={s} />
      ))}
    </Stack>
  );
}

function MergedSection({ section: s }: { section: NetworkMerge }) {
  const t = useT();
  const code = useCode();
  const month = useMonth();
  const grounds = useGroundRows();
  return (
    <Stack data-testid="merged-section" data-network={s.network ?? ''}>
      <Group gap="xs">
        <Text fw={700} dir="ltr">
          {s.network ?? t('stats.network.noNetwork')}
        </Text>
        <Badge variant="light" data-testid="merged-requests">
          {t('stats.network.requests', { count: s.requests })}
        </Badge>
        <Badge variant="light" color="gray">
          {t('stats.network.exports', { count: s.exports.length, records: s.records })}
        </Badge>
        <Badge variant="light" color="teal">
          {t('stats.network.bothSides', { count: s.exportedByBothSides })}
        </Badge>
      </Group>
      <Text size="sm" dir="ltr">
        {s.exports.map((e) => e.authority).join(', ')}
      </Text>
      {s.disagreements > 0 ? (
        <Alert color="orange" variant="light" data-testid="merged-disagreements">
          {t('stats.network.disagreements', { count: s.disagreements })}
        </Alert>
      ) : null}
      {s.notDeduplicated > 0 ? (
        <Alert color="orange" variant="light" data-testid="merged-not-deduplicated">
          {t('stats.network.notDeduplicated', { count: s.notDeduplicated })}
        </Alert>
      ) : null}
      <Figures
        byCounterpart={s.byRequested.map((r) => ({
          key: r.requested ?? '',
          label: r.requested ?? '',
          tally: r,
        }))}
        byType={s.byType.map((r) => ({
          key: r.requestType ?? '',
          label: code('requestType', r.requestType),
          tally: r,
        }))}
        byMonth={s.byMonth.map((m) => ({ key: m.month, label: month(m.month), tally: m }))}
        refusals={grounds(s.totals.breakdowns.refusalGround)}
        counterpartHeader={t('stats.col.requested')}
        counterpartKey="requested"
        prefix={`statistics-${s.network ?? 'merged'}`}
      />
    </Stack>
  );
}
