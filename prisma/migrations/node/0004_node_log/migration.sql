-- The node's own record: an append-only Merkle log of what it sent, received, opened and the
-- receipts it holds (metadata only), with tree heads signed by the node identity key.
CREATE TABLE "NodeLogEntry" (
    "seq" INTEGER NOT NULL PRIMARY KEY,
    "at" DATETIME NOT NULL,
    "kind" TEXT NOT NULL,
    "envelopeId" TEXT,
    "leaf" TEXT NOT NULL
);
CREATE INDEX "NodeLogEntry_envelopeId_idx" ON "NodeLogEntry"("envelopeId");

CREATE TABLE "NodeLogNode" (
    "level" INTEGER NOT NULL,
    "idx" INTEGER NOT NULL,
    "hash" BLOB NOT NULL,
    PRIMARY KEY ("level", "idx")
) WITHOUT ROWID;

CREATE TABLE "NodeLogHead" (
    "size" INTEGER NOT NULL PRIMARY KEY,
    "head" TEXT NOT NULL,
    "signedAt" DATETIME NOT NULL
);
