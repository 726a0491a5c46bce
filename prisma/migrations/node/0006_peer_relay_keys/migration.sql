-- Peer relay keys held by the node, never taken afresh from the home relay: pinned on first use,
-- by hand (`entraide relay pin`), or from a network roster signed by a coordinator whose safety
-- code this authority verified. `publicKey` is the current key (after rollovers the peer signed),
-- `pinnedKey` the one first pinned from `source`.
CREATE TABLE "PeerRelayKey" (
    "domain" TEXT NOT NULL PRIMARY KEY,
    "publicKey" TEXT NOT NULL,
    "pinnedKey" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "pinnedAt" DATETIME NOT NULL,
    "verifiedAt" DATETIME
);

-- An officer's confirmation that a counterpart whose safety code was never verified may be sent to.
ALTER TABLE "Pin" ADD COLUMN "confirmedAt" DATETIME;
