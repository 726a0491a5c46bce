/**
 * What the relay's database knows of blobs (tables Blob, EnvelopeBlob, BlobFetch; migration
 * 0009_blobs): who uploaded each, how large it was declared, whether it is complete, which
 * envelopes name it, which recipient nodes hold it. Prepared statements on the relay's
 * connection; writes run inside the caller's transaction (RelayStore's), with their audit entries.
 */
import type Database from 'better-sqlite3';

export interface BlobRow {
  id: string;
  owner: string;
  authority: string;
  size: number;
  sha256: string | null;
  origin: string | null;
  declared: string | null;
  createdAt: string;
  completedAt: string | null;
  deletedAt: string | null;
}

export class BlobRecords {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      insert: db.prepare(
        'INSERT INTO "Blob" (id, owner, authority, size, origin, declared, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      forwarded: db.prepare(
        'INSERT OR IGNORE INTO "BlobForward" (blobId, peer, forwardedAt) VALUES (?, ?, ?)',
      ),
      isForwarded: db.prepare<[string, string], { one: number }>(
        'SELECT 1 AS one FROM "BlobForward" WHERE blobId = ? AND peer = ?',
      ),
      get: db.prepare<[string], BlobRow>('SELECT * FROM "Blob" WHERE id = ?'),
      complete: db.prepare(
        'UPDATE "Blob" SET sha256 = ?, completedAt = ? WHERE id = ? AND completedAt IS NULL',
      ),
      ownerBytes: db.prepare<[string], { n: number | null }>(
        'SELECT sum(size) AS n FROM "Blob" WHERE owner = ? AND deletedAt IS NULL',
      ),
      authorityBytes: db.prepare<[string], { n: number | null }>(
        'SELECT sum(size) AS n FROM "Blob" WHERE authority = ? AND deletedAt IS NULL',
      ),
      bind: db.prepare('INSERT OR IGNORE INTO "EnvelopeBlob" (envelopeId, sender, blobId) VALUES (?, ?, ?)'),
      // A recipient node of an accepted envelope that names the blob (its delivery row, whatever its state).
      mayFetch: db.prepare<[string, string], { one: number }>(
        `SELECT 1 AS one FROM "EnvelopeBlob" eb JOIN "Delivery" d ON d.envelopeId = eb.envelopeId AND d.sender = eb.sender
         WHERE eb.blobId = ? AND d.node = ? LIMIT 1`,
      ),
      fetched: db.prepare('INSERT OR IGNORE INTO "BlobFetch" (blobId, node, fetchedAt) VALUES (?, ?, ?)'),
      // Blobs no longer needed: never bound and older than the grace time, or bound and every envelope
      // naming them expired or settled (each delivery ended, each delivered node holding the blob,
      // nothing left in the outbox).
      collectable: db.prepare<[string, number], { id: string; size: number; sha256: string | null }>(
        `SELECT b.id AS id, b.size AS size, b.sha256 AS sha256 FROM "Blob" b WHERE b.deletedAt IS NULL AND (
           (NOT EXISTS (SELECT 1 FROM "EnvelopeBlob" eb WHERE eb.blobId = b.id) AND b.createdAt < ?)
           OR (EXISTS (SELECT 1 FROM "EnvelopeBlob" eb WHERE eb.blobId = b.id) AND NOT EXISTS (
             SELECT 1 FROM "EnvelopeBlob" eb JOIN "Envelope" e ON e.id = eb.envelopeId AND e.sender = eb.sender
             WHERE eb.blobId = b.id AND e.expiredAt IS NULL AND (
               EXISTS (SELECT 1 FROM "Delivery" d WHERE d.envelopeId = e.id AND d.sender = e.sender AND (
                 d.state = 'pending' OR (d.state = 'delivered' AND NOT EXISTS (
                   SELECT 1 FROM "BlobFetch" f WHERE f.blobId = b.id AND f.node = d.node))))
               OR EXISTS (SELECT 1 FROM "Outbox" o WHERE o.envelopeId = e.id AND o.sender = e.sender AND o.state = 'pending')))))
         LIMIT ?`,
      ),
      markDeleted: db.prepare('UPDATE "Blob" SET deletedAt = ? WHERE id = ? AND deletedAt IS NULL'),
      // Deleted rows are kept a while (an id is never given twice), then go with their bindings.
      live: db.prepare<[], { id: string }>('SELECT id FROM "Blob" WHERE deletedAt IS NULL'),
    };
  }

  insert(b: {
    id: string;
    owner: string;
    authority: string;
    size: number;
    origin: string | null;
    declared: string | null;
    at: string;
  }): void {
    this.stmt.insert.run(b.id, b.owner, b.authority, b.size, b.origin, b.declared, b.at);
  }

  /** Records that `peer` holds the blob whole; false when it was recorded before. */
  forwarded(blobId: string, peer: string, at: string): boolean {
    return this.stmt.forwarded.run(blobId, peer, at).changes > 0;
  }

  isForwarded(blobId: string, peer: string): boolean {
    return this.stmt.isForwarded.get(blobId, peer) !== undefined;
  }

  get(id: string): BlobRow | undefined {
    return this.stmt.get.get(id);
  }

  complete(id: string, sha256: string, at: string): boolean {
    return this.stmt.complete.run(sha256, at, id).changes > 0;
  }

  /** Bytes of blobs held for a node, or for all nodes of an authority, until they are deleted. */
  bytesOf(owner: { node?: string; authority?: string }): number {
    const row = owner.node
      ? this.stmt.ownerBytes.get(owner.node)
      : this.stmt.authorityBytes.get(owner.authority ?? '');
    return row?.n ?? 0;
  }

  bind(envelopeId: string, sender: string, blobIds: readonly string[]): void {
    for (const id of blobIds) this.stmt.bind.run(envelopeId, sender, id);
  }

  mayFetch(blobId: string, node: string): boolean {
    return this.stmt.mayFetch.get(blobId, node) !== undefined;
  }

  fetched(blobId: string, node: string, at: string): boolean {
    return this.stmt.fetched.run(blobId, node, at).changes > 0;
  }

  collectable(unboundBefore: string, limit: number): { id: string; size: number; sha256: string | null }[] {
    return this.stmt.collectable.all(unboundBefore, limit);
  }

  markDeleted(id: string, at: string): boolean {
    return this.stmt.markDeleted.run(at, id).changes > 0;
  }

  /** Ids of blobs not deleted (start-up: files left without a row are removed). */
  liveIds(): Set<string> {
    return new Set(this.stmt.live.all().map((r) => r.id));
  }
}
