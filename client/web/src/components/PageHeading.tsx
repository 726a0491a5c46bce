import { Group, Title } from '@mantine/core';
import { useEffect, useRef, type ReactNode } from 'react';

/** The page's h1; takes the focus when the page opens so screen readers announce it. */
export function PageHeading({ children, actions }: { children: ReactNode; actions?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <Group justify="space-between" align="center" mb="md" wrap="wrap" gap="sm">
      <Title order={1} size="h2" ref={ref} tabIndex={-1} data-testid="page-title" style={{ outline: 'none' }}>
        {children}
      </Title>
      {actions ? <Group gap="sm">{actions}</Group> : null}
    </Group>
  );
}
