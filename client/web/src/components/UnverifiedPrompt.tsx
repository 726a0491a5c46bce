import { Alert, Button, Code, Group, List, Text } from '@mantine/core';
import { ApiError, type UnverifiedCounterpart } from '../api.ts';
import { useT } from '../i18n.tsx';

/** The counterparts an UNVERIFIED_COUNTERPART refusal names, or null for any other error. */
export function unverifiedOf(error: unknown): UnverifiedCounterpart[] | null {
  if (!(error instanceof ApiError) || error.code !== 'UNVERIFIED_COUNTERPART') return null;
  const list = error.details?.unverified;
  if (!Array.isArray(list)) return [];
  return list.flatMap((u: unknown) => {
    if (!u || typeof u !== 'object') return [];
    const o = u as Record<string, unknown>;
    return typeof o.authority === 'string'
      ? [{ authority: o.authority, safetyCode: typeof o.safetyCode === 'string' ? o.safetyCode : '' }]
      : [];
  });
}

/**
 * Nothing was sent: a recipient's safety code was never verified. Shows each code to compare by
 * telephone, and offers to send anyway, which the node records.
 */
export function UnverifiedPrompt({
  unverified,
  busy,
  onConfirm,
  onCancel,
}: {
  unverified: UnverifiedCounterpart[];
  busy?: boolean;
  onConfirm: (authorities: string[]) => void;
  onCancel: () => void;
}) {
  const t = useT();
  return (
    <Alert
      color="orange"
      variant="light"
      role="alert"
      title={t('unverified.title')}
      data-testid="unverified-prompt"
    >
      <Text size="sm" mb="xs">
        {t('unverified.explain')}
      </Text>
      <List spacing="xs" mb="sm">
        {unverified.map((u) => (
          <List.Item key={u.authority}>
            <Text span fw={600}>
              {u.authority}
            </Text>
            {' — '}
            {t('unverified.safetyCode')}{' '}
            <Code data-testid="safety-code" dir="ltr" fz="md">
              {u.safetyCode}
            </Code>
          </List.Item>
        ))}
      </List>
      <Text size="sm" mb="sm">
        {t('unverified.howTo')}
      </Text>
      <Group>
        <Button
          color="orange"
          loading={busy}
          data-testid="send-anyway"
          onClick={() => onConfirm(unverified.map((u) => u.authority))}
        >
          {t('unverified.sendAnyway')}
        </Button>
        <Button variant="default" onClick={onCancel}>
          {t('common.cancel')}
        </Button>
      </Group>
    </Alert>
  );
}
