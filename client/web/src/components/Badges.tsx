import { Badge, Group, Tooltip } from '@mantine/core';
import type { Flag } from '../api.ts';
import { useCode, useT } from '../i18n.tsx';

const STATUS_COLOURS: Record<string, string> = {
  draft: 'gray',
  sent: 'blue',
  delivered: 'blue',
  acknowledged: 'cyan',
  in_execution: 'indigo',
  additional_info_requested: 'yellow',
  partially_executed: 'lime',
  executed: 'green',
  closed: 'dark',
  refused: 'red',
  withdrawn: 'gray',
};

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const code = useCode();
  if (!status) return null;
  return (
    <Badge color={STATUS_COLOURS[status] ?? 'gray'} variant="light" data-testid="status" data-status={status}>
      {code('status', status)}
    </Badge>
  );
}

const FLAG_COLOURS: Record<Flag, string> = {
  overdue: 'red',
  due_soon: 'orange',
  undelivered: 'grape',
  unacknowledged: 'yellow',
};

export function FlagBadges({ flags }: { flags: readonly string[] | undefined }) {
  const t = useT();
  if (!flags?.length) return null;
  return (
    <Group gap={4} wrap="wrap">
      {flags.map((f) => (
        <Badge
          key={f}
          color={FLAG_COLOURS[f as Flag] ?? 'gray'}
          variant="filled"
          size="sm"
          data-testid={`flag-${f}`}
        >
          {t(`flag.${f}`)}
        </Badge>
      ))}
    </Group>
  );
}

export function UnverifiedBadge({ authority }: { authority: string }) {
  const t = useT();
  return (
    <Tooltip label={t('counterpart.unverifiedHint', { authority })}>
      <Badge color="orange" variant="outline" size="sm" data-testid="unverified-badge" tabIndex={0}>
        {t('counterpart.unverified')}
      </Badge>
    </Tooltip>
  );
}
