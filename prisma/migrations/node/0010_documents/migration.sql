-- Documents: the files an item carried, out or in. `entry` is the file's manifest entry (its key,
-- name, media type, size, hashes, role, language), sealed at rest like the rest of the node's
-- content; the bytes are kept encrypted as they travel (documents/<blob>), decrypted only to show
-- or export them. States: out `sealed` (encrypted here) then `uploaded` (the relay holds it whole);
-- in `pending` (to download) then `held` (complete and verified) or `damaged` (refused: `error`).
CREATE TABLE "Document" (
    "messageId" TEXT NOT NULL,
    "blob" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "direction" TEXT NOT NULL,
    "entry" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "error" TEXT,
    "updatedAt" DATETIME NOT NULL,
    PRIMARY KEY ("messageId", "blob")
);
CREATE INDEX "Document_blob_idx" ON "Document"("blob");
CREATE INDEX "Document_state_idx" ON "Document"("state");
