/**
 * The request lifecycle of DESIGN.md as one table, used by both sides:
 *
 *   draft → sent → delivered → acknowledged → (transmitted_to_executing_authority) → in_execution
 *         ⇄ additional_info_requested → partially_executed → executed → closed
 *   returned_for_formal_defects: the requested side sends the request back to be put in order
 *     (not a refusal); the requesting side supplements it and the requested side acknowledges it.
 *   postponed (UNTOC art. 18(25)), with reasons, then resumed.
 *   conditions_proposed → conditions_accepted | conditions_declined (art. 18(26)): the consultation
 *     that comes before a refusal on a ground of art. 18(21).
 *   extradition only: provisional_arrest → judicial_phase → extradition_granted → surrendered, or
 *     submitted_for_prosecution (art. 16(10)) instead of surrender; either is then closed.
 *   refused (with a ground, by the requested side) and withdrawn (by the requesting side)
 *   from any open state.
 *
 * `draft → sent` happens when the requesting node sends the request; `sent → delivered` when a
 * node of the requested authority signs a delivery receipt. Every other transition is a signed
 * status update, made only by the side that owns it, for the request types it names (all when
 * it names none).
 */
import { EntraideError, type ErrorCode } from '../errors.ts';
import { STATUSES, type RequestType, type Status } from './vocabulary.ts';

export type Side = 'requesting' | 'requested';

export interface Transition {
  from: readonly Status[];
  to: Status;
  owner: Side;
  /** How the transition is made: `send` and `receipt` are not status updates. */
  by: 'send' | 'receipt' | 'update';
  /** The request types the step belongs to; every type when absent. */
  types?: readonly RequestType[];
}

export const FINAL_STATES: readonly Status[] = ['closed', 'refused', 'withdrawn'];
/** Statuses that mean the request was carried out (what "time to execute" measures); only closing follows. */
export const EXECUTED_STATES: readonly Status[] = ['executed', 'surrendered', 'submitted_for_prosecution'];
/** States from which a request can still be refused or withdrawn. */
export const OPEN_STATES: readonly Status[] = STATUSES.filter(
  (s) => s !== 'draft' && !FINAL_STATES.includes(s) && !EXECUTED_STATES.includes(s),
);

const EXTRADITION: readonly RequestType[] = ['extradition'];
/** Where the requested side works on a request, between acknowledging it and ending it. */
const WORKING: readonly Status[] = ['acknowledged', 'transmitted_to_executing_authority', 'in_execution'];
/** Where work resumes from: after more information, a postponement, a consultation. */
const RESUMING: readonly Status[] = [
  'acknowledged',
  'transmitted_to_executing_authority',
  'additional_info_requested',
  'postponed',
  'conditions_accepted',
  'conditions_declined',
];

export const TRANSITIONS: readonly Transition[] = [
  { from: ['draft'], to: 'sent', owner: 'requesting', by: 'send' },
  { from: ['sent'], to: 'delivered', owner: 'requested', by: 'receipt' },
  // An acknowledgement proves delivery, so it may come before the delivery receipt.
  {
    from: ['sent', 'delivered', 'returned_for_formal_defects'],
    to: 'acknowledged',
    owner: 'requested',
    by: 'update',
  },
  {
    from: ['sent', 'delivered', 'acknowledged'],
    to: 'returned_for_formal_defects',
    owner: 'requested',
    by: 'update',
  },
  {
    from: [
      'acknowledged',
      'additional_info_requested',
      'postponed',
      'conditions_accepted',
      'conditions_declined',
    ],
    to: 'transmitted_to_executing_authority',
    owner: 'requested',
    by: 'update',
  },
  { from: RESUMING, to: 'in_execution', owner: 'requested', by: 'update' },
  {
    from: [...WORKING, 'partially_executed', 'postponed', 'judicial_phase'],
    to: 'additional_info_requested',
    owner: 'requested',
    by: 'update',
  },
  {
    from: [...WORKING, 'partially_executed', 'additional_info_requested', 'judicial_phase'],
    to: 'postponed',
    owner: 'requested',
    by: 'update',
  },
  {
    from: [...WORKING, 'partially_executed', 'additional_info_requested', 'postponed'],
    to: 'conditions_proposed',
    owner: 'requested',
    by: 'update',
  },
  { from: ['conditions_proposed'], to: 'conditions_accepted', owner: 'requesting', by: 'update' },
  { from: ['conditions_proposed'], to: 'conditions_declined', owner: 'requesting', by: 'update' },
  { from: ['in_execution'], to: 'partially_executed', owner: 'requested', by: 'update' },
  { from: ['in_execution', 'partially_executed'], to: 'executed', owner: 'requested', by: 'update' },
  // Extradition: the person is arrested provisionally (art. 16(9)), a court decides, the
  // executive grants it and the person is surrendered, or the requested State, not extraditing
  // its national, submits the case to its own prosecutors (art. 16(10)).
  {
    from: ['acknowledged', 'transmitted_to_executing_authority'],
    to: 'provisional_arrest',
    owner: 'requested',
    by: 'update',
    types: EXTRADITION,
  },
  {
    from: [...RESUMING, 'provisional_arrest'],
    to: 'judicial_phase',
    owner: 'requested',
    by: 'update',
    types: EXTRADITION,
  },
  {
    from: ['judicial_phase'],
    to: 'extradition_granted',
    owner: 'requested',
    by: 'update',
    types: EXTRADITION,
  },
  {
    from: ['extradition_granted', 'postponed'],
    to: 'surrendered',
    owner: 'requested',
    by: 'update',
    types: EXTRADITION,
  },
  {
    from: ['acknowledged', 'transmitted_to_executing_authority', 'provisional_arrest', 'judicial_phase'],
    to: 'submitted_for_prosecution',
    owner: 'requested',
    by: 'update',
    types: EXTRADITION,
  },
  // The requesting side closes once it has what it needs (all of it, or the part it accepts).
  {
    from: ['executed', 'partially_executed', 'surrendered', 'submitted_for_prosecution'],
    to: 'closed',
    owner: 'requesting',
    by: 'update',
  },
  { from: OPEN_STATES, to: 'refused', owner: 'requested', by: 'update' },
  { from: OPEN_STATES, to: 'withdrawn', owner: 'requesting', by: 'update' },
];

/** Statuses only some request types take, with those types. */
export function statusTypes(status: Status): readonly RequestType[] | null {
  const steps = TRANSITIONS.filter((t) => t.to === status);
  return steps.length > 0 && steps.every((t) => t.types)
    ? [...new Set(steps.flatMap((t) => t.types!))]
    : null;
}

const fits = (t: Transition, type: RequestType | undefined) =>
  type === undefined || !t.types || t.types.includes(type);

export function isFinal(state: Status): boolean {
  return FINAL_STATES.includes(state);
}

/** True when `side` may move a request (of `type`, when given) from `from` to `to` with a status update. */
export function isAllowedUpdate(from: Status, to: Status, side: Side, type?: RequestType): boolean {
  return TRANSITIONS.some(
    (t) => t.by === 'update' && t.to === to && t.owner === side && t.from.includes(from) && fits(t, type),
  );
}

/** The statuses `side` may set next from `from` (on a request of `type`, when given), for prompts and help. */
export function nextStatuses(from: Status, side: Side, type?: RequestType): Status[] {
  return TRANSITIONS.filter(
    (t) => t.by === 'update' && t.owner === side && t.from.includes(from) && fits(t, type),
  ).map((t) => t.to);
}

/** A rule an update breaks: the code and the message the node that made it is told. */
export interface RuleBreach {
  code: ErrorCode;
  message: string;
}

/**
 * What is wrong with `side` moving a request from `from` to `to`, or null when it may:
 * REQUEST_CLOSED, TRANSITION_NOT_OWNED or TRANSITION_INVALID, with a message that says what is
 * possible instead.
 */
export function transitionBreach(
  from: Status,
  to: Status,
  side: Side,
  type?: RequestType,
): RuleBreach | null {
  if (isAllowedUpdate(from, to, side, type)) return null;
  if (isFinal(from)) {
    return { code: 'REQUEST_CLOSED', message: `the request is ${from}: no status can follow` };
  }
  const only = statusTypes(to);
  if (type !== undefined && only && !only.includes(type)) {
    return {
      code: 'TRANSITION_INVALID',
      message: `"${to}" is a step of ${only.join(', ')} requests only; this request is ${type}`,
    };
  }
  const routes = TRANSITIONS.filter(
    (t) => t.by === 'update' && t.to === to && t.from.includes(from) && fits(t, type),
  );
  if (routes.length > 0) {
    const owner = routes[0]!.owner;
    return {
      code: 'TRANSITION_NOT_OWNED',
      message: `only the ${owner} authority may set "${to}"; this node is on the ${side} side`,
    };
  }
  const next = nextStatuses(from, side, type);
  return {
    code: 'TRANSITION_INVALID',
    message: `a request that is ${from} cannot become ${to}; ${next.length ? `this side may set: ${next.join(', ')}` : 'this side has nothing to set now'}`,
  };
}

/** Guard for an officer's update: throws the breach transitionBreach finds. */
export function checkUpdate(from: Status, to: Status, side: Side, type?: RequestType): void {
  const breach = transitionBreach(from, to, side, type);
  if (breach) throw new EntraideError(breach.code, breach.message);
}
