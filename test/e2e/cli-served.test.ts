/**
 * The served path (client/cli/fast.ts): while `entraide serve` runs, inbox, sent, read and request
 * list/show load only commander and the printing. Real processes: a relay, the CLI, one service.
 * The same commands are run with the service stopped (the CLI opens the node) and running (the
 * served path), and must print the same, refuse the same options with the same words and exit
 * codes. No timings here: bench/cli-served.ts measures them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedHome } from '../../client/cli/fast.ts';
import { enrolHome, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { BIN, cli, ROOT, type CliResult } from '../support/processes.ts';
import { preservationDraft } from '../support/requests.ts';

const env = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
const KE = 'ke.ag@relay.test';
const SN = 'sn.moj@relay.test';

/** Starts `entraide serve` on `home` and resolves once it printed its URL. */
function serve(home: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, [BIN, '--home', home, 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!/url:\s+http/.test(output)) return;
      clearTimeout(timer);
      resolve(child);
    });
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

/** Read commands and refused command lines, each run both ways. */
const READS: string[][] = [
  ['inbox'],
  ['inbox', '--json'],
  ['sent'],
  ['sent', '--json'],
  ['request', 'list'],
  ['request', 'list', '--json'],
];
const REFUSED: string[][] = [
  ['inbox', '--bogus'],
  ['request', 'list', '--overdu'],
  ['sent', 'extra'],
  ['read'],
  ['send', '--subject', 'No recipient', '--body', 'x'],
  ['send', '--to', SN, '--subject', 'Both', '--body', 'x', '--body-file', 'f'],
  ['request', 'show', 'no-such-request'],
  ['inbox', '--help'],
];

describe('the served path prints what the CLI prints with the node opened here', { timeout: 300_000 }, () => {
  let relay: TestRelay;
  let service: ChildProcessWithoutNullStreams | undefined;
  const homes = { sn: join(tempDir('entraide-served-'), 'sn'), ke: join(tempDir('entraide-served-'), 'ke') };
  const run = (args: string[]): Promise<CliResult> => cli(['--home', homes.ke, ...args], env);
  const direct = new Map<string, CliResult>();

  beforeAll(async () => {
    relay = await startTestRelay();
    await enrolHome(relay, 'sn.moj', 'desk1', homes.sn);
    await enrolHome(relay, 'ke.ag', 'desk1', homes.ke);
    const draft = join(tempDir('entraide-served-draft-'), 'request.json');
    writeFileSync(draft, JSON.stringify(preservationDraft()));
    const sn = (args: string[]) => cli(['--home', homes.sn, ...args], env);
    const steps = [
      await sn(['send', '--to', KE, '--subject', 'Hearing', '--body', 'On 3 March.', '--unverified-ok']),
      await sn([
        'request',
        'new',
        '--type',
        'expedited_preservation',
        '--to',
        KE,
        '--file',
        draft,
        '--unverified-ok',
      ]),
      await run(['send', '--to', SN, '--subject', 'Reply', '--body', 'Noted.', '--unverified-ok']),
      await run(['inbox']), // fetches: the listings below find nothing new either way
    ];
    for (const s of steps) expect(s.code, s.stderr).toBe(0);
    for (const args of READS) direct.set(args.join(' '), await run(args));
    // Only one of these opens the node (the others stop at their options): they may run together.
    const refused = await Promise.all(REFUSED.map(run));
    REFUSED.forEach((args, i) => direct.set(args.join(' '), refused[i]!));
    service = await serve(homes.ke);
  }, 280_000);

  afterAll(async () => {
    if (service) await stop(service);
    await relay?.close();
  });

  it('reads a served command line with certainty, and leaves any other to the full CLI', () => {
    const argv = (...a: string[]) => ['node', 'entraide', ...a];
    expect(servedHome(argv('--home', homes.ke, 'inbox', '--json'))).toBe(homes.ke);
    expect(servedHome(argv(`--home=${homes.ke}`, '--debug', 'request', 'list'))).toBe(homes.ke);
    expect(servedHome(argv('--home', homes.ke, 'request', 'update', 'x', 'acknowledged'))).toBeUndefined();
    expect(servedHome(argv('--home', homes.ke, 'fingerprint'))).toBeUndefined();
    expect(servedHome(argv('inbox', '--home', homes.ke))).toBeUndefined();
    expect(servedHome(argv('--home', homes.ke, '--help'))).toBeUndefined();
  });

  it('lists the inbox, the sent items and the requests as the node opened here does', async () => {
    expect(direct.get('inbox')!.stdout).toContain('0 new; 2 in the inbox');
    expect(direct.get('request list')!.stdout).toContain('SN-MJ-2026-0142');
    expect(direct.get('sent')!.stdout).toContain('Reply');
    // Lists carry no texts, but their --json does, for scripts.
    const listed = JSON.parse(direct.get('inbox --json')!.stdout) as { messages: { body?: string }[] };
    expect(listed.messages.every((m) => typeof m.body === 'string' && m.body.length > 0)).toBe(true);
    for (const args of READS) {
      const served = await run(args);
      expect(served, args.join(' ')).toEqual(direct.get(args.join(' ')));
    }
    const id = (JSON.parse(direct.get('request list --json')!.stdout) as { id: string }[])[0]!.id;
    const show = await run(['request', 'show', id]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('SN-MJ-2026-0142');
  });

  it('refuses unknown and mistyped options, missing arguments and bad input with the same words', async () => {
    expect(direct.get('inbox --bogus')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--bogus'),
    });
    expect(direct.get('request show no-such-request')!.stderr).toMatch(/^entraide: .* \[[A-Z_]+\]/);
    const served = await Promise.all(REFUSED.map(run));
    REFUSED.forEach((args, i) => expect(served[i], args.join(' ')).toEqual(direct.get(args.join(' '))));
  });
});
