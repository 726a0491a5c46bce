/** Starts a relay process: `entraide relay start` and `npm start` land here. */
import { parseFormats } from '../shared/protocol/formats.ts';
import { Server as HttpsServer } from 'node:https';
import { EntraideError } from '../shared/errors.ts';
import { buildRelay, type Relay } from './app.ts';
import type { OutboxOptions } from './federation/outbox.ts';
import { relayKeyFingerprint } from '../shared/crypto/relay-key.ts';
import { checkEdge } from './edge.ts';
import { recordRelayUrl } from './identity.ts';
import { TlsReloader, type TlsFiles } from './tls.ts';
import { limitsFromEnv } from './limits.ts';

export interface StartOptions {
  dataDir: string;
  host: string;
  port: number;
  domain?: string;
  /** The URL nodes and peers reach this relay at, put in invitations (default: the listen address). */
  publicUrl?: string;
  /** Serve HTTPS with these PEM files, read again when they change and on SIGHUP. */
  tls?: TlsFiles;
  /** A TLS-terminating proxy stands in front: plain HTTP off loopback is allowed (see edge.ts). */
  behindProxy?: boolean;
  /** The options of `relay start` for its limits, each over its environment variable (limits.ts). */
  limits?: { profile?: string; file?: string; trustedProxies?: string };
}

export async function startRelay(opts: StartOptions, print: (line: string) => void): Promise<Relay> {
  const pair = checkEdge(opts);
  const relay = await buildRelay({
    dataDir: opts.dataDir,
    domain: opts.domain,
    create: true,
    ...(pair ? { https: { cert: pair.cert, key: pair.key } } : {}),
    outbox: outboxFromEnv(process.env),
    limits: limitsFromEnv(process.env, opts.limits),
    // ENTRAIDE_FORMATS=1 runs the relay as one that has not upgraded (tests of mixed versions).
    formats: parseFormats(process.env.ENTRAIDE_FORMATS, 'ENTRAIDE_FORMATS'),
  });
  let address: string;
  try {
    address = await relay.listen(opts.host, opts.port);
  } catch (err) {
    await relay.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new EntraideError('ADDRESS_IN_USE', `port ${opts.port} on ${opts.host} is already in use`);
    }
    throw err;
  }
  recordRelayUrl(opts.dataDir, opts.publicUrl ?? address);
  print(`entraide relay ${relay.identity.created ? 'created and ' : ''}listening`);
  print(`  url:        ${address}`);
  if (opts.publicUrl)
    print(`  public url: ${opts.publicUrl}${opts.behindProxy ? ' (behind a TLS proxy)' : ''}`);
  if (pair)
    print(
      `  tls:        ${pair.subject.replace(/\n/g, ', ')}, until ${pair.validTo} (sha256 ${pair.fingerprint})`,
    );
  print(`  domain:     ${relay.identity.domain}`);
  print(`  public key: ${relay.identity.publicKeyB64}`);
  print(`  fingerprint: ${relayKeyFingerprint(relay.identity.publicKeyB64)} (of the public key)`);
  print(`  data:       ${opts.dataDir}`);
  const { limits } = relay.ctx;
  if (limits.profile !== 'default')
    print(`  limits:     ${limits.profile} (for tests and benchmarks only, never a relay that faces users)`);
  const { server } = relay.app;
  const reloader =
    opts.tls && server instanceof HttpsServer ? watchTls(server, opts.tls, relay, print) : undefined;
  const stop = () => {
    reloader?.close();
    void relay.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return relay;
}

/** Serves each renewed certificate without a restart: when its files change, and on SIGHUP. */
function watchTls(
  server: HttpsServer,
  files: TlsFiles,
  relay: Relay,
  print: (line: string) => void,
): TlsReloader {
  const reloader = new TlsReloader(server, files, {
    reloaded: (p) =>
      print(`tls: serving the certificate read now, until ${p.validTo} (sha256 ${p.fingerprint})`),
    kept: (err) =>
      relay.app.log.error(
        { code: err.code },
        `TLS files not reloaded, the certificate in use is kept: ${err.message}`,
      ),
  });
  reloader.watch();
  process.on('SIGHUP', () => reloader.reload());
  return reloader;
}

/**
 * Outbox timing from the environment, for operators who want faster retries on a local network and
 * for tests: ENTRAIDE_OUTBOX_BASE_MS (first retry, default 500), ENTRAIDE_OUTBOX_MAX_MS (cap,
 * default 60000), ENTRAIDE_OUTBOX_POLL_MS (default 1000), ENTRAIDE_PEER_TIMEOUT_MS (default 15000).
 */
export function outboxFromEnv(env: NodeJS.ProcessEnv): OutboxOptions {
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new EntraideError('USAGE', `${name} must be a positive whole number of milliseconds`);
    return n;
  };
  return {
    baseDelayMs: num('ENTRAIDE_OUTBOX_BASE_MS'),
    maxDelayMs: num('ENTRAIDE_OUTBOX_MAX_MS'),
    pollMs: num('ENTRAIDE_OUTBOX_POLL_MS'),
    timeoutMs: num('ENTRAIDE_PEER_TIMEOUT_MS'),
  };
}
