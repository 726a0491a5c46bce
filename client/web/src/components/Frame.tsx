/**
 * The frame of every unlocked view (the officers' and the auditor's): a skip link, a header with
 * who is working and the lock button, a navigation that folds into a menu on narrow screens, and
 * the main region the skip link focuses.
 */
import { AppShell, Burger, Button, Group, NavLink, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useEffect, useState, type ReactNode } from 'react';
import { useT } from '../i18n.tsx';

export interface NavItem {
  href: string;
  label: string;
  active: boolean;
  testid: string;
}

export function Frame({
  title,
  titleTestId,
  signedIn,
  extras,
  nav,
  routeKey,
  onLock,
  children,
}: {
  title: string;
  titleTestId: string;
  /** Who is signed in, as the header says it ("Officer: …", "Signed in as …"). */
  signedIn: string;
  /** Shown in the header before the lock button (connection, language, relay). */
  extras: ReactNode;
  nav: NavItem[];
  /** The route: the menu folds when it changes. */
  routeKey: string;
  onLock: () => Promise<void>;
  children: ReactNode;
}) {
  const t = useT();
  const [opened, { toggle, close }] = useDisclosure(false);
  const [locking, setLocking] = useState(false);
  useEffect(() => close(), [routeKey, close]);

  return (
    <>
      <a
        className="skip-link"
        href="#main-content"
        data-testid="skip-link"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main-content')?.focus();
        }}
      >
        {t('shell.skip')}
      </a>
      <AppShell
        header={{ height: { base: 112, sm: 64 } }}
        navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }}
        padding="md"
      >
        <AppShell.Header px="md" py={6}>
          <Group justify="space-between" h="100%" wrap="wrap" gap="xs">
            <Group gap="sm" wrap="nowrap" miw={0}>
              <Burger
                opened={opened}
                onClick={toggle}
                hiddenFrom="sm"
                size="sm"
                aria-label={t('shell.menu')}
                aria-expanded={opened}
                aria-controls="main-nav"
              />
              <div style={{ minWidth: 0 }}>
                <Text fw={700} size="md" truncate data-testid={titleTestId} dir="auto">
                  {title}
                </Text>
                <Text size="xs" c="dimmed" truncate data-testid="officer" dir="auto">
                  {signedIn}
                </Text>
              </div>
            </Group>
            <Group gap="sm" wrap="wrap">
              {extras}
              <Button
                variant="outline"
                color="dark"
                size="xs"
                loading={locking}
                data-testid="lock-button"
                onClick={() => {
                  setLocking(true);
                  void onLock().finally(() => setLocking(false));
                }}
              >
                {t('shell.lock')}
              </Button>
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" id="main-nav" aria-label={t('shell.navigation')}>
          {nav.map((n) => (
            <NavLink
              key={n.testid}
              href={n.href}
              label={n.label}
              active={n.active}
              aria-current={n.active ? 'page' : undefined}
              data-testid={n.testid}
            />
          ))}
        </AppShell.Navbar>
        <AppShell.Main id="main-content" tabIndex={-1}>
          {children}
        </AppShell.Main>
      </AppShell>
    </>
  );
}
