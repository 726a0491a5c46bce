-- Envelopes are keyed by the pair their sender signs, (id, sender), no longer by id alone: an
-- envelope of another sender under an id already held here (a co-recipient squatting the id of an
-- envelope it received) is stored beside it instead of refusing the genuine one for good. What
-- refers to an envelope (deliveries, the outbox, delivery reports) names the pair too.
-- The tables are rebuilt child-free first: Envelope_new before the rows that reference it, the old
-- tables dropped children first, then renamed (which carries the references along).
CREATE TABLE "Envelope_new" (
    "id" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "body" TEXT,
    "acceptedAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "expiredAt" DATETIME,
    PRIMARY KEY ("id", "sender")
);
INSERT INTO "Envelope_new" (id, sender, hash, size, body, acceptedAt, expiresAt, expiredAt)
    SELECT id, sender, hash, size, body, acceptedAt, expiresAt, expiredAt FROM "Envelope";

CREATE TABLE "Delivery_new" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "envelopeId" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "deliveredAt" DATETIME,
    CONSTRAINT "Delivery_envelopeId_sender_fkey" FOREIGN KEY ("envelopeId", "sender") REFERENCES "Envelope_new" ("id", "sender") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "Delivery_new" (seq, envelopeId, sender, node, state, deliveredAt)
    SELECT d.seq, d.envelopeId, e.sender, d.node, d.state, d.deliveredAt
    FROM "Delivery" d JOIN "Envelope" e ON e.id = d.envelopeId;

CREATE TABLE "Outbox_new" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "peer" TEXT NOT NULL,
    "envelopeId" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "nextAttemptAt" DATETIME NOT NULL,
    "forwardedAt" DATETIME,
    "lastError" TEXT,
    CONSTRAINT "Outbox_envelopeId_sender_fkey" FOREIGN KEY ("envelopeId", "sender") REFERENCES "Envelope_new" ("id", "sender") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "Outbox_new" (seq, peer, envelopeId, sender, state, attempts, nextAttemptAt, forwardedAt, lastError)
    SELECT o.seq, o.peer, o.envelopeId, e.sender, o.state, o.attempts, o.nextAttemptAt, o.forwardedAt, o.lastError
    FROM "Outbox" o JOIN "Envelope" e ON e.id = o.envelopeId;

-- A delivery report names the sender too, so that the sender's relay marks the right envelope.
-- Null only for a report whose envelope this relay no longer holds (then it is sent without it).
ALTER TABLE "DeliveryReport" ADD COLUMN "sender" TEXT;
UPDATE "DeliveryReport" SET sender = (SELECT e.sender FROM "Envelope" e WHERE e.id = "DeliveryReport".envelopeId);

DROP TABLE "Delivery";
DROP TABLE "Outbox";
DROP TABLE "Envelope";
ALTER TABLE "Envelope_new" RENAME TO "Envelope";
ALTER TABLE "Delivery_new" RENAME TO "Delivery";
ALTER TABLE "Outbox_new" RENAME TO "Outbox";
CREATE INDEX "Envelope_expiresAt_idx" ON "Envelope"("expiresAt");
CREATE UNIQUE INDEX "Delivery_envelopeId_sender_node_key" ON "Delivery"("envelopeId", "sender", "node");
CREATE INDEX "Delivery_node_state_seq_idx" ON "Delivery"("node", "state", "seq");
CREATE UNIQUE INDEX "Outbox_peer_envelopeId_sender_key" ON "Outbox"("peer", "envelopeId", "sender");
CREATE INDEX "Outbox_peer_state_seq_idx" ON "Outbox"("peer", "state", "seq");

-- Two senders' envelopes under one id: an alarm for the operator, one row per pair of senders and
-- relay where they met. `sender`'s envelope came while `otherSender`'s held the id, at `relay`
-- (this relay, or the peer that reported it in its answer to a forward); `peer` is the peer relay
-- the envelope came from or was forwarded to, when there is one.
CREATE TABLE "IdConflict" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "envelopeId" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "ciphertextHash" TEXT,
    "otherSender" TEXT NOT NULL,
    "otherCiphertextHash" TEXT,
    "relay" TEXT NOT NULL,
    "peer" TEXT,
    "detectedAt" DATETIME NOT NULL
);
CREATE UNIQUE INDEX "IdConflict_envelopeId_sender_otherSender_relay_key" ON "IdConflict"("envelopeId", "sender", "otherSender", "relay");
