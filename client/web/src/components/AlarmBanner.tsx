import { Alert, Anchor, List, Text } from '@mantine/core';
import { useMemo } from 'react';
import { api } from '../api.ts';
import { useChanged, useLoad } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';
import { href } from '../router.ts';

/** Open alarms of the node (a substituted key, a split view of the key log...): on every page. */
export function AlarmBanner() {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const changed = useChanged('alarms', 'keys');
  const { data } = useLoad(() => api.alarms(), changed);
  const open = useMemo(
    () => (Array.isArray(data?.alarms) ? data.alarms.filter((a) => !a.resolvedAt) : []),
    [data],
  );
  const splitViews = Array.isArray(data?.splitViews) ? data.splitViews.length : 0;
  const inconsistent = data?.consistent === false;
  const count = open.length + splitViews + (inconsistent ? 1 : 0);
  if (count === 0) return null;
  return (
    <Alert
      color="red.9"
      variant="filled"
      role="alert"
      data-testid="alarm-banner"
      title={t('alarms.title', { count })}
      mb="md"
    >
      <List size="sm" c="white" spacing={4}>
        {inconsistent && data?.error ? (
          <List.Item>
            <Text span size="sm" fw={700}>
              {code('error', data.error.code)}
            </Text>
            {` — ${data.error.message}`}
          </List.Item>
        ) : null}
        {open.slice(0, 5).map((a) => (
          <List.Item key={String(a.id)}>
            <Text span size="sm" fw={700}>
              {code('alarm', a.kind ?? 'unknown')}
            </Text>
            {a.authority ? ` (${a.authority})` : ''}
            {a.message ? ` — ${a.message}` : ''}
            {a.raisedAt ? ` · ${dateTime(a.raisedAt)}` : ''}
          </List.Item>
        ))}
        {splitViews ? <List.Item>{t('alarms.splitViews', { count: splitViews })}</List.Item> : null}
      </List>
      <Text size="sm" mt="xs">
        {t('alarms.advice')}{' '}
        <Anchor href={href('counterparts')} c="white" underline="always">
          {t('nav.counterparts')}
        </Anchor>
      </Text>
    </Alert>
  );
}
