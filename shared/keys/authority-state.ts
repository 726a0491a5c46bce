/**
 * An authority's keys, derived only from its key-log events, in log order. The relay uses this to
 * decide whether to log an event; every node uses it to decide whom to trust. An event that fails
 * a check is refused (recorded in the history, never applied), so a relay that logs a forged
 * statement gains nothing, and the authority that owns the keys sees the forgery.
 *
 * Rules, in the order they are checked:
 * - the first applied event is the authority's self-signed declaration; a later one is refused;
 * - a node certificate must verify under the *current* master key, must not be expired when
 *   logged, must not reuse a revoked node address or identity key, and a node keeps its identity key;
 * - an encryption key is signed by the node's identity key, for a node that is not revoked;
 * - a master-key rotation is signed by the current master key and by the new one;
 * - a revocation is signed by the current master key and is final;
 * - a profile (the authority's directory entry) is signed by the current master key;
 * - every statement is newer (issuedAt) than the one it replaces, so an old statement logged
 *   again never rolls keys back.
 */
import { fromBase64url } from '../bytes.ts';
import { verifyNodeCertificate } from '../crypto/certificates.ts';
import { encryptionKeyId } from '../crypto/keys.ts';
import { EntraideError, type ErrorCode } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import type { KeyEvent, KeyLogLeaf } from '../protocol/key-log.ts';
import type { NodeCertificate } from '../protocol/schemas.ts';
import { parseTimestamp } from '../time.ts';
import { formatsRead } from '../protocol/formats.ts';
import type { AuthorityProfile } from '../protocol/profile.ts';
import { verifyProfile } from './profile.ts';
import {
  verifyDeclaration,
  verifyEncryptionKeyStatement,
  verifyMasterKeyRotation,
  verifyRevocation,
} from './statements.ts';

export interface EncryptionKeyRecord {
  key: string;
  issuedAt: string;
  notAfter: string;
  index: number;
  /** The envelope formats the node reads, as published with this key ([1] when not named). */
  formats: readonly number[];
}

export interface NodeKeys {
  node: string;
  identityKey: string;
  certificate: NodeCertificate;
  certifiedIndex: number;
  /** The current encryption key, then the older ones (newest first). */
  encryptionKeys: EncryptionKeyRecord[];
  revoked: { revokedAt: string; reason: string; index: number } | null;
}

export interface AuthorityState {
  authority: string;
  /** Current master key first, then older ones (newest first). */
  masterKeys: { key: string; issuedAt: string; index: number }[];
  enrolledAt: string;
  nodes: ReadonlyMap<string, NodeKeys>;
  revokedIdentityKeys: ReadonlySet<string>;
  /** Its directory entry in force, and the log index it was published at. */
  profile?: { profile: AuthorityProfile; index: number } | undefined;
}

export interface KeyHistoryItem {
  index: number;
  loggedAt: string;
  type: KeyEvent['type'];
  node: string | null;
  summary: string;
  accepted: boolean;
  code: ErrorCode | null;
  reason: string | null;
}

export interface IndexedLeaf {
  index: number;
  leaf: KeyLogLeaf;
}

export function currentMasterKey(state: AuthorityState): string {
  return state.masterKeys[0]!.key;
}

export function currentEncryptionKey(n: NodeKeys): EncryptionKeyRecord {
  return n.encryptionKeys[0]!;
}

/** The node an event speaks about, if any. */
export function eventNode(e: KeyEvent): string | null {
  switch (e.type) {
    case 'node-certified':
      return e.certificate.node;
    case 'encryption-key-rotated':
      return e.statement.node;
    case 'node-revoked':
      return e.revocation.node;
    default:
      return null;
  }
}

/** When an event says it was made (a revocation: when it took effect). */
export function eventIssuedAt(e: KeyEvent): string {
  switch (e.type) {
    case 'node-certified':
      return e.certificate.issuedAt;
    case 'encryption-key-rotated':
      return e.statement.issuedAt;
    case 'master-key-rotated':
      return e.rotation.issuedAt;
    case 'node-revoked':
      return e.revocation.revokedAt;
    case 'authority-enrolled':
      return e.declaration.issuedAt;
    case 'profile-published':
      return e.profile.issuedAt;
  }
}

/** The authority an event claims to be about (checked against the leaf's). */
export function eventAuthority(e: KeyEvent): string {
  switch (e.type) {
    case 'authority-enrolled':
      return e.declaration.authority;
    case 'node-certified':
      return e.certificate.authority;
    case 'encryption-key-rotated': {
      const slash = e.statement.node.indexOf('/');
      return e.statement.node.slice(slash + 1);
    }
    case 'master-key-rotated':
      return e.rotation.authority;
    case 'node-revoked':
      return e.revocation.authority;
    case 'profile-published':
      return e.profile.authority;
  }
}

export function describeEvent(e: KeyEvent): string {
  switch (e.type) {
    case 'authority-enrolled':
      return `authority enrolled with master key ${e.declaration.masterKey.slice(0, 8)}…`;
    case 'node-certified':
      return `node ${e.certificate.node} certified (identity ${e.certificate.identityKey.slice(0, 8)}…, encryption key ${keyId(e.certificate.encryptionKey)})`;
    case 'encryption-key-rotated':
      return `encryption key of ${e.statement.node} rotated to ${keyId(e.statement.encryptionKey)} until ${e.statement.notAfter}`;
    case 'master-key-rotated':
      return `master key rotated from ${e.rotation.previousKey.slice(0, 8)}… to ${e.rotation.masterKey.slice(0, 8)}…`;
    case 'node-revoked':
      return `node ${e.revocation.node} revoked${e.revocation.reason ? ` (${e.revocation.reason})` : ''}`;
    case 'profile-published':
      return `profile published (${e.profile.state}; languages ${e.profile.languages.join(', ')}; ${e.profile.competences.length} competence(s))`;
  }
}

/** Encryption keys are named by their key id everywhere officers see them (node list, rotate, history). */
function keyId(key: string): string {
  try {
    return encryptionKeyId(key);
  } catch {
    return `${key.slice(0, 8)}… (malformed)`;
  }
}

function refuse(code: ErrorCode, message: string): never {
  throw new EntraideError(code, message);
}

/** issuedAt may not be later than the logging time plus the allowed clock skew. */
function notFromTheFuture(issuedAt: string, loggedAt: number, what: string): number {
  const t = parseTimestamp(issuedAt, what);
  if (t > loggedAt + LIMITS.maxClockSkewSeconds * 1000) {
    refuse('KEY_EVENT_INVALID', `${what} ${issuedAt} is later than the time it was logged`);
  }
  return t;
}

/**
 * Applies one logged event to the authority's state and returns the new state; the input is never
 * modified. Throws a typed error (KEY_EVENT_INVALID, BAD_SIGNATURE, CERTIFICATE_INVALID,
 * NODE_REVOKED, NODE_EXISTS, UNKNOWN_AUTHORITY) when the event must be refused.
 */
export function applyKeyEvent(state: AuthorityState | undefined, entry: IndexedLeaf): AuthorityState {
  const { leaf, index } = entry;
  const e = leaf.event;
  const loggedAt = parseTimestamp(leaf.loggedAt, 'leaf.loggedAt');
  if (eventAuthority(e) !== leaf.authority) {
    refuse('KEY_EVENT_INVALID', `an event about ${eventAuthority(e)} was logged under ${leaf.authority}`);
  }
  if (state && leaf.authority !== state.authority) {
    refuse('KEY_EVENT_INVALID', `an event of ${leaf.authority} cannot change the keys of ${state.authority}`);
  }
  if (e.type === 'authority-enrolled') {
    if (state) {
      refuse(
        'KEY_EVENT_INVALID',
        e.declaration.masterKey === currentMasterKey(state)
          ? `${leaf.authority} is already enrolled with this master key`
          : `a second enrolment of ${leaf.authority} with another master key: the first one stands`,
      );
    }
    verifyDeclaration(e.declaration);
    notFromTheFuture(e.declaration.issuedAt, loggedAt, 'declaration.issuedAt');
    return {
      authority: leaf.authority,
      masterKeys: [{ key: e.declaration.masterKey, issuedAt: e.declaration.issuedAt, index }],
      enrolledAt: leaf.loggedAt,
      nodes: new Map(),
      revokedIdentityKeys: new Set(),
    };
  }
  if (!state) refuse('UNKNOWN_AUTHORITY', `${leaf.authority} has no enrolment before this event`);
  const master = fromBase64url(currentMasterKey(state), 'masterKey', 32);

  switch (e.type) {
    case 'node-certified': {
      const c = e.certificate;
      verifyNodeCertificate(c, state.authority, master);
      const issued = notFromTheFuture(c.issuedAt, loggedAt, 'certificate.issuedAt');
      if (parseTimestamp(c.encKeyNotAfter, 'certificate.encKeyNotAfter') <= loggedAt) {
        refuse(
          'CERTIFICATE_INVALID',
          `the certificate of ${c.node} had expired (${c.encKeyNotAfter}) when it was logged`,
        );
      }
      const prior = state.nodes.get(c.node);
      if (prior?.revoked || state.revokedIdentityKeys.has(c.identityKey)) {
        refuse('NODE_REVOKED', `${c.node} was revoked; a revoked node is never certified again`);
      }
      if (prior && prior.identityKey !== c.identityKey) {
        refuse('NODE_EXISTS', `${c.node} is already certified with another identity key`);
      }
      if (prior && issued <= Date.parse(prior.certificate.issuedAt)) {
        refuse('KEY_EVENT_INVALID', `this certificate of ${c.node} is not newer than the one in force`);
      }
      const active = [...state.nodes.values()].filter((n) => !n.revoked).length;
      if (!prior && active >= LIMITS.maxNodesPerAuthority) {
        refuse('KEY_EVENT_INVALID', `${state.authority} already has ${active} active nodes (the limit)`);
      }
      const record = {
        key: c.encryptionKey,
        issuedAt: c.issuedAt,
        notAfter: c.encKeyNotAfter,
        index,
        formats: formatsRead(c.formats),
      };
      const keys = prior
        ? issued > Date.parse(currentEncryptionKey(prior).issuedAt)
          ? [record, ...prior.encryptionKeys]
          : prior.encryptionKeys
        : [record];
      const nodes = new Map(state.nodes);
      nodes.set(c.node, {
        node: c.node,
        identityKey: c.identityKey,
        certificate: c,
        certifiedIndex: index,
        encryptionKeys: keys,
        revoked: null,
      });
      return { ...state, nodes };
    }
    case 'encryption-key-rotated': {
      const s = e.statement;
      const n = state.nodes.get(s.node);
      if (!n) refuse('KEY_EVENT_INVALID', `${s.node} is not a certified node of ${state.authority}`);
      if (n.revoked) refuse('NODE_REVOKED', `${s.node} was revoked; its keys can no longer change`);
      verifyEncryptionKeyStatement(s, fromBase64url(n.identityKey, 'identityKey', 32));
      const issued = notFromTheFuture(s.issuedAt, loggedAt, 'statement.issuedAt');
      if (Date.parse(s.notAfter) <= loggedAt) {
        refuse(
          'KEY_EVENT_INVALID',
          `the encryption key of ${s.node} had expired (${s.notAfter}) when it was logged`,
        );
      }
      if (issued <= Date.parse(currentEncryptionKey(n).issuedAt)) {
        refuse('KEY_EVENT_INVALID', `this encryption key of ${s.node} is not newer than the one in force`);
      }
      if (n.encryptionKeys.some((k) => k.key === s.encryptionKey)) {
        refuse('KEY_EVENT_INVALID', `${s.node} already used this encryption key`);
      }
      const nodes = new Map(state.nodes);
      nodes.set(s.node, {
        ...n,
        encryptionKeys: [
          {
            key: s.encryptionKey,
            issuedAt: s.issuedAt,
            notAfter: s.notAfter,
            index,
            formats: formatsRead(s.formats),
          },
          ...n.encryptionKeys,
        ],
      });
      return { ...state, nodes };
    }
    case 'master-key-rotated': {
      const r = e.rotation;
      verifyMasterKeyRotation(r, master);
      const issued = notFromTheFuture(r.issuedAt, loggedAt, 'rotation.issuedAt');
      if (issued <= Date.parse(state.masterKeys[0]!.issuedAt)) {
        refuse(
          'KEY_EVENT_INVALID',
          `this master-key rotation of ${state.authority} is not newer than the key in force`,
        );
      }
      if (state.masterKeys.some((k) => k.key === r.masterKey)) {
        refuse('KEY_EVENT_INVALID', `${state.authority} already used this master key`);
      }
      return {
        ...state,
        masterKeys: [{ key: r.masterKey, issuedAt: r.issuedAt, index }, ...state.masterKeys],
      };
    }
    case 'node-revoked': {
      const r = e.revocation;
      const n = state.nodes.get(r.node);
      if (!n) refuse('KEY_EVENT_INVALID', `${r.node} is not a certified node of ${state.authority}`);
      if (n.revoked) refuse('NODE_REVOKED', `${r.node} is already revoked`);
      if (n.identityKey !== r.identityKey) {
        refuse('KEY_EVENT_INVALID', `the revocation names another identity key than ${r.node}’s`);
      }
      verifyRevocation(r, master);
      notFromTheFuture(r.revokedAt, loggedAt, 'revocation.revokedAt');
      const nodes = new Map(state.nodes);
      nodes.set(r.node, { ...n, revoked: { revokedAt: r.revokedAt, reason: r.reason, index } });
      const revokedIdentityKeys = new Set(state.revokedIdentityKeys);
      revokedIdentityKeys.add(n.identityKey);
      return { ...state, nodes, revokedIdentityKeys };
    }
    case 'profile-published': {
      const p = e.profile;
      verifyProfile(p, master);
      const issued = notFromTheFuture(p.issuedAt, loggedAt, 'profile.issuedAt');
      if (state.profile && issued <= Date.parse(state.profile.profile.issuedAt)) {
        refuse('KEY_EVENT_INVALID', `this profile of ${state.authority} is not newer than the one in force`);
      }
      return { ...state, profile: { profile: p, index } };
    }
  }
}

/**
 * Replays an authority's events in log order. Refused events are kept in the history with the
 * reason, and leave the state as it was.
 */
export function replayAuthority(entries: readonly IndexedLeaf[]): {
  state: AuthorityState | undefined;
  history: KeyHistoryItem[];
} {
  let state: AuthorityState | undefined;
  const history: KeyHistoryItem[] = [];
  for (const entry of [...entries].sort((a, b) => a.index - b.index)) {
    const e = entry.leaf.event;
    const item: KeyHistoryItem = {
      index: entry.index,
      loggedAt: entry.leaf.loggedAt,
      type: e.type,
      node: eventNode(e),
      summary: describeEvent(e),
      accepted: true,
      code: null,
      reason: null,
    };
    try {
      state = applyKeyEvent(state, entry);
    } catch (err) {
      if (!(err instanceof EntraideError)) throw err;
      item.accepted = false;
      item.code = err.code;
      item.reason = err.message;
    }
    history.push(item);
  }
  return { state, history };
}

export interface EncryptionTarget {
  node: string;
  encryptionKey: string;
  notAfter: string;
  /** The envelope formats the node reads. */
  formats: readonly number[];
}

/** Nodes a sender encrypts to at `now`: not revoked, with an encryption key still in force. */
export function encryptionTargets(state: AuthorityState, now: Date): EncryptionTarget[] {
  const out: EncryptionTarget[] = [];
  for (const n of state.nodes.values()) {
    if (n.revoked) continue;
    const k = currentEncryptionKey(n);
    if (Date.parse(k.notAfter) <= now.getTime()) continue;
    out.push({ node: n.node, encryptionKey: k.key, notAfter: k.notAfter, formats: k.formats });
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}
