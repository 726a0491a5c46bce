/** Sizes and ranges that every edge enforces the same way. */
export const LIMITS = {
  /** Largest HTTP body and socket.io frame the relay accepts. */
  maxRequestBytes: 1024 * 1024,
  /** Largest plaintext content a node will seal. */
  maxContentBytes: 768 * 1024,
  maxRecipientAuthorities: 32,
  maxRecipientNodes: 128,
  minTtlSeconds: 60,
  maxTtlSeconds: 30 * 24 * 3600,
  defaultTtlSeconds: 7 * 24 * 3600,
  /** How far in the future an envelope's sentAt may be, for clock skew. */
  maxClockSkewSeconds: 300,
  maxSubjectChars: 998,
  /** Session tokens live this long. */
  tokenLifetimeSeconds: 15 * 60,
  challengeLifetimeSeconds: 60,
  invitationLifetimeSeconds: 24 * 3600,
  /** Active nodes one authority may have (each is a recipient of every message to it). */
  maxNodesPerAuthority: 32,
  joinLifetimeSeconds: 24 * 3600,
  maxPendingJoinsPerAuthority: 16,
  /** Key-log entries per page. */
  keyLogPage: 1000,
  /** Largest plaintext size of one end-to-end encrypted file (a document). */
  maxFileBytes: 16 * 1024 ** 3,
  /** Files one signed item (a request, a message) may carry. */
  maxFilesPerItem: 64,
} as const;
