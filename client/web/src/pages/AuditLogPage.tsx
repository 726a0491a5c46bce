/**
 * A relay's audit log as a virtualised table: only the rows in view are in the page, fetched by
 * pages of the service's local copy (which it brings up to date from the relay as the page opens),
 * filtered by time, authority, envelope, event kind and error code. 10^6 entries scroll as 10.
 */
import { Anchor, Badge, Group, Progress, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { auditApi, type AuditEntry, type LogFilter, type SyncState } from '../api-audit.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useDebounced } from '../hooks.ts';
import { useCode, useLocale, useT } from '../i18n.tsx';
import { href } from '../router.ts';
import { AUDIT_KINDS } from '../../i18n/code-keys.ts';

/** Row height in pixels: 10^6 rows stay under the tallest element a browser lays out (33.5 M px). */
const ROW = 28;
/**
 * The virtualiser's size of a row, one function for the page's life: a new one at each render would
 * make it lay out all 10^6 rows again.
 */
const rowSize = () => ROW;
/** Rows per request to the service. */
const PAGE = 200;

const COLUMNS = ['seq', 'at', 'kind', 'envelope', 'parties', 'size', 'code'] as const;
const WIDTHS: Record<(typeof COLUMNS)[number], string> = {
  seq: '6rem',
  at: '11rem',
  kind: '9rem',
  envelope: '19rem',
  parties: 'minmax(14rem, 1fr)',
  size: '6rem',
  code: '10rem',
};
const GRID = COLUMNS.map((c) => WIDTHS[c]).join(' ');

const nodeOrAuthority = (a: string | undefined) => a ?? '';

function parties(e: AuditEntry): string {
  if (e.sender) return `${e.sender}${e.recipients?.length ? ` → ${e.recipients.join(', ')}` : ''}`;
  return [e.node, e.auditor, e.peer].map(nodeOrAuthority).filter(Boolean).join(' · ');
}

function toMillis(local: string): number | undefined {
  if (!local) return undefined;
  const t = new Date(local).getTime();
  return Number.isFinite(t) && t >= 0 ? t : undefined;
}

export function AuditLogPage({ relay }: { relay: string }) {
  const t = useT();
  const code = useCode();
  const { locale } = useLocale();
  const when = useMemo(
    () => new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'medium' }),
    [locale],
  );
  const [fields, setFields] = useState({ from: '', to: '', authority: '', envelope: '', kind: '', code: '' });
  const debounced = useDebounced(fields, 300);
  const filter: LogFilter = useMemo(
    () => ({
      from: toMillis(debounced.from),
      to: toMillis(debounced.to),
      authority: debounced.authority.trim() || undefined,
      envelope: debounced.envelope.trim() || undefined,
      kind: debounced.kind || undefined,
      code: debounced.code.trim().toUpperCase() || undefined,
    }),
    [debounced],
  );
  const filterKey = JSON.stringify(filter);
  const [total, setTotal] = useState(0);
  const [sync, setSync] = useState<SyncState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const pages = useRef(new Map<number, AuditEntry[]>());
  const asked = useRef(new Set<number>());
  const [, setLoaded] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);

  /** Fetches page `p` of the current filter (and, with it, the totals). */
  const load = useCallback(
    async (p: number, key: string) => {
      asked.current.add(p);
      try {
        const page = await auditApi.log(relay, p * PAGE, PAGE, JSON.parse(key) as LogFilter);
        if (key !== filterKeyRef.current) return;
        // A page still filling (the copy grows) is asked again later.
        if (page.entries.length === PAGE || page.offset + page.entries.length >= page.total)
          pages.current.set(p, page.entries);
        asked.current.delete(p);
        setTotal(page.total);
        setSync(page.sync);
        setError(null);
        setLoaded((n) => n + 1);
      } catch (err) {
        asked.current.delete(p);
        if (key === filterKeyRef.current) setError(err);
      }
    },
    [relay],
  );
  const filterKeyRef = useRef(filterKey);

  // A new filter: an empty table, and its first page.
  useEffect(() => {
    filterKeyRef.current = filterKey;
    pages.current.clear();
    asked.current.clear();
    scroller.current?.scrollTo({ top: 0 });
    void load(0, filterKey);
  }, [filterKey, load]);

  // The copy is brought up to date as the page opens; the totals follow it while it grows.
  useEffect(() => {
    let live = true;
    auditApi.sync(relay).then(
      (s) => live && setSync(s),
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [relay]);
  useEffect(() => {
    if (!sync?.running) return;
    const timer = setTimeout(() => {
      const last = Math.floor(Math.max(0, total - 1) / PAGE);
      pages.current.delete(last);
      void load(last, filterKeyRef.current);
    }, 700);
    return () => clearTimeout(timer);
  }, [sync, total, load]);

  const rows = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: rowSize,
    overscan: 15,
  });
  const items = rows.getVirtualItems();
  useEffect(() => {
    const want = new Set(items.map((i) => Math.floor(i.index / PAGE)));
    for (const p of want) if (!pages.current.has(p) && !asked.current.has(p)) void load(p, filterKey);
  }, [items, filterKey, load]);

  const entryAt = (i: number): AuditEntry | undefined => pages.current.get(Math.floor(i / PAGE))?.[i % PAGE];
  const set = (k: keyof typeof fields) => (v: string) => setFields((f) => ({ ...f, [k]: v }));
  const kinds = AUDIT_KINDS.map((k) => ({ value: k, label: code('auditKind', k) }));

  return (
    <Stack>
      <PageHeading>{t('audit.log.title', { relay })}</PageHeading>
      <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm" data-testid="log-filters">
        <TextInput
          type="datetime-local"
          label={t('audit.log.from')}
          value={fields.from}
          onChange={(e) => set('from')(e.currentTarget.value)}
          data-testid="filter-from"
        />
        <TextInput
          type="datetime-local"
          label={t('audit.log.to')}
          value={fields.to}
          onChange={(e) => set('to')(e.currentTarget.value)}
          data-testid="filter-to"
        />
        <Select
          label={t('audit.log.kind')}
          data={kinds}
          value={fields.kind || null}
          onChange={(v) => set('kind')(v ?? '')}
          clearable
          placeholder={t('audit.log.anyKind')}
          data-testid="filter-kind"
        />
        <TextInput
          label={t('audit.log.authority')}
          placeholder="ke.ag@relay.example"
          value={fields.authority}
          onChange={(e) => set('authority')(e.currentTarget.value)}
          dir="ltr"
          data-testid="filter-authority"
        />
        <TextInput
          label={t('audit.log.envelope')}
          value={fields.envelope}
          onChange={(e) => set('envelope')(e.currentTarget.value)}
          dir="ltr"
          data-testid="filter-envelope"
        />
        <TextInput
          label={t('audit.log.code')}
          placeholder="TOKEN_INVALID"
          value={fields.code}
          onChange={(e) => set('code')(e.currentTarget.value)}
          dir="ltr"
          data-testid="filter-code"
        />
      </SimpleGrid>
      <ErrorAlert error={error} />
      <Group justify="space-between" wrap="wrap">
        <Text size="sm" data-testid="log-count" data-total={total} aria-live="polite">
          {t('audit.log.count', { total, size: sync?.held ?? total })}
        </Text>
        {sync?.running && sync.held < sync.total ? (
          <Group gap="xs" style={{ flex: '0 1 20rem' }}>
            <Text size="sm">{t('audit.log.copying', { held: sync.held, total: sync.total })}</Text>
            <Progress
              value={sync.total ? (100 * sync.held) / sync.total : 0}
              style={{ flex: 1 }}
              aria-label={t('audit.log.copyProgress')}
            />
          </Group>
        ) : sync?.error ? (
          <Badge color="red" variant="light">
            {code('error', sync.error.code)}
          </Badge>
        ) : null}
      </Group>
      <div
        ref={scroller}
        className="audit-scroller"
        tabIndex={0}
        role="table"
        aria-label={t('audit.log.table')}
        aria-rowcount={total + 1}
        data-testid="log-table"
      >
        <div role="rowgroup" className="audit-head">
          <div role="row" aria-rowindex={1} className="audit-row" style={{ gridTemplateColumns: GRID }}>
            {COLUMNS.map((c) => (
              <div role="columnheader" key={c} className="audit-cell">
                {t(`audit.log.col.${c}`)}
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" style={{ height: rows.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const e = entryAt(item.index);
            return (
              <div
                role="row"
                key={item.key}
                aria-rowindex={item.index + 2}
                className="audit-row"
                data-testid="log-row"
                data-seq={e?.seq}
                style={{ gridTemplateColumns: GRID, transform: `translateY(${item.start}px)`, height: ROW }}
              >
                {e ? (
                  <>
                    <div role="cell" className="audit-cell" dir="ltr">
                      {e.seq}
                    </div>
                    <div role="cell" className="audit-cell">
                      {when.format(new Date(e.at))}
                    </div>
                    <div role="cell" className="audit-cell">
                      {code('auditKind', e.kind)}
                    </div>
                    <div role="cell" className="audit-cell" dir="ltr">
                      {e.envelope ? <Anchor href={href('proof', e.envelope)}>{e.envelope}</Anchor> : ''}
                    </div>
                    <div role="cell" className="audit-cell" dir="ltr">
                      {parties(e)}
                    </div>
                    <div role="cell" className="audit-cell" dir="ltr">
                      {e.size ?? ''}
                    </div>
                    <div role="cell" className="audit-cell" dir="ltr">
                      {e.reason ?? ''}
                    </div>
                  </>
                ) : (
                  <div role="cell" className="audit-cell">
                    {t('common.loading')}
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </Stack>
  );
}
