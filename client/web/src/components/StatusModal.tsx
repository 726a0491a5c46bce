/**
 * The dialog that sets a request's next status: the note each step asks for, the ground of a
 * refusal among those its type allows, why a refusal on a ground of UNTOC art. 18(21) came
 * without the consultation of art. 18(26), this authority's reference with an acknowledgement,
 * the evidence of an execution.
 */
import { Button, Group, Modal, Select, Stack, Textarea, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ART_18_21_GROUNDS } from '../../../../shared/requests/grounds.ts';
import { api, type ActionView } from '../api.ts';
import { useCode, useLocale, useT } from '../i18n.tsx';
import { AttachmentPicker, uploadsOf, type PickedFile } from './AttachmentPicker.tsx';
import { ErrorAlert } from './ErrorAlert.tsx';

export function StatusModal({
  id,
  action,
  onClose,
  onDone,
}: {
  id: string;
  action: ActionView | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const t = useT();
  const code = useCode();
  const { locale } = useLocale();
  const [note, setNote] = useState('');
  const [ground, setGround] = useState<string | null>(null);
  const [withoutConsultation, setWithoutConsultation] = useState('');
  const [reference, setReference] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const [files, setFiles] = useState<PickedFile[]>([]);
  const uploading = files.some((f) => f.state !== 'done');
  const noteRequired = action?.note === 'required';
  const groundRequired = action?.ground === 'required';
  // A refusal on a ground of art. 18(21) with no conditions proposed before says why (art. 18(26)).
  const consultationMissing =
    action?.consultation === 'not_held' && ground !== null && ART_18_21_GROUNDS.some((g) => g === ground);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!action) return;
    setTouched(true);
    if (
      (noteRequired && !note.trim()) ||
      (groundRequired && !ground) ||
      (consultationMissing && !withoutConsultation.trim()) ||
      uploading
    )
      return;
    setBusy(true);
    try {
      await api.setStatus(id, {
        status: action.status,
        ...(note.trim() ? { note: note.trim() } : {}),
        ...(ground && action.ground !== 'none' ? { ground } : {}),
        ...(consultationMissing ? { withoutConsultation: withoutConsultation.trim() } : {}),
        ...(reference.trim() && action.reference === 'optional' ? { reference: reference.trim() } : {}),
        ...(files.length > 0 ? { uploads: uploadsOf(files) } : {}),
      });
      setFiles([]);
      setNote('');
      setGround(null);
      setWithoutConsultation('');
      setReference('');
      setTouched(false);
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
      opened={action !== null}
      onClose={onClose}
      title={action ? t('request.setStatus', { status: code('status', action.status) }) : ''}
      size="lg"
      closeButtonProps={{ 'aria-label': t('common.close') }}
    >
      {action ? (
        <form onSubmit={submit} noValidate data-testid="status-form">
          <Stack>
            {action.ground === 'required' ? (
              <Select
                label={t('request.ground')}
                value={ground}
                onChange={setGround}
                data={(action.grounds ?? []).map((g) => ({ value: g, label: code('refusalGround', g) }))}
                required
                error={touched && !ground ? t('request.groundMissing') : undefined}
                data-testid="status-ground"
                comboboxProps={{ withinPortal: false }}
              />
            ) : null}
            {consultationMissing ? (
              <Textarea
                label={t('request.withoutConsultation')}
                description={t('request.withoutConsultationHint')}
                value={withoutConsultation}
                onChange={(e) => setWithoutConsultation(e.currentTarget.value)}
                required
                autosize
                minRows={2}
                maxLength={2000}
                error={
                  touched && !withoutConsultation.trim() ? t('request.withoutConsultationMissing') : undefined
                }
                data-testid="status-without-consultation"
                dir="auto"
              />
            ) : null}
            {action.note !== undefined ? (
              <Textarea
                label={action.status === 'refused' ? t('request.reasons') : t('request.note')}
                description={noteRequired ? t('request.noteRequired') : undefined}
                value={note}
                onChange={(e) => setNote(e.currentTarget.value)}
                required={noteRequired}
                autosize
                minRows={4}
                error={touched && noteRequired && !note.trim() ? t('request.noteMissing') : undefined}
                data-testid="status-note"
                dir="auto"
                data-autofocus
              />
            ) : null}
            {action.reference === 'optional' ? (
              <TextInput
                label={t('request.ownReference')}
                value={reference}
                onChange={(e) => setReference(e.currentTarget.value)}
                maxLength={100}
                data-testid="status-reference"
              />
            ) : null}
            {action.status === 'executed' || action.status === 'partially_executed' ? (
              <AttachmentPicker
                files={files}
                onChange={(update) => setFiles((all) => update(all))}
                language={locale}
                defaultRole="execution_result"
              />
            ) : null}
            <ErrorAlert error={error} />
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                {t('common.cancel')}
              </Button>
              <Button
                type="submit"
                loading={busy}
                disabled={uploading}
                color={action.status === 'refused' || action.status === 'withdrawn' ? 'red' : undefined}
                data-testid="status-submit"
              >
                {t('request.confirmStatus', { status: code('status', action.status) })}
              </Button>
            </Group>
          </Stack>
        </form>
      ) : null}
    </Modal>
  );
}
