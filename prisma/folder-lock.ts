/**
 * An exclusive lock on a folder: a file holding the owner's pid, created with O_EXCL. A lock left
 * by a process that no longer runs (after kill -9) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { EntraideError, type ErrorCode } from '../shared/errors.ts';

/** Whether a process of this id runs (one of another user's counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface FolderLock {
  release(): void;
}

export function lockFolder(lockFile: string, code: ErrorCode, what: string): FolderLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(lockFile);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new EntraideError('HOME_MISSING', `${what} does not exist`);
      }
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = NaN;
      try {
        pid = Number(readFileSync(lockFile, 'utf8').trim());
      } catch {
        continue;
      }
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new EntraideError(code, `${what} is in use by process ${pid}`);
      }
      try {
        unlinkSync(lockFile);
      } catch {
        /* someone else took it over first */
      }
    }
  }
  throw new EntraideError(code, `${what} is locked`);
}
