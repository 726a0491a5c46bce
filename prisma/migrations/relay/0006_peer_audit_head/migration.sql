-- Gossip of audit-log heads: the latest head of each peer's audit log this relay verified, so that
-- auditors can hold a relay to the history it showed its peers.
ALTER TABLE "Peer" ADD COLUMN "auditHead" TEXT;
