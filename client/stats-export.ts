/**
 * A member's signed statistics export for its network coordinator (`entraide stats --export`, and
 * the web app's download): every request (version 1), or those with members of `network`, with
 * their codes (version 2). Only a member of the network may export for it.
 */
import { EntraideError } from '../shared/errors.ts';
import {
  exportNetworkStatistics,
  exportStatistics,
  type AnyStatisticsExport,
  type RequestStatsRecord,
} from '../shared/requests/statistics-export.ts';
import type { Roster } from '../shared/meetings/roster.ts';

/** What an export needs of the node: who signs, and the rosters it holds. */
export interface ExportingNode {
  authority: string;
  address: string;
  identitySecretKey: Uint8Array;
  networks: { mustHold(network: string): Roster };
}

export function signedStatisticsExport(
  node: ExportingNode,
  records: RequestStatsRecord[],
  network: string | undefined,
): AnyStatisticsExport {
  const common = { authority: node.authority, node: node.address, generatedAt: new Date().toISOString() };
  if (network === undefined) return exportStatistics({ ...common, records }, node.identitySecretKey);
  const roster = node.networks.mustHold(network);
  if (!roster.members.includes(node.authority)) {
    throw new EntraideError(
      'USAGE',
      `${node.authority} is not a member of network ${network}: see entraide network show ${network}`,
    );
  }
  return exportNetworkStatistics(
    { ...common, network, members: roster.members, records },
    node.identitySecretKey,
  );
}
