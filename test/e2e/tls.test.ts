/**
 * The whole relay over TLS, with real processes: `relay start --tls-cert --tls-key` with a
 * certificate made now for 127.0.0.1 (openssl), two nodes enrolled with invitations over https,
 * a message sent and read over https, pushed over wss to a listening node; then the certificate
 * renewed on disk and served without a restart, a broken renewal kept out, and SIGHUP.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.ts';
import { BIN, cli, ROOT, spawnRelay, type RelayProcess } from '../support/processes.ts';
import { HAS_OPENSSL, makeCertificate, type TestCertificate } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

/** The SHA-256 fingerprint of the certificate the relay presents now. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe.skipIf(!HAS_OPENSSL)('the relay over TLS', { timeout: 60_000 }, () => {
  const work = tempDir('entraide-e2e-tls-');
  const data = join(work, 'relay');
  const live = { cert: join(work, 'live.cert.pem'), key: join(work, 'live.key.pem') };
  const sn = join(work, 'sn');
  const ke = join(work, 'ke');
  let first: TestCertificate;
  let relay: RelayProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    first = makeCertificate(work, 'first');
    copyFileSync(first.certFile, live.cert);
    copyFileSync(first.keyFile, live.key);
    relay = await spawnRelay(data, 0, 'relay.tls.test', {}, ['--tls-cert', live.cert, '--tls-key', live.key]);
    // The nodes trust the relay's certificate as they would a private CA's.
    env = {
      ENTRAIDE_RELAY_DATA: data,
      ENTRAIDE_PASSPHRASE: 'tls passphrase',
      NODE_EXTRA_CA_CERTS: first.certFile,
    };
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('enrols with invitations, sends and reads over https, and pushes over wss', async () => {
    expect(relay.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(relay.output()).toContain(`sha256 ${first.fingerprint}`);
    let fingerprint = '';
    const invitations = await Promise.all(
      ['sn.moj', 'ke.ag'].map(async (id) => {
        const r = await cli(['relay', 'invite', id, '--json'], env);
        expect(r.code, r.stderr).toBe(0);
        const parts = JSON.parse(r.stdout) as { invitation: string; relayKeyFingerprint: string };
        fingerprint = parts.relayKeyFingerprint;
        return parts.invitation;
      }),
    );
    expect(relay.output()).toContain(`fingerprint: ${fingerprint}`);
    expect(invitations[0]).toMatch(new RegExp(`^entraide:[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}@${relay.url}$`));
    const inits = await Promise.all(
      [
        [sn, 'sn.moj', invitations[0]!],
        [ke, 'ke.ag', invitations[1]!],
      ].map(([home, id, invitation]) =>
        cli(['--home', home!, 'init', '--invite', invitation!, '--authority', id!, '--node', 'desk1'], env),
      ),
    );
    for (const r of inits) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Relay:             ${relay.url}/ (key fingerprint ${fingerprint})`);
    }

    const [untrusted, sent] = await Promise.all([
      // Without the certificate trusted, the relay cannot be reached at all.
      cli(['--home', ke, 'inbox'], { ...env, NODE_EXTRA_CA_CERTS: '' }),
      cli(
        [
          '--home',
          sn,
          'send',
          '--unverified-ok',
          '--to',
          'ke.ag@relay.tls.test',
          '--subject',
          'Over TLS',
          '--body',
          'Sealed twice.',
        ],
        env,
      ),
    ]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/does not trust its TLS certificate \(\w+\) \[RELAY_UNREACHABLE\]/);
    expect(sent.code, sent.stderr).toBe(0);
    const id = sent.stdout.trim();

    // Senegal listens over wss while Kenya fetches and reads over https; Kenya's reply is pushed.
    const listener = spawn(process.execPath, [BIN, '--home', sn, 'listen', '--json'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let heard = '';
    listener.stdout.on('data', (d: Buffer) => (heard += d.toString()));
    listener.stderr.on('data', (d: Buffer) => (heard += d.toString()));
    try {
      const inbox = await cli(['--home', ke, 'inbox', '--json'], env);
      expect(inbox.code, inbox.stderr).toBe(0);
      const { messages } = JSON.parse(inbox.stdout) as { messages: { id: string; body: string }[] };
      expect(messages.find((m) => m.id === id)?.body).toBe('Sealed twice.');
      await waitFor(() => heard.includes('"drained"'), 20_000, `listen to connect over wss: ${heard}`);
      const reply = await cli(
        [
          '--home',
          ke,
          'send',
          '--unverified-ok',
          '--to',
          'sn.moj@relay.tls.test',
          '--subject',
          'Re: Over TLS',
          '--body',
          'Read.',
        ],
        env,
      );
      expect(reply.code, reply.stderr).toBe(0);
      await waitFor(
        () => heard.includes(reply.stdout.trim()),
        20_000,
        `the reply to be pushed over wss: ${heard}`,
      );
    } finally {
      listener.kill('SIGTERM');
    }
  });

  it('serves a renewed certificate without a restart, keeps a broken one out, and reloads on SIGHUP', async () => {
    const renewed = makeCertificate(work, 'renewed');
    // As a renewal does: the key first, then the certificate (the half-way pair is never served).
    copyFileSync(renewed.keyFile, live.key);
    copyFileSync(renewed.certFile, live.cert);
    await waitFor(
      async () => (await servedFingerprint(relay.port)) === renewed.fingerprint,
      10_000,
      'the renewed certificate to be served',
      100,
    );
    expect(relay.output()).toContain(`tls: serving the certificate read now, until`);

    // A node that trusts only the renewed certificate reaches the relay: HTTPS serves it too.
    const inbox = await cli(['--home', sn, 'inbox'], { ...env, NODE_EXTRA_CA_CERTS: renewed.certFile });
    expect(inbox.code, inbox.stderr).toBe(0);

    const notReloaded = () => relay.output().split('TLS files not reloaded').length - 1;
    writeFileSync(live.cert, 'not a certificate\n');
    await waitFor(() => notReloaded() === 1, 10_000, 'the broken certificate to be reported');
    expect(relay.output()).toContain('TLS_FILES_INVALID');
    expect(await servedFingerprint(relay.port)).toBe(renewed.fingerprint);

    // SIGHUP reads the files again at once (they have not changed, so the watcher stays quiet).
    relay.child.kill('SIGHUP');
    await waitFor(() => notReloaded() === 2, 5_000, 'SIGHUP to read the files again');
    expect(relay.child.exitCode).toBeNull();
    expect(await servedFingerprint(relay.port)).toBe(renewed.fingerprint);
  });
});
