/**
 * The README walk-through with real processes: `npm start` runs the relay, the `entraide` CLI
 * runs each step as an operator and two officers would.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { ROOT, BIN, cli } from '../support/processes.ts';

const PASS = { ENTRAIDE_PASSPHRASE: 'walkthrough passphrase' };

describe('README walk-through', { timeout: 180_000 }, () => {
  let relay: ChildProcessWithoutNullStreams;
  let url = '';
  let relayOut = '';
  const work = tempDir('entraide-e2e-');
  const data = join(work, 'relay');
  const senegal = join(work, 'sn');
  const kenya = join(work, 'ke');
  const env = { ENTRAIDE_RELAY_DATA: data, ...PASS };

  beforeAll(async () => {
    relay = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { ...process.env, ENTRAIDE_RELAY_DATA: data, ENTRAIDE_PORT: '0' },
      detached: true,
    });
    relay.stdout.on('data', (d: Buffer) => (relayOut += d.toString()));
    relay.stderr.on('data', (d: Buffer) => (relayOut += d.toString()));
    await waitFor(() => /url:\s+http/.test(relayOut), 30_000, `the relay to start: ${relayOut}`);
    url = /url:\s+(http:\/\/\S+)/.exec(relayOut)![1]!;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
  });

  afterAll(async () => {
    if (relay && relay.exitCode === null) {
      const exited = new Promise((r) => relay.once('exit', r));
      process.kill(-relay.pid!, 'SIGTERM');
      await exited;
    }
  });

  it('prints the relay’s URL, domain and public key on first start', () => {
    expect(relayOut).toMatch(/domain:\s+relay\.local/);
    expect(relayOut).toMatch(/public key:\s+[A-Za-z0-9_-]{43}/);
  });

  it('invite, init, send, inbox, read, status, fingerprint, listen', async () => {
    // The invitation: one string with the relay's URL, its key's fingerprint and the one-time code.
    const inv = async (id: string) => {
      const r = await cli(['relay', 'invite', id], env);
      expect(r.code, r.stderr).toBe(0);
      return /^\s+(entraide:\S+)$/m.exec(r.stdout)![1]!;
    };
    const sn = await cli(
      [
        '--home',
        senegal,
        'init',
        '--invite',
        await inv('sn.moj'),
        '--authority',
        'sn.moj',
        '--node',
        'desk1',
      ],
      env,
    );
    expect(sn.code, sn.stderr).toBe(0);
    expect(sn.stdout).toContain('sn.moj@relay.local');
    const snCode = /Safety code:\s+([\d ]+)/.exec(sn.stdout)![1]!.trim();
    const ke = await cli(
      ['--home', kenya, 'init', '--invite', await inv('ke.ag'), '--authority', 'ke.ag', '--node', 'desk1'],
      env,
    );
    expect(ke.code, ke.stderr).toBe(0);

    const sent = await cli(
      [
        '--home',
        senegal,
        'send',
        '--unverified-ok',
        '--to',
        'ke.ag@relay.local',
        '--subject',
        'MLA request 2026/114',
        '--body',
        'Please preserve the subscriber data of account 4471.',
      ],
      env,
    );
    expect(sent.code, sent.stderr).toBe(0);
    const id = sent.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);

    const inbox = await cli(['--home', kenya, 'inbox'], env);
    expect(inbox.code, inbox.stderr).toBe(0);
    expect(inbox.stdout).toContain('1 new');
    expect(inbox.stdout).toContain(id);

    const read = await cli(['--home', kenya, 'read', id.slice(0, 13)], env);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain('Please preserve the subscriber data of account 4471.');
    expect(read.stdout).toContain('From:     desk1/sn.moj@relay.local');

    const json = await cli(['--home', kenya, 'inbox', '--json'], env);
    const listed = JSON.parse(json.stdout) as { messages: { id: string; readAt: string | null }[] };
    expect(listed.messages.find((m) => m.id === id)?.readAt).not.toBeNull();

    const status = await cli(['--home', senegal, 'status', id, '--json'], env);
    expect(JSON.parse(status.stdout).deliveries).toEqual([
      expect.objectContaining({ node: 'desk1/ke.ag@relay.local', state: 'delivered' }),
    ]);

    const fp = await cli(['--home', kenya, 'fingerprint', 'sn.moj@relay.local'], env);
    expect(fp.stdout).toContain(snCode);

    // listen prints a message as it arrives
    const listener = spawn(process.execPath, [BIN, '--home', senegal, 'listen', '--json'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let heard = '';
    listener.stdout.on('data', (d: Buffer) => (heard += d.toString()));
    try {
      await waitFor(() => heard.includes('"drained"'), 20_000, 'listen to connect');
      const reply = await cli(
        [
          '--home',
          kenya,
          'send',
          '--unverified-ok',
          '--to',
          'sn.moj@relay.local',
          '--subject',
          'Re: MLA request 2026/114',
          '--body',
          'Preservation order issued.',
        ],
        env,
      );
      expect(reply.code, reply.stderr).toBe(0);
      await waitFor(() => heard.includes(reply.stdout.trim()), 20_000, 'the reply to arrive');
      expect(heard).toContain('Re: MLA request 2026/114');
    } finally {
      listener.kill('SIGTERM');
    }
  });

  it('asks for the passphrase in a terminal when ENTRAIDE_PASSPHRASE is not set', async () => {
    const invitation = /^\s+(entraide:\S+)$/m.exec(
      (await cli(['relay', 'invite', 'ng.moj'], env)).stdout,
    )![1]!;
    const home = join(work, 'ng');
    const command = [
      process.execPath,
      BIN,
      '--home',
      home,
      'init',
      '--invite',
      invitation,
      '--authority',
      'ng.moj',
      '--node',
      'desk1',
    ].join(' ');
    // `script` gives the CLI a terminal; the passphrase is typed twice at its prompts.
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, ENTRAIDE_PASSPHRASE: '' },
    });
    let seen = '';
    child.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    const typed = async (prompt: string) => {
      await waitFor(() => seen.includes(prompt), 20_000, `the prompt "${prompt}"`);
      child.stdin.write('typed at the prompt\n');
    };
    await typed('Passphrase:');
    await typed('Passphrase again:');
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(exitCode, seen).toBe(0);
    expect(seen).toContain('Node desk1/ng.moj@relay.local is enrolled');
    expect(seen).not.toContain('typed at the prompt'); // not echoed
    const who = await cli(['--home', home, 'whoami', '--json'], {
      ENTRAIDE_PASSPHRASE: 'typed at the prompt',
    });
    expect(JSON.parse(who.stdout).authority).toBe('ng.moj@relay.local');
  });

  it('fails with one clear line and a non-zero exit', async () => {
    const wrong = await cli(['--home', kenya, 'inbox'], { ...env, ENTRAIDE_PASSPHRASE: 'not it' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain('[PASSPHRASE_WRONG]');
    expect(wrong.stderr).not.toMatch(/\n\s+at /);

    const unknown = await cli(
      ['--home', senegal, 'send', '--to', 'xx.none@relay.local', '--subject', 's', '--body', 'b'],
      env,
    );
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('[UNKNOWN_AUTHORITY]');

    const debug = await cli(['--home', kenya, '--debug', 'read', 'ffffffff'], env);
    expect(debug.stderr).toContain('[MESSAGE_NOT_FOUND]');
    expect(debug.stderr).toMatch(/\n\s+at /);

    const usage = await cli(['--home', senegal, 'send', '--to', 'ke.ag@relay.local', '--subject', 's'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('[USAGE]');

    const port = Number(new URL(url).port);
    const busy = await cli(['relay', 'start', '--data', join(work, 'second-relay'), '--port', String(port)]);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toContain('[ADDRESS_IN_USE]');
    const locked = await cli(['relay', 'start', '--port', '0'], env);
    expect(locked.code).not.toBe(0);
    expect(locked.stderr).toContain('[DATA_DIR_LOCKED]');

    const help = await cli(['send', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--body-file');
  });
});
