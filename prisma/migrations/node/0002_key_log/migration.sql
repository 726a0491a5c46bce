-- Key transparency on the node: the relay's key log as this node verified it, the last signed head,
-- alarms for officers, and the key events this node published itself.
CREATE TABLE "KeyLogEntry" (
    "relay" TEXT NOT NULL,
    "idx" INTEGER NOT NULL,
    "authority" TEXT NOT NULL,
    "leaf" TEXT NOT NULL,
    "leafHash" TEXT NOT NULL,
    PRIMARY KEY ("relay", "idx")
);
CREATE INDEX "KeyLogEntry_relay_authority_idx" ON "KeyLogEntry"("relay", "authority");

CREATE TABLE "KeyLogHead" (
    "relay" TEXT NOT NULL PRIMARY KEY,
    "size" INTEGER NOT NULL,
    "root" TEXT NOT NULL,
    "head" TEXT NOT NULL,
    "baseline" INTEGER NOT NULL,
    "verifiedAt" DATETIME NOT NULL
);

CREATE TABLE "Alarm" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "raisedAt" DATETIME NOT NULL,
    "kind" TEXT NOT NULL,
    "relay" TEXT,
    "authority" TEXT,
    "idx" INTEGER,
    "message" TEXT NOT NULL,
    "resolvedAt" DATETIME
);

CREATE TABLE "Published" (
    "eventHash" TEXT NOT NULL PRIMARY KEY,
    "publishedAt" DATETIME NOT NULL
);
