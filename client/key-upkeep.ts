/**
 * Keeps the node's keys fresh while it works: publishes keys a crash left pending, rotates the
 * encryption key when it is due, and, while the node listens, checks the key log every few minutes.
 * The relay refusing a rotated key is kept as an alarm rather than stopping the officer's work.
 */
import { EntraideError, type ErrorCode } from '../shared/errors.ts';
import type { KeyLogMonitor, NewAlarm } from './key-log-monitor.ts';
import { ensureFreshKeys } from './key-manager.ts';
import type { KeyPort } from './node-port.ts';
import { relayDidNotAnswer } from './transport/unreachable.ts';

/** The relay's refusals of a rotated key (kept as an alarm; sending goes on with the current key). */
const ROTATION_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KEY_EVENT_INVALID',
  'BAD_SIGNATURE',
  'CERTIFICATE_INVALID',
  'SCHEMA_INVALID',
]);
const WATCH_INTERVAL_MS = 5 * 60_000;

export class KeyUpkeep {
  private watchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly node: KeyPort,
    private readonly monitor: KeyLogMonitor,
    private readonly alarm: (a: NewAlarm) => void,
  ) {}

  /**
   * Publishes keys a crash left pending and rotates the encryption key when it is due. Only the
   * relay refusing the new key is kept as an alarm; anything else (unreachable relay, untrusted key
   * log, revoked node) stops the work that asked, with its own error.
   */
  async keepFresh(): Promise<void> {
    const node = this.node;
    try {
      const rotated = await ensureFreshKeys(node);
      if (rotated) node.trust.forget(node.authority);
    } catch (err) {
      if (!(err instanceof EntraideError) || !ROTATION_REFUSALS.has(err.code)) throw err;
      const alarm = {
        raisedAt: new Date(),
        kind: 'rotation-failed' as const,
        relay: node.config.relay.domain,
        authority: node.authority,
        idx: null,
        message: `the encryption key of ${node.address} could not be rotated: ${err.message} [${err.code}]`,
        resolvedAt: null,
      };
      if (await node.store.addAlarm(alarm)) this.alarm(alarm);
    }
  }

  /** While listening: check the key log and the age of the encryption key every few minutes. */
  /**
   * keepFresh, as a node starting to listen does it: a relay that does not answer yet is no reason
   * not to listen (the socket connects when it does, the outbox keeps what is sent meanwhile, and
   * the watch below tries the keys again).
   */
  async keepFreshUnlessUnreachable(): Promise<void> {
    await this.keepFresh().catch((err: unknown) => {
      if (!relayDidNotAnswer(err)) throw err;
    });
  }

  watch(onError?: (err: EntraideError) => void): void {
    this.stop();
    this.watchTimer = setInterval(() => {
      this.monitor
        .sync()
        .then(() => this.keepFresh())
        .catch((err: unknown) => {
          if (err instanceof EntraideError && err.code !== 'RELAY_UNREACHABLE') onError?.(err);
        });
    }, WATCH_INTERVAL_MS);
    this.watchTimer.unref();
  }

  stop(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
  }
}
