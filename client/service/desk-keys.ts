/**
 * Key views for the service's routes (routes-keys.ts): the counterparts this node pinned, with
 * their safety code and verification, the alarms (`keys check`), this authority's nodes and the
 * join requests waiting, and the refusal that names the node holding the master key.
 */
import { EntraideError } from '../../shared/errors.ts';
import { pendingJoins } from '../join-tickets.ts';
import { listNodes, type NodeListing } from '../key-manager.ts';
import type { AuthorityNode } from '../node.ts';

export interface CounterpartView {
  authority: string;
  safetyCode: string;
  pinnedAt: string;
  /** When an officer of this authority compared the safety code out of band. */
  verifiedAt: string | null;
  /** Who verified it: not recorded by the node today (null). */
  verifiedBy: string | null;
  /** Sending to it unverified was confirmed by an officer (the CLI asks once). */
  confirmedAt: string | null;
  state: 'verified' | 'confirmed-unverified' | 'unverified';
  /** What the key log proves of its keys now; null when it could not be read (offline). */
  keys: {
    masterKeys: number;
    masterKeyIssuedAt: string;
    activeNodes: number;
    revokedNodes: number;
    events: number;
    refusedEvents: number;
    lastEventAt: string | null;
  } | null;
  /** Why `keys` is null. */
  keysError: { code: string; message: string } | null;
}

/** Every counterpart authority this node pinned (this authority aside), with its keys' summary. */
export async function counterpartsView(node: AuthorityNode): Promise<CounterpartView[]> {
  const pins = (await node.store.pins()).filter((p) => p.authority !== node.authority);
  const views: CounterpartView[] = [];
  for (const p of pins) {
    let keys: CounterpartView['keys'] = null;
    let keysError: CounterpartView['keysError'] = null;
    try {
      const t = await node.trust.authority(p.authority);
      const nodes = [...t.state.nodes.values()];
      keys = {
        masterKeys: t.state.masterKeys.length,
        masterKeyIssuedAt: t.state.masterKeys[0]!.issuedAt,
        activeNodes: nodes.filter((n) => !n.revoked).length,
        revokedNodes: nodes.filter((n) => n.revoked).length,
        events: t.history.length,
        refusedEvents: t.history.filter((h) => !h.accepted).length,
        lastEventAt: t.history.at(-1)?.loggedAt ?? null,
      };
    } catch (err) {
      if (!(err instanceof EntraideError)) throw err;
      keysError = { code: err.code, message: err.message };
    }
    // A fresh read may have dropped the verification (a master key changed outside its chain).
    const pin = (await node.store.pin(p.authority)) ?? p;
    views.push({
      authority: pin.authority,
      safetyCode: pin.safetyCode,
      pinnedAt: pin.pinnedAt.toISOString(),
      verifiedAt: pin.verifiedAt?.toISOString() ?? null,
      verifiedBy: null,
      confirmedAt: pin.confirmedAt?.toISOString() ?? null,
      state: pin.verifiedAt ? 'verified' : pin.confirmedAt ? 'confirmed-unverified' : 'unverified',
      keys,
      keysError,
    });
  }
  return views;
}

const LOG_FAULTS = ['KEYLOG_INCONSISTENT', 'KEYLOG_SPLIT_VIEW', 'PROOF_INVALID'];

/**
 * The node's alarms as `keys check` shows them: the relay's key log checked again first (its own
 * faults are a finding, not an error), then every alarm and the evidence of each split view.
 */
export async function alarmsView(node: AuthorityNode) {
  let error: { code: string; message: string } | null = null;
  try {
    await node.monitor.sync();
  } catch (err) {
    if (!(err instanceof EntraideError)) throw err;
    // Offline, the alarms held are still shown; the log's own faults are the finding.
    error = { code: err.code, message: err.message };
  }
  const head = await node.monitor.head().catch(() => null);
  const alarms = (await node.store.alarms()).map((a) => ({
    id: a.id,
    raisedAt: a.raisedAt.toISOString(),
    kind: a.kind,
    relay: a.relay,
    authority: a.authority,
    idx: a.idx,
    message: a.message,
    resolvedAt: a.resolvedAt?.toISOString() ?? null,
  }));
  const splitViews = (await node.store.splitViews()).map((v) => ({
    id: v.id,
    raisedAt: v.raisedAt.toISOString(),
    relay: v.relay,
    sender: v.sender,
    envelopeId: v.envelopeId,
    ours: v.ours,
    theirs: v.theirs,
  }));
  return {
    consistent: error === null || !LOG_FAULTS.includes(error.code),
    checked: error === null,
    error,
    head: head ? { size: head.size, timestamp: head.timestamp } : null,
    open: alarms.filter((a) => a.resolvedAt === null).length,
    alarms,
    splitViews,
  };
}

/** This authority's nodes as the key log proves them (`node list`), and the joins waiting (`node pending`). */
export async function nodesView(node: AuthorityNode): Promise<{
  thisNode: string;
  holdsMasterKey: boolean;
  nodes: NodeListing[];
  pending: { code: string; node: string; createdAt: string; expiresAt: string; certified: boolean }[];
}> {
  const nodes = await listNodes(node);
  // The relay keeps a join request until it expires, approved or not: say which name is certified.
  const active = new Set(nodes.filter((n) => n.state === 'active').map((n) => n.node));
  const pending = (await pendingJoins(node)).map((j) => ({
    code: j.code,
    node: j.node,
    createdAt: j.createdAt,
    expiresAt: j.expiresAt,
    certified: active.has(j.node),
  }));
  return { thisNode: node.address, holdsMasterKey: node.keystore.holdsMasterKey, nodes, pending };
}

/**
 * Refuses (MASTER_KEY_REQUIRED) on a node that does not hold the master key, naming the node that
 * does as far as the key log shows: the authority's first node (the one that enrolled it holds the
 * master key unless a backup moved it).
 */
export async function mustHoldMasterKey(node: AuthorityNode): Promise<void> {
  if (node.keystore.holdsMasterKey) return;
  let holder = '';
  try {
    const first = (await listNodes(node))
      .filter((n) => n.state === 'active' && !n.thisNode)
      .sort((a, b) => a.certifiedAt - b.certifiedAt)[0];
    if (first)
      holder = `; it is held by ${first.node} (the node that enrolled ${node.authority}), unless a key backup moved it to another node: ask its officer`;
  } catch {
    // Offline: the refusal stands without the holder's name.
  }
  throw new EntraideError(
    'MASTER_KEY_REQUIRED',
    `${node.address} does not hold the master key of ${node.authority}${holder || ': ask the officer of the node that enrolled the authority'}`,
  );
}
