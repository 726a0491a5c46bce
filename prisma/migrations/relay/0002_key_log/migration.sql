-- Key transparency: the key log (one leaf per key event), its signed tree heads, and join requests.
CREATE TABLE "KeyLogEntry" (
    "idx" INTEGER NOT NULL PRIMARY KEY,
    "authority" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "node" TEXT,
    "leaf" TEXT NOT NULL,
    "eventHash" TEXT NOT NULL,
    "loggedAt" DATETIME NOT NULL
);
CREATE UNIQUE INDEX "KeyLogEntry_eventHash_key" ON "KeyLogEntry"("eventHash");
CREATE INDEX "KeyLogEntry_authority_idx_idx" ON "KeyLogEntry"("authority", "idx");

CREATE TABLE "KeyLogHead" (
    "size" INTEGER NOT NULL PRIMARY KEY,
    "root" TEXT NOT NULL,
    "signedAt" DATETIME NOT NULL,
    "head" TEXT NOT NULL
);

CREATE TABLE "JoinRequest" (
    "code" TEXT NOT NULL PRIMARY KEY,
    "authority" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "request" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL
);
CREATE INDEX "JoinRequest_authority_idx" ON "JoinRequest"("authority");
