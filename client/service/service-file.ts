/**
 * How a CLI command finds the node's local service (`entraide serve`) and speaks to it: the service
 * writes `service.json` in the node's folder (owner only, 0600, like the keystore) with its URL, its
 * process id and a random bearer token, and removes it when it stops. Whoever can read the file can
 * act as the node's officer through the service, exactly as whoever can read the keystore and knows
 * the passphrase can: the folder is its owner's alone (home.ts secureHome).
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { EntraideError, errorFromBody } from '../../shared/errors.ts';
import { check, isValid } from '../../shared/protocol/validate.ts';
import { alive } from '../../prisma/folder-lock.ts';
import { writeFileAtomic } from '../atomic-file.ts';

export const ServiceFile = Type.Object(
  {
    url: Type.String({ pattern: '^http://(127\\.0\\.0\\.1|\\[::1\\]):[0-9]{1,5}$' }),
    pid: Type.Integer({ minimum: 1 }),
    token: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    startedAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type ServiceFile = Static<typeof ServiceFile>;

export const serviceFilePath = (home: string): string => join(home, 'service.json');

/** Writes service.json for this process, listening on `host` and `port`; returns what it wrote. */
export function announceService(home: string, host: string, port: number, token: string): ServiceFile {
  const file: ServiceFile = {
    url: `http://${host === '::1' ? '[::1]' : '127.0.0.1'}:${port}`,
    pid: process.pid,
    token,
    startedAt: new Date().toISOString(),
  };
  writeServiceFile(home, file);
  return file;
}

export function writeServiceFile(home: string, file: ServiceFile): void {
  writeFileAtomic(
    serviceFilePath(home),
    JSON.stringify(check(ServiceFile, file, 'service.json'), null, 2) + '\n',
  );
}

/** Removes the file if it is still this process's (a later service may have replaced it). */
export function removeServiceFile(home: string, pid: number): void {
  const file = readServiceFile(home, false);
  if (file && file.pid !== pid) return;
  try {
    unlinkSync(serviceFilePath(home));
  } catch {
    /* already gone */
  }
}

/**
 * The running service of `home`, or undefined when none runs (no file, a file left by a process
 * that died, or one that is not a service file). `running` false skips the process check.
 */
export function readServiceFile(home: string, running = true): ServiceFile | undefined {
  const path = serviceFilePath(home);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isValid(ServiceFile, parsed)) return undefined;
  if (running && !alive(parsed.pid)) return undefined;
  return parsed;
}

/** The bound on what the service may answer a CLI command (a listing of 10,000 items fits). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** A CLI command's calls to the service: JSON both ways, its errors as EntraideErrors. */
export class ServiceClient {
  constructor(readonly file: ServiceFile) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.file.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.file.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(120_000),
      });
    } catch {
      throw new EntraideError(
        'HOME_LOCKED',
        `the node’s service (entraide serve, process ${this.file.pid}) does not answer at ${this.file.url}: stop it, or wait for it to start`,
      );
    }
    const text = await res.text();
    if (text.length > MAX_ANSWER_BYTES)
      throw new EntraideError('INTERNAL', `the node’s service answered ${text.length} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new EntraideError('INTERNAL', `the node’s service answered ${res.status} without JSON`);
    }
    if (res.ok) return parsed as T;
    throw errorFromBody(parsed, res.status);
  }
}
