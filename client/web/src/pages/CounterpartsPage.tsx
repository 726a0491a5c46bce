import {
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Paper,
  PasswordInput,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, type Counterpart, type Session } from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useCode, useDates, useT } from '../i18n.tsx';

/** Safety codes to compare by telephone, the key history of each counterpart, and this authority's nodes. */
export function CounterpartsPage({ session }: { session: Session }) {
  const t = useT();
  const changed = useChanged('keys');
  const { data, error, loading } = useLoad(() => api.counterparts(), changed);
  const [verifying, setVerifying] = useState<Counterpart | null>(null);
  const [history, setHistory] = useState<string | null>(null);
  const list = Array.isArray(data?.counterparts) ? data.counterparts : [];

  return (
    <Stack>
      <PageHeading>{t('keys.title')}</PageHeading>
      <section aria-labelledby="counterparts-title">
        <Title order={2} size="h3" id="counterparts-title" mb="xs">
          {t('keys.counterparts')}
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          {t('keys.explain')}
        </Text>
        <ErrorAlert error={error} />
        {loading && !data ? (
          <Skeleton h={120} />
        ) : list.length === 0 ? (
          <Text c="dimmed">{t('keys.none')}</Text>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table verticalSpacing="sm" data-testid="counterparts-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">{t('keys.authority')}</Table.Th>
                  <Table.Th scope="col">{t('keys.safetyCode')}</Table.Th>
                  <Table.Th scope="col">{t('keys.state')}</Table.Th>
                  <Table.Th scope="col">{t('keys.actions')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((c) => (
                  <CounterpartRow
                    key={c.authority}
                    c={c}
                    onVerify={() => setVerifying(c)}
                    onHistory={() => setHistory(c.authority)}
                  />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </section>
      <VerifyModal counterpart={verifying} onClose={() => setVerifying(null)} />
      <HistoryModal authority={history} onClose={() => setHistory(null)} />
      <NodesSection session={session} version={changed} />
    </Stack>
  );
}

function CounterpartRow({
  c,
  onVerify,
  onHistory,
}: {
  c: Counterpart;
  onVerify: () => void;
  onHistory: () => void;
}) {
  const t = useT();
  const { dateTime } = useDates();
  const state = c.state ?? (c.verifiedAt ? 'verified' : 'unverified');
  return (
    <Table.Tr data-testid="counterpart-row" data-authority={c.authority} data-state={state}>
      <Table.Td>
        <Text fw={600} dir="ltr">
          {c.authority}
        </Text>
        {c.keys ? (
          <Text size="xs" c="dimmed">
            {t('keys.summary', { nodes: c.keys.activeNodes ?? 0, events: c.keys.events ?? 0 })}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        <Code fz="md" dir="ltr" data-testid="safety-code">
          {c.safetyCode}
        </Code>
      </Table.Td>
      <Table.Td>
        <Badge
          color={state === 'verified' ? 'teal' : 'orange'}
          variant={state === 'verified' ? 'light' : 'outline'}
          data-testid="verification-state"
        >
          {t(`keys.state_${state === 'confirmed-unverified' ? 'confirmed' : state}`)}
        </Badge>
        {c.verifiedAt ? (
          <Text size="xs" c="dimmed">
            {dateTime(c.verifiedAt)}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        <Group gap="xs">
          {state !== 'verified' ? (
            <Button size="xs" onClick={onVerify} data-testid="verify-button">
              {t('keys.verify')}
            </Button>
          ) : null}
          <Button size="xs" variant="default" onClick={onHistory} data-testid="history-button">
            {t('keys.history')}
          </Button>
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

function VerifyModal({ counterpart, onClose }: { counterpart: Counterpart | null; onClose: () => void }) {
  const t = useT();
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const close = () => {
    setCode('');
    setError(null);
    setDone(false);
    onClose();
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!counterpart || !code.trim()) return;
    setBusy(true);
    try {
      await api.verify(counterpart.authority, code.trim());
      setDone(true);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      opened={counterpart !== null}
      onClose={close}
      title={counterpart ? t('keys.verifyTitle', { authority: counterpart.authority }) : ''}
      closeButtonProps={{ 'aria-label': t('common.close') }}
    >
      {counterpart ? (
        <form onSubmit={submit} noValidate data-testid="verify-form">
          <Stack>
            <Text size="sm">{t('keys.verifyHow', { authority: counterpart.authority })}</Text>
            <Paper withBorder p="sm">
              <Text size="xs" c="dimmed">
                {t('keys.yourView')}
              </Text>
              <Code fz="lg" dir="ltr">
                {counterpart.safetyCode}
              </Code>
            </Paper>
            <TextInput
              label={t('keys.codeHeard')}
              description={t('keys.codeHeardHint')}
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              required
              autoComplete="off"
              dir="ltr"
              data-autofocus
              data-testid="verify-code"
            />
            <ErrorAlert error={error} />
            {done ? (
              <Text c="teal.8" role="status" data-testid="verify-done">
                {t('keys.verified', { authority: counterpart.authority })}
              </Text>
            ) : null}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                {done ? t('common.close') : t('common.cancel')}
              </Button>
              {!done ? (
                <Button type="submit" loading={busy} disabled={!code.trim()} data-testid="verify-submit">
                  {t('keys.verifySubmit')}
                </Button>
              ) : null}
            </Group>
          </Stack>
        </form>
      ) : null}
    </Modal>
  );
}

function HistoryModal({ authority, onClose }: { authority: string | null; onClose: () => void }) {
  const t = useT();
  return (
    <Modal
      opened={authority !== null}
      onClose={onClose}
      size="xl"
      title={authority ? t('keys.historyTitle', { authority }) : ''}
      closeButtonProps={{ 'aria-label': t('common.close') }}
    >
      {authority ? <HistoryBody authority={authority} /> : null}
    </Modal>
  );
}

function HistoryBody({ authority }: { authority: string }) {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const { data, error, loading } = useLoad(() => api.keyHistory(authority), authority);
  if (loading && !data) return <Skeleton h={120} />;
  if (!data) return <ErrorAlert error={error} />;
  const events = Array.isArray(data.events) ? data.events : [];
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table data-testid="key-history">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">#</Table.Th>
            <Table.Th scope="col">{t('keys.when')}</Table.Th>
            <Table.Th scope="col">{t('keys.event')}</Table.Th>
            <Table.Th scope="col">{t('keys.accepted')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {events.map((e) => (
            <Table.Tr key={e.index}>
              <Table.Td>{e.index}</Table.Td>
              <Table.Td>{dateTime(e.loggedAt)}</Table.Td>
              <Table.Td>
                <Text size="sm">{e.summary}</Text>
                {e.node ? (
                  <Text size="xs" c="dimmed" dir="ltr">
                    {e.node}
                  </Text>
                ) : null}
              </Table.Td>
              <Table.Td>
                <Badge color={e.accepted ? 'teal' : 'red'} variant="light">
                  {e.accepted ? t('keys.yes') : t('keys.refused')}
                </Badge>
                {!e.accepted && e.code ? (
                  <Text size="xs" c="red.8">
                    {code('error', e.code)}
                  </Text>
                ) : null}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function NodesSection({ session, version }: { session: Session; version: string }) {
  const t = useT();
  const { dateTime } = useDates();
  const { data, error, loading, reload } = useLoad(() => api.nodes(), version);
  const [approve, setApprove] = useState<string | null>(null);
  const [revoke, setRevoke] = useState<string | null>(null);
  const nodes = Array.isArray(data?.nodes) ? data.nodes : [];
  const pending = Array.isArray(data?.pending) ? data.pending : [];
  return (
    <section aria-labelledby="nodes-title">
      <Title order={2} size="h3" id="nodes-title" mb="xs">
        {t('nodes.title', { authority: session.node?.authority ?? '' })}
      </Title>
      <ErrorAlert error={error} />
      {loading && !data ? <Skeleton h={80} /> : null}
      {data && !data.holdsMasterKey ? (
        <Text size="sm" c="dimmed" mb="xs">
          {t('nodes.noMasterKey')}
        </Text>
      ) : null}
      {nodes.length ? (
        <Table.ScrollContainer minWidth={560}>
          <Table data-testid="nodes-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">{t('nodes.node')}</Table.Th>
                <Table.Th scope="col">{t('nodes.state')}</Table.Th>
                <Table.Th scope="col">{t('keys.actions')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {nodes.map((n) => (
                <Table.Tr key={n.node} data-testid="node-row" data-state={n.state}>
                  <Table.Td>
                    <Text size="sm" dir="ltr">
                      {n.node}
                    </Text>
                    {n.thisNode ? (
                      <Badge size="xs" variant="light">
                        {t('nodes.thisNode')}
                      </Badge>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Badge color={n.state === 'active' ? 'teal' : 'gray'} variant="light">
                      {t(`nodes.state_${n.state === 'revoked' ? 'revoked' : 'active'}`)}
                    </Badge>
                    {n.revokedAt ? (
                      <Text size="xs" c="dimmed">
                        {dateTime(n.revokedAt)}
                        {n.revokeReason ? ` — ${n.revokeReason}` : ''}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    {n.state === 'active' && !n.thisNode && data?.holdsMasterKey ? (
                      <Button
                        size="xs"
                        color="red"
                        variant="outline"
                        onClick={() => setRevoke(n.node)}
                        data-testid="revoke-button"
                      >
                        {t('nodes.revoke')}
                      </Button>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      <Title order={3} size="h4" mt="md" mb="xs">
        {t('nodes.pending')}
      </Title>
      {pending.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('nodes.noPending')}
        </Text>
      ) : (
        <Stack gap="xs">
          {pending.map((p) => (
            <Paper key={p.code} withBorder p="sm" data-testid="pending-row">
              <Group justify="space-between">
                <div>
                  <Text size="sm" dir="ltr">
                    {p.node}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {t('nodes.expires', { at: dateTime(p.expiresAt) })}
                  </Text>
                </div>
                <Group gap="xs">
                  <Button size="xs" onClick={() => setApprove(p.code)} data-testid="approve-button">
                    {t('nodes.approve')}
                  </Button>
                  <RejectButton code={p.code} onDone={reload} />
                </Group>
              </Group>
            </Paper>
          ))}
        </Stack>
      )}
      <ApproveForm
        title={t('nodes.approveTitle')}
        opened={approve !== null}
        withCode
        initialCode={approve ?? ''}
        onClose={() => setApprove(null)}
        run={(code, pass) => api.approveNode(code, pass)}
        onDone={reload}
      />
      <ApproveForm
        title={t('nodes.revokeTitle', { node: revoke ?? '' })}
        opened={revoke !== null}
        withReason
        onClose={() => setRevoke(null)}
        run={(_code, pass, reason) => api.revokeNode(revoke ?? '', pass, reason)}
        onDone={reload}
        danger
      />
    </section>
  );
}

function RejectButton({ code, onDone }: { code: string; onDone: () => void }) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  return (
    <Button
      size="xs"
      variant="default"
      loading={busy}
      onClick={() => {
        setBusy(true);
        api
          .rejectNode(code)
          .then(onDone, () => undefined)
          .finally(() => setBusy(false));
      }}
    >
      {t('nodes.reject')}
    </Button>
  );
}

/** Approving or revoking a node uses the authority's master key: the passphrase is asked again. */
function ApproveForm({
  title,
  opened,
  withCode,
  withReason,
  initialCode = '',
  onClose,
  run,
  onDone,
  danger,
}: {
  title: string;
  opened: boolean;
  withCode?: boolean;
  withReason?: boolean;
  initialCode?: string;
  onClose: () => void;
  run: (code: string, passphrase: string, reason?: string) => Promise<unknown>;
  onDone: () => void;
  danger?: boolean;
}) {
  const t = useT();
  const [code, setCode] = useState(initialCode);
  const [pass, setPass] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [seenCode, setSeenCode] = useState(initialCode);
  if (seenCode !== initialCode) {
    setSeenCode(initialCode);
    setCode(initialCode);
  }
  const close = () => {
    setPass('');
    setReason('');
    setError(null);
    onClose();
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!pass || (withCode && !code.trim())) return;
    setBusy(true);
    try {
      await run(code.trim(), pass, reason.trim() || undefined);
      setPass('');
      onDone();
      close();
    } catch (err) {
      setError(err);
      setPass('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      opened={opened}
      onClose={close}
      title={title}
      closeButtonProps={{ 'aria-label': t('common.close') }}
    >
      <form onSubmit={submit} noValidate data-testid="passphrase-form">
        <Stack>
          {withCode ? (
            <TextInput
              label={t('nodes.joinCode')}
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              required
              dir="ltr"
              autoComplete="off"
            />
          ) : null}
          {withReason ? (
            <TextInput
              label={t('nodes.reason')}
              value={reason}
              onChange={(e) => setReason(e.currentTarget.value)}
              maxLength={500}
            />
          ) : null}
          <PasswordInput
            label={t('nodes.passphrase')}
            description={t('nodes.passphraseHint')}
            value={pass}
            onChange={(e) => setPass(e.currentTarget.value)}
            required
            autoComplete="current-password"
            data-autofocus
            data-testid="master-passphrase"
            visibilityToggleButtonProps={{ 'aria-label': t('unlock.showPassphrase') }}
          />
          <ErrorAlert error={error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              {t('common.cancel')}
            </Button>
            <Button
              type="submit"
              loading={busy}
              color={danger ? 'red' : undefined}
              disabled={!pass}
              data-testid="passphrase-submit"
            >
              {t('common.confirm')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
