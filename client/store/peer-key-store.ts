/**
 * The peer relay keys this node pinned (client/peer-pins.ts decides; this module stores): one row
 * per peer relay, written together with the alarms or notices that come with it, and with the drop
 * of the node's copy of that relay's key log when the pin replaces the key the copy was verified under.
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

/** The node's copy of a relay's key log as it was when dropped: its entries, and its head's size. */
export interface DroppedLogCopy {
  entries: number;
  size: number;
}

export class PeerKeyStore {
  private readonly drops = new Map<string, number>();

  constructor(private readonly prisma: PrismaClient) {}

  get(domain: string): Promise<PeerRelayKeyRecord | null> {
    return this.prisma.peerRelayKey.findUnique({ where: { domain } });
  }

  list(): Promise<PeerRelayKeyRecord[]> {
    return this.prisma.peerRelayKey.findMany({ orderBy: { domain: 'asc' } });
  }

  /**
   * Stores (or replaces) a peer relay's pin, with the alarms or notices it comes with, together.
   * With `dropLogCopy`, the node's copy of that relay's key log (its entries and head) is deleted in
   * the same transaction, and the notices only stored if there was a copy to drop: returns what was
   * dropped, or null when there was no copy.
   */
  async save(
    k: PeerRelayKeyRecord,
    alarms: Omit<Alarm, 'id'>[] = [],
    dropLogCopy?: (dropped: DroppedLogCopy) => Omit<Alarm, 'id'>[],
  ): Promise<DroppedLogCopy | null> {
    const dropped = await this.prisma.$transaction(async (tx) => {
      await tx.peerRelayKey.upsert({ where: { domain: k.domain }, create: k, update: k });
      let copy: DroppedLogCopy | null = null;
      if (dropLogCopy) {
        const head = await tx.keyLogHead.findUnique({ where: { relay: k.domain } });
        const { count } = await tx.keyLogEntry.deleteMany({ where: { relay: k.domain } });
        await tx.keyLogHead.deleteMany({ where: { relay: k.domain } });
        if (head || count > 0) copy = { entries: count, size: head?.size ?? count };
      }
      const all = copy && dropLogCopy ? [...alarms, ...dropLogCopy(copy)] : alarms;
      if (all.length > 0) await tx.alarm.createMany({ data: all });
      return copy;
    });
    // Monitors of that relay open in this process read their copy again (key-log-monitor.ts).
    if (dropped) this.drops.set(k.domain, this.copyDrops(k.domain) + 1);
    return dropped;
  }

  /** How many times this process dropped its copy of `relay`'s key log (a monitor holding one reloads). */
  copyDrops(relay: string): number {
    return this.drops.get(relay) ?? 0;
  }

  /** The open alarms of one kind about one relay. */
  openAlarms(kind: string, relay: string): Promise<Alarm[]> {
    return this.prisma.alarm.findMany({ where: { kind, relay, resolvedAt: null }, orderBy: { id: 'asc' } });
  }
}
