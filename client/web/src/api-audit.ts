/** The auditor's calls to the local service (client/service/audit-role.ts). */
import { call, JsonText, q } from './api.ts';
export type { AuditRelay } from './api.ts';
import type { SyncState, VerifyJob } from '../../audit/audit-desk.ts';
import type { MirrorFilter as LogFilter } from '../../audit/audit-mirror.ts';
import type { RecordReport } from '../../audit/record-reconcile.ts';
import type { Reconciliation } from '../../audit/relay-reconcile.ts';
export type { LogFilter, RecordReport, Reconciliation, SyncState, VerifyJob };

/** One entry of a relay's audit log (metadata only). */
export interface AuditEntry {
  seq: number;
  at: string;
  kind: string;
  envelope?: string;
  blob?: string;
  sender?: string;
  recipients?: string[];
  node?: string;
  auditor?: string;
  peer?: string;
  size?: number;
  ciphertextHash?: string;
  reason?: string;
  detail?: string;
}

export interface LogPage {
  total: number;
  size: number;
  offset: number;
  entries: AuditEntry[];
  sync: SyncState;
}

export interface SignedHead {
  log: string;
  relay: string;
  size: number;
  root: string;
  timestamp: string;
  sig: string;
}

export interface ProofView {
  head: SignedHead;
  events: { index: number; event: AuditEntry; leaf: string; proof: string[] }[];
}

export interface HeadsView {
  kept: SignedHead[];
  peers: { domain: string; auditHead: SignedHead | null; alarm: string | null }[];
}

const enc = encodeURIComponent;

export const auditApi = {
  sync: (relay: string) => call<SyncState>('POST', '/audit/sync', { relay }),
  log: (relay: string, offset: number, limit: number, f: LogFilter) =>
    call<LogPage>('GET', `/audit/log${q({ relay, offset, limit, ...f })}`),
  verify: (relay: string) => call<VerifyJob>('POST', '/audit/verify', { relay }),
  jobs: (relay: string) => call<{ jobs: VerifyJob[] }>('GET', `/audit/verify${q({ relay })}`),
  job: (id: string) => call<VerifyJob>('GET', `/audit/verify/${enc(id)}`),
  cancel: (id: string) => call<VerifyJob>('DELETE', `/audit/verify/${enc(id)}`),
  proof: (relay: string, envelope: string) =>
    call<ProofView>('GET', `/audit/proof/${enc(envelope)}${q({ relay })}`),
  heads: (relay: string) => call<HeadsView>('GET', `/audit/heads${q({ relay })}`),
  reconcileRelays: (a: string, b: string) =>
    call<Reconciliation>('POST', '/audit/reconcile/relays', { a, b }),
  /** `record` is the file's text, as `entraide record export` wrote it. */
  reconcileRecord: (relay: string, record: string) =>
    call<RecordReport>('POST', `/audit/reconcile/record${q({ relay })}`, new JsonText(record)),
};
