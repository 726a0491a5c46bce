import { Button, FileButton, Group, Paper, Progress, Select, Stack, Text } from '@mantine/core';
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { useIntl } from 'react-intl';
import { Upload } from 'tus-js-client';
import { FILE_ROLES } from '../../../../shared/files/roles.ts';
import { UPLOADS_URL } from '../api-documents.ts';
import { LOCALES, useCode, useT } from '../i18n.tsx';

/** A file on its way: uploaded to the node's service (tus), which seals it as it arrives. */
export interface PickedFile {
  key: string;
  name: string;
  size: number;
  sent: number;
  state: 'uploading' | 'paused' | 'done' | 'failed';
  /** The service's upload id, once it exists. */
  id?: string;
  role: string;
  language: string;
}

/** The files picked so far, and what the item that sends them names: each upload with its role and language. */
export function uploadsOf(files: readonly PickedFile[]): { id: string; role: string; language: string }[] {
  return files.map((f) => ({ id: f.id!, role: f.role, language: f.language }));
}

/**
 * Drop files here, or choose them with the keyboard; each uploads at once with its progress, and
 * can be paused and resumed (from the bytes the service holds) or removed.
 */
export function AttachmentPicker({
  files,
  onChange,
  language,
  defaultRole = 'supporting_document',
}: {
  files: PickedFile[];
  onChange: (update: (files: PickedFile[]) => PickedFile[]) => void;
  language: string;
  /** The role a new file starts with (execution_result for the evidence of executed). */
  defaultRole?: string;
}) {
  const t = useT();
  const code = useCode();
  const intl = useIntl();
  const uploads = useRef(new Map<string, Upload>());
  const [over, setOver] = useState(false);
  useEffect(() => {
    const current = uploads.current;
    return () => {
      for (const u of current.values()) void u.abort();
    };
  }, []);

  const patch = (key: string, change: Partial<PickedFile>) =>
    onChange((all) => all.map((f) => (f.key === key ? { ...f, ...change } : f)));

  const add = (picked: readonly File[]) => {
    for (const file of picked) {
      const key = `${file.name}:${file.size}:${Math.random().toString(36).slice(2)}`;
      const upload = new Upload(file, {
        endpoint: UPLOADS_URL,
        chunkSize: 4 * 1024 * 1024,
        retryDelays: [0, 1000, 3000],
        metadata: { filename: file.name, filetype: file.type },
        storeFingerprintForResuming: false,
        onProgress: (sent) => patch(key, { sent }),
        onSuccess: () => patch(key, { state: 'done', sent: file.size, id: idOf(upload.url) }),
        onError: () => patch(key, { state: 'failed' }),
        onAfterResponse: () => {
          if (upload.url) patch(key, { id: idOf(upload.url) });
        },
      });
      uploads.current.set(key, upload);
      onChange((all) => [
        ...all,
        {
          key,
          name: file.name,
          size: file.size,
          sent: 0,
          state: 'uploading',
          role: defaultRole,
          language,
        },
      ]);
      upload.start();
    }
  };

  const pause = (key: string) => {
    void uploads.current.get(key)?.abort();
    patch(key, { state: 'paused' });
  };
  const resume = (key: string) => {
    uploads.current.get(key)?.start();
    patch(key, { state: 'uploading' });
  };
  const remove = (key: string) => {
    void uploads.current.get(key)?.abort(true);
    uploads.current.delete(key);
    onChange((all) => all.filter((f) => f.key !== key));
  };

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    add([...e.dataTransfer.files]);
  };

  return (
    <Stack gap="xs">
      <Paper
        withBorder
        p="md"
        data-testid="attach-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
        style={{ borderStyle: 'dashed', background: over ? 'var(--mantine-color-blue-light)' : undefined }}
      >
        <Group justify="space-between">
          <Text size="sm">{t('attach.drop')}</Text>
          <FileButton
            onChange={(f) => add(f)}
            multiple
            inputProps={{ 'data-testid': 'attach-input' } as object}
          >
            {(props) => (
              <Button variant="default" {...props} data-testid="attach-choose">
                {t('attach.choose')}
              </Button>
            )}
          </FileButton>
        </Group>
      </Paper>
      {files.map((f) => {
        const share = f.size === 0 ? 100 : Math.floor((f.sent / f.size) * 100);
        return (
          <Paper withBorder p="sm" key={f.key} data-testid="attach-row" data-state={f.state}>
            <Stack gap={6}>
              <Group justify="space-between" wrap="nowrap">
                <Text size="sm" dir="auto" style={{ overflowWrap: 'anywhere' }}>
                  {f.name}
                </Text>
                <Text size="xs" c="dimmed">
                  {intl.formatNumber(share / 100, { style: 'percent' })}
                </Text>
              </Group>
              <Progress
                value={share}
                aria-label={t('attach.progress', { name: f.name })}
                color={f.state === 'failed' ? 'red' : f.state === 'done' ? 'green' : 'blue'}
              />
              <Group gap="xs" wrap="wrap">
                <Select
                  size="xs"
                  label={t('attach.role')}
                  value={f.role}
                  onChange={(v) => v && patch(f.key, { role: v })}
                  data={FILE_ROLES.map((r) => ({ value: r, label: code('fileRole', r) }))}
                  allowDeselect={false}
                  data-testid="attach-role"
                  maw={260}
                />
                <Select
                  size="xs"
                  label={t('attach.language')}
                  value={f.language}
                  onChange={(v) => v && patch(f.key, { language: v })}
                  data={LOCALES.map((l) => ({ value: l, label: code('language', l) }))}
                  allowDeselect={false}
                  maw={200}
                />
                {f.state === 'uploading' ? (
                  <Button size="xs" variant="default" onClick={() => pause(f.key)} data-testid="attach-pause">
                    {t('attach.pause')}
                  </Button>
                ) : null}
                {f.state === 'paused' || f.state === 'failed' ? (
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => resume(f.key)}
                    data-testid="attach-resume"
                  >
                    {t('attach.resume')}
                  </Button>
                ) : null}
                <Button size="xs" variant="subtle" color="red" onClick={() => remove(f.key)}>
                  {t('attach.remove')}
                </Button>
              </Group>
            </Stack>
          </Paper>
        );
      })}
    </Stack>
  );
}

function idOf(url: string | null): string | undefined {
  return url ? decodeURIComponent(url.split('/').pop() ?? '') || undefined : undefined;
}
