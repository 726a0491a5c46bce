/**
 * The first contact with a relay, when a node (init, join) or an auditor (keygen) pins its key.
 * The key is never taken on trust over the network: it must be the one the invitation or
 * `--relay-key` names (the key itself or its fingerprint), or RELAY_KEY_MISMATCH stops everything
 * before anything is stored. Only a relay on this machine's loopback may be pinned as it answers
 * (no network is crossed; tests and `entraide demo` do so).
 */
import { checkRelayKey, checkRelayKeyText } from '../shared/crypto/relay-key.ts';
import { EntraideError } from '../shared/errors.ts';
import { RelayInfo } from '../shared/protocol/schemas.ts';
import { checkServiceUrl, isLoopbackHost } from '../shared/protocol/service-url.ts';
import { RelayHttp } from './transport/http.ts';

export interface RelayAddress {
  /** The relay's URL, as checkServiceUrl accepts it. */
  url: URL;
  /** The key or fingerprint the relay must show; undefined only on loopback. */
  relayKey: string | undefined;
}

/**
 * Checks, without any network call, what a first contact needs. Preconditions: `relayUrl` is a
 * relay URL (USAGE) that is https:// or on loopback (INSECURE_URL); `relayKey`, when given, can
 * name a key (USAGE); and it is given unless the relay is on loopback (USAGE).
 */
export function checkRelayAddress(relayUrl: string, relayKey: string | undefined): RelayAddress {
  const url = new URL(checkServiceUrl(relayUrl, '--relay').href);
  if (relayKey !== undefined) checkRelayKeyText(relayKey, '--relay-key');
  else if (!isLoopbackHost(url.hostname))
    throw new EntraideError(
      'USAGE',
      `the relay at ${url.host} is not on this machine: its key must be known beforehand (the invitation carries it, or --relay-key)`,
    );
  return { url, relayKey };
}

/** Asks the relay who it is and holds its answer to the expected key; nothing is stored here. */
export async function firstContact(address: RelayAddress): Promise<{ http: RelayHttp; relay: RelayInfo }> {
  const http = new RelayHttp(address.url.toString());
  const relay = await http.request(RelayInfo, 'GET', '/v1/relay');
  if (address.relayKey !== undefined) checkRelayKey(relay.publicKey, address.relayKey, address.url.origin);
  return { http, relay };
}
