/**
 * Two relays' audit logs set against each other: what relay A says it forwarded to relay B against
 * what B says it received from A, both ways, after verifying both logs.
 */
import type { LogProblem } from '../../shared/audit/verify-log.ts';
import type { AuditorClient } from './auditor.ts';

export interface DirectionReport {
  from: string;
  to: string;
  /** Forwarded by `from` and received by `to`. */
  matched: number;
  /** Forwarded by `from`, with no "received" entry at `to`. */
  notReceived: string[];
  /** Received by `to` from `from`, with no "forwarded" entry at `from`. */
  notForwarded: string[];
}

export interface Reconciliation {
  logs: { relay: string; size: number; problem: LogProblem | null }[];
  directions: DirectionReport[];
  /** Alarms each relay holds on the other (a fork or a rewrite its gossip saw). */
  alarms: { relay: string; peer: string; alarm: string }[];
}

/**
 * What relay A says it forwarded to relay B against what B says it received from A, both ways,
 * after verifying both logs. Envelopes in flight can differ for a moment; a lasting difference
 * means one relay's record is incomplete.
 */
export async function reconcile(a: AuditorClient, b: AuditorClient): Promise<Reconciliation> {
  const [A, B] = [a.creds.relayDomain, b.creds.relayDomain];
  // What each relay kept of the other's audit log by gossip: each log must extend those heads too,
  // so a relay that showed its peer another history than the auditor is caught (a split view).
  const [keptByA, keptByB] = [
    (await a.peers()).find((p) => p.domain === B),
    (await b.peers()).find((p) => p.domain === A),
  ];
  const logs: Reconciliation['logs'] = [];
  const traffic: { forwarded: Set<string>; received: Set<string> }[] = [];
  for (const [c, peer, kept] of [
    [a, B, keptByB],
    [b, A, keptByA],
  ] as const) {
    // One pass over each log: verified, and what went to or came from the peer collected.
    const t = { forwarded: new Set<string>(), received: new Set<string>() };
    const r = await c.verify(undefined, kept?.auditHead ? [kept.auditHead] : [], (e) => {
      if (e.peer !== peer || !e.envelope) return;
      if (e.kind === 'forwarded') t.forwarded.add(e.envelope);
      if (e.kind === 'received') t.received.add(e.envelope);
    });
    logs.push({ relay: c.creds.relayDomain, size: r.size, problem: r.problem });
    traffic.push(t);
  }
  const alarms: Reconciliation['alarms'] = [];
  if (keptByA?.alarm) alarms.push({ relay: A, peer: B, alarm: keptByA.alarm });
  if (keptByB?.alarm) alarms.push({ relay: B, peer: A, alarm: keptByB.alarm });
  const [atA, atB] = traffic as [(typeof traffic)[0], (typeof traffic)[0]];
  const direction = (
    from: string,
    to: string,
    forwarded: Set<string>,
    received: Set<string>,
  ): DirectionReport => ({
    from,
    to,
    matched: [...forwarded].filter((id) => received.has(id)).length,
    notReceived: [...forwarded].filter((id) => !received.has(id)),
    notForwarded: [...received].filter((id) => !forwarded.has(id)),
  });
  return {
    logs,
    directions: [direction(A, B, atA.forwarded, atB.received), direction(B, A, atB.forwarded, atA.received)],
    alarms,
  };
}
