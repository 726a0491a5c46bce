import { DocumentsList } from '../components/Documents.tsx';
import {
  Badge,
  Button,
  Code,
  Grid,
  Group,
  Modal,
  Paper,
  Skeleton,
  Stack,
  Table,
  Text,
  Textarea,
  Timeline,
  Title,
} from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, type ActionsView, type ActionView, type RequestDetail, type StoryEntry } from '../api.ts';
import { StatusModal } from '../components/StatusModal.tsx';
import { FlagBadges, StatusBadge } from '../components/Badges.tsx';
import { ContentView } from '../components/ContentView.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { UnverifiedPrompt, unverifiedOf } from '../components/UnverifiedPrompt.tsx';
import { useChanged, useLoad } from '../hooks.ts';
import { useCode, useDates, useT, useWarningText } from '../i18n.tsx';

// Its documents have a section of their own.
const OMIT_FROM_CONTENT = new Set(['type', 'id', 'requestType', 'title', 'files', 'measures']);

export function RequestPage({ id }: { id: string }) {
  const t = useT();
  const warningText = useWarningText();
  const code = useCode();
  const { date, dateTime } = useDates();
  const changed = useChanged('requests');
  const detail = useLoad(() => api.request(id), `${id}|${changed}`);
  const actions = useLoad(() => api.actions(id), `${id}|${changed}`);
  const r = detail.data;

  if (detail.loading && !r) return <Skeleton h={300} aria-label={t('common.loading')} />;
  if (!r) return <ErrorAlert error={detail.error} />;
  const content = r.content && typeof r.content === 'object' ? r.content : {};
  const refresh = () => {
    detail.reload();
    actions.reload();
  };

  return (
    <Stack>
      <PageHeading>
        <span dir="auto" data-testid="request-title">
          {r.title || r.id}
        </span>
      </PageHeading>
      <Paper withBorder p="md" data-testid="request-header">
        <Grid>
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <Field label={t('requests.type')}>{code('requestType', r.requestType)}</Field>
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <Field label={t('requests.counterpart')}>
              <span dir="ltr">{r.counterpart}</span>{' '}
              <Text span size="xs" c="dimmed">
                ({t(r.direction === 'in' ? 'requests.received' : 'requests.sentOut')})
              </Text>
            </Field>
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <Field label={t('requests.status')}>
              <Group gap={4}>
                <StatusBadge status={r.state} />
                <FlagBadges flags={r.flags} />
              </Group>
            </Field>
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <Field label={t('requests.deadline')}>{date(r.deadline) || '—'}</Field>
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <Field label={t('request.urgency')}>{code('urgency', r.urgency)}</Field>
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <Field label={t('request.referenceRequesting')}>{r.references?.requesting ?? '—'}</Field>
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <Field label={t('request.referenceRequested')}>{r.references?.requested ?? '—'}</Field>
          </Grid.Col>
        </Grid>
      </Paper>

      <section aria-labelledby="actions-title">
        <Title order={2} size="h3" id="actions-title" mb="xs">
          {t('request.actions')}
        </Title>
        <ActionsPanel detail={r} actions={actions.data} error={actions.error} onDone={refresh} />
      </section>

      {r.warnings?.length ? (
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="xs">
            {t('newRequest.warningsTitle')}
          </Title>
          <Stack gap={2}>
            {r.warnings.map((w) => (
              <Text key={`${w.code}:${w.field}`} size="sm">
                {warningText(w)}
              </Text>
            ))}
          </Stack>
        </Paper>
      ) : null}

      <section aria-labelledby="story-title">
        <Title order={2} size="h3" id="story-title" mb="xs">
          {t('request.story')}
        </Title>
        <Story detail={r} />
      </section>

      {r.documents?.length ? (
        <section aria-labelledby="documents-title" data-testid="request-documents">
          <Title order={2} size="h3" id="documents-title" mb="xs">
            {t('documents.title')}
          </Title>
          <Stack gap="sm">
            {r.documents.map((item) => (
              <Stack gap={4} key={item.envelope}>
                <Text size="sm" c="dimmed">
                  {item.what === 'status' ? t('story.status') : t(`story.${item.what}`)} · {dateTime(item.at)}
                </Text>
                <DocumentsList messageId={item.envelope} documents={item.files} heading={false} />
              </Stack>
            ))}
          </Stack>
        </section>
      ) : null}

      {r.measures?.length ? (
        <section aria-labelledby="measures-title" data-testid="request-measures">
          <Title order={2} size="h3" id="measures-title" mb="xs">
            {t('request.measures')}
          </Title>
          <Table withTableBorder>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>#</Table.Th>
                <Table.Th>{t('field.measures.kind')}</Table.Th>
                <Table.Th>{t('field.measures.description')}</Table.Th>
                <Table.Th>{t('request.measureState')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {r.measures.map((m, i) => (
                <Table.Tr key={i} data-testid="measure-row" data-state={m.state}>
                  <Table.Td>{i + 1}</Table.Td>
                  <Table.Td>{code('measureKind', m.kind)}</Table.Td>
                  <Table.Td dir="auto">{m.description}</Table.Td>
                  <Table.Td>{code('measureState', m.state)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </section>
      ) : null}

      <section aria-labelledby="content-title">
        <Title order={2} size="h3" id="content-title" mb="xs">
          {t('request.content')}
        </Title>
        <Paper withBorder p="md" data-testid="request-content">
          <ContentView
            value={Object.fromEntries(Object.entries(content).filter(([k]) => !OMIT_FROM_CONTENT.has(k)))}
          />
        </Paper>
      </section>

      {r.direction === 'out' && r.state !== 'draft' ? (
        <section aria-labelledby="evidence-title">
          <Title order={2} size="h3" id="evidence-title" mb="xs">
            {t('request.evidence')}
          </Title>
          <EvidencePanel id={r.id} version={changed} />
        </section>
      ) : null}
    </Stack>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600}>
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  );
}

function Story({ detail }: { detail: RequestDetail }) {
  const t = useT();
  const code = useCode();
  const { dateTime } = useDates();
  const story = Array.isArray(detail.story) ? detail.story : [];
  if (story.length === 0) return <Text c="dimmed">{t('request.noStory')}</Text>;
  return (
    <Timeline active={story.length - 1} bulletSize={18} lineWidth={2} data-testid="story">
      {story.map((s, i) => (
        <Timeline.Item
          key={`${s.at}:${i}`}
          data-testid="story-entry"
          data-what={s.what}
          data-status={s.what === 'status' ? (s.status ?? undefined) : undefined}
          color={s.standing ? 'gray' : s.status === 'refused' ? 'red' : undefined}
          title={
            <Group gap="xs">
              <Text fw={600} size="sm">
                {s.what === 'status' && s.status ? code('status', s.status) : t(`story.${s.what}`)}
              </Text>
              {s.standing ? (
                <Badge size="xs" color="gray" variant="outline">
                  {t('story.notApplied')}
                </Badge>
              ) : null}
            </Group>
          }
        >
          <Text size="xs" c="dimmed">
            {dateTime(s.at)} · <span dir="ltr">{s.by}</span>
          </Text>
          <StoryText entry={s} />
          {s.standing ? (
            <Text size="xs" c="dimmed" mt={2}>
              {s.standing}
            </Text>
          ) : null}
        </Timeline.Item>
      ))}
    </Timeline>
  );
}

/**
 * What a step says, in the officer's language: the node's words (`text`, English, made for the
 * CLI) only for messages and supplements, whose text an officer wrote.
 */
function StoryText({ entry: s }: { entry: StoryEntry }) {
  const t = useT();
  const code = useCode();
  const parts: ReactNode[] = [];
  if (s.what === 'sent' && s.to) parts.push(t('story.sentTo', { authority: s.to }));
  if (s.what === 'status') {
    if (s.ground) parts.push(code('refusalGround', s.ground));
    if (s.reference) parts.push(t('story.reference', { reference: s.reference }));
    if (s.withoutConsultation) parts.push(t('story.withoutConsultation', { reason: s.withoutConsultation }));
  }
  const words =
    s.what === 'message' || s.what === 'supplement' ? s.text : s.what === 'status' ? s.note : null;
  if (parts.length === 0 && !words) return null;
  return (
    <Text size="sm" dir="auto" mt={4} component="div">
      {parts.length ? <div>{parts.join(' · ')}</div> : null}
      {words ? <div className="plain-text">{words}</div> : null}
    </Text>
  );
}

function ActionsPanel({
  detail,
  actions,
  error,
  onDone,
}: {
  detail: RequestDetail;
  actions: ActionsView | undefined;
  error: unknown;
  onDone: () => void;
}) {
  const t = useT();
  const code = useCode();
  const [open, setOpen] = useState<ActionView | null>(null);
  const [panel, setPanel] = useState<'supplement' | 'message' | null>(null);
  const [sendError, setSendError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);

  const sendDraft = async (confirmed?: string[]) => {
    setSending(true);
    try {
      await api.sendRequest(detail.id, { despiteWarnings: true, ...(confirmed ? { confirmed } : {}) });
      setSendError(null);
      onDone();
    } catch (err) {
      setSendError(err);
    } finally {
      setSending(false);
    }
  };
  const unverified = unverifiedOf(sendError);

  if (!actions) return error ? <ErrorAlert error={error} /> : null;
  const list = Array.isArray(actions.actions) ? actions.actions : [];
  const nothing = !actions.draft && list.length === 0 && !actions.supplement && !actions.message;
  return (
    <Stack gap="sm">
      {nothing ? (
        <Text c="dimmed" size="sm">
          {actions.final ? t('request.final') : t('request.nothingToDo')}
        </Text>
      ) : null}
      <Group gap="sm">
        {actions.draft ? (
          <Button loading={sending} onClick={() => void sendDraft()} data-testid="action-send">
            {t('request.sendDraft')}
          </Button>
        ) : null}
        {list.map((a) => (
          <Button
            key={a.status}
            variant={a.status === 'refused' || a.status === 'withdrawn' ? 'outline' : 'light'}
            color={a.status === 'refused' || a.status === 'withdrawn' ? 'red' : undefined}
            onClick={() => setOpen(a)}
            data-testid={`action-${a.status}`}
          >
            {code('status', a.status)}
          </Button>
        ))}
        {actions.supplement ? (
          <Button variant="default" onClick={() => setPanel('supplement')} data-testid="action-supplement">
            {t('request.supplement')}
          </Button>
        ) : null}
        {actions.message ? (
          <Button variant="default" onClick={() => setPanel('message')} data-testid="action-message">
            {t('request.message')}
          </Button>
        ) : null}
      </Group>
      {unverified ? (
        <UnverifiedPrompt
          unverified={unverified}
          busy={sending}
          onConfirm={(a) => void sendDraft(a)}
          onCancel={() => setSendError(null)}
        />
      ) : (
        <ErrorAlert error={sendError} onClose={() => setSendError(null)} />
      )}
      <StatusModal
        id={detail.id}
        action={open}
        onClose={() => setOpen(null)}
        onDone={() => {
          setOpen(null);
          onDone();
        }}
      />
      <TextModal
        id={detail.id}
        kind={panel}
        onClose={() => setPanel(null)}
        onDone={() => {
          setPanel(null);
          onDone();
        }}
      />
    </Stack>
  );
}

function TextModal({
  id,
  kind,
  onClose,
  onDone,
}: {
  id: string;
  kind: 'supplement' | 'message' | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const t = useT();
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!kind || !text.trim()) return;
    setBusy(true);
    try {
      if (kind === 'supplement') await api.supplement(id, { text });
      else await api.requestMessage(id, { body: text });
      setText('');
      setError(null);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      opened={kind !== null}
      onClose={onClose}
      title={kind === 'supplement' ? t('request.supplement') : t('request.message')}
      size="lg"
      closeButtonProps={{ 'aria-label': t('common.close') }}
    >
      <form onSubmit={submit} noValidate data-testid={`${kind ?? 'text'}-form`}>
        <Stack>
          <Textarea
            label={kind === 'supplement' ? t('request.supplementText') : t('request.messageText')}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            required
            autosize
            minRows={6}
            dir="auto"
            data-autofocus
            data-testid="text-body"
          />
          <ErrorAlert error={error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={busy} disabled={!text.trim()} data-testid="text-submit">
              {t('common.send')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function EvidencePanel({ id, version }: { id: string; version: string }) {
  const t = useT();
  const { dateTime } = useDates();
  const { data, error, loading } = useLoad(() => api.evidence(id), `${id}|${version}`);
  if (loading && !data) return <Skeleton h={80} />;
  if (!data) return <ErrorAlert error={error} />;
  const receipts = Array.isArray(data.receipts) ? data.receipts : [];
  return (
    <Paper withBorder p="md" data-testid="evidence">
      <Stack gap="xs">
        {data.acceptedAt ? (
          <Text size="sm">{t('evidence.accepted', { at: dateTime(data.acceptedAt) })}</Text>
        ) : null}
        {data.undelivered?.length ? (
          <Text size="sm" c="var(--mantine-color-orange-text)">
            {t('evidence.undelivered', { nodes: data.undelivered.join(', ') })}
          </Text>
        ) : null}
        {receipts.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t('evidence.none')}
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={480}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">{t('evidence.kind')}</Table.Th>
                  <Table.Th scope="col">{t('evidence.node')}</Table.Th>
                  <Table.Th scope="col">{t('evidence.at')}</Table.Th>
                  <Table.Th scope="col">{t('evidence.verification')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {receipts.map((rc, i) => (
                  <Table.Tr
                    key={`${rc.node}:${rc.kind}:${i}`}
                    data-testid="receipt-row"
                    data-valid={rc.valid}
                  >
                    <Table.Td>{t(`evidence.kind_${rc.kind === 'read' ? 'read' : 'delivered'}`)}</Table.Td>
                    <Table.Td>
                      <Text size="sm" dir="ltr">
                        {rc.node}
                      </Text>
                    </Table.Td>
                    <Table.Td>{dateTime(rc.at)}</Table.Td>
                    <Table.Td>
                      <Badge color={rc.valid ? 'teal' : 'red'} variant="light">
                        {rc.valid ? t('evidence.valid') : t('evidence.invalid')}
                      </Badge>
                      {rc.problem ? (
                        <Text size="xs" c="red.8">
                          {rc.problem}
                        </Text>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {data.ciphertextHash ? (
          <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }} dir="ltr">
            {t('evidence.hash')} <Code>{data.ciphertextHash}</Code>
          </Text>
        ) : null}
      </Stack>
    </Paper>
  );
}
