import { Badge } from '@mantine/core';
import { useLive } from '../hooks.ts';
import { useT } from '../i18n.tsx';

/** The node's link to its relay, live (server-sent events): connected, or reconnecting. */
export function ConnectionState() {
  const { connected } = useLive();
  const t = useT();
  const state = connected === null ? 'unknown' : connected ? 'connected' : 'reconnecting';
  return (
    <Badge
      data-testid="connection-state"
      data-state={state}
      role="status"
      aria-live="polite"
      variant="dot"
      color={state === 'connected' ? 'teal' : state === 'reconnecting' ? 'orange' : 'gray'}
      size="lg"
    >
      {t(`connection.${state}`)}
    </Badge>
  );
}
