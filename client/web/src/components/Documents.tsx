import { Anchor, Badge, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useId } from 'react';
import { useIntl } from 'react-intl';
import { documentUrl, type DocumentView } from '../api-documents.ts';
import { useCode, useDates, useT } from '../i18n.tsx';

const STATE_COLOURS: Record<DocumentView['state'], string> = {
  sealed: 'gray',
  uploaded: 'blue',
  pending: 'yellow',
  held: 'green',
  damaged: 'red',
};

/** A size in the officer's locale, in bytes, kB, MB or GB (Intl's units). */
function useSize(): (n: number) => string {
  const intl = useIntl();
  return (n) => {
    const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
    let v = n;
    let u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return intl.formatNumber(v, {
      style: 'unit',
      unit: units[u],
      unitDisplay: 'short',
      maximumFractionDigits: 1,
    });
  };
}

/**
 * The documents of one item: name, role, language, size, where its transfer stands, who holds it
 * verified (sent items), and a link that downloads it, decrypted and checked by the node.
 */
export function DocumentsList({
  messageId,
  documents,
  heading = true,
}: {
  messageId: string;
  documents: readonly DocumentView[] | undefined;
  heading?: boolean;
}) {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const size = useSize();
  const titleId = useId();
  if (!documents?.length) return null;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={heading ? titleId : undefined}>
      <Stack gap="xs">
        {heading ? (
          <Title order={2} size="h4" id={titleId}>
            {t('documents.title')}
          </Title>
        ) : null}
        <Table data-testid="documents" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('documents.name')}</Table.Th>
              <Table.Th>{t('documents.role')}</Table.Th>
              <Table.Th>{t('documents.state')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {documents.map((d) => {
              const downloadable = d.state === 'held' || d.state === 'sealed' || d.state === 'uploaded';
              return (
                <Table.Tr key={d.blob} data-testid="document-row" data-state={d.state} data-role={d.role}>
                  <Table.Td>
                    <Stack gap={2}>
                      {downloadable ? (
                        <Anchor
                          href={documentUrl(messageId, d.blob)}
                          download={d.name}
                          data-testid="document-download"
                        >
                          <span dir="auto">{d.name}</span>
                        </Anchor>
                      ) : (
                        <Text size="sm" dir="auto">
                          {d.name}
                        </Text>
                      )}
                      <Text size="xs" c="dimmed">
                        {size(d.size)}
                        {d.language ? ` · ${code('language', d.language)}` : ''}
                      </Text>
                    </Stack>
                  </Table.Td>
                  <Table.Td>{code('fileRole', d.role)}</Table.Td>
                  <Table.Td>
                    <Stack gap={2}>
                      <Badge color={STATE_COLOURS[d.state]} variant="light" data-testid="document-state">
                        {code('documentState', d.state)}
                      </Badge>
                      {d.error ? <Text size="xs">{code('error', d.error)}</Text> : null}
                      {(d.downloadedBy ?? []).map((b) => (
                        <Text size="xs" key={b.node} data-testid="document-downloaded-by">
                          {t('documents.downloadedBy', { node: b.node, date: dateTime(b.at) })}
                        </Text>
                      ))}
                    </Stack>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Stack>
    </Paper>
  );
}
