/**
 * `entraide serve` as a real process, for end-to-end tests: started on a node's folder (a free port
 * on 127.0.0.1) from the compiled CLI, resolved once it printed its URL, stopped with SIGTERM.
 * Needs the build (`npx tsc -p tsconfig.build.json`) and, for the web app, `npx vite build`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceFile } from '../../client/service/service-file.ts';
import { PASSPHRASE } from './fixtures.ts';
import { BIN, ROOT } from './processes.ts';

export interface Served {
  home: string;
  child: ChildProcessWithoutNullStreams;
  /** service.json: the URL and the CLI's token. */
  file: ServiceFile;
  output: () => string;
}

/** Starts `entraide serve` on `home` (a free port) and resolves once it printed its URL. */
export function serve(
  home: string,
  env: Record<string, string> = { ENTRAIDE_PASSPHRASE: PASSPHRASE },
): Promise<Served> {
  const child = spawn(process.execPath, [BIN, '--home', home, 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
    const check = () => {
      if (!/url:\s+http/.test(output)) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      const file = JSON.parse(readFileSync(join(home, 'service.json'), 'utf8')) as ServiceFile;
      resolve({ home, child, file, output: () => output });
    };
    child.stdout.on('data', check);
  });
}

/** Stops it with SIGTERM; resolves with its exit code (at once if it already ended). */
export function stop(s: Served): Promise<number | null> {
  return new Promise((done) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return done(s.child.exitCode);
    s.child.once('exit', (code) => done(code));
    s.child.kill('SIGTERM');
  });
}
