/**
 * Reconciliation, as `entraide audit reconcile` does it: two relays' logs set against each other,
 * and a node's exported record set against its relay's log. The local service verifies every log
 * it reads; each result downloads as the report (JSON) and its differences (CSV).
 */
import { Divider, Stack, Text } from '@mantine/core';
import type { AuditRelay } from '../api-audit.ts';
import { PageHeading } from '../components/PageHeading.tsx';
import { ReconcileRecord } from '../components/ReconcileRecord.tsx';
import { ReconcileRelays } from '../components/ReconcileRelays.tsx';
import { useT } from '../i18n.tsx';

export function AuditReconcilePage({ relays, relay }: { relays: AuditRelay[]; relay: string }) {
  const t = useT();
  return (
    <Stack>
      <PageHeading>{t('audit.reconcile.title')}</PageHeading>
      <Text size="sm" c="dimmed">
        {t('audit.reconcile.explain')}
      </Text>
      <ReconcileRelays relays={relays} />
      <Divider />
      <ReconcileRecord relays={relays} relay={relay} />
    </Stack>
  );
}
