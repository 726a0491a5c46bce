/**
 * The authority master key is not in the local service's memory outside an operation that needs
 * it: a real `entraide serve` process writes a heap snapshot on SIGUSR2 (Node's
 * --heapsnapshot-signal, taken after a full garbage collection), and the snapshot's strings are
 * searched for the master key as the keystore holds it. The node's identity key, which the
 * service does hold, is found in the same snapshot: the search works.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homePaths } from '../../client/home.ts';
import { readKeystore } from '../../client/keystore.ts';
import { enrolHome, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { BIN } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

describe('entraide serve holds the node’s keys, not the authority master key', { timeout: 120_000 }, () => {
  let relay: TestRelay;
  const home = join(tempDir('entraide-memory-'), 'sn');
  const cwd = tempDir('entraide-heap-');

  beforeAll(async () => {
    relay = await startTestRelay();
    await enrolHome(relay, 'sn.moj', 'desk1', home);
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
  });

  it('leaves no copy of the master key in the heap of a running service', async () => {
    const keys = readKeystore(homePaths(home).keystore, PASSPHRASE);
    expect(keys.masterSecretKey).toBeTruthy();
    const child = spawn(
      process.execPath,
      ['--heapsnapshot-signal=SIGUSR2', BIN, '--home', home, 'serve', '--port', '0'],
      { cwd, env: { ...process.env, ENTRAIDE_PASSPHRASE: PASSPHRASE } },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor(() => /url:\s+http/.test(output) && output.includes('connected'), 30_000);
      child.kill('SIGUSR2');
      const snapshot = () => readdirSync(cwd).find((f) => f.endsWith('.heapsnapshot'));
      await waitFor(() => snapshot() !== undefined && !output.includes('Writing'), 60_000);
      // The file is complete once its size stops growing.
      let size = -1;
      await waitFor(() => {
        const now = readFileSync(join(cwd, snapshot() ?? '')).length;
        const settled = now === size && now > 0;
        size = now;
        return settled;
      }, 60_000);
      const text = readFileSync(join(cwd, snapshot() ?? ''), 'latin1');
      expect(text).toContain('"strings":[');
      expect(text.includes(keys.identitySecretKey)).toBe(true);
      expect(text.includes(keys.masterSecretKey ?? 'absent')).toBe(false);
    } finally {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    }
  });
});
