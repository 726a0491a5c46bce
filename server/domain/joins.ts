/**
 * Join requests: a new node of an existing authority leaves its signed public keys with the relay
 * and shows a join code; an officer whose node holds the master key fetches the request by that
 * code, checks it against the code, and certifies the node (a key event). The code is a hash of the
 * request, so the relay cannot swap the keys in between.
 */
import { parseNodeAddress } from '../../shared/addresses.ts';
import { EntraideError } from '../../shared/errors.ts';
import { createHash } from 'node:crypto';
import { joinCode, newJoinTicket, normaliseJoinCode } from '../../shared/keys/join-code.ts';
import { MAX_ENCRYPTION_KEY_DAYS, verifyJoinRequest } from '../../shared/keys/statements.ts';
import { LIMITS } from '../../shared/limits.ts';
import {
  JoinRequest as JoinRequestSchema,
  type JoinAccepted,
  type JoinRequest,
  type JoinSubmission,
  type PendingJoins,
  type TicketIssued,
} from '../../shared/protocol/key-log.ts';
import { check } from '../../shared/protocol/validate.ts';
import { parseTimestamp } from '../../shared/time.ts';
import type { RelayStore } from '../storage/relay-store.ts';
import type { Directory } from './directory.ts';
import type { KeyLog } from './key-log.ts';

export interface JoinContext {
  store: RelayStore;
  directory: Directory;
  keyLog: KeyLog;
  domain: string;
  now: () => Date;
}

/** Open tickets one authority may hold at once. */
export const MAX_OPEN_TICKETS = LIMITS.maxPendingJoinsPerAuthority;

/** A ticket for a new node of the session node's authority (for `forNode` only, when named). */
export async function issueTicket(
  sessionNode: string,
  forNode: string | undefined,
  ctx: JoinContext,
  random: (n: number) => Uint8Array,
): Promise<TicketIssued> {
  const issuer = parseNodeAddress(sessionNode);
  if (forNode) {
    const n = parseNodeAddress(forNode);
    if (n.authority !== issuer.authority)
      throw new EntraideError('FORBIDDEN', `${forNode} is not a node of your authority ${issuer.authority}`);
  }
  const now = ctx.now();
  if ((await ctx.store.countOpenTickets(issuer.authority, now)) >= MAX_OPEN_TICKETS) {
    throw new EntraideError(
      'RATE_LIMITED',
      `${issuer.authority} already holds ${MAX_OPEN_TICKETS} unused join tickets; let them be used or expire`,
      { retryAfter: 3600 },
    );
  }
  const ticket = newJoinTicket(random);
  const expiresAt = new Date(now.getTime() + LIMITS.joinLifetimeSeconds * 1000);
  await ctx.store.saveTicket({
    ticketHash: ticketHash(ticket),
    authority: issuer.authority,
    node: forNode ?? null,
    issuedBy: sessionNode,
    createdAt: now,
    expiresAt,
    joinCode: null,
  });
  return {
    ticket,
    authority: issuer.authority,
    ...(forNode ? { node: forNode } : {}),
    expiresAt: expiresAt.toISOString(),
  };
}

function ticketHash(ticket: string): string {
  return createHash('sha256').update(`entraide/v1/join-ticket\0${ticket}`).digest('base64url');
}

export async function requestJoin(submission: JoinSubmission, ctx: JoinContext): Promise<JoinAccepted> {
  const req = submission.request;
  const node = parseNodeAddress(req.node);
  const now = ctx.now();
  if (req.relay !== ctx.domain || node.domain !== ctx.domain) {
    throw new EntraideError('ADDRESS_INVALID', `${req.node} is not an address on this relay (${ctx.domain})`);
  }
  // The ticket first: without one from the authority a request is never stored, and a stranger
  // learns nothing of the authority's nodes.
  const hash = ticketHash(normaliseJoinCode(submission.ticket));
  const ticket = await ctx.store.findTicket(hash);
  const code = joinCode(req);
  if (
    !ticket ||
    ticket.authority !== node.authority ||
    ticket.expiresAt.getTime() <= now.getTime() ||
    (ticket.node !== null && ticket.node !== req.node) ||
    (ticket.joinCode !== null && ticket.joinCode !== code)
  ) {
    throw new EntraideError(
      'JOIN_TICKET_INVALID',
      `the join ticket is not valid for ${req.node}: it is unknown, expired, used, or for another node or authority`,
    );
  }
  verifyJoinRequest(req);
  const state = ctx.keyLog.state(node.authority);
  if (!state) throw new EntraideError('UNKNOWN_AUTHORITY', `${node.authority} is not enrolled on this relay`);
  const known = state.nodes.get(req.node);
  if (known?.revoked)
    throw new EntraideError('NODE_REVOKED', `${req.node} was revoked; choose another node name`);
  if (known) throw new EntraideError('NODE_EXISTS', `${req.node} already exists in ${node.authority}`);
  if (state.revokedIdentityKeys.has(req.identityKey)) {
    throw new EntraideError(
      'NODE_REVOKED',
      'this identity key belonged to a revoked node; generate new keys',
    );
  }
  const created = parseTimestamp(req.createdAt, 'join.createdAt');
  if (Math.abs(created - now.getTime()) > LIMITS.maxClockSkewSeconds * 1000) {
    throw new EntraideError(
      'ENVELOPE_CLOCK_SKEW',
      `the join request is dated ${req.createdAt}, more than ${LIMITS.maxClockSkewSeconds / 60} minutes from the relay’s time`,
    );
  }
  const notAfter = parseTimestamp(req.encKeyNotAfter, 'join.encKeyNotAfter');
  if (notAfter <= now.getTime() || notAfter - now.getTime() > MAX_ENCRYPTION_KEY_DAYS * 86_400_000) {
    throw new EntraideError(
      'KEY_EVENT_INVALID',
      `the encryption key's end date ${req.encKeyNotAfter} is out of range`,
    );
  }
  const existing = await ctx.store.findJoin(code);
  if (existing) return { code, expiresAt: existing.expiresAt.toISOString() };
  if ((await ctx.store.countJoins(node.authority, now)) >= LIMITS.maxPendingJoinsPerAuthority) {
    throw new EntraideError(
      'KEY_EVENT_INVALID',
      `${node.authority} already has ${LIMITS.maxPendingJoinsPerAuthority} join requests waiting; approve or let them expire`,
    );
  }
  const expiresAt = new Date(now.getTime() + LIMITS.joinLifetimeSeconds * 1000);
  await ctx.store.saveTicketedJoin(hash, {
    code,
    authority: node.authority,
    node: req.node,
    request: JSON.stringify(req),
    createdAt: now,
    expiresAt,
  });
  return { code, expiresAt: expiresAt.toISOString() };
}

/** The request behind a join code, for a node of the same authority only. */
export async function findJoin(code: string, sessionNode: string, ctx: JoinContext): Promise<JoinRequest> {
  const row = await ctx.store.findJoin(code);
  const missing = new EntraideError('JOIN_NOT_FOUND', `no join request ${code} waits for your authority`);
  if (!row || row.authority !== parseNodeAddress(sessionNode).authority) throw missing;
  if (row.expiresAt.getTime() <= ctx.now().getTime()) throw missing;
  return check(JoinRequestSchema, JSON.parse(row.request), 'join request');
}

/** The join requests waiting for the session node's authority. */
export async function pendingJoins(sessionNode: string, ctx: JoinContext): Promise<PendingJoins> {
  const rows = await ctx.store.pendingJoins(parseNodeAddress(sessionNode).authority, ctx.now());
  return {
    joins: rows.map((r) => ({
      code: r.code,
      node: r.node,
      createdAt: r.createdAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
    })),
  };
}

/** Rejects a join request waiting for the session node's authority: it is deleted, its ticket stays spent. */
export async function rejectJoin(code: string, sessionNode: string, ctx: JoinContext): Promise<void> {
  if (!(await ctx.store.deleteJoin(code, parseNodeAddress(sessionNode).authority)))
    throw new EntraideError('JOIN_NOT_FOUND', `no join request ${code} waits for your authority`);
}
