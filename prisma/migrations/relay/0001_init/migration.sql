-- The relay's first schema: enrolment, directory, envelopes and their deliveries.
CREATE TABLE "Invitation" (
    "codeHash" TEXT NOT NULL PRIMARY KEY,
    "authorityId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "usedAt" DATETIME
);

CREATE TABLE "Authority" (
    "address" TEXT NOT NULL PRIMARY KEY,
    "masterKey" TEXT NOT NULL,
    "enrolledAt" DATETIME NOT NULL
);

CREATE TABLE "Node" (
    "address" TEXT NOT NULL PRIMARY KEY,
    "authority" TEXT NOT NULL,
    "identityKey" TEXT NOT NULL,
    "certificate" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "revokedAt" DATETIME,
    CONSTRAINT "Node_authority_fkey" FOREIGN KEY ("authority") REFERENCES "Authority" ("address") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "Node_authority_idx" ON "Node"("authority");

CREATE TABLE "Envelope" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sender" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "body" TEXT,
    "acceptedAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "expiredAt" DATETIME
);
CREATE INDEX "Envelope_expiresAt_idx" ON "Envelope"("expiresAt");

CREATE TABLE "Delivery" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "envelopeId" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "deliveredAt" DATETIME,
    CONSTRAINT "Delivery_envelopeId_fkey" FOREIGN KEY ("envelopeId") REFERENCES "Envelope" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "Delivery_envelopeId_node_key" ON "Delivery"("envelopeId", "node");
CREATE INDEX "Delivery_node_state_seq_idx" ON "Delivery"("node", "state", "seq");
