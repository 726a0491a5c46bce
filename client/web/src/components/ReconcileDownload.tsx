/** The two files of a reconciliation: the report as JSON, the differences as CSV. */
import { Button, Group } from '@mantine/core';
import { useT } from '../i18n.tsx';
import { saveFile } from '../reconcile-files.ts';

export function ReconcileDownload({
  name,
  report,
  csv,
  testId,
}: {
  /** The files' name, without extension. */
  name: string;
  report: unknown;
  csv: () => string;
  testId: string;
}) {
  const t = useT();
  return (
    <Group gap="sm" wrap="wrap">
      <Button
        variant="light"
        onClick={() => saveFile(`${name}.json`, JSON.stringify(report, null, 2) + '\n', 'application/json')}
        data-testid={`${testId}-json`}
      >
        {t('audit.reconcile.download.json')}
      </Button>
      <Button
        variant="light"
        onClick={() => saveFile(`${name}.csv`, csv(), 'text/csv')}
        data-testid={`${testId}-csv`}
      >
        {t('audit.reconcile.download.csv')}
      </Button>
    </Group>
  );
}
