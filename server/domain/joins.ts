/**
 * Join requests: a new node of an existing authority leaves its signed public keys with the relay
 * and shows a join code; an officer whose node holds the master key fetches the request by that
 * code, checks it against the code, and certifies the node (a key event). The code is a hash of the
 * request, so the relay cannot swap the keys in between.
 */
import { parseNodeAddress } from '../../shared/addresses.ts';
import { EntraideError } from '../../shared/errors.ts';
import { joinCode } from '../../shared/keys/join-code.ts';
import { MAX_ENCRYPTION_KEY_DAYS, verifyJoinRequest } from '../../shared/keys/statements.ts';
import { LIMITS } from '../../shared/limits.ts';
import {
  JoinRequest as JoinRequestSchema,
  type JoinAccepted,
  type JoinRequest,
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

export async function requestJoin(req: JoinRequest, ctx: JoinContext): Promise<JoinAccepted> {
  const node = parseNodeAddress(req.node);
  const now = ctx.now();
  if (req.relay !== ctx.domain || node.domain !== ctx.domain) {
    throw new EntraideError('ADDRESS_INVALID', `${req.node} is not an address on this relay (${ctx.domain})`);
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
  const code = joinCode(req);
  const existing = await ctx.store.findJoin(code);
  if (existing) return { code, expiresAt: existing.expiresAt.toISOString() };
  if ((await ctx.store.countJoins(node.authority, now)) >= LIMITS.maxPendingJoinsPerAuthority) {
    throw new EntraideError(
      'KEY_EVENT_INVALID',
      `${node.authority} already has ${LIMITS.maxPendingJoinsPerAuthority} join requests waiting; approve or let them expire`,
    );
  }
  const expiresAt = new Date(now.getTime() + LIMITS.joinLifetimeSeconds * 1000);
  await ctx.store.saveJoin({
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
