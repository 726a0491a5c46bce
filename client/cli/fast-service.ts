/**
 * The node's service as the served path (fast.ts) finds and calls it, without loading the schema
 * library, libsodium or the keystore that client/service/service-file.ts brings with it (about
 * 0.4 s of a command's start on a small machine). Reads service.json as readServiceFile does and
 * calls the API as ServiceClient does; keep the three in step (the checks below mirror the
 * ServiceFile schema).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { EntraideError, errorFromBody } from '../../shared/errors.ts';
import { alive } from '../../prisma/folder-lock.ts';

export interface LiveService {
  url: string;
  pid: number;
  token: string;
}

/** What a command needs of the service: JSON both ways, its errors as EntraideErrors. */
export interface ServiceCalls {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
}

const URL_PATTERN = /^http:\/\/(127\.0\.0\.1|\[::1\]):[0-9]{1,5}$/;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const FIELDS = ['url', 'pid', 'token', 'startedAt'];

/** The running service of `home`, or undefined (no file, not a service file, its process gone). */
export function liveService(home: string): LiveService | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(home, 'service.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const f = parsed as Record<string, unknown>;
  if (Object.keys(f).some((k) => !FIELDS.includes(k))) return undefined;
  if (typeof f.url !== 'string' || !URL_PATTERN.test(f.url)) return undefined;
  if (typeof f.token !== 'string' || !TOKEN_PATTERN.test(f.token)) return undefined;
  if (typeof f.startedAt !== 'string' || f.startedAt.length > 40) return undefined;
  if (typeof f.pid !== 'number' || !Number.isInteger(f.pid) || f.pid < 1) return undefined;
  if (!alive(f.pid)) return undefined;
  return { url: f.url, pid: f.pid, token: f.token };
}

/** The bound on what the service may answer a CLI command (a listing of 10,000 items fits). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** One request to the service: its status and text, or undefined when it does not answer. */
function exchange(
  file: LiveService,
  method: string,
  path: string,
  body: string | undefined,
): Promise<{ status: number; text: string; bytes: number } | undefined> {
  return new Promise((resolve) => {
    const req = request(
      file.url + path,
      {
        method,
        headers: {
          authorization: `Bearer ${file.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        timeout: 120_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          // Past the bound the rest is not kept; the length alone is reported.
          if (size <= MAX_ANSWER_BYTES) chunks.push(d);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), bytes: size }),
        );
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

/**
 * Calls to the service of `file`, answering as ServiceClient does. node:http rather than fetch:
 * loading fetch (undici) costs more than the whole call on a small machine.
 */
export function serviceCalls(file: LiveService): ServiceCalls {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await exchange(file, method, path, body === undefined ? undefined : JSON.stringify(body));
    if (!res) {
      throw new EntraideError(
        'HOME_LOCKED',
        `the node’s service (entraide serve, process ${file.pid}) does not answer at ${file.url}: stop it, or wait for it to start`,
      );
    }
    if (res.bytes > MAX_ANSWER_BYTES)
      throw new EntraideError('INTERNAL', `the node’s service answered ${res.bytes} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      throw new EntraideError('INTERNAL', `the node’s service answered ${res.status} without JSON`);
    }
    if (res.status >= 200 && res.status < 300) return parsed as T;
    throw errorFromBody(parsed, res.status);
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
  };
}
