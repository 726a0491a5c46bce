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
  followup_due: 'red',
  translation_pending: 'blue',
  translation_overdue: 'orange',
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

/**
 * UnverifiedBadge for long lists: the same words, the hint as the element's title and accessible
 * description, without a tooltip's machinery in every row.
 */
export function UnverifiedMark({ authority }: { authority: string }) {
  const t = useT();
  const hint = t('counterpart.unverifiedHint', { authority });
  return (
    <span
      className="unverified-mark"
      title={hint}
      aria-label={`${t('counterpart.unverified')}: ${hint}`}
      role="img"
      data-testid="unverified-badge"
    >
      {t('counterpart.unverified')}
    </span>
  );
}

/**
 * The handling code an item travelled with (stored as JSON): who may read it and whether it may be
 * forwarded, with its conditions of use. Nothing for an item without one, or one that does not
 * parse (the node checked it on arrival).
 */
export function HandlingBadges({ handling }: { handling: string | null | undefined }) {
  const t = useT();
  const code = useCode();
  type Shown = { visibility?: unknown; forwarding?: unknown; conditions?: unknown };
  let h: Shown | null = null;
  try {
    const parsed: unknown = handling ? JSON.parse(handling) : null;
    if (parsed && typeof parsed === 'object') h = parsed as Shown;
  } catch {
    h = null;
  }
  if (!h) return null;
  const conditions = typeof h.conditions === 'string' ? h.conditions : null;
  return (
    <Group gap={4} wrap="wrap" data-testid="handling" aria-label={t('field.handling')}>
      {typeof h.visibility === 'string' ? (
        <Badge size="sm" variant="outline" color="grape">
          {code('visibility', h.visibility)}
        </Badge>
      ) : null}
      {typeof h.forwarding === 'string' ? (
        <Badge size="sm" variant="outline" color={h.forwarding === 'allowed' ? 'gray' : 'red'}>
          {code('forwarding', h.forwarding)}
        </Badge>
      ) : null}
      {conditions ? (
        <Tooltip label={conditions} multiline maw={360}>
          <Badge size="sm" variant="outline" color="gray" tabIndex={0}>
            {t('field.handling.conditions')}
          </Badge>
        </Tooltip>
      ) : null}
    </Group>
  );
}
