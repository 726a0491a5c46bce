/** Signed requests from this relay to a peer relay (see s2s-token.ts), with typed errors back. */
import type { KeyObject } from 'node:crypto';
import { EntraideError, errorFromBody } from '../../shared/errors.ts';
import type { Peer } from './peers.ts';
import { signFederationRequest } from './s2s-token.ts';

export class PeerClient {
  constructor(
    private readonly self: { domain: string; privateKey: KeyObject },
    private readonly now: () => Date,
  ) {}

  /**
   * One request, given up after `timeoutMs` or as soon as `signal` aborts (the caller is closing);
   * either way it fails with PEER_UNREACHABLE, and the caller reads `signal.aborted` to tell them apart.
   */
  async request<T>(
    peer: Peer,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    timeoutMs = 15_000,
    signal?: AbortSignal,
  ): Promise<T> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const token = await signFederationRequest(
      this.self,
      peer.domain,
      { method, path, body: text },
      this.now(),
    );
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let answer: string;
    try {
      // The signal covers the body too: a peer that sends headers and then stalls is given up as well.
      res = await fetch(new URL(path, peer.url), {
        method,
        headers,
        body: body === undefined ? undefined : text,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      answer = await res.text();
    } catch {
      throw new EntraideError('PEER_UNREACHABLE', `peer relay ${peer.domain} does not answer at ${peer.url}`);
    }
    let json: unknown;
    try {
      json = answer.length ? JSON.parse(answer) : undefined;
    } catch {
      throw new EntraideError(
        'PEER_UNREACHABLE',
        `${peer.url} did not answer like an entraide relay (HTTP ${res.status})`,
      );
    }
    if (!res.ok) throw errorFromBody(json, res.status);
    return json as T;
  }
}
