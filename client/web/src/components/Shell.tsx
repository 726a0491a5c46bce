import { Anchor, Skeleton, Stack, Title } from '@mantine/core';
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, type Session } from '../api.ts';
import { LiveContext, type ChangeKind, type LiveState } from '../hooks.ts';
import { useT } from '../i18n.tsx';
import { href, useRoute } from '../router.ts';
import { ComposePage } from '../pages/ComposePage.tsx';
import { CounterpartsPage } from '../pages/CounterpartsPage.tsx';
import { InboxPage } from '../pages/InboxPage.tsx';
import { MessagePage } from '../pages/MessagePage.tsx';
import { NewRequestPage } from '../pages/NewRequestPage.tsx';
import { RequestPage } from '../pages/RequestPage.tsx';
import { RequestsPage } from '../pages/RequestsPage.tsx';
import { SentPage } from '../pages/SentPage.tsx';
import { AlarmBanner } from './AlarmBanner.tsx';
import { ConnectionState } from './ConnectionState.tsx';
import { Frame } from './Frame.tsx';
import { LanguagePicker } from './LanguagePicker.tsx';

// The charts (recharts), the calendar and the heat map load with their pages only.
const StatisticsPage = lazy(() =>
  import('../pages/StatisticsPage.tsx').then((m) => ({ default: m.StatisticsPage })),
);
const MeetingsPage = lazy(() =>
  import('../pages/MeetingsPage.tsx').then((m) => ({ default: m.MeetingsPage })),
);
const NetworksPage = lazy(() =>
  import('../pages/NetworksPage.tsx').then((m) => ({ default: m.NetworksPage })),
);
const later = (page: ReactNode) => <Suspense fallback={<Skeleton h={240} />}>{page}</Suspense>;

const KINDS: ChangeKind[] = ['inbox', 'sent', 'requests', 'keys', 'meetings', 'alarms', 'documents'];

/** The server-sent events of the node: relay connection, what changed, and the idle lock. */
function useNodeEvents(onLocked: () => void): LiveState {
  const [connected, setConnected] = useState<boolean | null>(null);
  const [versions, setVersions] = useState<LiveState['versions']>({
    inbox: 0,
    sent: 0,
    requests: 0,
    keys: 0,
    meetings: 0,
    alarms: 0,
    documents: 0,
  });
  const lockedRef = useRef(onLocked);
  lockedRef.current = onLocked;

  useEffect(() => {
    let live = true;
    api.node().then(
      (n) => live && typeof n.connected === 'boolean' && setConnected(n.connected),
      () => undefined,
    );
    if (typeof EventSource === 'undefined') return;
    const es = new EventSource(api.eventsUrl());
    const parse = (e: Event): Record<string, unknown> => {
      try {
        const data: unknown = JSON.parse((e as MessageEvent<string>).data);
        return data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    es.addEventListener('connection', (e) => {
      const d = parse(e);
      if (typeof d.connected === 'boolean') setConnected(d.connected);
    });
    es.addEventListener('changed', (e) => {
      const what = parse(e).what;
      if (typeof what === 'string' && (KINDS as string[]).includes(what))
        setVersions((v) => ({ ...v, [what]: v[what as ChangeKind] + 1 }));
    });
    es.addEventListener('locked', () => lockedRef.current());
    let opened = false;
    es.addEventListener('open', () => {
      // Back after a break: what changed meanwhile was not told, so everything refreshes. Not on
      // the first opening: the pages have just loaded.
      if (opened)
        setVersions((v) => Object.fromEntries(KINDS.map((k) => [k, v[k] + 1])) as LiveState['versions']);
      opened = true;
      api.node().then(
        (n) => live && typeof n.connected === 'boolean' && setConnected(n.connected),
        () => undefined,
      );
    });
    es.addEventListener('error', () => {
      if (!live) return;
      setConnected(false);
      // The stream breaks on an idle lock too: a 401 from the service brings the unlock page.
      api.node().catch(() => undefined);
    });
    return () => {
      live = false;
      es.close();
    };
  }, []);

  return useMemo(() => ({ connected, versions }), [connected, versions]);
}

const NAV: { path: string; label: string; match: (r: string[]) => boolean }[] = [
  { path: 'inbox', label: 'nav.inbox', match: (r) => r[0] === 'inbox' || r[0] === 'messages' },
  { path: 'compose', label: 'nav.compose', match: (r) => r[0] === 'compose' },
  { path: 'sent', label: 'nav.sent', match: (r) => r[0] === 'sent' },
  { path: 'requests', label: 'nav.requests', match: (r) => r[0] === 'requests' && r[1] !== 'new' },
  { path: 'requests/new', label: 'nav.newRequest', match: (r) => r[0] === 'requests' && r[1] === 'new' },
  { path: 'counterparts', label: 'nav.counterparts', match: (r) => r[0] === 'counterparts' },
  { path: 'meetings', label: 'nav.meetings', match: (r) => r[0] === 'meetings' },
  { path: 'networks', label: 'nav.networks', match: (r) => r[0] === 'networks' },
  { path: 'statistics', label: 'nav.statistics', match: (r) => r[0] === 'statistics' },
];

function Page({ route, session }: { route: string[]; session: Session }): ReactNode {
  const [first, second] = route;
  switch (first) {
    case 'inbox':
      return <InboxPage />;
    case 'messages':
      return second ? <MessagePage id={second} /> : <InboxPage />;
    case 'compose':
      return <ComposePage />;
    case 'sent':
      return <SentPage />;
    case 'requests':
      if (second === 'new') return <NewRequestPage />;
      return second ? <RequestPage id={second} /> : <RequestsPage />;
    case 'counterparts':
      return <CounterpartsPage session={session} />;
    case 'meetings':
      return later(<MeetingsPage session={session} />);
    case 'networks':
      return later(<NetworksPage id={second} />);
    case 'statistics':
      return later(<StatisticsPage />);
    default:
      return <NotFound />;
  }
}

function NotFound() {
  const t = useT();
  return (
    <Stack>
      <Title order={1} size="h2">
        {t('notFound.title')}
      </Title>
      <Anchor href={href('inbox')}>{t('nav.inbox')}</Anchor>
    </Stack>
  );
}

export function Shell({
  session,
  onLock,
  onLocked,
}: {
  session: Session;
  onLock: () => Promise<void>;
  onLocked: () => void;
}) {
  const t = useT();
  const route = useRoute();
  const live = useNodeEvents(onLocked);
  const routeKey = route.join('/');

  return (
    <LiveContext.Provider value={live}>
      <Frame
        title={session.node?.authority ?? ''}
        titleTestId="authority"
        signedIn={t('shell.officer', { name: session.officer ?? '' })}
        extras={
          <>
            <ConnectionState />
            <LanguagePicker size="xs" />
          </>
        }
        nav={NAV.map((n) => ({
          href: `#/${n.path}`,
          label: t(n.label),
          active: n.match(route),
          testid: `nav-${n.path.replace('/', '-')}`,
        }))}
        routeKey={routeKey}
        onLock={onLock}
      >
        <AlarmBanner />
        <Page key={routeKey} route={route} session={session} />
      </Frame>
    </LiveContext.Provider>
  );
}
