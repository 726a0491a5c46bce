/**
 * The organizer's dialogs on a meeting: a new version (start and its zone, length, title, agenda;
 * only what changed is sent) and a cancellation with a reason. Participants whose safety code was
 * never verified are asked about first, as when the meeting was scheduled.
 */
import { Button, Group, Modal, NumberInput, Select, Stack, Textarea, TextInput } from '@mantine/core';
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import type { Meeting } from '../api.ts';
import { meetingsApi, type MeetingChanges } from '../api-meetings.ts';
import { useT } from '../i18n.tsx';
import { ErrorAlert } from './ErrorAlert.tsx';
import { UnverifiedPrompt, unverifiedOf } from './UnverifiedPrompt.tsx';

const MAX_MINUTES = 24 * 60;
const REASON_MAX = 1000;

function zoneList(current: string): string[] {
  let all: string[] = [];
  try {
    all = Intl.supportedValuesOf('timeZone');
  } catch {
    // an older browser: the meeting's own zone only
  }
  return all.includes(current) ? all : [current, ...all];
}

/** Sends `send(confirmed?)`, keeping its error and whether it runs; `onDone` once it went. */
function useSend(send: (confirmed?: string[]) => Promise<unknown>, onDone: (m: Meeting) => void) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (confirmed?: string[]) => {
    setBusy(true);
    try {
      const m = (await send(confirmed)) as Meeting;
      setError(null);
      onDone(m);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { error, setError, busy, run };
}

/** The send's error, or the prompt for unverified participants, else the form's buttons. */
function Outcome({ s, children }: { s: ReturnType<typeof useSend>; children: ReactNode }) {
  const unverified = unverifiedOf(s.error);
  return (
    <>
      <ErrorAlert error={unverified ? null : s.error} onClose={() => s.setError(null)} />
      {unverified ? (
        <UnverifiedPrompt
          unverified={unverified}
          busy={s.busy}
          onConfirm={(c) => void s.run(c)}
          onCancel={() => s.setError(null)}
        />
      ) : (
        children
      )}
    </>
  );
}

export function UpdateMeetingModal({
  meeting: m,
  opened,
  onClose,
  onDone,
}: {
  meeting: Meeting;
  opened: boolean;
  onClose: () => void;
  onDone: (m: Meeting) => void;
}) {
  const t = useT();
  const [title, setTitle] = useState(m.title ?? '');
  const [start, setStart] = useState(m.start ?? '');
  const [tz, setTz] = useState(m.tz ?? 'UTC');
  const [duration, setDuration] = useState<number>(m.durationMin ?? 60);
  const [agenda, setAgenda] = useState(m.agenda ?? '');
  const zones = useMemo(() => zoneList(m.tz ?? 'UTC'), [m.tz]);
  const changes: MeetingChanges = {
    ...(title.trim() && title.trim() !== m.title ? { title: title.trim() } : {}),
    ...(start && start !== m.start ? { start } : {}),
    ...(tz !== m.tz ? { tz } : {}),
    ...(duration !== m.durationMin ? { durationMin: duration } : {}),
    ...(agenda.trim() !== (m.agenda ?? '').trim() ? { agenda: agenda.trim() } : {}),
  };
  const changed = Object.keys(changes).length > 0;
  // A new local start in the old zone keeps its zone: the node reads start and tz together.
  const body = changes.start && !changes.tz ? { ...changes, tz } : changes;
  const s = useSend((c) => meetingsApi.update(m.uid, body, c), onDone);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (changed) void s.run();
  };

  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={t('meetings.change.heading')}
      size="lg"
      closeButtonProps={{ 'aria-label': t('common.close') }}
    >
      <form onSubmit={submit} data-testid="update-form">
        <Stack>
          <TextInput
            label={t('meetings.change.meetingTitle')}
            value={title}
            onChange={(e) => setTitle(e.currentTarget.value)}
            maxLength={200}
            required
            dir="auto"
            data-testid="update-title"
          />
          <Group grow align="flex-start">
            <TextInput
              type="datetime-local"
              label={t('meetings.change.start')}
              value={start}
              onChange={(e) => setStart(e.currentTarget.value.slice(0, 16))}
              required
              dir="ltr"
              data-testid="update-start"
            />
            <Select
              label={t('meetings.change.tz')}
              data={zones}
              value={tz}
              onChange={(v) => v && setTz(v)}
              searchable
              limit={50}
              allowDeselect={false}
              dir="ltr"
              comboboxProps={{ withinPortal: false }}
              data-testid="update-tz"
            />
          </Group>
          <NumberInput
            label={t('meetings.change.duration')}
            value={duration}
            onChange={(v) => typeof v === 'number' && setDuration(v)}
            min={15}
            max={MAX_MINUTES}
            step={15}
            allowDecimal={false}
            data-testid="update-duration"
          />
          <Textarea
            label={t('meetings.change.agenda')}
            value={agenda}
            onChange={(e) => setAgenda(e.currentTarget.value)}
            autosize
            minRows={3}
            maxLength={20_000}
            dir="auto"
            data-testid="update-agenda"
          />
          <Outcome s={s}>
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                {t('common.close')}
              </Button>
              <Button type="submit" loading={s.busy} disabled={!changed} data-testid="update-send">
                {t('meetings.change.send')}
              </Button>
            </Group>
          </Outcome>
        </Stack>
      </form>
    </Modal>
  );
}

export function CancelMeetingModal({
  meeting: m,
  opened,
  onClose,
  onDone,
}: {
  meeting: Meeting;
  opened: boolean;
  onClose: () => void;
  onDone: (m: Meeting) => void;
}) {
  const t = useT();
  const [reason, setReason] = useState('');
  const s = useSend((c) => meetingsApi.cancel(m.uid, reason.trim() || undefined, c), onDone);
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={t('meetings.cancel.heading', { title: m.title ?? '' })}
      closeButtonProps={{ 'aria-label': t('common.close') }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void s.run();
        }}
        data-testid="cancel-form"
      >
        <Stack>
          <Textarea
            label={t('meetings.cancel.reason')}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            maxLength={REASON_MAX}
            autosize
            minRows={2}
            dir="auto"
            data-autofocus
            data-testid="cancel-reason"
          />
          <Outcome s={s}>
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                {t('meetings.cancel.keep')}
              </Button>
              <Button type="submit" color="red" loading={s.busy} data-testid="cancel-send">
                {t('meetings.cancel.confirm')}
              </Button>
            </Group>
          </Outcome>
        </Stack>
      </form>
    </Modal>
  );
}
