/**
 * Signed requests from this relay to a peer relay (see s2s-token.ts), with typed errors back.
 * A peer is answered at the URL pinned for it and nowhere else: a redirect is not followed (it
 * fails with PEER_UNREACHABLE), and at most `maxAnswerBytes` of an answer are read (more fails
 * likewise), so that a peer cannot send this relay elsewhere or fill its memory.
 */
import type { KeyObject } from 'node:crypto';
import { EntraideError, errorFromBody } from '../../shared/errors.ts';
import { peerUrl, type Peer } from './peers.ts';
import { readCapped } from './read-capped.ts';
import type { PeerKeyFollower } from './peer-key-follow.ts';
import { decodeJwt } from 'jose';
import { ANSWER_HEADER, signFederationRequest, verifyFederationAnswer } from './s2s-token.ts';

export class PeerClient {
  private follower: PeerKeyFollower | undefined;

  constructor(
    private readonly self: { domain: string; privateKey: KeyObject },
    private readonly now: () => Date,
    /** Bytes read of an answer at most (limits.pages.peerAnswerBytes). */
    private readonly maxAnswerBytes = 16 * 1024 * 1024,
  ) {}

  /** Answers signed with a key a peer rotated to are checked against the chain this follower proves. */
  followKeysWith(follower: PeerKeyFollower): void {
    this.follower = follower;
  }

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
    const base = peerUrl(peer);
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
    let answer: string | null;
    try {
      // The signal covers the body too: a peer that sends headers and then stalls is given up as well.
      res = await fetch(new URL(path, base), {
        method,
        headers,
        body: body === undefined ? undefined : text,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        redirect: 'manual',
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw new EntraideError(
          'PEER_UNREACHABLE',
          `peer relay ${peer.domain} answered with a redirect (HTTP ${res.status}); a relay never follows one`,
        );
      }
      answer = await readCapped(res, this.maxAnswerBytes);
    } catch (err) {
      if (err instanceof EntraideError) throw err;
      throw new EntraideError('PEER_UNREACHABLE', `peer relay ${peer.domain} does not answer at ${peer.url}`);
    }
    if (answer === null) {
      throw new EntraideError(
        'PEER_UNREACHABLE',
        `peer relay ${peer.domain} answered with more than ${this.maxAnswerBytes} bytes, more than this relay reads`,
      );
    }
    // The answer counts only if the peer signed it, for this request: with the key pinned for it,
    // or with one it rotated to, proven by a chain from the pinned one (PeerKeyFollower).
    const signed = { requestId: String(decodeJwt(token).jti), status: res.status, body: answer };
    const signature = res.headers.get(ANSWER_HEADER);
    try {
      await verifyFederationAnswer(signature, peer, this.self.domain, signed, this.now());
    } catch (err) {
      if (!(err as { keyMismatch?: boolean }).keyMismatch || !this.follower) throw err;
      const followed = await this.follower.follow(peer, signal);
      if (!followed || followed.peer.publicKey === peer.publicKey) throw err;
      await verifyFederationAnswer(signature, followed.peer, this.self.domain, signed, this.now());
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
