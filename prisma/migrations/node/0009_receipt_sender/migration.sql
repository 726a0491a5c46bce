-- Receipts name the sender of their envelope: relays key envelopes by (id, sender), so a
-- co-recipient may send its own envelope under the id of one it received (a squatted id), and a
-- node may hold, issue and receive receipts for two envelopes under one id. Keyed by
-- (envelopeId, node, kind) alone, the second receipt was dropped (INSERT OR IGNORE): the genuine
-- sender could lose its delivery and read receipts. The key becomes (envelopeId, sender, node, kind).
-- `sender` of the rows already here is the `sender` field of the signed receipt itself (`signed`,
-- stored in clear, as the receipt travelled): the node address the receipt names, which is exactly
-- what new rows hold; `target` (an authority) and the Message row (kept under an id that may differ
-- from the envelope's) would be less precise. A row whose `signed` does not parse (none is written
-- so) falls back to the sender of the Message kept under its envelope id, else to ''.
-- The table is rebuilt in place so that the column sits beside the envelope id it qualifies.
CREATE TABLE "Receipt_new" (
    "hash" TEXT NOT NULL PRIMARY KEY,
    "envelopeId" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
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
INSERT INTO "Receipt_new" (hash, envelopeId, sender, kind, node, at, signed, identityKey, direction, target, sentIn, storedAt)
    SELECT r.hash, r.envelopeId,
        COALESCE(
            CASE WHEN json_valid(r.signed) THEN json_extract(r.signed, '$.sender') END,
            (SELECT m.sender FROM "Message" m WHERE m.id = r.envelopeId),
            ''
        ),
        r.kind, r.node, r.at, r.signed, r.identityKey, r.direction, r.target, r.sentIn, r.storedAt
    FROM "Receipt" r;
DROP TABLE "Receipt";
ALTER TABLE "Receipt_new" RENAME TO "Receipt";
CREATE UNIQUE INDEX "Receipt_envelopeId_sender_node_kind_key" ON "Receipt"("envelopeId", "sender", "node", "kind");
CREATE INDEX "Receipt_direction_sentIn_idx" ON "Receipt"("direction", "sentIn");
