-- Requests for cooperation and their lifecycle, delivery evidence, handling overrides.
-- Every envelope the node sends or receives stays a row of "Message"; `kind` says what it holds.
ALTER TABLE "Message" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'message';
ALTER TABLE "Message" ADD COLUMN "requestId" TEXT;
ALTER TABLE "Message" ADD COLUMN "handling" TEXT;
ALTER TABLE "Message" ADD COLUMN "content" TEXT;
CREATE INDEX "Message_requestId_idx" ON "Message"("requestId");

CREATE TABLE "Request" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "direction" TEXT NOT NULL,
    "requestType" TEXT NOT NULL,
    "requesting" TEXT NOT NULL,
    "requested" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "urgency" TEXT NOT NULL,
    "deadline" TEXT,
    "dataRetentionUntil" TEXT,
    "content" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "envelopeId" TEXT,
    "createdAt" DATETIME NOT NULL,
    "sentAt" DATETIME,
    "deliveredAt" DATETIME,
    "state" TEXT NOT NULL,
    "stateAt" DATETIME,
    "seq" INTEGER NOT NULL DEFAULT 0,
    "tip" TEXT NOT NULL
);
CREATE INDEX "Request_state_idx" ON "Request"("state");
CREATE INDEX "Request_direction_sentAt_idx" ON "Request"("direction", "sentAt");

CREATE TABLE "StatusUpdate" (
    "hash" TEXT NOT NULL PRIMARY KEY,
    "requestId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "byNode" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "signed" TEXT NOT NULL,
    "envelopeId" TEXT,
    "receivedAt" DATETIME NOT NULL
);
CREATE INDEX "StatusUpdate_requestId_idx" ON "StatusUpdate"("requestId");

CREATE TABLE "Receipt" (
    "hash" TEXT NOT NULL PRIMARY KEY,
    "envelopeId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "signed" TEXT NOT NULL,
    "identityKey" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "target" TEXT,
    "sentIn" TEXT,
    "storedAt" DATETIME NOT NULL
);
CREATE UNIQUE INDEX "Receipt_envelopeId_node_kind_key" ON "Receipt"("envelopeId", "node", "kind");
CREATE INDEX "Receipt_direction_sentIn_idx" ON "Receipt"("direction", "sentIn");

CREATE TABLE "HandlingOverride" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL,
    "item" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "node" TEXT NOT NULL
);
CREATE INDEX "HandlingOverride_item_idx" ON "HandlingOverride"("item");
