/**
 * RFC 8785 canonical bytes of an envelope's header and of the unsigned envelope, written out for
 * the envelope's fixed shape. Every envelope is encoded four times on its way (seal: AAD and
 * signature; relay: signature; recipient: signature and AAD), and the general canonicaliser costs
 * ~15–20 µs each on this class of machine. Keys are emitted in RFC 8785 order (UTF-16 code units);
 * strings and integers are serialised as JSON.stringify does, which is what RFC 8785 prescribes for
 * them. Anything not of the exact shape (extra or missing fields, other types, lone surrogates)
 * falls back to the general canonicaliser, so the bytes are always the canonical ones; a property
 * test holds the two equal. Format 2 headers carry `masterKeys` as well.
 */
import { utf8 } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';

const LONE_SURROGATE = /[\ud800-\udfff]/;
const HEADER_KEYS = ['from', 'id', 'keyCommitment', 'recipients', 'sentAt', 'to', 'ttl', 'v'];
const UNSIGNED_KEYS = [
  'ciphertext',
  'from',
  'id',
  'keyCommitment',
  'nonce',
  'recipients',
  'sentAt',
  'to',
  'ttl',
  'v',
];
const RECIPIENT_KEYS = ['encKeyId', 'node', 'wrappedKey'];
const MASTER_KEY_KEYS = ['authority', 'fingerprint'];
/** Format 2 adds `masterKeys` (sorted between keyCommitment and nonce). */
const HEADER_KEYS_V2 = [...HEADER_KEYS, 'masterKeys'];
const UNSIGNED_KEYS_V2 = [...UNSIGNED_KEYS, 'masterKeys'];

function str(value: unknown): string | undefined {
  return typeof value === 'string' && !LONE_SURROGATE.test(value) ? JSON.stringify(value) : undefined;
}

function int(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

function hasExactly(obj: object, keys: string[]): boolean {
  const own = Object.keys(obj);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(obj, k));
}

/** The canonical JSON members shared by header and unsigned envelope, or undefined if off-shape. */
function members(e: Record<string, unknown>): Record<string, string> | undefined {
  const from = str(e.from);
  const id = str(e.id);
  const keyCommitment = str(e.keyCommitment);
  const sentAt = str(e.sentAt);
  const ttl = int(e.ttl);
  const v = int(e.v);
  if (
    from === undefined ||
    id === undefined ||
    keyCommitment === undefined ||
    sentAt === undefined ||
    ttl === undefined ||
    v === undefined
  )
    return undefined;
  if (!Array.isArray(e.to) || !Array.isArray(e.recipients)) return undefined;
  const to: string[] = [];
  for (const t of e.to as unknown[]) {
    const s = str(t);
    if (s === undefined) return undefined;
    to.push(s);
  }
  const recipients: string[] = [];
  for (const r of e.recipients as unknown[]) {
    if (typeof r !== 'object' || r === null || Array.isArray(r) || !hasExactly(r, RECIPIENT_KEYS))
      return undefined;
    const rr = r as Record<string, unknown>;
    const encKeyId = str(rr.encKeyId);
    const node = str(rr.node);
    const wrappedKey = str(rr.wrappedKey);
    if (encKeyId === undefined || node === undefined || wrappedKey === undefined) return undefined;
    recipients.push(`{"encKeyId":${encKeyId},"node":${node},"wrappedKey":${wrappedKey}}`);
  }
  let masterKeys = '';
  if (Object.prototype.hasOwnProperty.call(e, 'masterKeys')) {
    if (!Array.isArray(e.masterKeys)) return undefined;
    const refs: string[] = [];
    for (const r of e.masterKeys as unknown[]) {
      if (typeof r !== 'object' || r === null || Array.isArray(r) || !hasExactly(r, MASTER_KEY_KEYS))
        return undefined;
      const rr = r as Record<string, unknown>;
      const authority = str(rr.authority);
      const fingerprint = str(rr.fingerprint);
      if (authority === undefined || fingerprint === undefined) return undefined;
      refs.push(`{"authority":${authority},"fingerprint":${fingerprint}}`);
    }
    masterKeys = `"masterKeys":[${refs.join(',')}],`;
  }
  return {
    from,
    id,
    keyCommitment,
    masterKeys,
    sentAt,
    ttl,
    v,
    to: `[${to.join(',')}]`,
    recipients: `[${recipients.join(',')}]`,
  };
}

/** Canonical bytes of the header (the AAD): every envelope field but nonce, ciphertext and sig. */
export function canonicalHeaderBytes(header: object): Uint8Array {
  const m =
    hasExactly(header, HEADER_KEYS) || hasExactly(header, HEADER_KEYS_V2)
      ? members(header as Record<string, unknown>)
      : undefined;
  if (!m) return canonicalBytes(header);
  return utf8(
    `{"from":${m.from},"id":${m.id},"keyCommitment":${m.keyCommitment},${m.masterKeys}"recipients":${m.recipients},"sentAt":${m.sentAt},"to":${m.to},"ttl":${m.ttl},"v":${m.v}}`,
  );
}

/** Canonical bytes of the envelope without its signature: what the sender signs. */
export function canonicalUnsignedBytes(unsigned: object): Uint8Array {
  const e = unsigned as Record<string, unknown>;
  const m =
    hasExactly(unsigned, UNSIGNED_KEYS) || hasExactly(unsigned, UNSIGNED_KEYS_V2) ? members(e) : undefined;
  const nonce = str(e.nonce);
  const ciphertext = str(e.ciphertext);
  if (!m || nonce === undefined || ciphertext === undefined) return canonicalBytes(unsigned);
  return utf8(
    `{"ciphertext":${ciphertext},"from":${m.from},"id":${m.id},"keyCommitment":${m.keyCommitment},${m.masterKeys}"nonce":${nonce},"recipients":${m.recipients},"sentAt":${m.sentAt},"to":${m.to},"ttl":${m.ttl},"v":${m.v}}`,
  );
}
