/** The keys and counterparts part of the service's API, as the pages see it (api.ts holds the rest). */

export interface Counterpart {
  authority: string;
  safetyCode: string;
  pinnedAt?: string;
  verifiedAt?: string | null;
  verifiedBy?: string | null;
  confirmedAt?: string | null;
  state?: 'verified' | 'confirmed-unverified' | 'unverified';
  keys?: {
    masterKeys?: number;
    masterKeyIssuedAt?: string;
    activeNodes?: number;
    revokedNodes?: number;
    events?: number;
    refusedEvents?: number;
    lastEventAt?: string | null;
  } | null;
  keysError?: { code: string; message: string } | null;
}

export interface KeyHistory {
  authority: string;
  safetyCode: string;
  verifiedAt: string | null;
  head?: { size: number; root: string; timestamp: string };
  events?: {
    index: number;
    loggedAt: string;
    type: string;
    node: string | null;
    summary: string;
    accepted: boolean;
    code: string | null;
    reason: string | null;
  }[];
}

export interface Alarm {
  id: string | number;
  raisedAt?: string;
  kind?: string;
  relay?: string;
  authority?: string;
  message?: string;
  resolvedAt?: string | null;
}

export interface AlarmsView {
  consistent?: boolean;
  checked?: boolean;
  error?: { code: string; message: string } | null;
  open?: number;
  alarms?: Alarm[];
  splitViews?: { id: string | number; raisedAt?: string; relay?: string; sender?: string }[];
}

export interface NodeListing {
  node: string;
  state: 'active' | 'revoked';
  thisNode?: boolean;
  identityKey?: string;
  encryptionKeyNotAfter?: string;
  certifiedAt?: number;
  revokedAt?: string | null;
  revokeReason?: string | null;
}

export interface NodesView {
  thisNode: string;
  holdsMasterKey: boolean;
  nodes: NodeListing[];
  pending: { code: string; node: string; createdAt: string; expiresAt: string }[];
}
