/**
 * Requests in the node's own name: each carries a session token (logged in on demand, once more
 * after the relay says the token expired) and each answer is checked against its schema.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { EntraideError } from '../../shared/errors.ts';
import type { Session } from '../session.ts';
import type { Method, RelayHttp } from './http.ts';

export class RelayClient {
  /**
   * @param mayAct throws (NOT_APPROVED) while the node may not act yet, e.g. before its
   *   authority approved it.
   */
  constructor(
    readonly http: RelayHttp,
    private readonly session: Session,
    private readonly mayAct: () => void,
  ) {}

  get<S extends TSchema>(schema: S, path: string): Promise<Static<S>> {
    return this.request(schema, 'GET', path);
  }

  post<S extends TSchema>(schema: S, path: string, body: unknown): Promise<Static<S>> {
    return this.request(schema, 'POST', path, body);
  }

  /** A token for the socket's handshake. */
  token(): Promise<string> {
    return this.session.current();
  }

  /** Forgets the token: the next request logs in again. */
  invalidate(): void {
    this.session.invalidate();
  }

  private async request<S extends TSchema>(
    schema: S,
    method: Method,
    path: string,
    body?: unknown,
  ): Promise<Static<S>> {
    this.mayAct();
    try {
      return await this.http.request(schema, method, path, body, await this.session.current());
    } catch (err) {
      if (err instanceof EntraideError && (err.code === 'TOKEN_EXPIRED' || err.code === 'TOKEN_INVALID')) {
        this.session.invalidate();
        return this.http.request(schema, method, path, body, await this.session.current());
      }
      throw err;
    }
  }
}
