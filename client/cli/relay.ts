/** `entraide relay …`: what a relay operator runs, and (relay-pins.ts) the peer keys a node pins. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type * as Admin from '../../server/admin.ts';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { EntraideError } from '../../shared/errors.ts';
import { formatInvitation } from '../../shared/protocol/invitation.ts';
import { checkServiceUrl } from '../../shared/protocol/service-url.ts';
import { json, out } from './io.ts';
import { relayPinCommands } from './relay-pins.ts';

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
  relayPinCommands(relay, program, run);

  relay
    .command('start')
    .description('start the relay (creates its data folder and key on first start)')
    .option('--data <dir>', 'data folder (default: $ENTRAIDE_RELAY_DATA or ./data/relay)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', `port to listen on (default ${DEFAULT_PORT})`)
    .option('--domain <domain>', 'the relay’s domain, fixed at first start (default relay.local)')
    .option(
      '--public-url <url>',
      'the URL nodes and peer relays reach this one at, put in invitations; required off loopback (default: $ENTRAIDE_PUBLIC_URL, else the listen address)',
    )
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain), read again when it changes')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option(
      '--behind-proxy',
      'a TLS-terminating reverse proxy stands in front: serve plain HTTP off loopback (needs --public-url)',
    )
    .option(
      '--limits <profile>',
      'budgets and quotas: default, or test (higher, for test suites and benchmarks only) (default: $ENTRAIDE_RELAY_LIMITS, else default)',
    )
    .option(
      '--limits-file <file>',
      'a JSON file changing single limits (default: $ENTRAIDE_RELAY_LIMITS_FILE)',
    )
    .option(
      '--trusted-proxies <addresses>',
      'comma-separated addresses or CIDR ranges of the reverse proxy whose X-Forwarded-For is believed (default: $ENTRAIDE_TRUSTED_PROXIES)',
    )
    .action(
      (o: {
        data?: string;
        host: string;
        port?: string;
        domain?: string;
        publicUrl?: string;
        tlsCert?: string;
        tlsKey?: string;
        behindProxy?: boolean;
        limits?: string;
        limitsFile?: string;
        trustedProxies?: string;
      }) =>
        run(async () => {
          if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
            throw new EntraideError(
              'USAGE',
              `--tls-cert and --tls-key go together: give ${o.tlsCert === undefined ? '--tls-cert, the certificate of --tls-key' : '--tls-key, the private key of --tls-cert'}`,
            );
          const { startRelay } = await import('../../server/main.ts');
          const publicUrl = o.publicUrl ?? (process.env.ENTRAIDE_PUBLIC_URL || undefined);
          await startRelay(
            {
              dataDir: dataDir(o.data),
              host: o.host,
              port: port(o.port ?? process.env.ENTRAIDE_PORT ?? String(DEFAULT_PORT)),
              domain: o.domain,
              publicUrl,
              ...(o.tlsCert && o.tlsKey
                ? { tls: { certFile: resolve(o.tlsCert), keyFile: resolve(o.tlsKey) } }
                : {}),
              behindProxy: o.behindProxy ?? false,
              limits: { profile: o.limits, file: o.limitsFile, trustedProxies: o.trustedProxies },
            },
            out,
          );
          await new Promise(() => undefined); // until a signal stops it
        }),
    );

  relay
    .command('invite <authority-id>')
    .description(
      'print a one-time invitation for an authority (valid 24 h): the relay’s URL, its key fingerprint and a code, in one string',
    )
    .option('--data <dir>', 'data folder of the relay')
    .option('--url <url>', 'the URL the authority reaches the relay at (default: the one recorded at start)')
    .option('--json', 'machine-readable output: the invitation and its parts')
    .action((authorityId: string, o: { data?: string; url?: string; json?: boolean }) =>
      run(async () => {
        const dir = dataDir(o.data);
        const card = await (await admin()).relayCard(dir);
        const relayUrl = o.url ?? card.url;
        if (relayUrl === null)
          throw new EntraideError(
            'USAGE',
            'this relay has not recorded its URL yet: start it once (with --public-url when a proxy serves it), or give --url',
          );
        // Checked before a code is made: nodes refuse a URL that is plain http:// off their machine.
        checkServiceUrl(relayUrl, o.url ? '--url' : `the URL recorded in ${dir} (give another with --url)`);
        const relayKey = relayKeyFingerprint(card.publicKey);
        const inv = await (await admin()).inviteAuthority(dir, authorityId);
        const invitation = formatInvitation({ relayUrl, relayKey, code: inv.code });
        const expiresAt = inv.expiresAt.toISOString();
        if (o.json)
          return json({
            authority: inv.authority,
            invitation,
            relayUrl,
            relayKeyFingerprint: relayKey,
            code: inv.code,
            expiresAt,
          });
        out(`Invitation for ${inv.authority}, valid until ${expiresAt}; it works once:`);
        out('');
        out(`  ${invitation}`);
        out('');
        out(`It names this relay, ${relayUrl}, and its key (fingerprint ${relayKey}).`);
        out('Give it to the authority over a trusted channel. The authority runs:');
        // Quoted only for the URLs a shell would not take as they are (an IPv6 address's brackets).
        const arg = /^[\w.:/@%+=,~-]+$/.test(invitation) ? invitation : `'${invitation}'`;
        out(`  entraide init --invite ${arg} --authority ${authorityId} --node <node-name>`);
      }),
    );

  relay
    .command('info')
    .description(
      'what a peer relay’s operator needs (domain, URL, public key), and the key’s fingerprint for nodes and auditors',
    )
    .option('--data <dir>', 'data folder of the relay')
    .option('--json', 'machine-readable output')
    .action((o: { data?: string; json?: boolean }) =>
      run(async () => {
        const info = await (await admin()).relayCard(dataDir(o.data));
        const fingerprint = relayKeyFingerprint(info.publicKey);
        if (o.json) return json({ ...info, fingerprint });
        out(`domain:      ${info.domain}`);
        out(`url:         ${info.url ?? '(not started yet)'}`);
        out(`public key:  ${info.publicKey}`);
        out(`fingerprint: ${fingerprint} (SHA-256 of the public key)`);
        out('');
        out('The operator of a peer relay runs:');
        out(
          `  entraide relay peer add --domain ${info.domain} --url ${info.url ?? '<url>'} --key ${info.publicKey}`,
        );
      }),
    );

  relay
    .command('key')
    .description('the relay’s own key')
    .command('rotate')
    .description(
      'replace the relay key with a new one, signed by the old one (whose secret is destroyed); run it while the relay is stopped: its nodes, auditors and peer relays follow the new key when it starts again',
    )
    .option('--data <dir>', 'data folder of the relay')
    .option('--json', 'machine-readable output')
    .action((o: { data?: string; json?: boolean }) =>
      run(async () => {
        const r = await (await admin()).rotateKey(dataDir(o.data));
        const [previous, fingerprint] = [relayKeyFingerprint(r.previousKey), relayKeyFingerprint(r.newKey)];
        if (o.json) return json({ ...r, fingerprint, previousFingerprint: previous });
        out(
          `The key of relay ${r.domain} is replaced by a new one, signed by the old one (${r.rollover.issuedAt}).`,
        );
        out(`  previous fingerprint: ${previous}`);
        out(`  new fingerprint:      ${fingerprint}`);
        out('');
        out('Start the relay again: its nodes, auditors and peer relays follow the new key through the');
        out('rollover it shows, without a new invitation; new invitations name the new fingerprint.');
        out('Tell peer operators and auditors the new fingerprint by another channel, so they can compare.');
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
          out(`  key fingerprint ${relayKeyFingerprint(p.publicKey)}`);
          if (p.alarm) out(`  ALARM ${p.alarmAt ?? ''}: ${p.alarm}`);
        }
      }),
    );

  relay
    .command('conflicts')
    .description(
      'envelope ids used by two senders (one may have squatted the other’s id): both envelopes are kept and delivered',
    )
    .option('--data <dir>', 'data folder of the relay')
    .option('--limit <n>', 'how many, newest first', '100')
    .option('--json', 'machine-readable output')
    .action((o: { data?: string; limit: string; json?: boolean }) =>
      run(async () => {
        const conflicts = await (await admin()).listConflicts(dataDir(o.data), Number(o.limit));
        if (o.json) return json(conflicts);
        if (conflicts.length === 0) out('no envelope id was used by two senders');
        for (const c of conflicts) {
          const via = c.peer && c.peer !== c.relay ? ` (it came from ${c.peer})` : '';
          out(`ALARM ${c.detectedAt}  envelope ${c.envelopeId}, at ${c.relay}:`);
          out(`  ${c.sender}${via} sent it while ${c.otherSender} already held this id`);
          if (c.ciphertextHash || c.otherCiphertextHash)
            out(`  ciphertext hashes ${c.ciphertextHash ?? '?'} and ${c.otherCiphertextHash ?? '?'}`);
        }
      }),
    );
}
