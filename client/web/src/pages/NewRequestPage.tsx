import {
  Alert,
  Autocomplete,
  Button,
  Group,
  List,
  Paper,
  Select,
  Skeleton,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, ApiError, type Warning } from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { prune, SchemaField, setIn, type Json } from '../components/SchemaForm.tsx';
import { UnverifiedPrompt, unverifiedOf } from '../components/UnverifiedPrompt.tsx';
import { useDebounced, useLoad } from '../hooks.ts';
import { useCode, useLocale, useT, useWarningText } from '../i18n.tsx';
import { navigate } from '../router.ts';

/** A new request: the type, the requested authority, then a form derived from the draft's schema. */
export function NewRequestPage() {
  const t = useT();
  const code = useCode();
  const { locale } = useLocale();
  const types = useLoad(() => api.requestTypes(), 'types');
  const counterparts = useLoad(() => api.counterparts(), 'counterparts');
  const [type, setType] = useState<string | null>(null);
  const [to, setTo] = useState('');
  const [draft, setDraft] = useState<Json>({ language: locale });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<'save' | 'send' | null>(null);
  const [check, setCheck] = useState<{
    warnings: Warning[];
    invalid: string | null;
    checked: boolean;
    of?: string;
  }>({
    warnings: [],
    invalid: null,
    checked: false,
  });

  const schema = types.data?.draftSchema;
  const cleaned = useMemo(() => prune(schema, draft) ?? {}, [schema, draft]);
  const settled = useDebounced(JSON.stringify(cleaned), 500);

  // Completeness, live: what a counterpart would send the request back for.
  useEffect(() => {
    if (!type) return;
    let live = true;
    api.checkRequest(type, JSON.parse(settled)).then(
      (r) =>
        live &&
        setCheck({
          warnings: Array.isArray(r?.warnings) ? r.warnings : [],
          invalid: r?.invalid ? r.invalid.message : null,
          checked: true,
          of: settled,
        }),
      (err: unknown) =>
        live &&
        setCheck({
          warnings: [],
          invalid: err instanceof ApiError ? err.message : String(err),
          checked: true,
          of: settled,
        }),
    );
    return () => {
      live = false;
    };
  }, [type, settled]);

  const onChange = useCallback(
    (path: (string | number)[], value: Json | undefined) => setDraft((d) => setIn(d, path, value)),
    [],
  );
  const warningText = useWarningText();
  const problems = useMemo(() => {
    const out: Record<string, string> = {};
    for (const w of check.warnings) if (w.field && !out[w.field]) out[w.field] = warningText(w);
    return out;
  }, [check.warnings, warningText]);

  const submit = async (send: boolean, confirmed?: string[]) => {
    if (!type || !to.trim()) return;
    setBusy(send ? 'send' : 'save');
    try {
      let despite = false;
      if (send) {
        // The check shown may be a keystroke behind: the officer sends despite warnings only
        // when the warnings are those on screen.
        const fresh = await api.checkRequest(type, cleaned);
        const shown = check.warnings.map((w) => w.code + w.field).join();
        if (fresh.warnings.map((w) => w.code + w.field).join() !== shown) {
          setCheck({
            warnings: fresh.warnings,
            invalid: fresh.invalid?.message ?? null,
            checked: true,
            of: JSON.stringify(cleaned),
          });
          if (fresh.warnings.length > 0) return;
        }
        despite = fresh.warnings.length > 0;
      }
      const r = await api.createRequest({
        type,
        to: to.trim(),
        draft: cleaned,
        send,
        ...(despite ? { despiteWarnings: true } : {}),
        ...(confirmed ? { confirmed } : {}),
      });
      navigate('requests', r.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const unverified = unverifiedOf(error);

  if (types.loading && !types.data) return <Skeleton h={300} />;
  if (!types.data) return <ErrorAlert error={types.error} />;

  const typeOptions = (types.data.types ?? []).map((x) => ({
    value: x.type,
    label: code('requestType', x.type),
  }));
  const authorities = (counterparts.data?.counterparts ?? []).map((c) => c.authority);

  return (
    <Stack maw={900}>
      <PageHeading>{t('newRequest.title')}</PageHeading>
      <form
        noValidate
        data-testid="new-request-form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setError(null);
          void submit(false);
        }}
      >
        <Stack>
          <Group grow align="flex-start" wrap="wrap">
            <Select
              label={t('newRequest.type')}
              value={type}
              onChange={setType}
              data={typeOptions}
              required
              searchable
              data-testid="request-type"
              miw={260}
            />
            <Autocomplete
              label={t('newRequest.to')}
              description={t('newRequest.toHint')}
              value={to}
              onChange={setTo}
              data={authorities}
              required
              data-testid="request-to"
              miw={260}
            />
          </Group>
          {type && schema ? (
            <>
              <SchemaField
                schema={schema}
                path={[]}
                value={draft}
                required
                onChange={onChange}
                problems={problems}
              />
              <Paper withBorder p="md" role="region" aria-labelledby="warnings-title" data-testid="warnings">
                <Title order={2} size="h4" id="warnings-title" mb="xs">
                  {t('newRequest.warningsTitle')}
                </Title>
                <div aria-live="polite">
                  {check.invalid ? (
                    <Text size="sm" c="red.9" data-testid="draft-invalid">
                      {t('newRequest.notYetValid')} <span className="plain-text">{check.invalid}</span>
                    </Text>
                  ) : check.warnings.length === 0 ? (
                    <Text size="sm" c="teal.8" data-testid="no-warnings">
                      {check.checked ? t('newRequest.complete') : t('common.loading')}
                    </Text>
                  ) : (
                    <List size="sm" spacing={4}>
                      {check.warnings.map((w) => (
                        <List.Item key={`${w.code}:${w.field}`} data-testid="warning" data-code={w.code}>
                          {warningText(w)}
                        </List.Item>
                      ))}
                    </List>
                  )}
                </div>
              </Paper>
            </>
          ) : (
            <Alert variant="light">{t('newRequest.pickType')}</Alert>
          )}
          {unverified ? (
            <UnverifiedPrompt
              unverified={unverified}
              busy={busy === 'send'}
              onConfirm={(a) => void submit(true, a)}
              onCancel={() => setError(null)}
            />
          ) : (
            <ErrorAlert error={error} onClose={() => setError(null)} />
          )}
          <Group>
            <Button
              type="submit"
              variant="default"
              loading={busy === 'save'}
              disabled={!type || !to.trim() || busy !== null}
              data-testid="save-draft"
            >
              {t('newRequest.saveDraft')}
            </Button>
            <Button
              loading={busy === 'send'}
              disabled={!type || !to.trim() || busy !== null || !!unverified}
              onClick={() => {
                setError(null);
                void submit(true);
              }}
              color={check.warnings.length ? 'orange' : undefined}
              data-testid="send-request"
              data-checked={check.of === JSON.stringify(cleaned) ? 'current' : 'behind'}
            >
              {check.warnings.length
                ? t('newRequest.sendDespite', { count: check.warnings.length })
                : t('newRequest.send')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
