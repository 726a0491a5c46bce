/**
 * Rebuilds a request's state from the set of status updates a node holds. The result depends only
 * on the set, never on the order the updates arrived in, so that:
 * - a duplicated or replayed update changes nothing (updates are identified by their hash);
 * - an update that arrives before the one it follows waits, and applies when that one arrives;
 * - a request never moves backwards: the applied history only grows, except where both sides
 *   made an update at the same position without seeing each other's (a fork, below).
 * A fork is settled the same way on every node: a refusal or withdrawal wins (it ends the
 * request, and its author had the right to end it at that point), then the lower hash. The
 * losing update is kept and shown as superseded.
 * Every update is held to the rules of status-rules.ts, the ones its author's node applies before
 * signing; an update that breaks one is invalid, with the code that node would have been told.
 * While the request is a draft on this node, every update is invalid: none can follow it yet.
 */
import type { ErrorCode } from '../errors.ts';
import type { Side } from './lifecycle.ts';
import type { StatusUpdate } from './status-update.ts';
import { updateBreach, type RuleBreach } from './status-rules.ts';
import type { RequestType, Status } from './vocabulary.ts';

/** An update whose signature the node checked, with the side of the authority that signed it. */
export interface VerifiedUpdate {
  update: StatusUpdate;
  hash: string;
  side: Side;
}

export interface RequestFacts {
  /** The request's type: some steps and grounds belong to some types only. */
  requestType: RequestType;
  /** SHA-256 of the request content (what the first update follows). */
  requestHash: string;
  /** When the request was sent; null while it is a draft. */
  sentAt: string | null;
  /** When a node of the requested authority first stored it (its delivery receipt), if known. */
  deliveredAt: string | null;
}

export interface DerivedRequest {
  state: Status;
  /** Position and hash that the next update must follow. */
  seq: number;
  tip: string;
  /** Applied updates, in order. */
  history: VerifiedUpdate[];
  /** Updates that lost a fork, or follow one that did. */
  superseded: VerifiedUpdate[];
  /** Updates whose predecessor has not arrived yet. */
  waiting: VerifiedUpdate[];
  /** Updates at a known position (or on a draft) that break a rule, with its code and the reason. */
  invalid: { update: VerifiedUpdate; code: ErrorCode; reason: string }[];
  /** When each status was first reached. */
  times: Partial<Record<Status, string>>;
}

/** Times are compared and shown in UTC, whatever offset their author wrote. */
const utc = (t: string): string => new Date(t).toISOString();

const ENDING: ReadonlySet<Status> = new Set<Status>(['refused', 'withdrawn']);

function forkOrder(a: VerifiedUpdate, b: VerifiedUpdate): number {
  const ea = ENDING.has(a.update.status) ? 0 : 1;
  const eb = ENDING.has(b.update.status) ? 0 : 1;
  if (ea !== eb) return ea - eb;
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
}

export function deriveRequest(facts: RequestFacts, updates: readonly VerifiedUpdate[]): DerivedRequest {
  const unique = new Map<string, VerifiedUpdate>();
  for (const u of updates) if (!unique.has(u.hash)) unique.set(u.hash, u);
  const result: DerivedRequest = {
    state: facts.sentAt === null ? 'draft' : 'sent',
    seq: 0,
    tip: facts.requestHash,
    history: [],
    superseded: [],
    waiting: [],
    invalid: [],
    times: {},
  };
  if (facts.sentAt === null) {
    for (const u of unique.values()) {
      const breach = updateBreach({
        state: 'draft',
        update: u.update,
        side: u.side,
        request: { id: u.update.request, requestType: facts.requestType, sentAt: null },
        past: [],
      })!; // never null: a draft takes no update
      result.invalid.push({ update: u, code: breach.code, reason: breach.message });
    }
    return result;
  }
  result.times.sent = utc(facts.sentAt);

  const byPrev = new Map<string, VerifiedUpdate[]>();
  for (const u of unique.values()) {
    const list = byPrev.get(u.update.prev);
    if (list) list.push(u);
    else byPrev.set(u.update.prev, [u]);
  }
  const placed = new Set<string>();
  const dead = new Set<string>(); // superseded or invalid: what follows them is superseded too
  for (;;) {
    const candidates = byPrev.get(result.tip) ?? [];
    const legal: VerifiedUpdate[] = [];
    for (const c of candidates) {
      const breach: RuleBreach | null =
        c.update.seq !== result.seq + 1
          ? {
              code: 'TRANSITION_INVALID',
              message: `it says it is update ${c.update.seq}, but it follows update ${result.seq}`,
            }
          : updateBreach({
              state: result.state,
              update: c.update,
              side: c.side,
              request: { id: c.update.request, requestType: facts.requestType, sentAt: facts.sentAt },
              past: result.history.map((h) => h.update.status),
            });
      placed.add(c.hash);
      if (breach) {
        result.invalid.push({ update: c, code: breach.code, reason: breach.message });
        dead.add(c.hash);
      } else legal.push(c);
    }
    if (legal.length === 0) break;
    legal.sort(forkOrder);
    const [winner, ...losers] = legal as [VerifiedUpdate, ...VerifiedUpdate[]];
    for (const l of losers) {
      result.superseded.push(l);
      dead.add(l.hash);
    }
    result.history.push(winner);
    result.state = winner.update.status;
    result.seq = winner.update.seq;
    result.tip = winner.hash;
    result.times[winner.update.status] ??= utc(winner.update.at);
  }

  // What is left either descends from a dead update (superseded) or waits for its predecessor.
  const descendsFromDead = (u: VerifiedUpdate): boolean => {
    const seen = new Set<string>();
    let prev = u.update.prev;
    while (!seen.has(prev)) {
      if (dead.has(prev)) return true;
      seen.add(prev);
      const parent = unique.get(prev);
      if (!parent) return false;
      prev = parent.update.prev;
    }
    return false;
  };
  for (const u of unique.values()) {
    if (placed.has(u.hash)) continue;
    if (descendsFromDead(u)) result.superseded.push(u);
    else result.waiting.push(u);
  }

  // A step of the requested side (an acknowledgement, a refusal) proves delivery even before the
  // receipt arrives; a withdrawal by the requesting side proves nothing.
  const firstStep = result.history.find((h) => h.side === 'requested')?.update.at;
  const delivered = [facts.deliveredAt, firstStep]
    .filter((t): t is string => !!t)
    .map(utc)
    .sort()[0];
  if (delivered) {
    result.times.delivered = delivered;
    if (result.state === 'sent') result.state = 'delivered';
  }
  return result;
}
