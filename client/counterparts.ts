/**
 * Counterparts whose safety code was never verified (DESIGN: Keys, Self-monitoring). A master key
 * pinned on first use is only as good as the relays that served it; comparing the safety code out
 * of band proves it. The node only says who is unverified and records an officer's confirmation;
 * asking is for the CLI (cli/unverified.ts) and, later, the web app.
 */
import type { NodeStore } from './store/node-store.ts';
import type { TrustStore } from './trust.ts';

export interface UnverifiedCounterpart {
  authority: string;
  safetyCode: string;
}

export class Counterparts {
  constructor(
    private readonly trust: TrustStore,
    private readonly store: NodeStore,
    private readonly self: string,
  ) {}

  /**
   * The authorities among `authorities` (this one aside) whose safety code was never verified, nor
   * sending to them confirmed by an officer; their keys are checked (and pinned on first use).
   */
  async unverified(authorities: string[]): Promise<UnverifiedCounterpart[]> {
    const found: UnverifiedCounterpart[] = [];
    for (const authority of new Set(authorities)) {
      if (authority === this.self) continue;
      const { safetyCode } = await this.trust.authority(authority);
      const pin = await this.store.pin(authority);
      if (!pin?.verifiedAt && !pin?.confirmedAt) found.push({ authority, safetyCode });
    }
    return found;
  }

  /** Records that an officer confirmed sending to these unverified counterparts: not asked again. */
  async confirm(authorities: string[]): Promise<void> {
    const at = new Date();
    for (const a of authorities) if (await this.store.pin(a)) await this.store.confirmCounterpart(a, at);
  }
}
