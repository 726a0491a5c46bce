/**
 * A coordinator's roster changes: an authority added (a coordinator too, if ticked), and the
 * change picked on a roster row (removal, coordinator role) confirmed before it is signed. Each
 * change is the next version of the roster, which every member receives; an authority new to the
 * network whose safety code was never verified is confirmed first, as for a network meeting.
 */
import { Alert, Button, Checkbox, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useT } from '../i18n.tsx';
import { rowChange, type RosterEditing, type RowChange } from '../roster-editing.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { UnverifiedPrompt, unverifiedOf } from './UnverifiedPrompt.tsx';

const CONFIRM_KEY: Record<RowChange['kind'], string> = {
  remove: 'networks.manage.confirmRemove',
  makeCoordinator: 'networks.manage.confirmMake',
  unmakeCoordinator: 'networks.manage.confirmUnmake',
};

/** The buttons on a roster row: remove the member, give or end the coordinator role. */
export function RosterRowActions({
  authority,
  coordinator,
  editing,
}: {
  authority: string;
  coordinator: boolean;
  editing: RosterEditing;
}) {
  const t = useT();
  return (
    <Group gap="xs" wrap="nowrap">
      <Button
        size="compact-sm"
        variant="default"
        data-testid="roster-role"
        aria-label={t(coordinator ? 'networks.manage.unmakeLabel' : 'networks.manage.makeLabel', {
          authority,
        })}
        onClick={() =>
          editing.ask({ kind: coordinator ? 'unmakeCoordinator' : 'makeCoordinator', authority })
        }
      >
        {t(coordinator ? 'networks.manage.unmakeCoordinator' : 'networks.manage.makeCoordinator')}
      </Button>
      <Button
        size="compact-sm"
        variant="light"
        color="red"
        data-testid="roster-remove"
        aria-label={t('networks.manage.removeLabel', { authority })}
        onClick={() => editing.ask({ kind: 'remove', authority })}
      >
        {t('networks.manage.remove')}
      </Button>
    </Group>
  );
}

export function RosterManager({ editing }: { editing: RosterEditing }) {
  const t = useT();
  const [address, setAddress] = useState('');
  const [asCoordinator, setAsCoordinator] = useState(false);
  const unverified = unverifiedOf(editing.error);
  const { pending } = editing;

  const add = async () => {
    const a = address.trim();
    if (!a) return;
    const done = await editing.submit(asCoordinator ? { addCoordinators: [a] } : { add: [a] });
    if (done) {
      setAddress('');
      setAsCoordinator(false);
    }
  };

  return (
    <Stack gap="sm" data-testid="roster-manage">
      <Title order={2} size="h3">
        {t('networks.manage.title')}
      </Title>
      <Text size="sm" c="dimmed">
        {t('networks.manage.explain')}
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <Group align="end">
          <TextInput
            label={t('networks.manage.address')}
            description={t('networks.manage.addressHint')}
            value={address}
            onChange={(e) => setAddress(e.currentTarget.value)}
            dir="ltr"
            autoComplete="off"
            spellCheck={false}
            required
            maxLength={320}
            data-testid="roster-add-address"
            w={320}
          />
          <Checkbox
            label={t('networks.manage.asCoordinator')}
            checked={asCoordinator}
            onChange={(e) => setAsCoordinator(e.currentTarget.checked)}
            data-testid="roster-add-coordinator"
            mb={8}
          />
          <Button type="submit" loading={editing.busy} disabled={!address.trim()} data-testid="roster-add">
            {t('networks.manage.add')}
          </Button>
        </Group>
      </form>
      {pending ? (
        <Alert color="orange" variant="light" role="alert" data-testid="roster-confirm">
          <Text size="sm" mb="sm">
            {t(CONFIRM_KEY[pending.kind], { authority: pending.authority })}
          </Text>
          <Group>
            <Button
              color="orange"
              autoFocus
              loading={editing.busy}
              data-testid="roster-confirm-yes"
              onClick={() => void editing.submit(rowChange(pending))}
            >
              {t('common.confirm')}
            </Button>
            <Button variant="default" onClick={editing.cancel}>
              {t('common.cancel')}
            </Button>
          </Group>
        </Alert>
      ) : null}
      {unverified ? (
        <UnverifiedPrompt
          unverified={unverified}
          busy={editing.busy}
          onConfirm={(c) =>
            void editing.submit(null, c).then((done) => {
              if (done) setAddress('');
            })
          }
          onCancel={editing.cancel}
        />
      ) : (
        <ErrorAlert error={editing.error} onClose={editing.cancel} />
      )}
      {editing.issued !== null && !editing.error ? (
        <Text size="sm" role="status" data-testid="roster-issued">
          {t('networks.manage.done', { version: editing.issued })}
        </Text>
      ) : null}
    </Stack>
  );
}
