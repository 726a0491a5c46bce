/**
 * Browser sessions of the local service: an officer unlocks the web app with the keystore's
 * passphrase under their own name, and gets a random session id in an HttpOnly, SameSite=Strict
 * cookie. A session ends when the officer locks, or after `idleMinutes` without a request of
 * theirs (server-sent events do not count: an open page does not keep itself unlocked). Sessions
 * live in memory only: a restarted service asks every officer to unlock again.
 */
import { randomBytes } from 'node:crypto';
import { toBase64url } from '../../shared/bytes.ts';

/**
 * The session cookie's name for the service on `port`. Browsers keep cookies per host, not per
 * port: two nodes served on one machine (127.0.0.1:7900 and :7901) would otherwise overwrite each
 * other's sessions.
 */
export const sessionCookie = (port: number): string => `entraide_session_${port}`;
export const DEFAULT_IDLE_LOCK_MINUTES = 15;
/** More officers than any office shares one node with; past it the oldest session ends. */
const MAX_SESSIONS = 64;

export interface OfficerSession {
  id: string;
  officer: string;
  createdAt: number;
  lastSeen: number;
}

export class Sessions {
  private readonly live = new Map<string, OfficerSession>();
  private readonly ended = new Set<(id: string) => void>();

  constructor(
    readonly idleMinutes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session for `officer` (a name checked by the route's schema). */
  open(officer: string): OfficerSession {
    if (this.live.size >= MAX_SESSIONS) {
      const oldest = [...this.live.values()].sort((a, b) => a.lastSeen - b.lastSeen)[0];
      if (oldest) this.end(oldest.id);
    }
    const t = this.now();
    const session = { id: toBase64url(randomBytes(32)), officer, createdAt: t, lastSeen: t };
    this.live.set(session.id, session);
    return session;
  }

  /**
   * The live session with this id, or undefined (ended, idle past the limit, or never issued).
   * `touch` counts the request as the officer's activity.
   */
  find(id: string | undefined, touch: boolean): OfficerSession | undefined {
    if (!id) return undefined;
    const session = this.live.get(id);
    if (!session) return undefined;
    const t = this.now();
    if (t - session.lastSeen > this.idleMinutes * 60_000) {
      this.end(id);
      return undefined;
    }
    if (touch) session.lastSeen = t;
    return session;
  }

  end(id: string): void {
    if (!this.live.delete(id)) return;
    for (const listener of this.ended) listener(id);
  }

  /** Ends every session idle past the limit (run on a timer, so that open pages hear of it). */
  sweep(): void {
    for (const s of [...this.live.values()]) this.find(s.id, false);
  }

  onEnd(listener: (id: string) => void): void {
    this.ended.add(listener);
  }
}
