-- Links between requests: a request names the earlier requests it follows up, supplements or
-- extends (its content's `relatedTo`). Kept beside the sealed content so that a node can tell,
-- without opening every request, which preservation already has its production request
-- (`followup_due`) and which requests make up a case.
CREATE TABLE "RequestLink" (
    "fromId" TEXT NOT NULL,
    "toId" TEXT NOT NULL,
    "relation" TEXT NOT NULL,
    PRIMARY KEY ("fromId", "toId")
);
CREATE INDEX "RequestLink_toId_idx" ON "RequestLink"("toId");
