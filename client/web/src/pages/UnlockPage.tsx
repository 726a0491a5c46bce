import { Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, type Session } from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { LanguagePicker } from '../components/LanguagePicker.tsx';
import { useT } from '../i18n.tsx';

const OFFICER_KEY = 'entraide.officer';

function keptOfficer(): string {
  try {
    return localStorage.getItem(OFFICER_KEY) ?? '';
  } catch {
    return '';
  }
}

/** The officer names themself and gives the node's passphrase; the page they were on comes back after. */
export function UnlockPage({
  onUnlocked,
  startError,
}: {
  onUnlocked: (s: Session) => void;
  startError?: unknown;
}) {
  const t = useT();
  const [officer, setOfficer] = useState(keptOfficer);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<unknown>(startError ?? null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!officer.trim() || !passphrase) return;
    setBusy(true);
    setError(null);
    try {
      const s = await api.unlock(officer.trim(), passphrase);
      try {
        localStorage.setItem(OFFICER_KEY, officer.trim());
      } catch {
        // not kept
      }
      setPassphrase('');
      onUnlocked(s);
    } catch (err) {
      setError(err);
      setPassphrase('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main-content">
      <Center mih="100vh" p="md">
        <Paper withBorder shadow="sm" p="xl" w="100%" maw={420} radius="md">
          <form onSubmit={submit} data-testid="unlock-form" noValidate>
            <Stack>
              <div>
                <Title order={1} size="h2">
                  {t('unlock.title')}
                </Title>
                <Text c="dimmed" size="sm" mt={4}>
                  {t('unlock.intro')}
                </Text>
              </div>
              <TextInput
                label={t('unlock.officer')}
                description={t('unlock.officerHint')}
                value={officer}
                onChange={(e) => setOfficer(e.currentTarget.value)}
                autoComplete="username"
                required
                data-testid="unlock-officer"
                autoFocus={!officer}
              />
              <PasswordInput
                label={t('unlock.passphrase')}
                value={passphrase}
                onChange={(e) => setPassphrase(e.currentTarget.value)}
                autoComplete="current-password"
                required
                data-testid="unlock-passphrase"
                autoFocus={!!officer}
                visibilityToggleButtonProps={{ 'aria-label': t('unlock.showPassphrase') }}
              />
              <ErrorAlert error={error} />
              <Button
                type="submit"
                loading={busy}
                disabled={!officer.trim() || !passphrase}
                data-testid="unlock-submit"
              >
                {t('unlock.submit')}
              </Button>
              <LanguagePicker />
            </Stack>
          </form>
        </Paper>
      </Center>
    </main>
  );
}
