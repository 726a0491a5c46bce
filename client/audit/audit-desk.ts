/**
 * What an auditor's local service holds for the web app: a client per relay account in the folder,
 * the browsing copy of each relay's log (audit-mirror.ts) brought up to date in the background, and
 * the checks of each log (the same `verify` as `entraide audit verify`) run as jobs with their
 * progress, which the page follows and may cancel. A check that holds keeps the heads seen, as the
 * CLI does, so that the next audit holds the relay to them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { LogProblem } from '../../shared/audit/verify-log.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { AuditMirror, type MirrorFilter, type MirrorPage } from './audit-mirror.ts';
import { AuditorClient, distinctHeads, knownHeadsFile, readHeads, type Credentials } from './auditor.ts';

export interface SyncState {
  /** Entries in the browsing copy, and in the relay's log at the last look. */
  held: number;
  total: number;
  running: boolean;
  error: { code: string; message: string } | null;
}

export type JobState = 'running' | 'ok' | 'failed' | 'cancelled' | 'error';

export interface VerifyJob {
  id: string;
  relay: string;
  state: JobState;
  phase: 'heads' | 'entries' | 'done';
  /** Entries checked, of `total` (the size of the latest signed head). */
  done: number;
  total: number;
  heads: number;
  consistency: number;
  startedAt: string;
  seconds: number;
  /** Estimated from the pace so far; null until there is one. */
  secondsLeft: number | null;
  /** Where the log stops being what the relay signed (state failed). */
  problem: LogProblem | null;
  error: { code: string; message: string } | null;
}

/** Finished jobs kept for the page to read, per relay. */
const KEEP_JOBS = 20;

export class AuditDesk {
  private readonly clients = new Map<string, AuditorClient>();
  private readonly mirrors = new Map<string, AuditMirror>();
  private readonly syncs = new Map<string, SyncState & { promise?: Promise<void> }>();
  private readonly jobs = new Map<string, VerifyJob & { abort: AbortController; started: number }>();
  private readonly stopping = new AbortController();

  constructor(
    readonly home: string,
    creds: Credentials[],
    /** Told when a job or a copy moves on, for the pages' live events. */
    private readonly changed: (what: 'audit', id?: string) => void = () => undefined,
  ) {
    for (const c of creds) this.clients.set(c.relayDomain, new AuditorClient(c));
  }

  /** The relays this auditor has an account on. */
  relays(): { domain: string; url: string; auditor: string }[] {
    return [...this.clients.values()].map((c) => ({
      domain: c.creds.relayDomain,
      url: c.creds.relayUrl,
      auditor: c.creds.name,
    }));
  }

  client(relay: string): AuditorClient {
    const c = this.clients.get(relay);
    if (!c) throw new EntraideError('AUDITOR_MISSING', `this auditor has no account on ${relay}`);
    return c;
  }

  private mirror(relay: string): AuditMirror {
    this.client(relay);
    let m = this.mirrors.get(relay);
    if (!m) this.mirrors.set(relay, (m = AuditMirror.open(this.home, relay)));
    return m;
  }

  /** Starts bringing the copy of `relay`'s log up to date, unless that is under way. */
  sync(relay: string): SyncState {
    const mirror = this.mirror(relay);
    let s = this.syncs.get(relay);
    if (!s)
      this.syncs.set(relay, (s = { held: mirror.size, total: mirror.size, running: false, error: null }));
    if (s.running) return view(s);
    const state = s;
    state.running = true;
    state.error = null;
    state.promise = mirror
      .sync(
        this.client(relay),
        (held, total) => {
          Object.assign(state, { held, total });
          this.changed('audit', `log:${relay}`);
        },
        this.stopping.signal,
      )
      .then(
        () => undefined,
        (err: unknown) => {
          state.error = errorView(err);
        },
      )
      .finally(() => {
        state.running = false;
        state.held = mirror.size;
        this.changed('audit', `log:${relay}`);
      });
    return view(state);
  }

  /** A page of the copy of `relay`'s log, with how far the copy has come. */
  page(relay: string, f: MirrorFilter, offset: number, limit: number): MirrorPage & { sync: SyncState } {
    const page = this.mirror(relay).page(f, offset, limit);
    const s = this.syncs.get(relay);
    return {
      ...page,
      sync: s ? view(s) : { held: page.size, total: page.size, running: false, error: null },
    };
  }

  /** Starts a check of `relay`'s log, or returns the one running. */
  verify(relay: string): VerifyJob {
    const client = this.client(relay);
    const running = [...this.jobs.values()].find((j) => j.relay === relay && j.state === 'running');
    if (running) return jobView(running);
    const abort = new AbortController();
    const started = Date.now();
    const job: VerifyJob & { abort: AbortController; started: number } = {
      id: randomUUID(),
      relay,
      state: 'running',
      phase: 'heads',
      done: 0,
      total: 0,
      heads: 0,
      consistency: 0,
      startedAt: new Date(started).toISOString(),
      seconds: 0,
      secondsLeft: null,
      problem: null,
      error: null,
      abort,
      started,
    };
    this.jobs.set(job.id, job);
    this.prune(relay);
    const keptFile = knownHeadsFile(this.home, relay);
    const known = existsSync(keptFile) ? readHeads(readFileSync(keptFile, 'utf8'), keptFile) : [];
    const tell = () => this.changed('audit', job.id);
    let entriesFrom = 0;
    const stop = () => abort.abort();
    this.stopping.signal.addEventListener('abort', stop);
    void client
      .verify(
        (done, total) => {
          Object.assign(job, { phase: 'entries', done, total });
          const spent = (Date.now() - entriesFrom) / 1000;
          job.secondsLeft = done > 0 && spent > 0 ? ((total - done) * spent) / done : null;
          tell();
        },
        known,
        undefined,
        {
          signal: abort.signal,
          onHeads: (heads, consistency) => {
            entriesFrom = Date.now();
            Object.assign(job, { heads, consistency });
            tell();
          },
        },
      )
      .then(
        (r) => {
          Object.assign(job, {
            state: r.problem ? 'failed' : 'ok',
            done: r.problem ? job.done : r.size,
            total: r.head.size,
            heads: r.heads,
            consistency: r.consistency,
            problem: r.problem,
          });
          if (!r.problem) writeFileSync(keptFile, JSON.stringify(distinctHeads(r.seenHeads), null, 2) + '\n');
        },
        (err: unknown) => {
          job.state = err instanceof EntraideError && err.code === 'VERIFY_CANCELLED' ? 'cancelled' : 'error';
          job.error = errorView(err);
        },
      )
      .finally(() => {
        this.stopping.signal.removeEventListener('abort', stop);
        job.phase = 'done';
        job.secondsLeft = 0;
        job.seconds = (Date.now() - started) / 1000;
        tell();
      });
    return jobView(job);
  }

  job(id: string): VerifyJob {
    const j = this.jobs.get(id);
    if (!j) throw new EntraideError('NOT_FOUND', `no check ${id}: it ended long ago, or never started`);
    return jobView(j);
  }

  /** Jobs of `relay`, newest first. */
  jobsOf(relay: string): VerifyJob[] {
    return [...this.jobs.values()]
      .filter((j) => j.relay === relay)
      .reverse()
      .map(jobView);
  }

  cancel(id: string): VerifyJob {
    const j = this.jobs.get(id);
    if (!j) throw new EntraideError('NOT_FOUND', `no check ${id}`);
    j.abort.abort();
    return jobView(j);
  }

  /** Heads kept from the checks that held, newest first. */
  keptHeads(relay: string): SignedTreeHead[] {
    this.client(relay);
    const file = knownHeadsFile(this.home, relay);
    return existsSync(file) ? readHeads(readFileSync(file, 'utf8'), file).reverse() : [];
  }

  private prune(relay: string): void {
    const done = [...this.jobs.values()].filter((j) => j.relay === relay && j.state !== 'running');
    for (const j of done.slice(0, Math.max(0, done.length - KEEP_JOBS))) this.jobs.delete(j.id);
  }

  /** Stops every job and copy, and closes the copies. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.syncs.values()].map((s) => s.promise));
    for (const m of this.mirrors.values()) m.close();
  }
}

function view(s: SyncState): SyncState {
  return { held: s.held, total: s.total, running: s.running, error: s.error };
}

function jobView(j: VerifyJob & { abort?: unknown; started?: unknown }): VerifyJob {
  const { abort: _a, started, ...rest } = j;
  const seconds =
    rest.state === 'running' && typeof started === 'number' ? (Date.now() - started) / 1000 : rest.seconds;
  return { ...rest, seconds };
}

function errorView(err: unknown): { code: string; message: string } {
  return err instanceof EntraideError
    ? { code: err.code, message: err.message }
    : { code: 'INTERNAL', message: 'the check could not complete' };
}
