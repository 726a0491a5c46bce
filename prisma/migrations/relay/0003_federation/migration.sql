-- Federation: peer relays configured by the operator, server-to-server token ids seen (replay
-- protection that survives restarts), and the durable outbox of envelopes for each peer.
CREATE TABLE "Peer" (
    "domain" TEXT NOT NULL PRIMARY KEY,
    "url" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "addedAt" DATETIME NOT NULL,
    "lastSuccessAt" DATETIME,
    "lastError" TEXT,
    "lastErrorAt" DATETIME,
    "keyLogHead" TEXT,
    "alarm" TEXT,
    "alarmAt" DATETIME
);

CREATE TABLE "FederationReplay" (
    "jti" TEXT NOT NULL PRIMARY KEY,
    "issuer" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL
);
CREATE INDEX "FederationReplay_expiresAt_idx" ON "FederationReplay"("expiresAt");

CREATE TABLE "Outbox" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "peer" TEXT NOT NULL,
    "envelopeId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "nextAttemptAt" DATETIME NOT NULL,
    "forwardedAt" DATETIME,
    "lastError" TEXT,
    CONSTRAINT "Outbox_envelopeId_fkey" FOREIGN KEY ("envelopeId") REFERENCES "Envelope" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "Outbox_peer_envelopeId_key" ON "Outbox"("peer", "envelopeId");
CREATE INDEX "Outbox_peer_state_seq_idx" ON "Outbox"("peer", "state", "seq");

-- Delivery reports: when a node here stores an envelope that came from a peer, the sender's relay
-- is told (durably, like the outbox), so that the sender sees "delivered" for remote nodes too.
CREATE TABLE "DeliveryReport" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "peer" TEXT NOT NULL,
    "envelopeId" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "deliveredAt" DATETIME NOT NULL,
    "state" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "nextAttemptAt" DATETIME NOT NULL
);
CREATE INDEX "DeliveryReport_peer_state_seq_idx" ON "DeliveryReport"("peer", "state", "seq");
