/**
 * Child processes of the benchmark (the relay, the bare socket.io server, the SDK nodes). Each
 * child prints one JSON line when it is ready, then answers one JSON line per command line
 * written to its stdin. Events (JSON arrays `[name, data]`, one a line) may flow either way
 * between the answers: they are never answered (see `on` and `emit`).
 * A child exits when its stdin closes, so it never outlives the benchmark, even after a crash.
 *
 * The relay's logger (pino, through fastify) writes its JSON lines to the same stdout: those lines
 * (`{"level":…`) are passed on to stderr, never taken for the ready line or an answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A log line of the child's logger (pino), not part of the protocol. */
function isLogLine(line: string): boolean {
  return line.startsWith('{"level":');
}

function forwardLog(name: string, line: string): void {
  process.stderr.write(`[${name}] ${line}\n`);
}

export interface ChildOptions {
  /** File name of the entry next to this module in dist/bench/, e.g. 'relay-process.js'. */
  entry: string;
  args?: string[];
  env?: Record<string, string>;
  nodeArgs?: string[];
  startTimeoutMs?: number;
}

export class BenchChild<Ready> {
  private waiting: {
    resolve: (line: string) => void;
    reject: (err: Error) => void;
    timer: NodeJS.Timeout;
  }[] = [];
  private exited = false;
  private readonly exitPromise: Promise<void>;
  private readonly listeners = new Map<string, (data: unknown) => void>();

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly ready: Ready,
    private readonly lines: AsyncIterator<string>,
  ) {
    proc.on('error', () => undefined);
    this.exitPromise = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        this.exited = true;
        resolve();
        return;
      }
      proc.once('exit', () => {
        this.exited = true;
        for (const w of this.waiting) {
          clearTimeout(w.timer);
          w.reject(new Error(`${name} exited`));
        }
        this.waiting = [];
        resolve();
      });
    });
    void this.pump();
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  static async start<Ready>(name: string, opts: ChildOptions): Promise<BenchChild<Ready>> {
    const file = fileURLToPath(new URL(`./${opts.entry}`, import.meta.url));
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), file, ...(opts.args ?? [])], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...opts.env },
    });
    const rl = createInterface({ input: proc.stdout! });
    const lines = rl[Symbol.asyncIterator]();
    const timeoutMs = opts.startTimeoutMs ?? 30_000;
    let onExit: ((code: number | null) => void) | undefined;
    let onError: ((err: Error) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const first = await new Promise<IteratorResult<string>>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${name} did not start within ${timeoutMs} ms`)),
          timeoutMs,
        );
        onExit = (code) => reject(new Error(`${name} exited during start (code ${code})`));
        onError = reject;
        proc.once('exit', onExit);
        proc.once('error', onError);
        const next = (): void => {
          lines.next().then((r) => {
            if (!r.done && isLogLine(r.value)) {
              forwardLog(name, r.value);
              next();
            } else resolve(r);
          }, reject);
        };
        next();
      });
      if (first.done) throw new Error(`${name} closed its output before it was ready`);
      const ready = JSON.parse(first.value) as Ready;
      return new BenchChild<Ready>(name, proc, ready, lines);
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
      if (onExit) proc.off('exit', onExit);
      if (onError) proc.off('error', onError);
    }
  }

  private async pump(): Promise<void> {
    for (;;) {
      let r: IteratorResult<string>;
      try {
        r = await this.lines.next();
      } catch {
        return;
      }
      if (r.done) return;
      if (isLogLine(r.value)) {
        forwardLog(this.name, r.value);
        continue;
      }
      if (r.value.startsWith('[')) {
        this.dispatch(r.value);
        continue;
      }
      const w = this.waiting.shift();
      if (w) {
        clearTimeout(w.timer);
        w.resolve(r.value);
      }
    }
  }

  private dispatch(line: string): void {
    let name: string;
    let data: unknown;
    try {
      [name, data] = JSON.parse(line) as [string, unknown];
    } catch {
      console.error(`${this.name}: unreadable event ${line.slice(0, 80)}`);
      return;
    }
    const h = this.listeners.get(name);
    if (!h) {
      console.error(`${this.name}: event ${name} with no listener`);
      return;
    }
    try {
      h(data);
    } catch (err) {
      console.error(`${this.name}: the listener of ${name} failed:`, err);
    }
  }

  /** Listens to the child's events named `name` (one listener per name). */
  on(name: string, listener: (data: unknown) => void): void {
    this.listeners.set(name, listener);
  }

  /** Calls `cb` once the child has exited (at once if it already has). */
  onExit(cb: () => void): void {
    void this.exitPromise.then(cb);
  }

  /** Sends an event to the child: no answer. */
  emit(name: string, data: unknown): void {
    if (this.exited) throw new Error(`${this.name} has exited`);
    this.proc.stdin!.write(JSON.stringify([name, data]) + '\n');
  }

  /** Sends one command line and resolves with the child's JSON answer. */
  async command<T>(cmd: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    if (this.exited) throw new Error(`${this.name} has exited`);
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w.timer !== timer);
        reject(new Error(`${this.name} did not answer ${JSON.stringify(cmd)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push({ resolve, reject, timer });
      this.proc.stdin!.write(JSON.stringify(cmd) + '\n');
    });
    const answer = JSON.parse(line) as T & { error?: string };
    if (answer.error) throw new Error(`${this.name}: ${answer.error}`);
    return answer;
  }

  /** Closes stdin (the child shuts down cleanly), then kills it if it has not exited in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.exited) return;
    this.proc.stdin!.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** Immediate kill, for cleanup after a failure. */
  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}
