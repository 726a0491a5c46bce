/**
 * The peer relay keys this node pinned (client/peer-pins.ts decides; this module stores): one row
 * per peer relay, written together with the alarms or notices that come with it.
 */
import type { Alarm, PrismaClient } from './generated/client.ts';

/** A peer relay's key as this node pinned it; `source` is first-use, hand or roster:<network id>. */
export interface PeerRelayKeyRecord {
  domain: string;
  /** The current key, after rollovers signed by the pinned one. */
  publicKey: string;
  /** The key as first pinned from `source`. */
  pinnedKey: string;
  fingerprint: string;
  source: string;
  pinnedAt: Date;
  verifiedAt: Date | null;
}

export class PeerKeyStore {
  constructor(private readonly prisma: PrismaClient) {}

  get(domain: string): Promise<PeerRelayKeyRecord | null> {
    return this.prisma.peerRelayKey.findUnique({ where: { domain } });
  }

  list(): Promise<PeerRelayKeyRecord[]> {
    return this.prisma.peerRelayKey.findMany({ orderBy: { domain: 'asc' } });
  }

  /** Stores (or replaces) a peer relay's pin, with the alarms or notices it comes with, together. */
  async save(k: PeerRelayKeyRecord, alarms: Omit<Alarm, 'id'>[] = []): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.peerRelayKey.upsert({ where: { domain: k.domain }, create: k, update: k });
      if (alarms.length > 0) await tx.alarm.createMany({ data: alarms });
    });
  }

  /** The open alarms of one kind about one relay. */
  openAlarms(kind: string, relay: string): Promise<Alarm[]> {
    return this.prisma.alarm.findMany({ where: { kind, relay, resolvedAt: null }, orderBy: { id: 'asc' } });
  }
}
