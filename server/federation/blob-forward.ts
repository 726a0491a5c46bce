/**
 * Documents go to a peer relay before the envelopes that name them (the outbox calls this first):
 * each blob is announced (id, the node that uploaded it, size, SHA-256), then sent in signed pieces
 * of BLOB_PIECE_BYTES from the offset the peer says it holds, so a transfer cut by either relay's
 * restart or a lost link resumes where it stopped. Memory: one piece at a time. Once the peer holds
 * it whole (and checked its hash), it is recorded (BlobForward) and logged (blob_forwarded).
 */
import type { Readable } from 'node:stream';
import { EntraideError } from '../../shared/errors.ts';
import { BLOB_PIECE_BYTES, BlobHeld } from '../../shared/protocol/federation.ts';
import { check } from '../../shared/protocol/validate.ts';
import type { BlobDesk } from '../domain/blobs.ts';
import type { RelayStore } from '../storage/relay-store.ts';
import type { PeerClient } from './peer-client.ts';
import type { Peer } from './peers.ts';

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

export class BlobForwarder {
  constructor(
    private readonly store: RelayStore,
    private readonly desk: BlobDesk,
    private readonly client: PeerClient,
    private readonly now: () => Date,
    private readonly timeoutMs: number,
  ) {}

  /** The blobs an envelope (its stored JSON) names that `peer` does not hold yet. */
  missing(body: string, peer: string): string[] {
    const env = JSON.parse(body) as { v?: number; blobs?: string[] };
    if (env.v !== 3 || !Array.isArray(env.blobs)) return [];
    return env.blobs.filter((id) => !this.store.blobs.isForwarded(id, peer));
  }

  /**
   * Sends one blob to `target` until it holds it whole. A blob this relay no longer holds is left
   * out: the peer then refuses the envelope (BLOB_UNKNOWN), as it must.
   */
  async forward(target: Peer, id: string, signal: AbortSignal): Promise<void> {
    const b = this.store.blobs.get(id);
    if (!b || b.deletedAt || !b.completedAt || !b.sha256) return;
    const ask = async (path: string, body: unknown) =>
      check(
        BlobHeld,
        await this.client.request<unknown>(target, 'POST', path, body, this.timeoutMs, signal),
        'peer answer',
      );
    let held = await ask('/v1/federation/blobs', { id, sender: b.owner, size: b.size, sha256: b.sha256 });
    for (let rounds = 0; !held.complete; rounds++) {
      if (held.offset >= b.size || rounds > Math.ceil(b.size / BLOB_PIECE_BYTES) + 16) {
        throw new EntraideError(
          'PEER_UNREACHABLE',
          `peer relay ${target.domain} holds ${held.offset} of the ${b.size} bytes of blob ${id} and does not take more`,
        );
      }
      const end = Math.min(b.size, held.offset + BLOB_PIECE_BYTES) - 1;
      const bytes = await readAll(this.desk.files.read(id, held.offset, end));
      held = await ask(`/v1/federation/blobs/${id}/pieces`, {
        offset: held.offset,
        data: bytes.toString('base64url'),
      });
    }
    const at = this.now().toISOString();
    this.store.blobWrite(() => {
      if (!this.store.blobs.forwarded(id, target.domain, at)) return;
      this.store.audit.append({
        kind: 'blob_forwarded',
        blob: id,
        peer: target.domain,
        sender: b.owner,
        size: b.size,
        ciphertextHash: b.sha256!,
        at,
      });
    });
  }
}
