-- Networks and meetings. Every version of a network's roster this node accepted (signed by a
-- coordinator), the working hours authorities declared, and each meeting's state as rebuilt
-- from its signed invitation, updates, cancellation and replies. The items themselves stay rows
-- of "Message" (kind 'network', 'meeting' or 'hours'), with their signed envelopes.
CREATE TABLE "Roster" (
    "network" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "signed" TEXT NOT NULL,
    "receivedAt" DATETIME NOT NULL,
    PRIMARY KEY ("network", "version")
);

CREATE TABLE "WorkingHours" (
    "authority" TEXT NOT NULL PRIMARY KEY,
    "hours" TEXT NOT NULL,
    "declaredAt" DATETIME NOT NULL
);

CREATE TABLE "Meeting" (
    "uid" TEXT NOT NULL PRIMARY KEY,
    "network" TEXT,
    "organizer" TEXT NOT NULL,
    "startUtc" DATETIME NOT NULL,
    "endUtc" DATETIME NOT NULL,
    "sequence" INTEGER NOT NULL,
    "cancelled" BOOLEAN NOT NULL DEFAULT false,
    "state" TEXT NOT NULL,
    "remindedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL
);
CREATE INDEX "Meeting_startUtc_idx" ON "Meeting"("startUtc");
