/**
 * Addresses: a relay is a DNS-style domain; an authority is `<authority-id>@<domain>`;
 * a node is `<node-name>/<authority-id>@<domain>`. Lower-case `[a-z0-9.-]` only.
 */
import { EntraideError } from './errors.ts';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
export const DOMAIN_PATTERN = `${LABEL}(?:\\.${LABEL})*`;
export const AUTHORITY_ID_PATTERN = '[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?';
export const NODE_NAME_PATTERN = '[a-z0-9](?:[a-z0-9.-]{0,30}[a-z0-9])?';
export const AUTHORITY_ADDRESS_PATTERN = `${AUTHORITY_ID_PATTERN}@${DOMAIN_PATTERN}`;
export const NODE_ADDRESS_PATTERN = `${NODE_NAME_PATTERN}/${AUTHORITY_ID_PATTERN}@${DOMAIN_PATTERN}`;

const domainRe = new RegExp(`^${DOMAIN_PATTERN}$`);
const authorityIdRe = new RegExp(`^${AUTHORITY_ID_PATTERN}$`);
const nodeNameRe = new RegExp(`^${NODE_NAME_PATTERN}$`);
const authorityRe = new RegExp(`^(${AUTHORITY_ID_PATTERN})@(${DOMAIN_PATTERN})$`);
const nodeRe = new RegExp(`^(${NODE_NAME_PATTERN})/(${AUTHORITY_ID_PATTERN})@(${DOMAIN_PATTERN})$`);

export interface ParsedAuthorityAddress {
  authorityId: string;
  domain: string;
  address: string;
}

export interface ParsedNodeAddress extends ParsedAuthorityAddress {
  nodeName: string;
  authority: string;
}

export function isDomain(value: string): boolean {
  return value.length <= 253 && domainRe.test(value);
}

export function checkDomain(value: string): string {
  if (!isDomain(value)) throw new EntraideError('ADDRESS_INVALID', `"${value}" is not a valid relay domain`);
  return value;
}

export function checkAuthorityId(value: string): string {
  if (!authorityIdRe.test(value)) {
    throw new EntraideError(
      'ADDRESS_INVALID',
      `"${value}" is not a valid authority id (lower-case letters, digits, dots and hyphens, e.g. sn.moj)`,
    );
  }
  return value;
}

export function checkNodeName(value: string): string {
  if (!nodeNameRe.test(value)) {
    throw new EntraideError('ADDRESS_INVALID', `"${value}" is not a valid node name (e.g. desk1)`);
  }
  return value;
}

export function parseAuthorityAddress(value: string): ParsedAuthorityAddress {
  const m = authorityRe.exec(value);
  if (!m || !isDomain(m[2]!)) {
    throw new EntraideError(
      'ADDRESS_INVALID',
      `"${value}" is not an authority address (e.g. sn.moj@relay.example)`,
    );
  }
  return { authorityId: m[1]!, domain: m[2]!, address: value };
}

export function parseNodeAddress(value: string): ParsedNodeAddress {
  const m = nodeRe.exec(value);
  if (!m || !isDomain(m[3]!)) {
    throw new EntraideError(
      'ADDRESS_INVALID',
      `"${value}" is not a node address (e.g. desk1/sn.moj@relay.example)`,
    );
  }
  const authority = `${m[2]!}@${m[3]!}`;
  return { nodeName: m[1]!, authorityId: m[2]!, domain: m[3]!, authority, address: value };
}

export function authorityAddress(authorityId: string, domain: string): string {
  return `${authorityId}@${domain}`;
}

export function nodeAddress(nodeName: string, authority: string): string {
  return `${nodeName}/${authority}`;
}

/** The authority a node address belongs to. */
export function authorityOfNode(node: string): string {
  return parseNodeAddress(node).authority;
}
