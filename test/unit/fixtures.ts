/**
 * Shared fixtures for the unit tests of the protocol core: randomness, realistic addresses drawn
 * from examples/networks.json, node key material, and byte-level corruption helpers.
 */
import { readFileSync } from 'node:fs';
import { fromBase64url, toBase64url, utf8 } from '../../shared/bytes.ts';
import { issueNodeCertificate } from '../../shared/crypto/certificates.ts';
import { sealEnvelope, type OpeningKeys } from '../../shared/crypto/envelope.ts';
import {
  encryptionKeyId,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type EncryptionKeyPair,
  type SigningKeyPair,
} from '../../shared/crypto/keys.ts';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import type { Envelope, NodeCertificate } from '../../shared/protocol/schemas.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { random } from '../support/random.ts';

/** Randomness for the core, as the edges supply it: test/support/random.ts, re-exported here. */
export { random };

// ---- realistic addresses ------------------------------------------------------------------

interface NetworksFile {
  networks: { id: string; name: string; members: string[] }[];
}

function loadNetworks(): NetworksFile {
  const url = new URL('../../examples/networks.json', import.meta.url);
  const parsed: unknown = JSON.parse(readFileSync(url, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as NetworksFile).networks)) {
    throw new Error('networks.json does not hold a "networks" array');
  }
  return parsed as NetworksFile;
}

export const NETWORKS = loadNetworks();

/** The relay domain used in tests for a network of networks.json, e.g. relay.wacap.example. */
export function relayOf(networkId: string): string {
  if (!NETWORKS.networks.some((n) => n.id === networkId))
    throw new Error(`no network ${networkId} in networks.json`);
  return `relay.${networkId}.example`;
}

/**
 * An authority address for a member State of a network, following the project's convention
 * (ISO 3166-1 alpha-2 code, a dot, a short office name): ('wacap', 'SN', 'moj') is
 * sn.moj@relay.wacap.example. Throws if the State is not a member of that network.
 */
export function authorityIn(networkId: string, country: string, office: string): string {
  const network = NETWORKS.networks.find((n) => n.id === networkId);
  if (!network) throw new Error(`no network ${networkId} in networks.json`);
  if (!network.members.includes(country)) throw new Error(`${country} is not a member of ${networkId}`);
  return `${country.toLowerCase()}.${office}@${relayOf(networkId)}`;
}

/** Senegal's ministry of justice on the WACAP relay. */
export const SN_MOJ = authorityIn('wacap', 'SN', 'moj');
/** Kenya's Office of the Attorney General on the Great Lakes relay. */
export const KE_AG = authorityIn('great-lakes', 'KE', 'ag');
/** Nigeria's central authority on the WACAP relay. */
export const NG_FMOJ = authorityIn('wacap', 'NG', 'fmoj');

// ---- nodes and their keys -----------------------------------------------------------------

export interface TestNode {
  address: string;
  authority: string;
  identity: SigningKeyPair;
  encryption: EncryptionKeyPair;
}

export function makeNode(name: string, authority: string): TestNode {
  return {
    address: `${name}/${authority}`,
    authority,
    identity: generateSigningKeyPair(random),
    encryption: generateEncryptionKeyPair(random),
  };
}

/** The keys a node opens envelopes with: its current encryption key and any retained old ones. */
export function openingKeys(node: TestNode, ...retained: EncryptionKeyPair[]): OpeningKeys {
  const encryptionKeys = new Map<string, EncryptionKeyPair>();
  for (const pair of [node.encryption, ...retained])
    encryptionKeys.set(encryptionKeyId(pair.publicKey), pair);
  return { node: node.address, encryptionKeys };
}

export function certificateFor(
  node: TestNode,
  masterKey: SigningKeyPair,
  dates: { issuedAt?: Date; encKeyNotAfter?: Date } = {},
): NodeCertificate {
  return issueNodeCertificate(
    {
      authority: node.authority,
      node: node.address,
      identityKey: node.identity.publicKey,
      encryptionKey: node.encryption.publicKey,
      issuedAt: dates.issuedAt ?? new Date('2025-03-01T09:00:00Z'),
      encKeyNotAfter: dates.encKeyNotAfter ?? new Date('2025-03-31T09:00:00Z'),
    },
    masterKey.secretKey,
  );
}

export const SENT_AT = new Date('2025-03-10T08:30:00.000Z');

export function sealTo(sender: TestNode, recipients: TestNode[], text: string): Envelope {
  const to = [...new Set(recipients.map((r) => r.authority))];
  return sealEnvelope(
    {
      id: uuidv7(SENT_AT.getTime(), random(10)),
      from: sender.address,
      to,
      sentAt: SENT_AT,
      ttl: 7 * 24 * 3600,
      recipients: recipients.map((r) => ({ node: r.address, encryptionKey: r.encryption.publicKey })),
      content: utf8(text),
    },
    sender.identity.secretKey,
    random,
  );
}

// ---- corruptions --------------------------------------------------------------------------

/** A copy of `bytes` with bit `bit` (0 = least significant bit of byte 0) inverted. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** Every base64url text obtained by flipping one bit of the bytes that `text` encodes. */
export function everyBitFlip(text: string): string[] {
  const bytes = fromBase64url(text);
  const out: string[] = [];
  for (let bit = 0; bit < bytes.length * 8; bit++) out.push(toBase64url(flipBit(bytes, bit)));
  return out;
}

/** A character that differs from `c` and keeps an address or a date in its alphabet. */
export function otherChar(c: string): string {
  if (c >= '0' && c <= '9') return c === '7' ? '8' : '7';
  if (c >= 'a' && c <= 'z') return c === 'q' ? 'x' : 'q';
  if (c >= 'A' && c <= 'Z') return c === 'Q' ? 'X' : 'Q';
  return 'x';
}

/** Every text obtained by changing exactly one character of `text`. */
export function everyCharChange(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) out.push(text.slice(0, i) + otherChar(text[i]!) + text.slice(i + 1));
  return out;
}

/** Runs `fn` and returns the EntraideError it throws; fails if it returns or throws anything else. */
export function entraideErrorOf(fn: () => unknown): EntraideError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EntraideError) return err;
    throw new Error(`expected an EntraideError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected an EntraideError, but nothing was thrown');
}

/** The code of the EntraideError that `fn` throws. */
export function codeOf(fn: () => unknown): ErrorCode {
  return entraideErrorOf(fn).code;
}
