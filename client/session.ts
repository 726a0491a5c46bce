/** Challenge–response login to the relay; keeps the session token and renews it before it expires. */
import { CONTEXTS, signObject } from '../shared/crypto/signing.ts';
import { ChallengeResponse, TokenResponse } from '../shared/protocol/schemas.ts';
import type { RelayHttp } from './transport/http.ts';

const RENEW_MARGIN_MS = 60_000;

export class Session {
  private token: string | undefined;
  private expiresAt = 0;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly http: RelayHttp,
    private readonly relayDomain: string,
    private readonly node: string,
    private readonly identitySecretKey: Uint8Array,
    /** Holds the relay to the key pinned for it before the node signs a challenge (relay-keys.ts). */
    private readonly checkRelay: () => Promise<void> = async () => undefined,
  ) {}

  /** A token valid for at least another minute. */
  async current(): Promise<string> {
    if (this.token && Date.now() < this.expiresAt - RENEW_MARGIN_MS) return this.token;
    this.pending ??= this.login().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(): void {
    this.token = undefined;
  }

  private async login(): Promise<string> {
    await this.checkRelay();
    const c = await this.http.request(ChallengeResponse, 'POST', '/v1/auth/challenge', { node: this.node });
    const sig = signObject(
      CONTEXTS.authChallenge,
      { relay: this.relayDomain, node: this.node, challenge: c.challenge },
      this.identitySecretKey,
    );
    const t = await this.http.request(TokenResponse, 'POST', '/v1/auth/token', {
      node: this.node,
      challenge: c.challenge,
      sig,
    });
    this.token = t.token;
    this.expiresAt = Date.parse(t.expiresAt);
    return t.token;
  }
}
