/**
 * The request lifecycle of DESIGN.md as one table, used by both sides:
 *
 *   draft → sent → delivered → acknowledged → in_execution ⇄ additional_info_requested
 *         → partially_executed → executed → closed
 *   refused (with a ground, by the requested side) and withdrawn (by the requesting side)
 *   from any open state.
 *
 * `draft → sent` happens when the requesting node sends the request; `sent → delivered` when a
 * node of the requested authority signs a delivery receipt. Every other transition is a signed
 * status update, made only by the side that owns it.
 */
import { EntraideError, type ErrorCode } from '../errors.ts';
import type { Status } from './vocabulary.ts';

export type Side = 'requesting' | 'requested';

export interface Transition {
  from: readonly Status[];
  to: Status;
  owner: Side;
  /** How the transition is made: `send` and `receipt` are not status updates. */
  by: 'send' | 'receipt' | 'update';
}

/** States from which a request can still be refused or withdrawn. */
export const OPEN_STATES: readonly Status[] = [
  'sent',
  'delivered',
  'acknowledged',
  'in_execution',
  'additional_info_requested',
  'partially_executed',
];
export const FINAL_STATES: readonly Status[] = ['closed', 'refused', 'withdrawn'];

export const TRANSITIONS: readonly Transition[] = [
  { from: ['draft'], to: 'sent', owner: 'requesting', by: 'send' },
  { from: ['sent'], to: 'delivered', owner: 'requested', by: 'receipt' },
  // An acknowledgement proves delivery, so it may come before the delivery receipt.
  { from: ['sent', 'delivered'], to: 'acknowledged', owner: 'requested', by: 'update' },
  {
    from: ['acknowledged', 'additional_info_requested'],
    to: 'in_execution',
    owner: 'requested',
    by: 'update',
  },
  {
    from: ['acknowledged', 'in_execution', 'partially_executed'],
    to: 'additional_info_requested',
    owner: 'requested',
    by: 'update',
  },
  { from: ['in_execution'], to: 'partially_executed', owner: 'requested', by: 'update' },
  { from: ['in_execution', 'partially_executed'], to: 'executed', owner: 'requested', by: 'update' },
  // The requesting side closes once it has what it needs (all of it, or the part it accepts).
  { from: ['executed', 'partially_executed'], to: 'closed', owner: 'requesting', by: 'update' },
  { from: OPEN_STATES, to: 'refused', owner: 'requested', by: 'update' },
  { from: OPEN_STATES, to: 'withdrawn', owner: 'requesting', by: 'update' },
];

export function isFinal(state: Status): boolean {
  return FINAL_STATES.includes(state);
}

/** True when `side` may move a request from `from` to `to` with a status update. */
export function isAllowedUpdate(from: Status, to: Status, side: Side): boolean {
  return TRANSITIONS.some(
    (t) => t.by === 'update' && t.to === to && t.owner === side && t.from.includes(from),
  );
}

/** The statuses `side` may set next from `from`, for prompts and help. */
export function nextStatuses(from: Status, side: Side): Status[] {
  return TRANSITIONS.filter((t) => t.by === 'update' && t.owner === side && t.from.includes(from)).map(
    (t) => t.to,
  );
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
export function transitionBreach(from: Status, to: Status, side: Side): RuleBreach | null {
  if (isAllowedUpdate(from, to, side)) return null;
  if (isFinal(from)) {
    return { code: 'REQUEST_CLOSED', message: `the request is ${from}: no status can follow` };
  }
  const routes = TRANSITIONS.filter((t) => t.by === 'update' && t.to === to && t.from.includes(from));
  if (routes.length > 0) {
    const owner = routes[0]!.owner;
    return {
      code: 'TRANSITION_NOT_OWNED',
      message: `only the ${owner} authority may set "${to}"; this node is on the ${side} side`,
    };
  }
  const next = nextStatuses(from, side);
  return {
    code: 'TRANSITION_INVALID',
    message: `a request that is ${from} cannot become ${to}; ${next.length ? `this side may set: ${next.join(', ')}` : 'this side has nothing to set now'}`,
  };
}

/** Guard for an officer's update: throws the breach transitionBreach finds. */
export function checkUpdate(from: Status, to: Status, side: Side): void {
  const breach = transitionBreach(from, to, side);
  if (breach) throw new EntraideError(breach.code, breach.message);
}
