-- Documents: end-to-end encrypted files that travel beside envelopes as opaque blobs.
-- A blob is uploaded (tus) by one node, its owner, into the relay's data folder (blobs/<id>); this
-- row holds what the relay knows of it: owner, size (padded by the sender: the relay never learns
-- the exact size of a document), bytes received, and once complete the SHA-256 of its bytes.
-- `origin` names the peer relay a forwarded blob came from (null: uploaded here), and `declared` the
-- SHA-256 that peer announced, which the bytes must have once all arrived.
CREATE TABLE "Blob" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "owner" TEXT NOT NULL,
    "authority" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" TEXT,
    "origin" TEXT,
    "declared" TEXT,
    "createdAt" DATETIME NOT NULL,
    "completedAt" DATETIME,
    "deletedAt" DATETIME
);
CREATE INDEX "Blob_owner_idx" ON "Blob"("owner");
CREATE INDEX "Blob_authority_idx" ON "Blob"("authority");

-- Bound at submission: the envelopes whose content names the blob (the envelope's `blobs` list).
CREATE TABLE "EnvelopeBlob" (
    "envelopeId" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "blobId" TEXT NOT NULL,
    PRIMARY KEY ("envelopeId", "sender", "blobId")
);
CREATE INDEX "EnvelopeBlob_blobId_idx" ON "EnvelopeBlob"("blobId");

-- A blob forwarded whole to a peer relay (before the envelopes naming it): one row per blob and peer.
CREATE TABLE "BlobForward" (
    "blobId" TEXT NOT NULL,
    "peer" TEXT NOT NULL,
    "forwardedAt" DATETIME NOT NULL,
    PRIMARY KEY ("blobId", "peer")
);

-- A recipient node that holds the blob complete and verified said so: one row per blob and node.
CREATE TABLE "BlobFetch" (
    "blobId" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "fetchedAt" DATETIME NOT NULL,
    PRIMARY KEY ("blobId", "node")
);
