/**
 * A coordinator's changes to a network's roster, shared by the roster's rows (remove, coordinator
 * role) and the add form: a row's change waits for the officer's confirmation; a change refused
 * for an unverified newcomer is sent again with the newcomers the officer confirmed.
 */
import { useState } from 'react';
import { networksApi, type RosterChange } from './api-networks.ts';

/** A change picked on a row of the roster, shown for confirmation before it is signed. */
export interface RowChange {
  kind: 'remove' | 'makeCoordinator' | 'unmakeCoordinator';
  authority: string;
}

export function rowChange(c: RowChange): RosterChange {
  if (c.kind === 'remove') return { remove: [c.authority] };
  if (c.kind === 'makeCoordinator') return { addCoordinators: [c.authority] };
  return { removeCoordinators: [c.authority] };
}

export interface RosterEditing {
  busy: boolean;
  error: unknown;
  /** A row's change waiting for the officer's confirmation. */
  pending: RowChange | null;
  /** The version the last change issued, once it was sent. */
  issued: number | null;
  ask: (c: RowChange) => void;
  cancel: () => void;
  /** Signs and sends `change` (or, with `confirmed`, the change last refused); true once done. */
  submit: (change: RosterChange | null, confirmed?: string[]) => Promise<boolean>;
}

export function useRosterEditing(network: string, onChanged: () => void): RosterEditing {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState<RowChange | null>(null);
  const [last, setLast] = useState<RosterChange | null>(null);
  const [issued, setIssued] = useState<number | null>(null);

  const submit = async (change: RosterChange | null, confirmed?: string[]): Promise<boolean> => {
    const c = change ?? last;
    if (!c) return false;
    setBusy(true);
    setLast(c);
    try {
      const r = await networksApi.changeRoster(network, { ...c, ...(confirmed ? { confirmed } : {}) });
      setIssued(r.view.version);
      setError(null);
      setPending(null);
      onChanged();
      return true;
    } catch (err) {
      setError(err);
      setPending(null);
      return false;
    } finally {
      setBusy(false);
    }
  };

  return {
    busy,
    error,
    pending,
    issued,
    ask: (c) => {
      setError(null);
      setIssued(null);
      setPending(c);
    },
    cancel: () => {
      setPending(null);
      setError(null);
    },
    submit,
  };
}
