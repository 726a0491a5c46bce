/** `entraide relay …`: what a relay operator runs. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { EntraideError } from '../../shared/errors.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { json, out } from './io.ts';

export const DEFAULT_PORT = 7800;

function dataDir(opt: string | undefined): string {
  return resolve(opt ?? process.env.ENTRAIDE_RELAY_DATA ?? 'data/relay');
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new EntraideError('USAGE', `--port must be a number from 0 to 65535, not "${value}"`);
  return n;
}

export function relayCommands(program: Command, run: (fn: () => Promise<void>) => Promise<void>): void {
  const relay = program.command('relay').description('run and administer a relay');

  relay
    .command('start')
    .description('start the relay (creates its data folder and key on first start)')
    .option('--data <dir>', 'data folder (default: $ENTRAIDE_RELAY_DATA or ./data/relay)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', `port to listen on (default ${DEFAULT_PORT})`)
    .option('--domain <domain>', 'the relay’s domain, fixed at first start (default relay.local)')
    .action((o: { data?: string; host: string; port?: string; domain?: string }) =>
      run(async () => {
        // The relay's modules load only for relay commands, so officers' commands start faster.
        const { startRelay } = await import('../../server/main.ts');
        await startRelay(
          {
            dataDir: dataDir(o.data),
            host: o.host,
            port: port(o.port ?? process.env.ENTRAIDE_PORT ?? String(DEFAULT_PORT)),
            domain: o.domain,
          },
          out,
        );
        await new Promise(() => undefined); // until a signal stops it
      }),
    );

  relay
    .command('invite <authority-id>')
    .description('print a one-time invitation code for an authority (valid 24 h)')
    .option('--data <dir>', 'data folder of the relay')
    .option('--json', 'machine-readable output')
    .action((authorityId: string, o: { data?: string; json?: boolean }) =>
      run(async () => {
        await loadSodium();
        const { loadRelayIdentity } = await import('../../server/identity.ts');
        const { RelayStore } = await import('../../server/storage/relay-store.ts');
        const { createInvitation } = await import('../../server/domain/enrolment.ts');
        const dir = dataDir(o.data);
        const identity = loadRelayIdentity(dir, undefined, false);
        const store = RelayStore.open(dir);
        try {
          const inv = await createInvitation(store, authorityId, new Date());
          const authority = `${authorityId}@${identity.domain}`;
          if (o.json) return json({ authority, code: inv.code, expiresAt: inv.expiresAt.toISOString() });
          out(`Invitation for ${authority}, valid until ${inv.expiresAt.toISOString()}:`);
          out(`  ${inv.code}`);
          out('Give it to the authority over a trusted channel. It works once. The authority runs:');
          out(
            `  entraide init --relay <relay-url> --invite ${inv.code} --authority ${authorityId} --node <node-name>`,
          );
        } finally {
          await store.close();
        }
      }),
    );

  relay
    .command('info')
    .description('print the relay’s domain and public key')
    .option('--data <dir>', 'data folder of the relay')
    .option('--json', 'machine-readable output')
    .action((o: { data?: string; json?: boolean }) =>
      run(async () => {
        await loadSodium();
        const { loadRelayIdentity } = await import('../../server/identity.ts');
        const identity = loadRelayIdentity(dataDir(o.data), undefined, false);
        if (o.json) return json({ domain: identity.domain, publicKey: identity.publicKeyB64 });
        out(`domain:     ${identity.domain}`);
        out(`public key: ${identity.publicKeyB64}`);
      }),
    );
}
