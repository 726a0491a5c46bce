/** Starts a relay process: `entraide relay start` and `npm start` land here. */
import { EntraideError } from '../shared/errors.ts';
import { buildRelay, type Relay } from './app.ts';
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
  const relay = await buildRelay({ dataDir: opts.dataDir, domain: opts.domain, create: true });
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
