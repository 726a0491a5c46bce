/**
 * The authority's side of a join: a ticket for the new node (without one the relay stores no join
 * request, so strangers cannot fill the authority's slots), the join requests waiting, and the
 * rejection of one. Approval is key-manager.ts's approveJoin.
 */
import { nodeAddress } from '../shared/addresses.ts';
import { normaliseJoinCode } from '../shared/keys/join-code.ts';
import { PendingJoins, TicketIssued } from '../shared/protocol/key-log.ts';
import { Type } from '@sinclair/typebox';
import type { KeyPort } from './node-port.ts';

/** A join ticket for a new node of this authority: for `nodeName` only when given. */
export async function issueJoinTicket(node: KeyPort, nodeName?: string): Promise<TicketIssued> {
  const body = nodeName ? { node: nodeAddress(nodeName, node.authority) } : {};
  return node.relay.post(TicketIssued, '/v1/joins/tickets', body);
}

/** The join requests waiting for this authority's approval, oldest first. */
export async function pendingJoins(node: KeyPort): Promise<PendingJoins['joins']> {
  return (await node.relay.get(PendingJoins, '/v1/joins')).joins;
}

/** Rejects a waiting join request: the relay deletes it, and its ticket stays spent. */
export async function rejectJoin(node: KeyPort, code: string): Promise<string> {
  const normalised = normaliseJoinCode(code);
  await node.relay.post(
    Type.Object({ rejected: Type.Literal(true) }, { additionalProperties: false }),
    `/v1/joins/${encodeURIComponent(normalised)}/reject`,
    {},
  );
  return normalised;
}
