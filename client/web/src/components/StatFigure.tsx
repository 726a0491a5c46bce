/**
 * A figure of the statistics page: a chart drawn by @mantine/charts (recharts, SVG), mirrored for
 * right-to-left languages, and under it the table of the same figures with a CSV download. The
 * chart is an image with a name for assistive technologies; the table is what they read.
 */
import '@mantine/charts/styles.css';
import { BarChart, LineChart } from '@mantine/charts';
import { Button, Card, Group, Stack, Text, Title, useDirection } from '@mantine/core';
import { useCallback } from 'react';
import {
  csvCell,
  TALLY_CSV_COLUMNS,
  tallyCsvCells,
  type Tally,
} from '../../../../shared/requests/statistics.ts';
import { useLocale, useT } from '../i18n.tsx';
import { DataTable } from './DataTable.tsx';

export interface TallyRow {
  /** What the CSV's first cell holds (a code, an address, a month). */
  key: string;
  /** What a person reads. */
  label: string;
  tally: Tally;
}

/** The unit a duration of `seconds` reads best in, and its length in seconds. */
function unitFor(seconds: number): [string, number] {
  if (seconds < 120) return ['second', 1];
  if (seconds < 7200) return ['minute', 60];
  if (seconds < 172_800) return ['hour', 3600];
  return ['day', 86_400];
}

/** A duration for a person: seconds, minutes, hours or days, one decimal at most. */
export function useDuration(): (seconds: number | null) => string {
  const { locale } = useLocale();
  return useCallback(
    (s) => {
      if (s === null) return '—';
      const [unit, length] = unitFor(s);
      return new Intl.NumberFormat(locale, {
        style: 'unit',
        unit,
        unitDisplay: 'short',
        maximumFractionDigits: 1,
      }).format(s / length);
    },
    [locale],
  );
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function FigureCard({
  title,
  testId,
  csv,
  csvName,
  chart,
  children,
}: {
  title: string;
  testId: string;
  csv: () => string;
  csvName: string;
  chart: React.ReactNode;
  children: React.ReactNode;
}) {
  const t = useT();
  const id = `${testId}-title`;
  return (
    <Card withBorder component="section" aria-labelledby={id} data-testid={testId}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={3} size="h4" id={id}>
            {title}
          </Title>
          <Button
            size="xs"
            variant="default"
            onClick={() => download(csvName, csv())}
            data-testid="figure-csv"
          >
            {t('stats.csv')}
          </Button>
        </Group>
        <div role="img" aria-label={t('stats.chartLabel', { title })}>
          {chart}
        </div>
        {children}
      </Stack>
    </Card>
  );
}

/** Times to acknowledge and to execute (median, 90th percentile) per row, with counts and overdue. */
export function TimesFigure({
  title,
  rows,
  testId,
  keyHeader,
  csvKey,
  csvName,
  line,
}: {
  title: string;
  rows: TallyRow[];
  testId: string;
  keyHeader: string;
  /** The CSV's first column, named as the CLI's CSV names it (counterpart, request_type...). */
  csvKey: string;
  csvName: string;
  /** A line per series over the rows (months), instead of bars. */
  line?: boolean;
}) {
  const t = useT();
  const duration = useDuration();
  const { locale } = useLocale();
  const rtl = useDirection().dir === 'rtl';
  if (rows.length === 0) return null;
  const series = [
    { name: 'ackMedian', label: t('stats.series.ackMedian'), color: 'teal.8' },
    { name: 'ackP90', label: t('stats.series.ackP90'), color: 'teal.4' },
    { name: 'execMedian', label: t('stats.series.execMedian'), color: 'indigo.8' },
    { name: 'execP90', label: t('stats.series.execP90'), color: 'indigo.4' },
  ];
  // One unit for the whole chart, the one its longest time reads best in.
  const longest = Math.max(
    0,
    ...rows.flatMap((r) => [r.tally.acknowledge.p90Seconds ?? 0, r.tally.execute.p90Seconds ?? 0]),
  );
  const [unit, length] = unitFor(longest);
  const inUnit = (s: number | null) => (s === null ? null : Math.round((s / length) * 100) / 100);
  const data = rows.map((r) => ({
    label: r.label,
    ackMedian: inUnit(r.tally.acknowledge.medianSeconds),
    ackP90: inUnit(r.tally.acknowledge.p90Seconds),
    execMedian: inUnit(r.tally.execute.medianSeconds),
    execP90: inUnit(r.tally.execute.p90Seconds),
  }));
  const common = {
    h: 260,
    data,
    dataKey: 'label',
    series,
    withLegend: true,
    valueFormatter: (v: number) =>
      new Intl.NumberFormat(locale, {
        style: 'unit',
        unit,
        unitDisplay: 'narrow',
        maximumFractionDigits: 1,
      }).format(v),
    xAxisProps: { reversed: rtl },
    yAxisProps: { orientation: rtl ? ('right' as const) : ('left' as const) },
  };
  const time = (s: number | null) => <span data-seconds={s ?? ''}>{duration(s)}</span>;
  return (
    <FigureCard
      title={title}
      testId={testId}
      csvName={csvName}
      csv={() =>
        [
          [csvKey, ...TALLY_CSV_COLUMNS].map(csvCell).join(','),
          ...rows.map((r) => [r.key, ...tallyCsvCells(r.tally)].map(csvCell).join(',')),
        ].join('\n') + '\n'
      }
      chart={
        line ? (
          <LineChart {...common} connectNulls lineChartProps={{ accessibilityLayer: false }} />
        ) : (
          <BarChart {...common} barChartProps={{ accessibilityLayer: false }} />
        )
      }
    >
      <DataTable
        label={title}
        minWidth={760}
        rows={rows}
        rowKey={(r) => r.key}
        rowTestId="figure-row"
        columns={[
          { header: keyHeader, cell: (r) => <span data-key={r.key}>{r.label}</span> },
          { header: t('stats.col.requests'), cell: (r) => <span data-field="total">{r.tally.total}</span> },
          { header: t('stats.col.acknowledged'), cell: (r) => r.tally.acknowledge.count },
          { header: t('stats.series.ackMedian'), cell: (r) => time(r.tally.acknowledge.medianSeconds) },
          { header: t('stats.series.ackP90'), cell: (r) => time(r.tally.acknowledge.p90Seconds) },
          { header: t('stats.col.executed'), cell: (r) => r.tally.execute.count },
          { header: t('stats.series.execMedian'), cell: (r) => time(r.tally.execute.medianSeconds) },
          { header: t('stats.series.execP90'), cell: (r) => time(r.tally.execute.p90Seconds) },
          {
            header: t('stats.col.overdue'),
            cell: (r) => <span data-field="overdue">{r.tally.overdue}</span>,
          },
        ]}
      />
    </FigureCard>
  );
}

/** A count per row (requests refused on each ground, overdue per counterpart), as horizontal bars. */
export function CountsFigure({
  title,
  rows,
  testId,
  keyHeader,
  csvKey,
  countHeader,
  csvName,
  empty,
}: {
  title: string;
  rows: { key: string; label: string; count: number }[];
  testId: string;
  keyHeader: string;
  csvKey: string;
  countHeader: string;
  csvName: string;
  /** Said instead of the chart when there is nothing to count. */
  empty: string;
}) {
  const rtl = useDirection().dir === 'rtl';
  return (
    <FigureCard
      title={title}
      testId={testId}
      csvName={csvName}
      csv={() =>
        [[csvKey, 'requests'], ...rows.map((r) => [r.key, String(r.count)])]
          .map((l) => l.map(csvCell).join(','))
          .join('\n') + '\n'
      }
      chart={
        rows.length === 0 ? (
          <Text c="dimmed" size="sm">
            {empty}
          </Text>
        ) : (
          <BarChart
            h={Math.max(120, rows.length * 36 + 40)}
            data={rows.map((r) => ({ label: r.label, count: r.count }))}
            dataKey="label"
            orientation="vertical"
            series={[{ name: 'count', label: countHeader, color: 'orange.8' }]}
            xAxisProps={{ reversed: rtl, allowDecimals: false }}
            yAxisProps={{ orientation: rtl ? 'right' : 'left', width: 180 }}
            barChartProps={{ accessibilityLayer: false }}
          />
        )
      }
    >
      {rows.length > 0 ? (
        <DataTable
          label={title}
          rows={rows}
          rowKey={(r) => r.key}
          rowTestId="figure-row"
          columns={[
            { header: keyHeader, cell: (r) => <span data-key={r.key}>{r.label}</span> },
            { header: countHeader, cell: (r) => <span data-field="count">{r.count}</span> },
          ]}
        />
      ) : null}
    </FigureCard>
  );
}
