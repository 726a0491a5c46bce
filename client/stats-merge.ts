/**
 * A network coordinator's merge of statistics exports (`entraide stats merge`): reading the files,
 * and verifying each against the keys this node holds for the authority it names — the node must
 * have a certificate under that authority's master key in the key log (trust.ts: proven
 * included, the master key pinned), and the export must be signed by that node's identity key. No
 * key written in a file is ever used. All or nothing: one file that does not verify stops the
 * merge before anything is counted (shared/requests/statistics-merge.ts counts).
 */
import { readFileSync, statSync } from 'node:fs';
import { parseNodeAddress } from '../shared/addresses.ts';
import { EntraideError, isTransient } from '../shared/errors.ts';
import { NETWORK_ID_PATTERN } from '../shared/meetings/names.ts';
import { systemErrorCode } from '../shared/protocol/parse-file.ts';
import { checkJsonText } from '../shared/protocol/strict-json.ts';
import {
  parseStatisticsExport,
  verifyStatisticsExport,
  type AnyStatisticsExport,
} from '../shared/requests/statistics-export.ts';
import {
  exportProblem,
  mergeStatistics,
  type NetworkMerge,
  type VerifiedExport,
} from '../shared/requests/statistics-merge.ts';
import type { NodeKeys } from '../shared/keys/authority-state.ts';

/** Larger than any export of a million requests (about 600 bytes each). */
export const MAX_EXPORT_BYTES = 1024 * 1024 * 1024;

/** What the merge needs of the node: verified keys (TrustStore) and the rosters it holds. */
export interface MergeKeys {
  /** The keys of `node`, certified by `authority` and not revoked; throws otherwise (TrustStore.sender). */
  sender(authority: string, node: string): Promise<NodeKeys>;
  /** The members of `network` on the roster this node holds, or null when it holds none. */
  members(network: string): readonly string[] | null;
}

/** A statistics export file, parsed: USAGE when unreadable, INVALID_JSON, SCHEMA_INVALID naming the field. */
export function readStatisticsExport(file: string): AnyStatisticsExport {
  return parseStatisticsText(readExportText(file), file);
}

/** The text of an export file: USAGE when unreadable, SCHEMA_INVALID when too large to be one. */
export function readExportText(file: string): string {
  try {
    if (statSync(file).size > MAX_EXPORT_BYTES)
      throw new EntraideError('SCHEMA_INVALID', `${file} is larger than ${MAX_EXPORT_BYTES} bytes`);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof EntraideError) throw err;
    throw new EntraideError('USAGE', `cannot read ${file} (${systemErrorCode(err)})`);
  }
}

/** An export's text (named `source` in errors), parsed: INVALID_JSON, SCHEMA_INVALID naming the field. */
export function parseStatisticsText(text: string, source: string): AnyStatisticsExport {
  let value: unknown;
  try {
    checkJsonText(text);
    value = JSON.parse(text);
  } catch {
    throw new EntraideError('INVALID_JSON', `${source} is not valid JSON (it may be truncated or edited)`);
  }
  return parseStatisticsExport(value, source);
}

/**
 * Checks that `e` (read from `file`) was signed by a node its authority certified, holds together,
 * and is for `network` when given; STATS_EXPORT_INVALID naming the file and why otherwise. A relay
 * that does not answer is not a verdict on the file: that error (transient) passes through.
 */
export async function verifyStatisticsFile(
  keys: MergeKeys,
  file: string,
  e: AnyStatisticsExport,
  network?: string,
): Promise<void> {
  const invalid = (why: string) =>
    new EntraideError('STATS_EXPORT_INVALID', `${file} is refused: ${why}; nothing was merged`);
  if (parseNodeAddress(e.node).authority !== e.authority)
    throw invalid(`it names ${e.node}, which is not a node of ${e.authority}`);
  let node: NodeKeys;
  try {
    node = await keys.sender(e.authority, e.node);
  } catch (err) {
    if (!(err instanceof EntraideError) || isTransient(err.code)) throw err;
    throw invalid(`the keys of ${e.authority} could not be verified: ${err.message} [${err.code}]`);
  }
  if (!verifyStatisticsExport(e, node.identityKey))
    throw invalid(
      `its signature does not verify under the identity key of ${e.node}, as ${e.authority} certified it: the file was changed after signing, or another key signed it`,
    );
  const problem = exportProblem(e, network);
  if (problem) throw invalid(problem);
  if (e.v !== 2) return;
  const members = keys.members(e.network);
  if (members && !members.includes(e.authority))
    throw invalid(`${e.authority} is not a member of network ${e.network} on the roster this node holds`);
}

/**
 * Reads, verifies and merges statistics exports; one section per network. Preconditions: at least
 * one file; `network`, when given, is a network id (USAGE otherwise).
 */
export async function mergeStatisticsFiles(
  keys: MergeKeys,
  files: readonly string[],
  opts: { network?: string | undefined } = {},
): Promise<NetworkMerge[]> {
  if (files.length === 0) throw new EntraideError('USAGE', 'name at least one statistics export to merge');
  checkNetwork(opts.network);
  const read = files.map((file) => ({ source: file, export: readStatisticsExport(file) }));
  return verifyAndMerge(keys, read, opts.network);
}

/** The same for exports already in memory (the web app's upload): `source` names each in errors. */
export async function mergeStatisticsTexts(
  keys: MergeKeys,
  items: readonly { source: string; text: string }[],
  opts: { network?: string | undefined } = {},
): Promise<NetworkMerge[]> {
  if (items.length === 0) throw new EntraideError('USAGE', 'add at least one statistics export to merge');
  checkNetwork(opts.network);
  const read = items.map(({ source, text }) => ({ source, export: parseStatisticsText(text, source) }));
  return verifyAndMerge(keys, read, opts.network);
}

function checkNetwork(network: string | undefined): void {
  if (network !== undefined && !new RegExp(`^${NETWORK_ID_PATTERN}$`).test(network))
    throw new EntraideError('USAGE', `"${network}" is not a network id (e.g. wacap, great-lakes)`);
}

async function verifyAndMerge(
  keys: MergeKeys,
  read: VerifiedExport[],
  network: string | undefined,
): Promise<NetworkMerge[]> {
  for (const { source, export: e } of read) await verifyStatisticsFile(keys, source, e, network);
  return mergeStatistics(read, network);
}
