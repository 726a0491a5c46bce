/** Starts a relay process: `entraide relay start` and `npm start` land here. */
import { EntraideError } from '../shared/errors.ts';
import { buildRelay, type Relay } from './app.ts';
import type { OutboxOptions } from './federation/outbox.ts';
import { recordRelayUrl } from './identity.ts';

export interface StartOptions {
  dataDir: string;
  host: string;
  port: number;
  domain?: string;
  /** The URL peers use to reach this relay (default: the address it listens on). */
  publicUrl?: string;
}

export async function startRelay(opts: StartOptions, print: (line: string) => void): Promise<Relay> {
  const relay = await buildRelay({
    dataDir: opts.dataDir,
    domain: opts.domain,
    create: true,
    outbox: outboxFromEnv(process.env),
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
  print(`  domain:     ${relay.identity.domain}`);
  print(`  public key: ${relay.identity.publicKeyB64}`);
  print(`  data:       ${opts.dataDir}`);
  const stop = () => {
    void relay.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return relay;
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
