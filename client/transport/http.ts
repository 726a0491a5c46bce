/**
 * The node's HTTP client for its relay: JSON in and out, typed errors back. The relay is an
 * adversary in the threat model, so every answer is checked against its schema from shared/
 * before anyone uses it.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { EntraideError, errorFromBody } from '../../shared/errors.ts';
import { describeAjvError, validatorOf } from '../../shared/protocol/validate.ts';

export type Method = 'GET' | 'POST';

/**
 * For an answer that its caller checks at once against the schema of what it asked for, with its
 * own error code (key-log heads and proofs, directory entries, audit pages): see the callers.
 */
export const Unchecked = Type.Unknown();

export class RelayHttp {
  /** Whether the last request got an answer: what waits in the outbox may then go out. */
  answered = false;

  constructor(readonly baseUrl: string) {}

  /** Sends one request; resolves with the answer once it matches `schema`, else RELAY_ANSWER_INVALID. */
  async request<S extends TSchema>(
    schema: S,
    method: Method,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<Static<S>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const send = () =>
      fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
        // A relay never redirects: following one could lead off https:// (the URL was checked, not its target).
        redirect: 'error',
      });
    let res: Response;
    try {
      res = await send().catch((err: unknown) => {
        // A kept-alive connection that the relay closed meanwhile (it restarted, or timed the
        // connection out) fails before the request reached it: a reading is tried once more.
        if (method === 'GET' && isStaleConnection(err)) return send();
        throw err;
      });
    } catch (err) {
      this.answered = false;
      const tls = tlsFailure(err);
      throw new EntraideError(
        'RELAY_UNREACHABLE',
        tls
          ? `cannot reach the relay at ${this.baseUrl}: this computer does not trust its TLS certificate (${tls})`
          : `cannot reach the relay at ${this.baseUrl}`,
      );
    }
    if (res.ok) this.answered = true;
    const text = await res.text();
    let json: unknown;
    try {
      json = text.length ? JSON.parse(text) : undefined;
    } catch {
      throw new EntraideError(
        'RELAY_UNREACHABLE',
        `${this.baseUrl} did not answer like an entraide relay (HTTP ${res.status})`,
      );
    }
    if (!res.ok) throw errorFromBody(json, res.status);
    const valid = validatorOf(schema);
    if (!valid(json)) {
      const what = `the relay's answer to ${method} ${path.split('?')[0]}`;
      throw new EntraideError('RELAY_ANSWER_INVALID', describeAjvError(valid.errors, what));
    }
    return json as Static<S>;
  }
}

/** The TLS verification code of a failed fetch (self-signed, expired, another name...), if that is why. */
function tlsFailure(err: unknown): string | undefined {
  const code = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)
    ? code
    : undefined;
}

/** fetch's failure on a pooled connection the other side had closed (undici's socket error, a reset). */
function isStaleConnection(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}
