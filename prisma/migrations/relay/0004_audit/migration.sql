-- The audit log (RFC 9162): entries (canonical leaves), every perfect subtree hash (level 0 = leaf
-- hashes), and the tree heads the relay signed.
CREATE TABLE "AuditEntry" (
    "seq" INTEGER NOT NULL PRIMARY KEY,
    "at" DATETIME NOT NULL,
    "kind" TEXT NOT NULL,
    "envelopeId" TEXT,
    "leaf" TEXT NOT NULL
);
CREATE INDEX "AuditEntry_envelopeId_idx" ON "AuditEntry"("envelopeId");

CREATE TABLE "AuditNode" (
    "level" INTEGER NOT NULL,
    "idx" INTEGER NOT NULL,
    "hash" BLOB NOT NULL,
    PRIMARY KEY ("level", "idx")
) WITHOUT ROWID;

CREATE TABLE "AuditHead" (
    "size" INTEGER NOT NULL PRIMARY KEY,
    "head" TEXT NOT NULL,
    "signedAt" DATETIME NOT NULL
);
