/**
 * How a relay may face the network (DESIGN.md, "At the edge": TLS off loopback, always). It serves
 * HTTPS itself (`--tls-cert`, `--tls-key`), or plain HTTP on loopback only, or plain HTTP anywhere
 * when the operator says that a TLS-terminating proxy stands in front (`--behind-proxy`, as in
 * docker-compose.yml, where Caddy holds the certificate and the relay has no published port).
 */
import { EntraideError } from '../shared/errors.ts';
import { checkServiceUrl, isLoopbackHost } from '../shared/protocol/service-url.ts';
import { readTlsPair, type TlsFiles, type TlsPair } from './tls.ts';

export interface EdgeOptions {
  /** The address to listen on. */
  host: string;
  tls?: TlsFiles;
  behindProxy?: boolean;
  /** The URL nodes and peers reach the relay at, recorded for invitations and `relay info`. */
  publicUrl?: string;
}

/**
 * Checks how the relay is to face the network, before anything is opened, and reads the TLS pair
 * when there is one. Preconditions: `publicUrl`, when given, is one that nodes accept (https://, or
 * http:// on loopback; INSECURE_URL otherwise); the TLS files make a pair (readTlsPair); plain HTTP
 * on a host off loopback needs `behindProxy` (INSECURE_URL); and a relay that serves other
 * machines, natively or through a proxy, is given `publicUrl` (USAGE): the address it listens on
 * (0.0.0.0, the proxy's upstream) is not the one nodes reach, and invitations carry the URL.
 */
export function checkEdge(opts: EdgeOptions): TlsPair | undefined {
  if (opts.publicUrl !== undefined) checkServiceUrl(opts.publicUrl, '--public-url');
  const pair = opts.tls ? readTlsPair(opts.tls) : undefined;
  const loopback = isLoopbackHost(opts.host);
  if (!pair && !opts.behindProxy && !loopback)
    throw new EntraideError(
      'INSECURE_URL',
      `the relay will not serve plain HTTP on ${opts.host}, off this machine: give --tls-cert and --tls-key, or --behind-proxy when a TLS-terminating proxy stands in front of it`,
    );
  if ((opts.behindProxy || !loopback) && opts.publicUrl === undefined)
    throw new EntraideError(
      'USAGE',
      `${opts.behindProxy ? '--behind-proxy' : `listening on ${opts.host}`} needs --public-url (or ENTRAIDE_PUBLIC_URL): the https:// URL nodes and peers reach the relay at, which invitations and \`relay info\` give out`,
    );
  return pair;
}
