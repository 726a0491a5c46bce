/**
 * The relay's audit log as the rest of the relay sees it: entries are appended by the storage
 * module in the transaction of each event (store.audit); this module signs tree heads over them,
 * at a fixed interval and on demand, and records refused requests (authentication, authorisation,
 * bad input), each exactly once.
 */
import { printable } from '../../shared/audit/audit-event.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import { SignedTreeHead } from '../../shared/protocol/key-log.ts';
import type { RelayStore } from '../storage/relay-store.ts';

const AUTHENTICATION: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AUTH_REQUIRED',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'CHALLENGE_INVALID',
  'TOKEN_REPLAYED',
  'UNKNOWN_PEER',
  'NODE_REVOKED',
]);
const AUTHORISATION: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'FORBIDDEN',
  'SESSION_MISMATCH',
  'UNKNOWN_SENDER',
]);

/** Codes and sources of anonymous refusals counted at once; beyond, they count under the source "*". */
const MAX_REFUSAL_GROUPS = 10_000;

interface RefusalGroup {
  code: ErrorCode;
  source: string;
  detail: string;
  count: number;
  since: Date;
}

export class AuditLog {
  private timer: NodeJS.Timeout | undefined;
  private refusalTimer: NodeJS.Timeout | undefined;
  /** Anonymous refusals of the current interval, by code and source. */
  private readonly refusals = new Map<string, RefusalGroup>();

  constructor(
    private readonly store: RelayStore,
    private readonly relay: { domain: string; secretKey: Uint8Array },
    private readonly now: () => Date,
  ) {}

  get size(): number {
    return this.store.audit.size;
  }

  /**
   * A head signed now, on demand: it says the log had this size and root at this time. It is
   * stored only when entries were appended since the last stored head, so that asking often adds
   * no rows.
   */
  head(): SignedTreeHead {
    const latest = this.store.audit.latestHead();
    const changed = !latest || latest.size !== this.size;
    const head = signTreeHead(
      {
        log: 'audit',
        relay: this.relay.domain,
        size: this.size,
        root: this.store.audit.root(),
        timestamp: this.now(),
      },
      this.relay.secretKey,
    );
    if (changed) this.store.audit.saveHead(head.size, JSON.stringify(head), this.now());
    return head;
  }

  /**
   * Records a successful login, once, before its token is issued: who (a node or an auditor),
   * never the token. A login costs a valid signature, so these entries grow only with real use.
   */
  login(who: { node: string } | { auditor: string }): void {
    this.store.audit.transaction(() => this.store.audit.append({ kind: 'login', ...who }, this.now()));
  }

  /**
   * Records a key event submitted to the relay, accepted (with its index in the key log) or
   * refused (with the code): one entry each, whoever sent it.
   */
  keyEvent(
    what: { type: string; authority: string; node: string | null },
    outcome: { index: number } | { refused: ErrorCode },
  ): void {
    const refused = 'refused' in outcome ? outcome.refused : undefined;
    const detail = `${what.type} of ${what.authority}${refused ? '' : ` logged at index ${(outcome as { index: number }).index}`}`;
    this.store.audit.transaction(() =>
      this.store.audit.append(
        {
          kind: 'key_event',
          detail: printable(detail),
          ...(what.node ? { node: what.node } : {}),
          ...(refused ? { reason: refused } : {}),
        },
        this.now(),
      ),
    );
  }

  /** Signs and stores a head when entries were appended since the last one. */
  private tick(): void {
    const latest = this.store.audit.latestHead();
    if (!latest || latest.size !== this.size) this.head();
  }

  /** Signs a head every `intervalMs` while entries come in. */
  start(intervalMs = 10_000): void {
    const tick = () => {
      try {
        this.tick();
      } catch {
        // Storage is failing just now (a lock held elsewhere, a full disk): the next tick signs it.
      }
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Writes the anonymous refusals counted so far every `intervalMs`. */
  startRefusals(intervalMs: number): void {
    this.refusalTimer = setInterval(() => this.flushRefusals(), intervalMs);
    this.refusalTimer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.refusalTimer) clearInterval(this.refusalTimer);
    this.timer = this.refusalTimer = undefined;
    // A clean stop leaves the counts of the interval written and a head signed over everything.
    this.flushRefusals();
    try {
      this.tick();
    } catch {
      // Storage is failing: the next start signs it.
    }
  }

  /**
   * Counts a request refused to a caller who did not authenticate (no node, peer or auditor is
   * known): one entry per code and source per interval, written by flushRefusals, so that nobody
   * can grow the log at wire speed.
   */
  refusedAnonymously(code: ErrorCode, what: string, source: string): void {
    let key = `${code} ${source}`;
    let group = this.refusals.get(key);
    if (!group && this.refusals.size >= MAX_REFUSAL_GROUPS) {
      source = '*';
      key = `${code} *`;
      group = this.refusals.get(key);
    }
    if (group) {
      group.count++;
      return;
    }
    this.refusals.set(key, {
      code,
      source: printable(source).slice(0, 64),
      detail: printable(what),
      count: 1,
      since: this.now(),
    });
  }

  /** Appends one entry per code and source counted since the last flush, in one transaction. */
  flushRefusals(): void {
    if (this.refusals.size === 0) return;
    const groups = [...this.refusals.values()];
    this.refusals.clear();
    const at = this.now();
    try {
      this.writeRefusals(groups, at);
    } catch {
      // Storage is failing just now: the counts wait for the next interval.
      for (const g of groups) {
        const key = `${g.code} ${g.source}`;
        const later = this.refusals.get(key);
        if (later) {
          later.count += g.count;
          later.since = g.since;
        } else this.refusals.set(key, g);
      }
    }
  }

  private writeRefusals(groups: RefusalGroup[], at: Date): void {
    this.store.audit.transaction(() => {
      for (const g of groups) {
        this.store.audit.append(
          {
            kind: kindOf(g.code),
            reason: g.code,
            detail: g.detail,
            count: g.count,
            source: g.source,
            since: g.since.toISOString(),
          },
          at,
        );
      }
    });
  }

  /**
   * Records a refused request once: who asked (if known), what, and the error code. `what` comes
   * from outside (a method and path) and is made printable.
   */
  refused(
    code: ErrorCode,
    what: string,
    who?: { node?: string; peer?: string; envelope?: string; auditor?: string },
  ): void {
    const kind = kindOf(code);
    this.store.audit.transaction(() =>
      this.store.audit.append(
        {
          kind,
          reason: code,
          detail: printable(what),
          ...(who?.auditor ? { auditor: who.auditor } : {}),
          ...(who?.node ? { node: who.node } : {}),
          ...(who?.peer ? { peer: who.peer } : {}),
          ...(who?.envelope ? { envelope: who.envelope } : {}),
        },
        this.now(),
      ),
    );
  }
}

function kindOf(code: ErrorCode): 'auth_failed' | 'forbidden' | 'rejected' {
  return AUTHENTICATION.has(code) ? 'auth_failed' : AUTHORISATION.has(code) ? 'forbidden' : 'rejected';
}
