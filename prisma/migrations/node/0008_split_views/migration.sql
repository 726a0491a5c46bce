-- Evidence of split views: a relay's key-log head this node verified, and a head of the same log
-- that another node gossiped in signed content (envelope `envelopeId`, from `sender`), which cannot
-- both be true. Both are kept as the relay signed them; the alarm stays open until an officer
-- resolves it.
CREATE TABLE "SplitView" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "raisedAt" DATETIME NOT NULL,
    "relay" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "envelopeId" TEXT NOT NULL,
    "ours" TEXT NOT NULL,
    "theirs" TEXT NOT NULL
);
CREATE INDEX "SplitView_relay_idx" ON "SplitView"("relay");
