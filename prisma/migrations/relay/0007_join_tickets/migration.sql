-- Join tickets: a node of an authority issues one (a session route), the new node presents it with
-- its join request. Only the SHA-256 of the ticket is kept; a ticket is spent by one join request.
CREATE TABLE "JoinTicket" (
    "ticketHash" TEXT NOT NULL PRIMARY KEY,
    "authority" TEXT NOT NULL,
    "node" TEXT,
    "issuedBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "joinCode" TEXT
);
CREATE INDEX "JoinTicket_authority_idx" ON "JoinTicket"("authority");
