/** Real processes for end-to-end and crash tests: the relay and the `entraide` CLI from the build. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/entraide.js', import.meta.url));

export interface RelayProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  port: number;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `entraide relay start` and resolves once it printed its whole banner (URL to data folder:
 * the lines may come in more than one chunk, and tests read the public key from it).
 */
export function spawnRelay(
  dataDir: string,
  port = 0,
  domain = 'relay.test',
  extraEnv: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'relay', 'start', '--data', dataDir, '--port', String(port), '--domain', domain, ...extraArgs],
    {
      cwd: ROOT,
      env: { ...process.env, ...extraEnv },
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay did not start in time:\n${out}`));
    }, 20_000);
    const check = () => {
      const m = /url:\s+(https?:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (!m || !/\n\s*data:\s+\S.*\n/.test(out.slice(m.index))) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve({
        child,
        url: m[1]!,
        port: Number(m[2]),
        output: () => out,
        stop(signal: NodeJS.Signals = 'SIGTERM') {
          return new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill(signal);
          });
        },
      });
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}:\n${out}`));
    });
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `entraide` CLI to completion; `input` is written to its standard input. */
export function cli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000,
  input?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
