/**
 * Key events that nodes submit after enrolment: a node certified by the master key (approving a
 * join, or replacing a lost node), a rotated encryption key, a rotated master key, a revoked node.
 * Each carries its own signature, which is its authorisation: the relay needs no session to log
 * it, only the checks of the key log (shared/keys/authority-state.ts), and it cannot log one that
 * the authority's keys did not sign without every node seeing the refusal.
 */
import { parseAuthorityAddress, parseNodeAddress } from '../../shared/addresses.ts';
import { EntraideError } from '../../shared/errors.ts';
import { currentEncryptionKey, eventAuthority, eventIssuedAt } from '../../shared/keys/authority-state.ts';
import type { KeyEvent, KeyEventResult } from '../../shared/protocol/key-log.ts';
import { parseTimestamp } from '../../shared/time.ts';
import type { RelayLimits } from '../limits.ts';
import type { KeyEffect, RelayStore } from '../storage/relay-store.ts';
import type { Directory } from './directory.ts';
import type { KeyLog } from './key-log.ts';

export interface KeyEventContext {
  store: RelayStore;
  directory: Directory;
  keyLog: KeyLog;
  domain: string;
  now: () => Date;
  /** Key-event limits (server/limits.ts): rotation interval, daily cap, clock skew. */
  limits: RelayLimits;
  /** Called after a revocation is committed: close the node's sockets. */
  onRevoked: (node: string) => void;
}

export async function submitKeyEvent(event: KeyEvent, ctx: KeyEventContext): Promise<KeyEventResult> {
  const authority = eventAuthority(event);
  const a = parseAuthorityAddress(authority);
  if (a.domain !== ctx.domain) {
    throw new EntraideError(
      'UNKNOWN_AUTHORITY',
      `${authority} is homed on ${a.domain}; this relay is ${ctx.domain}`,
    );
  }
  if (event.type === 'authority-enrolled') {
    throw new EntraideError(
      'KEY_EVENT_INVALID',
      'an authority is enrolled with a one-time invitation (POST /v1/enrol), not by a key event',
    );
  }
  if (!ctx.keyLog.state(authority)) {
    throw new EntraideError('UNKNOWN_AUTHORITY', `${authority} is not enrolled on this relay`);
  }
  const node = event.type === 'node-certified' ? event.certificate.node : null;
  if (node) {
    parseNodeAddress(node);
    // Checked before deduplication: a revoked node's old certificate, sent again, is refused.
    const known = ctx.keyLog.state(authority)!.nodes.get(node);
    if (known?.revoked) {
      throw new EntraideError(
        'NODE_REVOKED',
        `${node} was revoked on ${known.revoked.revokedAt}; it is never certified again`,
      );
    }
  }

  const existing = await ctx.keyLog.find(event);
  if (existing !== null) return { index: existing, duplicate: true, head: ctx.keyLog.head() };

  const at = ctx.now();
  if (ctx.limits.enforced) await withinKeyEventLimits(event, authority, at, ctx);
  let effect: KeyEffect = { kind: 'none' };
  switch (event.type) {
    case 'node-certified':
      effect = {
        kind: 'node-certified',
        node: event.certificate.node,
        authority,
        identityKey: event.certificate.identityKey,
        certificate: JSON.stringify(event.certificate),
        at,
        isNew: true, // decided in the commit below, where appends are serialised
      };
      break;
    case 'node-revoked':
      effect = { kind: 'node-revoked', node: event.revocation.node, at };
      break;
    case 'master-key-rotated':
      effect = { kind: 'master-key-rotated', authority, masterKey: event.rotation.masterKey };
      break;
    case 'encryption-key-rotated':
      break;
  }
  const { index, head } = await ctx.keyLog.append([event], async (prepared) => {
    if (effect.kind === 'node-certified') {
      effect.isNew = !ctx.keyLog.state(authority)?.nodes.has(effect.node);
    }
    await ctx.store.recordKeyEvent(effect, prepared.append);
    return { index: prepared.indexes[0]!, head: prepared.head };
  });
  if (effect.kind === 'node-certified') {
    ctx.directory.add({
      address: effect.node,
      authority,
      identityKey: effect.identityKey,
      revokedAt: null,
    });
  } else if (effect.kind === 'node-revoked') {
    ctx.directory.revoke(effect.node);
    ctx.onRevoked(effect.node);
  }
  return { index, duplicate: false, head };
}

/**
 * The key log is downloaded whole by every node: how fast one node or authority may grow it is
 * bounded. A key event must be dated near the relay's clock; a node's encryption key is rotated at
 * most once per interval; each node's rotations, and each authority's other key events, are capped
 * per day. Refusals are RATE_LIMITED with the seconds to wait, or ENVELOPE_CLOCK_SKEW.
 */
async function withinKeyEventLimits(
  event: KeyEvent,
  authority: string,
  now: Date,
  ctx: KeyEventContext,
): Promise<void> {
  const limits = ctx.limits.keyEvents;
  const issued = parseTimestamp(eventIssuedAt(event), 'key event issuedAt');
  if (Math.abs(issued - now.getTime()) > limits.maxClockSkewSeconds * 1000) {
    throw new EntraideError(
      'ENVELOPE_CLOCK_SKEW',
      `the key event is dated ${eventIssuedAt(event)}, more than ${limits.maxClockSkewSeconds} s from the relay’s time (${now.toISOString()})`,
    );
  }
  const node = event.type === 'encryption-key-rotated' ? event.statement.node : null;
  if (node) {
    const keys = ctx.keyLog.state(authority)?.nodes.get(node);
    if (keys) {
      const since = now.getTime() - Date.parse(currentEncryptionKey(keys).issuedAt);
      const wait = limits.minRotationIntervalSeconds * 1000 - since;
      if (wait > 0) {
        const retryAfter = Math.ceil(wait / 1000);
        throw new EntraideError(
          'RATE_LIMITED',
          `${node} rotated its encryption key less than ${limits.minRotationIntervalSeconds} s ago; try again in ${retryAfter} s`,
          { retryAfter },
        );
      }
    }
  }
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const logged = await ctx.store.countKeyEvents(authority, node, dayAgo);
  if (logged >= limits.perNodePerDay) {
    throw new EntraideError(
      'RATE_LIMITED',
      `${node ?? authority} has logged ${logged} key events in the last 24 hours, the most allowed; try again later`,
      { retryAfter: 3600 },
    );
  }
}
