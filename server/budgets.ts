/**
 * Rate budgets (server/limits.ts) as the relay applies them, with @fastify/rate-limit's counters
 * for HTTP and socket.io alike:
 * - routes without a session count per source address (`anonymous`), and so do requests that
 *   carry a session token that does not verify: a flood of forged tokens costs its sender its
 *   own budget, not the relay's signature checks;
 * - a node's session routes and socket events count per node, a peer's requests per peer, an
 *   auditor's per auditor (each after the caller is known).
 * Behind the compose file's reverse proxy the source is the first address of X-Forwarded-For
 * that is not a trusted proxy; a request from anywhere else is counted under its own address.
 * Over budget: 429 RATE_LIMITED with Retry-After, and the same code in socket acknowledgements.
 */
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import proxyaddr from 'proxy-addr';
import type { IncomingMessage } from 'node:http';
import { EntraideError } from '../shared/errors.ts';
import type { Budget, RelayLimits } from './limits.ts';

export type BudgetName = keyof RelayLimits['rate'];
type Hook = onRequestAsyncHookHandler;

/** What the relay asks of its budgets: HTTP hooks per route group, and checks for socket.io. */
export interface Budgets {
  /** An onRequest/preHandler hook that counts the request under `key(request)` in budget `name`. */
  hook(name: BudgetName, key: (request: FastifyRequest) => string): Hook;
  /** Counts one use of budget `name` by `key`; throws RATE_LIMITED once it is spent. */
  take(name: BudgetName, key: string): Promise<void>;
  /**
   * The same, synchronously, for the envelope path over socket.io (one submission a message): a
   * fixed window per key with the budget's numbers, without the promise hops of the HTTP limiter.
   */
  takeNow(name: BudgetName, key: string): void;
  /** The source address of a raw request (a socket.io handshake), as the HTTP routes see it. */
  sourceOf(req: IncomingMessage): string;
}

/** Distinct keys each budget remembers; beyond, the least recently seen is forgotten. */
const KEYS_REMEMBERED = 100_000;

function retryAfterOf(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

function limited(what: string, ttlMs: number): EntraideError {
  const retryAfter = retryAfterOf(ttlMs);
  return new EntraideError('RATE_LIMITED', `too many ${what}; try again in ${retryAfter} s`, {
    retryAfter,
  });
}

const WHAT: Record<BudgetName, string> = {
  anonymous: 'requests from this address',
  session: 'requests from this node',
  socketEvents: 'socket.io events from this node',
  federation: 'requests from this peer relay',
  audit: 'requests from this auditor',
};

/** Registers the rate limiter on `app` (before any route) and returns the budgets. */
export async function registerBudgets(app: FastifyInstance, limits: RelayLimits): Promise<Budgets> {
  const trust = proxyaddr.compile(limits.trustedProxies);
  const sourceOf = (req: IncomingMessage) => proxyaddr(req, trust);
  if (!limits.enforced) {
    const none: Hook = async () => undefined;
    return { hook: () => none, take: async () => undefined, takeNow: () => undefined, sourceOf };
  }
  const windows = new Map<BudgetName, FixedWindows>();
  const takeNow = (name: BudgetName, key: string): void => {
    let w = windows.get(name);
    if (!w) windows.set(name, (w = new FixedWindows(limits.rate[name])));
    const waitMs = w.take(key, Date.now());
    if (waitMs > 0) throw limited(WHAT[name], waitMs);
  };
  await app.register(rateLimit, {
    global: false,
    cache: KEYS_REMEMBERED,
    // The 429 body is the relay's error body; the plugin has set Retry-After already.
    errorResponseBuilder: (_request, context) =>
      new EntraideError('RATE_LIMITED', `too many requests; try again in ${context.after}`, {
        retryAfter: retryAfterOf(context.ttl),
      }),
  });
  const limiters = new Map<BudgetName, ReturnType<FastifyInstance['createRateLimit']>>();
  const limiterOf = (name: BudgetName) => {
    let limiter = limiters.get(name);
    if (!limiter) {
      const budget: Budget = limits.rate[name];
      limiter = app.createRateLimit({
        max: budget.max,
        timeWindow: budget.windowSeconds * 1000,
        keyGenerator: (request) => (request as unknown as { budgetKey: string }).budgetKey,
      });
      limiters.set(name, limiter);
    }
    return limiter;
  };
  const take = async (name: BudgetName, key: string): Promise<void> => {
    // The limiter reads only the key and the route's group from what it is given.
    const probe = { budgetKey: `${name}:${key}`, routeOptions: {} } as unknown as FastifyRequest;
    const result = await limiterOf(name)(probe);
    if (!result.isAllowed && result.isExceeded) throw limited(WHAT[name], result.ttl);
  };
  return {
    take,
    takeNow,
    sourceOf,
    hook(name, key) {
      return async (request) => take(name, key(request));
    },
  };
}

/**
 * Refusals past a budget or a quota: the audit log counts them per code and source, whoever the
 * caller, so that a node past its budget does not cost the relay a durable write per request.
 */
export function isOverBudget(code: string): boolean {
  return code === 'RATE_LIMITED' || code === 'QUOTA_EXCEEDED';
}

/** Requests counted per key in fixed windows of a budget's length; keys are forgotten past KEYS_REMEMBERED. */
class FixedWindows {
  private readonly counts = new Map<string, { start: number; used: number }>();
  private readonly windowMs: number;

  constructor(private readonly budget: Budget) {
    this.windowMs = budget.windowSeconds * 1000;
  }

  /** Counts one use by `key`: 0 while within the budget, else the milliseconds until its window ends. */
  take(key: string, now: number): number {
    let c = this.counts.get(key);
    if (!c || now - c.start >= this.windowMs) {
      if (!c && this.counts.size >= KEYS_REMEMBERED) this.sweep(now);
      c = { start: now, used: 0 };
      this.counts.set(key, c);
    }
    c.used++;
    return c.used > this.budget.max ? c.start + this.windowMs - now : 0;
  }

  private sweep(now: number): void {
    for (const [k, c] of this.counts) if (now - c.start >= this.windowMs) this.counts.delete(k);
    // Still full: the oldest are forgotten (Map keeps insertion order).
    for (const k of this.counts.keys()) {
      if (this.counts.size < KEYS_REMEMBERED) break;
      this.counts.delete(k);
    }
  }
}
