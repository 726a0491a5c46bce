/**
 * The route fuzzer's edge (test/adversarial/fuzz-routes.test.ts): one request sent with `fetch` to
 * a listening relay, so that the real HTTP parser reads it; the rules every answer must keep, as a
 * list of broken rules rather than a throw, so that the fuzzer can name the request that broke them;
 * and a row count of every table.
 */
import type Database from 'better-sqlite3';
import { ERROR_CODES, isErrorCode } from '../../shared/errors.ts';

export interface FuzzRequest {
  method: string;
  /** Path and query as fetch sends them (already normalised by `normalisedPath`). */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface FuzzAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** What fetch puts on the wire for `path`: the URL parser resolves dots and escapes some characters. */
export function normalisedPath(baseUrl: string, path: string): string {
  const u = new URL(baseUrl + path);
  return u.pathname + u.search;
}

/** Sends `r`; throws when no answer comes within `timeoutMs` (a hang is a finding, not a refusal). */
export async function sendRequest(baseUrl: string, r: FuzzRequest, timeoutMs = 10_000): Promise<FuzzAnswer> {
  const res = await fetch(baseUrl + r.path, {
    method: r.method,
    headers: r.headers,
    body: typeof r.body === 'string' || r.body === undefined ? r.body : new Uint8Array(r.body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * The rules every answer keeps, whatever was sent: no status of 500 or above but 503; every
 * refusal is exactly `{ error: { code, message, retryAfter? } }` with a code of the registry whose
 * status is the answer's; a 429 or 503 that gives retryAfter sends it as Retry-After too.
 * Returns the rules broken (none: an empty list).
 */
export function brokenRules(method: string, a: FuzzAnswer): string[] {
  const broken: string[] = [];
  if (a.status >= 500 && a.status !== 503) broken.push(`status ${a.status}`);
  if (a.status < 400 || method === 'HEAD') return broken;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return [...broken, `a ${a.status} body that is not JSON: ${a.text.slice(0, 200)}`];
  }
  const error = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  const keys = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  if (keys.length !== 1 || keys[0] !== 'error' || typeof error !== 'object' || error === null) {
    return [...broken, `a ${a.status} body not shaped {error:{code,message}}: ${a.text.slice(0, 200)}`];
  }
  const extra = Object.keys(error).filter((k) => !['code', 'message', 'retryAfter'].includes(k));
  if (extra.length > 0) broken.push(`error fields beyond code, message, retryAfter: ${extra.join(', ')}`);
  if (typeof error.message !== 'string') broken.push('error.message is not a string');
  if (!isErrorCode(error.code)) {
    broken.push(`error code ${JSON.stringify(error.code)} is not in the registry`);
  } else if (ERROR_CODES[error.code].status !== a.status) {
    broken.push(
      `${error.code} answered with ${a.status}, the registry says ${ERROR_CODES[error.code].status}`,
    );
  }
  if (error.retryAfter !== undefined && a.headers.get('retry-after') !== String(error.retryAfter)) {
    broken.push(`retryAfter ${String(error.retryAfter)} but Retry-After: ${a.headers.get('retry-after')}`);
  }
  if (a.status === 429 && !a.headers.get('retry-after')) broken.push('a 429 without Retry-After');
  return broken;
}

/** The error code of a refusal, when its body has one. */
export function codeOf(a: FuzzAnswer): string | undefined {
  try {
    const code = (JSON.parse(a.text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Rows of every table of a SQLite database (the migrations table included), by table name. */
export function tableRows(db: Database.Database): Record<string, number> {
  const names = db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
    .all()
    .map((t) => t.name);
  return Object.fromEntries(
    names.map((n) => [n, db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${n}"`).get()!.n]),
  );
}
