/**
 * The child side of bench/child.ts: one JSON line per command on stdin, one JSON line per answer
 * on stdout. Every child answers `stats` (CPU time, event-loop utilisation) and, for profiling,
 * `profile-start` / `profile-stop` (a V8 CPU profile written where the parent asks).
 * When stdin closes (the parent stopped or died), the child shuts down.
 *
 * Besides commands and answers (JSON objects), either side may send events: a JSON array
 * `[name, data]` on its own line, never answered (see `emit` and the `events` handlers).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startCpuProfile, type RunningProfile } from './profiler.ts';

export type Command = Record<string, unknown> & { cmd: string };
export type Handler = (cmd: Command) => Promise<Record<string, unknown>> | Record<string, unknown>;
export type EventHandler = (data: unknown) => void;

export function reply(answer: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(answer) + '\n');
}

/** An unsolicited event to the parent (it arrives in order with the answers). */
export function emit(name: string, data: unknown): void {
  process.stdout.write(JSON.stringify([name, data]) + '\n');
}

/**
 * Answers the commands on stdin one at a time, in order. Events from the parent (array lines)
 * are handed to `events` at once, outside the command queue.
 */
export function serveCommands(
  handlers: Record<string, Handler>,
  shutdown: () => Promise<void>,
  events: Record<string, EventHandler> = {},
): void {
  let cpuMark = process.cpuUsage();
  let eluMark: EventLoopUtilization = performance.eventLoopUtilization();
  let wallMark = performance.now();
  let profiler: RunningProfile | undefined;

  const builtIn: Record<string, Handler> = {
    /** CPU and event-loop use since the previous `stats` (or since start). */
    stats: () => {
      const cpu = process.cpuUsage(cpuMark);
      const elu = performance.eventLoopUtilization(eluMark);
      const wallMs = performance.now() - wallMark;
      cpuMark = process.cpuUsage();
      eluMark = performance.eventLoopUtilization();
      wallMark = performance.now();
      return {
        wallMs,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        cpuShare: (cpu.user + cpu.system) / 1000 / wallMs,
        eventLoopUtilization: elu.utilization,
        rssMb: process.memoryUsage().rss / 1048576,
      };
    },
    'profile-start': async (c) => {
      if (profiler) return { error: 'a profile is already running' };
      profiler = await startCpuProfile(typeof c.intervalUs === 'number' ? c.intervalUs : 200);
      return { ok: true };
    },
    'profile-stop': async (c) => {
      if (!profiler) return { error: 'no profile running' };
      const p = profiler;
      profiler = undefined;
      await p.stop(String(c.file));
      return { ok: true, file: c.file };
    },
  };

  const rl = createInterface({ input: process.stdin });
  // Commands are answered in order, one at a time.
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    if (line.startsWith('[')) {
      try {
        const [name, data] = JSON.parse(line) as [string, unknown];
        const h = events[name];
        if (h) h(data);
        else console.error(`unknown event ${name}`);
      } catch (err) {
        console.error(`event failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      return;
    }
    chain = chain.then(async () => {
      let cmd: Command;
      try {
        cmd = JSON.parse(line) as Command;
      } catch {
        reply({ error: `not JSON: ${line.slice(0, 80)}` });
        return;
      }
      const h = handlers[cmd.cmd] ?? builtIn[cmd.cmd];
      if (!h) {
        reply({ error: `unknown command ${cmd.cmd}` });
        return;
      }
      try {
        reply(await h(cmd));
      } catch (err) {
        reply({ error: err instanceof Error ? err.message : String(err) });
      }
    });
  });
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 8_000);
    force.unref();
    void chain
      .then(shutdown)
      .catch((err: unknown) => console.error('shutdown failed:', err))
      .finally(() => process.exit(0));
  };
  rl.on('close', stop);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
