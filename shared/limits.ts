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
} as const;
