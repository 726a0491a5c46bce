/** The node's HTTP client for its relay: JSON in and out, typed errors back. */
import { EntraideError, errorFromBody } from '../../shared/errors.ts';

export class RelayHttp {
  constructor(readonly baseUrl: string) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      throw new EntraideError('RELAY_UNREACHABLE', `cannot reach the relay at ${this.baseUrl}`);
    }
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
    return json as T;
  }
}
