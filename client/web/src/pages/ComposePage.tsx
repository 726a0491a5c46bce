import { Alert, Button, Group, Select, Stack, TagsInput, Textarea, TextInput } from '@mantine/core';
import { useMemo, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { AttachmentPicker, uploadsOf, type PickedFile } from '../components/AttachmentPicker.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { UnverifiedPrompt, unverifiedOf } from '../components/UnverifiedPrompt.tsx';
import { useLoad } from '../hooks.ts';
import { LOCALES, useCode, useLocale, useT } from '../i18n.tsx';
import { navigate, useRouteQuery } from '../router.ts';

/** A plain message to one or more authorities; an unverified counterpart is asked about first. */
export function ComposePage() {
  const t = useT();
  const code = useCode();
  const { locale } = useLocale();
  const query = useRouteQuery();
  const [to, setTo] = useState<string[]>(() =>
    (query.get('to') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const [subject, setSubject] = useState(query.get('subject') ?? '');
  const [body, setBody] = useState('');
  const [language, setLanguage] = useState<string>(locale);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [files, setFiles] = useState<PickedFile[]>([]);
  const uploading = files.some((f) => f.state !== 'done');
  const [touched, setTouched] = useState(false);
  const { data: counterpartData } = useLoad(() => api.counterparts(), 'counterparts');
  const suggestions = useMemo(
    () => (counterpartData?.counterparts ?? []).map((c) => c.authority).filter(Boolean),
    [counterpartData],
  );
  const unverified = unverifiedOf(error);

  const send = async (confirmed?: string[]) => {
    setBusy(true);
    try {
      const r = await api.send({
        to,
        subject,
        body,
        language,
        ...(confirmed ? { confirmed } : {}),
        ...(files.length > 0 ? { uploads: uploadsOf(files) } : {}),
      });
      const params = new URLSearchParams({ sent: r?.id ?? '', state: r?.state ?? 'sent' });
      window.location.hash = `#/sent?${params.toString()}`;
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (to.length === 0 || !subject.trim() || !body.trim() || uploading) return;
    setError(null);
    void send();
  };

  return (
    <Stack maw={860}>
      <PageHeading>{t('compose.title')}</PageHeading>
      <form onSubmit={submit} data-testid="compose-form" noValidate>
        <Stack>
          <TagsInput
            label={t('compose.to')}
            description={t('compose.toHint')}
            value={to}
            onChange={setTo}
            data={suggestions}
            splitChars={[',', ' ', ';']}
            acceptValueOnBlur
            clearable
            required
            error={touched && to.length === 0 ? t('compose.toMissing') : undefined}
            data-testid="compose-to"
          />
          <TextInput
            label={t('compose.subject')}
            value={subject}
            onChange={(e) => setSubject(e.currentTarget.value)}
            required
            maxLength={1000}
            error={touched && !subject.trim() ? t('compose.subjectMissing') : undefined}
            data-testid="compose-subject"
            dir="auto"
          />
          <Textarea
            label={t('compose.body')}
            value={body}
            onChange={(e) => setBody(e.currentTarget.value)}
            required
            autosize
            minRows={8}
            maxRows={24}
            error={touched && !body.trim() ? t('compose.bodyMissing') : undefined}
            data-testid="compose-body"
            dir="auto"
          />
          <Select
            label={t('compose.language')}
            value={language}
            onChange={(v) => v && setLanguage(v)}
            data={LOCALES.map((l) => ({ value: l, label: code('language', l) }))}
            allowDeselect={false}
            data-testid="compose-language"
            maw={280}
          />
          <AttachmentPicker
            files={files}
            onChange={(update) => setFiles((all) => update(all))}
            language={language}
          />
          {unverified ? (
            <UnverifiedPrompt
              unverified={unverified}
              busy={busy}
              onConfirm={(authorities) => void send(authorities)}
              onCancel={() => setError(null)}
            />
          ) : (
            <ErrorAlert error={error} onClose={() => setError(null)} />
          )}
          <Alert variant="light" color="gray">
            {t('compose.queueNote')}
          </Alert>
          <Group>
            <Button
              type="submit"
              loading={busy}
              disabled={!!unverified || uploading}
              data-testid="compose-send"
            >
              {t('compose.send')}
            </Button>
            <Button variant="default" onClick={() => navigate('inbox')}>
              {t('common.cancel')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
