/**
 * The node's outbox with real processes: while the relay is down, `send` and `request update` to a
 * counterpart whose keys the node verified before are sealed, stored and reported as queued (exit
 * 0); a send to an authority never contacted is refused (RELAY_UNREACHABLE) with nothing stored.
 * Once the relay is back on the same port and database, `listen` on one side and the next command
 * on the other deliver each item exactly once. Then a `send` process SIGKILLed right after it
 * reported an item queued: the item survives and is delivered once.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestDetail } from '../../client/requests.ts';
import type { InboxView, ListedMessage } from '../../client/service/desk.ts';
import { enrolHome, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { BIN, cli, ROOT, type CliResult } from '../support/processes.ts';
import { preservationDraft } from '../support/requests.ts';
import { serve, stop } from '../support/served-node.ts';
import { waitFor } from '../support/wait.ts';

const env = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
const NG = 'ng.moj@relay.test';
const GH = 'gh.moj@relay.test';
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

/** A relay in its own data folder that stops and starts again on the same port and database. */
async function restartableRelay(): Promise<{
  current: () => TestRelay;
  stop: () => Promise<void>;
  start: () => Promise<void>;
}> {
  const dataDir = tempDir('entraide-outbox-relay-');
  let relay: TestRelay | undefined = await startTestRelay({ dataDir });
  const port = Number(new URL(relay.url).port);
  cleanup.push(async () => relay?.close());
  return {
    current: () => relay!,
    async stop() {
      await relay?.close();
      relay = undefined;
    },
    async start() {
      relay = await startTestRelay({ dataDir, port });
    },
  };
}

/** Enrolled node folders, one per authority id, on `relay`. */
async function enrolled(relay: TestRelay, ids: string[]): Promise<string[]> {
  const dir = tempDir('entraide-outbox-');
  const out = ids.map((id) => join(dir, id));
  await Promise.all(ids.map((id, i) => enrolHome(relay, id, 'desk1', out[i]!)));
  return out;
}

async function ok(home: string, args: string[]): Promise<CliResult> {
  const r = await cli(['--home', home, ...args], env);
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
  return r;
}

function parsed<T>(r: CliResult): T {
  return JSON.parse(r.stdout) as T;
}

const sentList = async (home: string) => parsed<ListedMessage[]>(await ok(home, ['sent', '--json']));
const inboxOf = async (home: string) => parsed<InboxView>(await ok(home, ['inbox', '--json'])).messages;
const states = (list: ListedMessage[]) => new Map(list.map((m) => [m.id, m.state]));

/** `entraide listen --json` on `home`, with its events; stopped at the end of the test. */
function listen(home: string): { events: { event: string }[]; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [BIN, '--home', home, 'listen', '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  const exited = new Promise((done) => child.once('exit', done));
  const events: { event: string }[] = [];
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as { event: string });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  cleanup.push(stop);
  return { events, stop };
}

describe('the outbox while the relay is unreachable', { timeout: 120_000 }, () => {
  it('queues what it can seal, refuses what it cannot, and delivers each item once when the link returns', async () => {
    const relay = await restartableRelay();
    const [sn, ng] = await enrolled(relay.current(), ['sn.moj', 'ng.moj', 'gh.moj']);
    const draft = join(tempDir('entraide-outbox-draft-'), 'request.json');
    writeFileSync(draft, JSON.stringify(preservationDraft()));

    // The two authorities exchange keys once: Senegal sends a request, Nigeria fetches it.
    const request = ['request', 'new', '--type', 'expedited_preservation', '--to', NG, '--file', draft];
    const created = parsed<{ id: string; sent: { queued: boolean } }>(
      await ok(sn!, [...request, '--unverified-ok', '--json']),
    );
    expect(created.sent.queued).toBe(false);
    expect((await inboxOf(ng!)).filter((m) => m.requestId === created.id)).toHaveLength(1);

    await relay.stop();
    const message = ['send', '--to', NG, '--subject', 'Hearing', '--body', 'On 3 March.', '--unverified-ok'];
    const [queuedSend, queuedUpdate] = await Promise.all([
      ok(sn!, [...message, '--json']),
      ok(ng!, ['request', 'update', created.id, 'acknowledged']),
    ]);
    const send = parsed<{ id: string; queued: boolean; acceptedAt: string | null }>(queuedSend);
    expect(send).toMatchObject({ queued: true, acceptedAt: null });
    // As an officer reads it: the new status, and that the update waits for the link.
    expect(queuedUpdate.stdout).toContain(`${created.id} is now acknowledged`);
    expect(queuedUpdate.stderr).toContain(
      'queued: the relay did not answer; it goes out by itself when the link returns',
    );

    // Never contacted: nothing to seal to, refused, nothing stored.
    const refused = await cli(
      ['--home', sn!, 'send', '--to', GH, '--subject', 'Hello', '--body', 'First.', '--unverified-ok'],
      env,
    );
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stderr).toContain('[RELAY_UNREACHABLE]');
    const [snSent, ngSent] = await Promise.all([sentList(sn!), sentList(ng!)]);
    expect(snSent.map((m) => m.recipients)).toEqual([[NG], [NG]]); // nothing stored for Ghana
    expect(states(snSent).get(send.id)).toBe('queued');
    const update = ngSent.find((m) => m.kind === 'status' && m.requestId === created.id)!;
    expect(update.state).toBe('queued');

    // The relay comes back on the same port and database: Senegal's listen sends its outbox on
    // connecting; Nigeria's next command that reaches the relay sends its own.
    await relay.start();
    const listening = listen(sn!);
    await waitFor(() => listening.events.some((e) => e.event === 'drained'), 30_000, 'listen to connect');
    let atNigeria: ListedMessage[] = [];
    await waitFor(
      async () => {
        atNigeria = await inboxOf(ng!);
        return atNigeria.some((m) => m.id === send.id);
      },
      30_000,
      'the queued message at Nigeria',
    );
    expect(atNigeria.filter((m) => m.id === send.id)).toHaveLength(1);
    await waitFor(
      () => listening.events.some((e) => e.event === 'message'),
      15_000,
      'the status update pushed to Senegal',
    );
    await listening.stop();

    // One command at a time on a folder (each holds its lock).
    const snInbox = await inboxOf(sn!);
    const story = parsed<RequestDetail>(await ok(sn!, ['request', 'show', created.id, '--json']));
    expect(snInbox.filter((m) => m.id === update.id)).toHaveLength(1);
    expect(story.state).toBe('acknowledged');
    expect(story.story.filter((e) => e.what === 'status' && e.status === 'acknowledged')).toHaveLength(1);
  });

  it('a send process killed with SIGKILL right after it reported an item queued: kept, and delivered once by a service started while the relay is down', async () => {
    const relay = await restartableRelay();
    const [sn, ng] = await enrolled(relay.current(), ['sn.moj', 'ng.moj']);
    await ok(sn!, ['send', '--to', NG, '--subject', 'First', '--body', 'Keys.', '--unverified-ok']);

    await relay.stop();
    const args = [
      'send',
      '--to',
      NG,
      '--subject',
      'Killed',
      '--body',
      'Still here.',
      '--unverified-ok',
      '--json',
    ];
    const child = spawn(process.execPath, [BIN, '--home', sn!, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    const exited = new Promise((done) => child.once('exit', done));
    cleanup.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Killed the moment it reports the item queued, before it closes its node.
      if (stdout.trimEnd().endsWith('}')) child.kill('SIGKILL');
    });
    await exited;
    expect(child.signalCode, stderr).toBe('SIGKILL');
    const queued = JSON.parse(stdout) as { id: string; queued: boolean };
    expect(queued.queued).toBe(true);
    expect(states(await sentList(sn!)).get(queued.id)).toBe('queued');

    // The officer starts the node's service while the relay is still down: it starts, says it is
    // not connected, and sends the outbox by itself once the relay is back.
    const served = await serve(sn!);
    cleanup.push(() => stop(served));
    const api = async <T>(path: string): Promise<T> => {
      const r = await fetch(`${served.file.url}/api/v1${path}`, {
        headers: { authorization: `Bearer ${served.file.token}` },
      });
      return (await r.json()) as T;
    };
    expect(await api<{ connected: boolean }>('/node')).toMatchObject({ connected: false });
    await relay.start();
    await waitFor(
      async () => (await api<ListedMessage[]>('/sent')).find((m) => m.id === queued.id)?.state === 'sent',
      30_000,
      'the service to send its outbox once the relay is back',
    );
    await stop(served);
    const atNigeria = await inboxOf(ng!);
    expect(atNigeria.filter((m) => m.id === queued.id)).toHaveLength(1);
    expect(atNigeria.map((m) => m.subject).sort()).toEqual(['First', 'Killed']);
  });
});
