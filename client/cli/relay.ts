/** `entraide relay …`: what a relay operator runs. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type * as Admin from '../../server/admin.ts';
import { EntraideError } from '../../shared/errors.ts';
import { json, out } from './io.ts';

export const DEFAULT_PORT = 7800;

function dataDir(opt: string | undefined): string {
  return resolve(opt ?? process.env.ENTRAIDE_RELAY_DATA ?? 'data/relay');
}

// The relay's modules load only for relay commands, so officers' commands start faster.
const admin = (): Promise<typeof Admin> => import('../../server/admin.ts');

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
    .option('--public-url <url>', 'the URL peer relays reach this one at (default: the listen address)')
    .action((o: { data?: string; host: string; port?: string; domain?: string; publicUrl?: string }) =>
      run(async () => {
        const { startRelay } = await import('../../server/main.ts');
        await startRelay(
          {
            dataDir: dataDir(o.data),
            host: o.host,
            port: port(o.port ?? process.env.ENTRAIDE_PORT ?? String(DEFAULT_PORT)),
            domain: o.domain,
            publicUrl: o.publicUrl,
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
        const inv = await (await admin()).inviteAuthority(dataDir(o.data), authorityId);
        const expiresAt = inv.expiresAt.toISOString();
        if (o.json) return json({ authority: inv.authority, code: inv.code, expiresAt });
        out(`Invitation for ${inv.authority}, valid until ${expiresAt}:`);
        out(`  ${inv.code}`);
        out('Give it to the authority over a trusted channel. It works once. The authority runs:');
        out(
          `  entraide init --relay <relay-url> --invite ${inv.code} --authority ${authorityId} --node <node-name>`,
        );
      }),
    );

  relay
    .command('info')
    .description('what a peer relay’s operator needs: domain, URL and public key')
    .option('--data <dir>', 'data folder of the relay')
    .option('--json', 'machine-readable output')
    .action((o: { data?: string; json?: boolean }) =>
      run(async () => {
        const info = await (await admin()).relayCard(dataDir(o.data));
        if (o.json) return json(info);
        out(`domain:     ${info.domain}`);
        out(`url:        ${info.url ?? '(not started yet)'}`);
        out(`public key: ${info.publicKey}`);
        out('');
        out('The operator of a peer relay runs:');
        out(
          `  entraide relay peer add --domain ${info.domain} --url ${info.url ?? '<url>'} --key ${info.publicKey}`,
        );
      }),
    );

  const auditor = relay.command('auditor').description('the auditors who may read this relay’s audit log');

  auditor
    .command('add <name>')
    .description(
      'let an auditor read the audit log (and nothing else), by the public key `entraide audit keygen` printed',
    )
    .requiredOption('--key <public-key>', 'the auditor’s public key')
    .option('--data <dir>', 'data folder of the relay')
    .action((name: string, o: { key: string; data?: string }) =>
      run(async () => {
        const domain = await (await admin()).addAuditor(dataDir(o.data), name, o.key);
        out(`${name} may now read the audit log of ${domain}, and nothing else.`);
      }),
    );

  auditor
    .command('remove <name>')
    .description('take an auditor’s access away (tokens already issued stop working)')
    .option('--data <dir>', 'data folder of the relay')
    .action((name: string, o: { data?: string }) =>
      run(async () => {
        await (await admin()).removeAuditor(dataDir(o.data), name);
        out(`${name} can no longer read the audit log.`);
      }),
    );

  auditor
    .command('list')
    .description('auditors, with their keys')
    .option('--data <dir>', 'data folder of the relay')
    .option('--json', 'machine-readable output')
    .action((o: { data?: string; json?: boolean }) =>
      run(async () => {
        const list = await (await admin()).listAuditors(dataDir(o.data));
        if (o.json) return json(list);
        if (list.length === 0) out('no auditors');
        for (const a of list)
          out(
            `${a.name}  ${a.publicKey}  ${a.removedAt ? `removed ${a.removedAt.toISOString()}` : 'active'}`,
          );
      }),
    );

  const peer = relay.command('peer').description('the peer relays this relay federates with');

  peer
    .command('add')
    .description('add (or update) a peer relay: both operators add each other')
    .requiredOption('--domain <domain>', 'the peer’s domain')
    .requiredOption('--url <url>', 'the URL this relay reaches the peer at')
    .requiredOption('--key <public-key>', 'the peer’s public key, as its `entraide relay info` prints it')
    .option('--data <dir>', 'data folder of the relay')
    .action((o: { domain: string; url: string; key: string; data?: string }) =>
      run(async () => {
        const peer = { domain: o.domain, url: o.url, publicKey: o.key };
        const domain = await (await admin()).addPeer(dataDir(o.data), peer);
        out(`${o.domain} is a peer of ${domain}; envelopes for its authorities go to ${o.url}.`);
      }),
    );

  peer
    .command('remove <domain>')
    .description('remove a peer relay (what waits for it stays in the outbox until it expires)')
    .option('--data <dir>', 'data folder of the relay')
    .action((domain: string, o: { data?: string }) =>
      run(async () => {
        await (await admin()).removePeer(dataDir(o.data), domain);
        out(`${domain} is no longer a peer.`);
      }),
    );

  relay
    .command('peers')
    .description('the peer relays and their state: reachable, queued envelopes, last error')
    .option('--data <dir>', 'data folder of the relay')
    .option('--json', 'machine-readable output')
    .action((o: { data?: string; json?: boolean }) =>
      run(async () => {
        const peers = await (await admin()).listPeers(dataDir(o.data));
        if (o.json) return json(peers);
        if (peers.length === 0) out('no peers: add one with `entraide relay peer add`');
        for (const p of peers) {
          const state =
            p.lastError && !p.reachable
              ? `unreachable: ${p.lastError}`
              : p.reachable
                ? 'reachable'
                : 'not contacted yet';
          const log =
            p.keyLogSize === null ? 'key log not checked yet' : `key log verified to size ${p.keyLogSize}`;
          out(
            `${p.domain.padEnd(30)} ${p.url.padEnd(30)} queued ${String(p.queued).padStart(5)}  ${state}; ${log}`,
          );
          if (p.alarm) out(`  ALARM ${p.alarmAt ?? ''}: ${p.alarm}`);
        }
      }),
    );
}
