/**
 * The slot finder as a heat map in the coordinator's time zone: a row per local day, a column per
 * start of the day; each cell's colour says how many members are inside their working hours for
 * the whole meeting starting then (solid where everyone is). A grid for the keyboard: one cell in
 * the tab order, arrows move, Enter or Space picks the start.
 */
import { Group, Text } from '@mantine/core';
import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { HeatmapView } from '../api-networks.ts';
import { useLocale, useT } from '../i18n.tsx';
import { zonedClock } from '../zoned.ts';

interface Cell {
  start: number;
  count: number;
}

interface Layout {
  days: { key: string; label: string; cells: (Cell | undefined)[] }[];
  columns: number[];
}

/** Local day and minute of the day of each start, in `zone`; a day per row, a start per column. */
function layout(map: HeatmapView, zone: string, locale: string): Layout {
  const clock = zonedClock(zone);
  const dayLabel = new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
  });
  const step = map.stepMin * 60_000;
  const perDay = Math.round(1440 / map.stepMin);
  const rows = new Map<string, { key: string; label: string; cells: (Cell | undefined)[] }>();
  for (let i = 0; i < map.counts.length; i++) {
    const start = map.from + i * step;
    const p = clock(start);
    const key = p.date;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { key, label: dayLabel.format(start), cells: new Array(perDay) }));
    const col = Math.floor((p.hour * 60 + p.minute) / map.stepMin);
    row.cells[col] = { start, count: map.counts[i]! };
  }
  return { days: [...rows.values()], columns: Array.from({ length: perDay }, (_, c) => c * map.stepMin) };
}

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

export function Heatmap({
  map,
  zone,
  picked,
  onPick,
}: {
  map: HeatmapView;
  zone: string;
  picked: number | null;
  onPick: (start: number) => void;
}) {
  const t = useT();
  const { locale } = useLocale();
  const { days, columns } = useMemo(() => layout(map, zone, locale), [map, zone, locale]);
  const total = map.members.length;
  const [focus, setFocus] = useState<[number, number]>(() => {
    const r = days.findIndex((d) => d.cells.some((c) => c && c.count === total));
    const row = Math.max(0, r);
    const col = Math.max(0, days[row]?.cells.findIndex((c) => c && c.count === total) ?? 0);
    return [row, col];
  });
  const grid = useRef<HTMLTableElement>(null);

  const move = (e: KeyboardEvent) => {
    const [r, c] = focus;
    const next: Record<string, [number, number]> = {
      ArrowDown: [Math.min(days.length - 1, r + 1), c],
      ArrowUp: [Math.max(0, r - 1), c],
      ArrowRight: [r, Math.min(columns.length - 1, c + (document.dir === 'rtl' ? -1 : 1))],
      ArrowLeft: [r, Math.max(0, c + (document.dir === 'rtl' ? 1 : -1))],
      Home: [r, 0],
      End: [r, columns.length - 1],
    };
    const to = next[e.key];
    if (to) {
      e.preventDefault();
      setFocus(to);
      grid.current?.querySelector<HTMLElement>(`[data-cell="${to[0]}-${to[1]}"]`)?.focus();
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const cell = days[r]?.cells[c];
      if (cell) onPick(cell.start);
    }
  };

  return (
    <div className="heatmap-scroller">
      <table
        ref={grid}
        role="grid"
        className="heatmap"
        aria-label={t('networks.heatmap.label', { total })}
        data-testid="heatmap"
        onKeyDown={move}
      >
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">{t('networks.heatmap.day')}</span>
            </th>
            {columns.map((m) => (
              <th scope="col" key={m} className="heatmap-hour">
                {m % 120 === 0 ? hhmm(m) : <span className="visually-hidden">{hhmm(m)}</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {days.map((d, r) => (
            <tr key={d.key}>
              <th scope="row" className="heatmap-day">
                {d.label}
              </th>
              {d.cells.map((cell, c) => {
                const label = cell
                  ? t('networks.heatmap.cell', {
                      day: d.label,
                      time: hhmm(columns[c]!),
                      count: cell.count,
                      total,
                    })
                  : `${d.label} ${hhmm(columns[c]!)}`;
                const focused = focus[0] === r && focus[1] === c;
                return (
                  <td
                    key={columns[c]}
                    role="gridcell"
                    tabIndex={focused ? 0 : -1}
                    aria-label={label}
                    aria-selected={cell !== undefined && picked === cell.start}
                    title={label}
                    data-cell={`${r}-${c}`}
                    data-count={cell?.count}
                    data-start={cell?.start}
                    className={cell && cell.count === total ? 'heatmap-cell heatmap-all' : 'heatmap-cell'}
                    style={
                      cell ? { ['--share' as string]: String(cell.count / Math.max(1, total)) } : undefined
                    }
                    onClick={() => {
                      setFocus([r, c]);
                      if (cell) onPick(cell.start);
                    }}
                  />
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <Group gap="md" mt="xs">
        <Text size="xs">
          <span className="heatmap-cell heatmap-all heatmap-legend" /> {t('networks.heatmap.everyone')}
        </Text>
        <Text size="xs">
          <span className="heatmap-cell heatmap-legend" style={{ ['--share' as string]: '0.5' }} />{' '}
          {t('networks.heatmap.some')}
        </Text>
        <Text size="xs">
          <span className="heatmap-cell heatmap-legend" style={{ ['--share' as string]: '0' }} />{' '}
          {t('networks.heatmap.none')}
        </Text>
      </Group>
    </div>
  );
}
