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

export class AuditLog {
  private timer: NodeJS.Timeout | undefined;

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

  /** Signs and stores a head when entries were appended since the last one. */
  private tick(): void {
    const latest = this.store.audit.latestHead();
    if (!latest || latest.size !== this.size) this.head();
  }

  /** Signs a head every `intervalMs` while entries come in. */
  start(intervalMs = 10_000): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Records a refused request once: who asked (if known), what, and the error code. `what` comes
   * from outside (a method and path) and is made printable.
   */
  refused(code: ErrorCode, what: string, who?: { node?: string; peer?: string; envelope?: string }): void {
    const kind = AUTHENTICATION.has(code)
      ? 'auth_failed'
      : AUTHORISATION.has(code)
        ? 'forbidden'
        : 'rejected';
    this.store.audit.transaction(() =>
      this.store.audit.append(
        {
          kind,
          reason: code,
          detail: printable(what),
          ...(who?.node ? { node: who.node } : {}),
          ...(who?.peer ? { peer: who.peer } : {}),
          ...(who?.envelope ? { envelope: who.envelope } : {}),
        },
        this.now(),
      ),
    );
  }
}
