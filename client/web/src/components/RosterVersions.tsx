/**
 * The versions of a network's roster this node holds, newest first: when each was signed, by which
 * coordinator's node, and who it added or removed (as members or as coordinators).
 */
import { Skeleton, Stack, Text, Title } from '@mantine/core';
import { useMemo } from 'react';
import { networksApi, type RosterDiff, type RosterVersion } from '../api-networks.ts';
import { useLoad } from '../hooks.ts';
import { useLocale, useT } from '../i18n.tsx';
import { DataTable } from './DataTable.tsx';
import { ErrorAlert } from './ErrorAlert.tsx';

const CHANGES: [keyof RosterDiff, string][] = [
  ['addedMembers', 'networks.versions.addedMembers'],
  ['removedMembers', 'networks.versions.removedMembers'],
  ['addedCoordinators', 'networks.versions.addedCoordinators'],
  ['removedCoordinators', 'networks.versions.removedCoordinators'],
];

function Changes({ diff }: { diff: RosterDiff | null }) {
  const t = useT();
  if (!diff) return <Text size="sm">{t('networks.versions.notHeld')}</Text>;
  const lines = CHANGES.filter(([k]) => diff[k].length > 0);
  if (lines.length === 0) return <Text size="sm">{t('networks.versions.noChange')}</Text>;
  return (
    <Stack gap={2}>
      {lines.map(([k, label]) => (
        <Text size="sm" key={k} data-change={k}>
          <Text span fw={600}>
            {t(label)}
          </Text>{' '}
          <bdi dir="ltr">{diff[k].join(', ')}</bdi>
        </Text>
      ))}
    </Stack>
  );
}

export function RosterVersions({ network, version }: { network: string; version: number }) {
  const t = useT();
  const { locale } = useLocale();
  const when = useMemo(
    () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }),
    [locale],
  );
  const number = useMemo(() => new Intl.NumberFormat(locale), [locale]);
  const versions = useLoad(() => networksApi.versions(network), `${network}/${version}`);

  return (
    <Stack gap="sm">
      <Title order={2} size="h3">
        {t('networks.versions.title')}
      </Title>
      <ErrorAlert error={versions.error} />
      {versions.data ? (
        <DataTable<RosterVersion>
          label={t('networks.versions.label')}
          testId="roster-versions"
          rowTestId="roster-version"
          minWidth={640}
          rows={versions.data.versions}
          rowKey={(v) => String(v.version)}
          columns={[
            { header: t('networks.versions.col.version'), cell: (v) => number.format(v.version) },
            { header: t('networks.versions.col.at'), cell: (v) => when.format(new Date(v.at)) },
            { header: t('networks.versions.col.issuedBy'), cell: (v) => v.issuedBy, dir: 'ltr' },
            { header: t('networks.versions.col.changes'), cell: (v) => <Changes diff={v.diff} /> },
          ]}
        />
      ) : (
        <Skeleton h={80} />
      )}
    </Stack>
  );
}
