import { Fieldset, List, Stack, Text } from '@mantine/core';
import { useCode, useLocale } from '../i18n.tsx';
import { KIND_BY_PATH, labelPath, useLabel } from './SchemaForm.tsx';

/** A request's content, read only: every field with its label, text as text (never HTML). */
export function ContentView({ value, path = [] }: { value: unknown; path?: (string | number)[] }) {
  const label = useLabel();
  const code = useCode();
  const { locale } = useLocale();
  if (value === null || value === undefined || value === '') return null;
  if (Array.isArray(value)) {
    if (value.length === 0) return null;
    const simple = value.every((v) => typeof v !== 'object' || v === null);
    return simple ? (
      <List size="sm" spacing={2}>
        {value.map((v, i) => (
          <List.Item key={i}>
            <ContentView value={v} path={[...path, i]} />
          </List.Item>
        ))}
      </List>
    ) : (
      <Stack gap="xs">
        {value.map((v, i) => (
          <Fieldset key={i} variant="filled" p="xs" legend={`${label(path)} ${i + 1}`}>
            <ContentView value={v} path={[...path, i]} />
          </Fieldset>
        ))}
      </Stack>
    );
  }
  if (typeof value === 'object') {
    return (
      <Stack gap={6}>
        {Object.entries(value as Record<string, unknown>).map(([k, v]) =>
          v === null || v === undefined || v === '' ? null : (
            <div key={k}>
              <Text size="xs" c="dimmed" fw={600}>
                {label([...path, k])}
              </Text>
              <ContentView value={v} path={[...path, k]} />
            </div>
          ),
        )}
      </Stack>
    );
  }
  if (typeof value === 'boolean') return <Text size="sm">{value ? '✓' : '✗'}</Text>;
  const kind = KIND_BY_PATH[labelPath(path)];
  // A request's languages are ISO 639 codes: the browser names them in the officer's language.
  if (path[path.length - 1] === 'language' && typeof value === 'string') {
    const name = new Intl.DisplayNames([locale], { type: 'language', fallback: 'code' }).of(value);
    return <Text size="sm">{name && name !== value ? `${name} (${value})` : value}</Text>;
  }
  return (
    <Text size="sm" className="plain-text" dir="auto" component="div">
      {kind ? code(kind, String(value)) : String(value)}
    </Text>
  );
}
