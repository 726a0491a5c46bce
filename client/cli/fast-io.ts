/**
 * What every command shares and that costs nothing to load (no node, no Prisma, no libsodium):
 * the node's home, output, one-line errors and time formatting. The served path (fast.ts) and the
 * full CLI (io.ts re-exports these) print through the same functions.
 */
import { resolve } from 'node:path';
import { EntraideError } from '../../shared/errors.ts';

export interface GlobalOptions {
  home?: string;
  debug?: boolean;
}

export function homeDir(opts: GlobalOptions): string {
  const home = opts.home ?? process.env.ENTRAIDE_HOME;
  if (!home)
    throw new EntraideError('HOME_MISSING', 'say which node folder to use with --home DIR or ENTRAIDE_HOME');
  return resolve(home);
}

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

export function json(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** One clear line on stderr and a non-zero exit; the stack only with --debug. */
export function fail(err: unknown, debug: boolean): never {
  if (err instanceof EntraideError) {
    process.stderr.write(`entraide: ${err.message} [${err.code}]. ${err.hint}\n`);
    if (debug && err.stack) process.stderr.write(err.stack + '\n');
    process.exit(err.code === 'USAGE' ? 2 : 1);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(
    `entraide: unexpected failure: ${message.split('\n')[0]} [INTERNAL]. Run again with --debug for details.\n`,
  );
  if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exit(1);
}

export function shortTime(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

/** A query string of the parameters given (none: the empty string). */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const given = Object.entries(params).filter(([, v]) => v !== undefined && v !== false);
  return given.length
    ? `?${new URLSearchParams(given.map(([k, v]): [string, string] => [k, String(v)])).toString()}`
    : '';
}
