/**
 * The auditor's view (the service of an auditor's folder): the audit log of a relay browsed and
 * filtered, its check with progress, an envelope's proof, the heads kept and those peers keep, and
 * the reconciliations of two relays' logs and of a node's record against its relay's log.
 * Nothing of the officers' pages is reachable here, and their API would refuse this session.
 */
import { Anchor, Select, Stack, Text, Title } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import type { AuditRelay, Session } from '../api.ts';
import { useT } from '../i18n.tsx';
import { AuditHeadsPage } from '../pages/AuditHeadsPage.tsx';
import { AuditLogPage } from '../pages/AuditLogPage.tsx';
import { AuditProofPage } from '../pages/AuditProofPage.tsx';
import { AuditReconcilePage } from '../pages/AuditReconcilePage.tsx';
import { AuditVerifyPage } from '../pages/AuditVerifyPage.tsx';
import { href, useRoute, useRouteQuery } from '../router.ts';
import { Frame } from './Frame.tsx';
import { LanguagePicker } from './LanguagePicker.tsx';

const NAV = [
  { path: 'log', label: 'audit.nav.log' },
  { path: 'verify', label: 'audit.nav.verify' },
  { path: 'proof', label: 'audit.nav.proof' },
  { path: 'heads', label: 'audit.nav.heads' },
  { path: 'reconcile', label: 'audit.nav.reconcile' },
] as const;

function Page({ route, relay, relays }: { route: string[]; relay: string; relays: AuditRelay[] }): ReactNode {
  const [first, second] = route;
  switch (first) {
    case 'verify':
      return <AuditVerifyPage relay={relay} />;
    case 'proof':
      return <AuditProofPage relay={relay} envelope={second} />;
    case 'heads':
      return <AuditHeadsPage relay={relay} />;
    case 'reconcile':
      return <AuditReconcilePage relays={relays} relay={relay} />;
    default:
      return <AuditLogPage relay={relay} />;
  }
}

export function AuditorShell({ session, onLock }: { session: Session; onLock: () => Promise<void> }) {
  const t = useT();
  const route = useRoute();
  const query = useRouteQuery();
  const relays = session.auditor?.relays ?? [];
  const [relay, setRelay] = useState(query.get('relay') ?? relays[0]?.domain ?? '');
  const routeKey = route.join('/');
  const current = NAV.find((n) => n.path === route[0])?.path ?? 'log';

  return (
    <Frame
      title={t('audit.shell.title', { name: session.auditor?.name ?? '' })}
      titleTestId="auditor"
      signedIn={t('audit.shell.signedIn', { name: session.officer ?? '' })}
      extras={
        <>
          {relays.length > 1 ? (
            <Select
              size="xs"
              aria-label={t('audit.shell.relay')}
              data={relays.map((r) => r.domain)}
              value={relay}
              onChange={(v) => v && setRelay(v)}
              allowDeselect={false}
              data-testid="relay-select"
            />
          ) : (
            <Text size="sm" data-testid="relay" dir="ltr">
              {relay}
            </Text>
          )}
          <LanguagePicker size="xs" />
        </>
      }
      nav={NAV.map((n) => ({
        href: href(n.path),
        label: t(n.label),
        active: current === n.path,
        testid: `nav-${n.path}`,
      }))}
      routeKey={routeKey}
      onLock={onLock}
    >
      {relay ? (
        <Page key={relay} route={route} relay={relay} relays={relays} />
      ) : (
        <Stack>
          <Title order={1} size="h2">
            {t('audit.shell.noRelay')}
          </Title>
          <Anchor href={href('log')}>{t('audit.nav.log')}</Anchor>
        </Stack>
      )}
    </Frame>
  );
}
