/**
 * Every rule a status update is held to, in one place, for both ends of it: the node that makes
 * an update meets them before it signs (checkStatusUpdate), and every node that rebuilds a
 * request's state holds each update it received to the same rules (updateBreach, called by
 * history.ts), so that a counterpart that skips them on its side gains nothing.
 *
 * Beyond the lifecycle table (lifecycle.ts) and what an update must say (updateProblem in
 * status-update.ts), these rules:
 * - draft, sent and delivered are never set by hand: sending and the delivery receipt set them;
 * - a ground is one of the grounds of refusal, one the request's type allows, and never one the
 *   Convention forbids (grounds.ts);
 * - a request kept as a draft takes no status update;
 * - a refusal on a ground of UNTOC art. 18(21) follows a consultation on conditions (grounds.ts);
 * - a reference number comes only with the requested side's acknowledgement;
 * - only the requested side reports where measures stand.
 * Each depends only on the update, its author's side, the request and the applied history the
 * update follows, so the derivation that applies them stays independent of the order the updates
 * arrive in.
 */
import { EntraideError } from '../errors.ts';
import { consultationBreach, groundScopeBreach } from './grounds.ts';
import { transitionBreach, type RuleBreach, type Side } from './lifecycle.ts';
import { updateProblem, type StatusUpdate } from './status-update.ts';
import { isRefusalGround, REFUSAL_GROUND_CODES, type RequestType, type Status } from './vocabulary.ts';

export type { RuleBreach } from './lifecycle.ts';

/** An update as proposed or received: its status and what it says beside it. */
export interface ProposedUpdate {
  status: Status;
  ground?: string | undefined;
  note?: string | undefined;
  reference?: string | undefined;
  withoutConsultation?: string | undefined;
  measures?: readonly { index: number; state: string }[] | undefined;
}

/** One update checked against the state it follows. */
export interface UpdateCheck {
  /** The request's state before the update. */
  state: Status;
  update: ProposedUpdate;
  /** The side of the authority that makes (or made) the update. */
  side: Side;
  /** The request: its id, its type, and when it was sent (null while it is a draft). */
  request: { id: string; requestType: RequestType; sentAt: string | null };
  /** The statuses the applied history went through before this update, in order. */
  past: readonly Status[];
}

/** Draft, sent and delivered are reached by sending and by the delivery receipt, never by an update. */
export function setByHandBreach(status: Status): RuleBreach | null {
  if (status !== 'draft' && status !== 'sent' && status !== 'delivered') return null;
  return {
    code: 'TRANSITION_INVALID',
    message: `"${status}" is not set by hand: a request becomes sent when it is sent, delivered when the counterpart's node stores it`,
  };
}

/** Only the requested side, which executes them, reports where measures stand; each once per update. */
export function measuresBreach(update: ProposedUpdate, side: Side): RuleBreach | null {
  if (!update.measures?.length) return null;
  if (side !== 'requested')
    return { code: 'USAGE', message: 'only the requested authority reports where measures stand' };
  const indexes = update.measures.map((m) => m.index);
  if (new Set(indexes).size !== indexes.length)
    return { code: 'USAGE', message: 'each measure is reported once per update' };
  return null;
}

/** A ground, where there is one, is one of the grounds of refusal, allowed for the request's type. */
export function groundBreach(ground: string | undefined, type: RequestType): RuleBreach | null {
  if (ground === undefined) return null;
  if (!isRefusalGround(ground))
    return {
      code: 'UPDATE_INCOMPLETE',
      message: `"${ground}" is not a ground of refusal; the grounds are: ${REFUSAL_GROUND_CODES.join(', ')}`,
    };
  return groundScopeBreach(ground, type);
}

/** A request kept as a draft has reached no counterpart, so no status can follow it yet. */
export function draftBreach(request: UpdateCheck['request']): RuleBreach | null {
  if (request.sentAt !== null) return null;
  return {
    code: 'TRANSITION_INVALID',
    message: `request ${request.id} is a draft: send it first (entraide request send)`,
  };
}

/** The requested authority gives its own reference number when it acknowledges, and only then. */
export function referenceBreach(update: ProposedUpdate, side: Side): RuleBreach | null {
  if (update.reference === undefined) return null;
  if (update.status === 'acknowledged' && side === 'requested') return null;
  return {
    code: 'USAGE',
    message: 'a reference number is given by the requested authority when it acknowledges',
  };
}

function problemBreach(update: ProposedUpdate): RuleBreach | null {
  const problem = updateProblem({
    status: update.status as StatusUpdate['status'],
    ground: update.ground as StatusUpdate['ground'],
    note: update.note,
    withoutConsultation: update.withoutConsultation,
  });
  return problem === null ? null : { code: 'UPDATE_INCOMPLETE', message: problem };
}

/** Every rule in the order the officer meets them; `transition` words the lifecycle's verdict. */
function firstBreach(c: UpdateCheck, transition: (c: UpdateCheck) => RuleBreach | null): RuleBreach | null {
  return (
    setByHandBreach(c.update.status) ??
    groundBreach(c.update.ground, c.request.requestType) ??
    draftBreach(c.request) ??
    transition(c) ??
    problemBreach(c.update) ??
    consultationBreach(c.update, c.past) ??
    referenceBreach(c.update, c.side) ??
    measuresBreach(c.update, c.side)
  );
}

/**
 * The first rule above that an update breaks among those that need no history, only the update,
 * its author's side and the request, or null: a node holds an update that arrives to them at
 * once, as it does its signature; the lifecycle, updateProblem and the consultation need the
 * history the update follows, and the derivation holds the update to them (updateBreach).
 */
export function standaloneBreach(
  update: ProposedUpdate,
  side: Side,
  request: UpdateCheck['request'],
): RuleBreach | null {
  return (
    setByHandBreach(update.status) ??
    groundBreach(update.ground, request.requestType) ??
    draftBreach(request) ??
    referenceBreach(update, side) ??
    measuresBreach(update, side)
  );
}

/** What may be signed once every rule holds: a status an update sets, a ground of refusal. */
export type CheckedUpdate = Pick<
  StatusUpdate,
  'status' | 'ground' | 'note' | 'reference' | 'withoutConsultation' | 'measures'
>;

/**
 * Guard for the node that makes an update: throws the first rule it breaks, with the code and
 * message the officer sees (TRANSITION_INVALID, TRANSITION_NOT_OWNED, REQUEST_CLOSED,
 * UPDATE_INCOMPLETE, GROUND_PROHIBITED, GROUND_NOT_FOR_TYPE, CONSULTATION_REQUIRED, USAGE); returns the update, typed as one that may be signed.
 */
export function checkStatusUpdate(c: UpdateCheck): CheckedUpdate {
  const breach = firstBreach(c, ({ state, update, side, request }) =>
    transitionBreach(state, update.status, side, request.requestType),
  );
  if (breach) throw new EntraideError(breach.code, breach.message);
  // The rules above hold: the status is one an update sets, the ground one of refusal.
  return c.update as CheckedUpdate;
}

/**
 * The first rule an update that arrived breaks, or null: the same rules and codes as
 * checkStatusUpdate, the lifecycle's verdict worded for the side that made the update.
 */
export function updateBreach(c: UpdateCheck): RuleBreach | null {
  return firstBreach(c, ({ state, update, side, request }) => {
    const breach = transitionBreach(state, update.status, side, request.requestType);
    return breach
      ? { code: breach.code, message: `the ${side} side may not move a ${state} request to ${update.status}` }
      : null;
  });
}
