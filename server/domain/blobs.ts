/**
 * Documents on the relay: blobs of end-to-end encrypted bytes that a node uploads beside the
 * envelope that names them (tus, routes/blobs.ts). The relay sees an opaque id, a size the sender
 * padded, and ciphertext. Here, every rule of their lifecycle:
 * - a node creates a blob under the id it chose when it sealed the document (so that it seals,
 *   stores and queues an item with documents while the relay is out of reach), within the quotas (largest blob; bytes held per node and per authority),
 *   and only it may write to it (its owner) until it is complete;
 * - an envelope that names a blob is accepted only when the blob is its sender's and complete
 *   (RelayStore.blobsMustBeReady), and binds it in the same commit;
 * - a recipient node of such an envelope may read it, once the envelope was accepted, and says when
 *   it holds it complete and verified;
 * - a blob is deleted once every recipient holds it (or its envelopes expired, or none ever named it).
 * Each step is in the audit log: ids, sizes and hashes only.
 */
import { Readable } from 'node:stream';
import { authorityOfNode } from '../../shared/addresses.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { RelayLimits } from '../limits.ts';
import type { BlobFiles } from '../storage/blob-files.ts';
import type { BlobRow } from '../storage/blob-records.ts';
import type { RelayStore } from '../storage/relay-store.ts';

/** A blob's id: 16 random bytes chosen by the node that seals the document, base64url. */
const BLOB_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** Blobs deleted per sweep at most; the next sweep takes the rest. */
const COLLECT_BATCH = 100;

export class BlobDesk {
  private collecting: Promise<number> | undefined;

  constructor(
    private readonly store: RelayStore,
    readonly files: BlobFiles,
    private readonly limits: RelayLimits['blobs'],
    private readonly enforced: boolean,
    private readonly now: () => Date,
  ) {}

  /**
   * A new, empty blob of `size` bytes for `node` (or for a peer relay forwarding one, `origin`):
   * refused before anything is stored when it is larger than the relay takes or would pass the
   * bytes held for the node or its authority.
   */
  async create(
    owner: string,
    size: number,
    id: string,
    from?: { peer: string; sha256: string },
  ): Promise<string> {
    const origin = from?.peer ?? null;
    if (!Number.isSafeInteger(size) || size < 1)
      throw new EntraideError('SCHEMA_INVALID', 'Upload-Length must be a whole number of bytes, at least 1');
    if (!BLOB_ID.test(id))
      throw new EntraideError(
        'SCHEMA_INVALID',
        'the blob id (Upload-Metadata `blob`) must be base64url of 16 bytes',
      );
    const held = this.store.blobs.get(id);
    if (held) {
      // The same creation again (an answer lost, a node restarted): the upload it made, to resume.
      if (!held.deletedAt && held.owner === owner && held.size === size && held.origin === origin) return id;
      throw new EntraideError(
        'BLOB_ID_TAKEN',
        `blob id ${id} is taken: seal the document again under a new id`,
      );
    }
    const authority = authorityOfNode(owner);
    if (this.enforced) {
      if (size > this.limits.maxBlobBytes) {
        throw new EntraideError(
          'PAYLOAD_TOO_LARGE',
          `a document of ${size} bytes (sealed and padded) is larger than this relay takes: ${this.limits.maxBlobBytes} bytes`,
        );
      }
      const quotas = [
        {
          what: `for ${owner}`,
          bytes: this.store.blobs.bytesOf({ node: owner }),
          max: this.limits.nodeBytes,
        },
        {
          what: `for ${authority}`,
          bytes: this.store.blobs.bytesOf({ authority }),
          max: this.limits.authorityBytes,
        },
      ];
      for (const h of quotas) {
        if (h.bytes + size > h.max) {
          throw new EntraideError(
            'QUOTA_EXCEEDED',
            `the relay holds ${h.bytes} bytes of documents ${h.what} until their recipients have them; ${size} more would pass the quota of ${h.max}`,
            { retryAfter: 300 },
          );
        }
      }
    }
    const at = this.now().toISOString();
    // The row first: a crash before the file exists leaves a row the sweep removes, never a stray file.
    this.store.blobWrite(() =>
      this.store.blobs.insert({ id, owner, authority, size, origin, declared: from?.sha256 ?? null, at }),
    );
    await this.files.create(id);
    return id;
  }

  /** The blob's row, whoever asks (for the upload server, once a route decided). */
  row(id: string): BlobRow | undefined {
    const b = this.store.blobs.get(id);
    return b && !b.deletedAt ? b : undefined;
  }

  /** Removes files no row accounts for (a crash between a deletion's commit and its file's removal). */
  async sweepFolder(): Promise<number> {
    const live = this.store.blobs.liveIds();
    let removed = 0;
    for (const id of await this.files.list()) {
      if (live.has(id)) continue;
      await this.files.remove(id);
      removed++;
    }
    return removed;
  }

  /** The blob `node` is uploading: refused as unknown to anyone but its owner. */
  ownedBy(id: string, node: string): BlobRow {
    const b = this.store.blobs.get(id);
    if (!b || b.deletedAt || b.owner !== node || b.origin !== null)
      throw new EntraideError('NOT_FOUND', `no blob ${id} uploaded by ${node}`);
    return b;
  }

  /**
   * After bytes were written: once the blob has every byte, its hash is taken and it is complete
   * (with its audit entry), before the upload's last answer.
   */
  async written(b: BlobRow, length: number): Promise<void> {
    if (length < b.size || b.completedAt) return;
    const sha256 = await this.files.sha256(b.id);
    const at = this.now().toISOString();
    if (b.declared && sha256 !== b.declared) {
      // A peer's bytes that are not those it announced: dropped whole, to be sent again.
      this.store.blobWrite(() => this.store.blobs.markDeleted(b.id, at));
      await this.files.remove(b.id);
      throw new EntraideError(
        'FILE_DAMAGED',
        `blob ${b.id} from ${b.origin} does not have the SHA-256 announced for it; it was dropped: send it again`,
      );
    }
    this.store.blobWrite(() => {
      if (!this.store.blobs.complete(b.id, sha256, at)) return;
      this.store.audit.append({
        kind: 'blob_uploaded',
        blob: b.id,
        ...(b.origin ? { peer: b.origin } : {}),
        sender: b.owner,
        size: b.size,
        ciphertextHash: sha256,
        at,
      });
    });
  }

  /**
   * A peer relay forwards a piece of a blob it announced (create with `from`): written when it
   * starts where the blob ends (a piece sent again is skipped); returns the blob's length after.
   */
  async piece(
    id: string,
    peer: string,
    offset: number,
    bytes: Buffer,
  ): Promise<{ offset: number; complete: boolean }> {
    const b = this.store.blobs.get(id);
    if (!b || b.deletedAt || b.origin !== peer)
      throw new EntraideError('NOT_FOUND', `no blob ${id} from ${peer}`);
    let length = (await this.files.length(id)) ?? 0;
    if (!b.completedAt && offset === length && bytes.length > 0) {
      if (length + bytes.length > b.size)
        throw new EntraideError('PAYLOAD_TOO_LARGE', `more bytes than blob ${id} was announced with`);
      length = await this.files.append(id, offset, Readable.from([bytes]), b.size - offset);
      await this.written(b, length);
    }
    return { offset: length, complete: this.store.blobs.get(id)?.completedAt != null };
  }

  /** The complete blob a recipient node may read; refused as unknown to anyone else. */
  readableBy(id: string, node: string): BlobRow {
    const b = this.store.blobs.get(id);
    if (!b || b.deletedAt || !b.completedAt || !this.store.blobs.mayFetch(id, node))
      throw new EntraideError('NOT_FOUND', `no blob ${id} for ${node}`);
    return b;
  }

  /** A recipient node holds the blob complete and verified: logged once, and the blob may go. */
  held(b: BlobRow, node: string): void {
    const at = this.now().toISOString();
    this.store.blobWrite(() => {
      if (!this.store.blobs.fetched(b.id, node, at)) return;
      this.store.audit.append({
        kind: 'blob_downloaded',
        blob: b.id,
        node,
        size: b.size,
        ...(b.sha256 ? { ciphertextHash: b.sha256 } : {}),
        at,
      });
    });
    this.collectSoon();
  }

  /** Deletes the blobs no longer needed (module comment); returns how many went. */
  collect(): Promise<number> {
    this.collecting ??= this.collectNow().finally(() => (this.collecting = undefined));
    return this.collecting;
  }

  /** A sweep shortly, when a delivery or a fetch may have freed a blob. */
  collectSoon(): void {
    setImmediate(() => void this.collect().catch(() => undefined));
  }

  private async collectNow(): Promise<number> {
    const now = this.now();
    const unboundBefore = new Date(now.getTime() - this.limits.unboundHours * 3600_000).toISOString();
    const gone = this.store.blobs.collectable(unboundBefore, COLLECT_BATCH);
    for (const b of gone) {
      const at = this.now().toISOString();
      // The row says deleted (and the entry is logged) before the file goes: a crash in between
      // leaves a file no one can reach, removed by the next start's sweep of the folder.
      this.store.blobWrite(() => {
        if (!this.store.blobs.markDeleted(b.id, at)) return;
        this.store.audit.append({
          kind: 'blob_deleted',
          blob: b.id,
          size: b.size,
          ...(b.sha256 ? { ciphertextHash: b.sha256 } : {}),
          at,
        });
      });
      await this.files.remove(b.id);
    }
    return gone.length;
  }
}
