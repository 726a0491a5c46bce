/** Checks shared by the CLI end-to-end files: a command refused with its code, and nothing stored. */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CliResult } from './processes.ts';

/** A node's requests and status updates, counted in its database (no CLI process needed). */
export function storedRequests(home: string): { requests: number; updates: number } {
  const db = new Database(join(home, 'node.db'), { readonly: true, fileMustExist: true });
  try {
    const count = (table: string) =>
      db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${table}"`).get()!.n;
    return { requests: count('Request'), updates: count('StatusUpdate') };
  } finally {
    db.close();
  }
}

/**
 * Runs `cmd` on `home`, which must be refused with exit code 1 and [code], without a stack trace,
 * and leave the node holding no new request or status update; returns its stderr.
 */
export async function refusedWith(
  run: (home: string, cmd: string, ...rest: string[]) => Promise<CliResult>,
  home: string,
  code: string,
  cmd: string,
  ...rest: string[]
): Promise<string> {
  const before = storedRequests(home);
  const r = await run(home, cmd, ...rest);
  expect(r.code, `${cmd}: ${r.stdout}${r.stderr}`).toBe(1);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(storedRequests(home), `requests and updates after ${cmd}`).toEqual(before);
  return r.stderr;
}
