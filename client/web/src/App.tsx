import { Center, Loader } from '@mantine/core';
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api, ApiError, setAuthRequiredHandler, type Session } from './api.ts';
import { Shell } from './components/Shell.tsx';
import { useT } from './i18n.tsx';
import { UnlockPage } from './pages/UnlockPage.tsx';

/** The auditor's view comes in its own chunk: an officer's browser never loads it. */
const AuditorShell = lazy(() =>
  import('./components/AuditorShell.tsx').then((m) => ({ default: m.AuditorShell })),
);

/** Unlocked (the shell and its pages) or locked (the unlock page); the route is kept across a lock. */
export function App() {
  const t = useT();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [startError, setStartError] = useState<unknown>(null);

  const locked = useCallback(() => setSession(null), []);
  useEffect(() => {
    setAuthRequiredHandler(locked);
    api.session().then(
      (s) => setSession(s),
      (err: unknown) => {
        if (!(err instanceof ApiError && err.code === 'AUTH_REQUIRED')) setStartError(err);
        setSession(null);
      },
    );
  }, [locked]);

  const lock = useCallback(async () => {
    try {
      await api.lock();
    } finally {
      setSession(null);
    }
  }, []);

  if (session === undefined)
    return (
      <Center h="100vh" role="status" aria-label={t('common.loading')}>
        <Loader />
      </Center>
    );
  if (session === null)
    return (
      <UnlockPage
        startError={startError}
        onUnlocked={(s) => {
          setStartError(null);
          setSession(s);
        }}
      />
    );
  if (session.role === 'auditor')
    return (
      <Suspense
        fallback={
          <Center h="100vh" role="status" aria-label={t('common.loading')}>
            <Loader />
          </Center>
        }
      >
        <AuditorShell session={session} onLock={lock} />
      </Suspense>
    );
  return <Shell session={session} onLock={lock} onLocked={locked} />;
}
