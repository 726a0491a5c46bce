-- Auditors: people the operator lets read the audit log (and nothing else), by their Ed25519 key.
CREATE TABLE "Auditor" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "publicKey" TEXT NOT NULL,
    "addedAt" DATETIME NOT NULL,
    "removedAt" DATETIME
);
