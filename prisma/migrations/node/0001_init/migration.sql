-- The node's first schema: messages, rejected envelopes, pinned counterparts.
CREATE TABLE "Message" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "direction" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "recipients" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "language" TEXT,
    "sentAt" DATETIME NOT NULL,
    "receivedAt" DATETIME,
    "readAt" DATETIME,
    "acceptedAt" DATETIME,
    "envelope" TEXT NOT NULL
);
CREATE INDEX "Message_direction_sentAt_idx" ON "Message"("direction", "sentAt");

CREATE TABLE "Rejection" (
    "envelopeId" TEXT NOT NULL PRIMARY KEY,
    "sender" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "receivedAt" DATETIME NOT NULL
);

CREATE TABLE "Pin" (
    "authority" TEXT NOT NULL PRIMARY KEY,
    "masterKey" TEXT NOT NULL,
    "safetyCode" TEXT NOT NULL,
    "pinnedAt" DATETIME NOT NULL,
    "verifiedAt" DATETIME
);
