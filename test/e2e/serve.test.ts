/**
 * `entraide serve`: the node as a local service, with real processes: a relay, two `entraide serve`
 * processes (Senegal and Kenya) and CLI commands on their folders, which go through the services.
 * Then the service's API as an adversary sees it: no token, another Host (DNS rebinding), another
 * Origin or site, oversized and malformed bodies, a runaway client; and its stop.
 */
import { existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxView } from '../../client/service/desk.ts';
import { SERVICE_RATE_PER_MINUTE } from '../../client/service/service-app.ts';
import { enrolHome, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { cli } from '../support/processes.ts';
import { serve, stop, type Served } from '../support/served-node.ts';
import { waitFor } from '../support/wait.ts';

const env = { ENTRAIDE_PASSPHRASE: PASSPHRASE };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
function call(
  s: Served,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; token?: string | null } = {},
): Promise<Answer> {
  const url = new URL(s.file.url);
  const token = opts.token === undefined ? s.file.token : opts.token;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? 'GET',
        path,
        headers: {
          host: url.host,
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('entraide serve: the node as a local service', { timeout: 180_000 }, () => {
  let relay: TestRelay;
  let sn: Served;
  let ke: Served;
  const homes = { sn: join(tempDir('entraide-serve-'), 'sn'), ke: join(tempDir('entraide-serve-'), 'ke') };

  beforeAll(async () => {
    relay = await startTestRelay();
    await enrolHome(relay, 'sn.moj', 'desk1', homes.sn);
    await enrolHome(relay, 'ke.ag', 'desk1', homes.ke);
    [sn, ke] = await Promise.all([serve(homes.sn), serve(homes.ke)]);
  }, 90_000);

  afterAll(async () => {
    for (const s of [sn, ke]) if (s) await stop(s);
    await relay?.close();
  });

  it('writes its URL and token for its owner only, and the CLI commands on its folder go through it', async () => {
    expect(statSync(join(homes.sn, 'service.json')).mode & 0o777).toBe(0o600);
    expect(sn.file).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      pid: sn.child.pid,
    });

    // A script sending to a counterpart never verified is refused by the service, nothing sent.
    const args = ['--to', 'ke.ag@relay.test', '--subject', 'Through the service', '--body', 'Bonjour.'];
    const refused = await cli(['--home', homes.sn, 'send', ...args], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[UNVERIFIED_COUNTERPART]');
    expect(refused.stderr).toContain('entraide keys verify ke.ag@relay.test');
    expect((await call(sn, '/api/v1/sent')).body).toEqual([]);

    const sent = await cli(['--home', homes.sn, 'send', ...args, '--unverified-ok', '--json'], env);
    expect(sent.code, sent.stderr).toBe(0);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;

    // Kenya's service received it over its socket, without any command.
    await waitFor(
      () => ke.output().includes(`received ${id}`),
      15_000,
      'Kenya’s service to receive the message',
    );
    const inbox = await cli(['--home', homes.ke, 'inbox', '--json'], env);
    expect(inbox.code, inbox.stderr).toBe(0);
    const view = JSON.parse(inbox.stdout) as InboxView;
    expect(view.messages.map((m) => [m.id, m.subject, m.readAt])).toEqual([
      [id, 'Through the service', null],
    ]);
    expect(view.unverified).toEqual(['sn.moj@relay.test']);
    const read = await cli(['--home', homes.ke, 'read', id.slice(0, 13)], env);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain('Bonjour.');

    // A command that does not go through the service says so, and what to do.
    const other = await cli(['--home', homes.ke, 'fingerprint'], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('[HOME_LOCKED]');
    expect(other.stderr).toContain(`entraide serve, process ${ke.child.pid}, ${ke.file.url}`);
    // Requests are listed through it too (the CLI could not open the folder it holds).
    const requests = await cli(['--home', homes.ke, 'request', 'list', '--json'], env);
    expect(requests.code, requests.stderr).toBe(0);
    expect(JSON.parse(requests.stdout)).toEqual([]);
  });

  it('answers only its token, its own Host and Origin, bounded bodies, within its budget', async () => {
    const node = await call(sn, '/api/v1/node');
    expect(node.status).toBe(200);
    expect(node.body).toMatchObject({ address: 'desk1/sn.moj@relay.test', connected: true });
    expect(node.headers['x-content-type-options']).toBe('nosniff');
    expect(String(node.headers['content-security-policy'])).toContain("default-src 'self'");

    const refusal = async (a: Promise<Answer>, status: number, code: string) => {
      const r = await a;
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
    };
    await refusal(call(sn, '/api/v1/inbox', { token: null }), 401, 'AUTH_REQUIRED');
    await refusal(call(sn, '/api/v1/inbox', { token: 'A'.repeat(43) }), 401, 'AUTH_REQUIRED');
    await refusal(call(sn, '/api/v1/inbox', { token: sn.file.token.slice(1) }), 401, 'AUTH_REQUIRED');
    // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
    const port = new URL(sn.file.url).port;
    await refusal(
      call(sn, '/api/v1/inbox', { headers: { host: `evil.example:${port}` } }),
      403,
      'ORIGIN_REFUSED',
    );
    await refusal(
      call(sn, '/api/v1/inbox', { headers: { origin: 'http://evil.example' } }),
      403,
      'ORIGIN_REFUSED',
    );
    await refusal(
      call(sn, '/api/v1/inbox', { headers: { 'sec-fetch-site': 'cross-site' } }),
      403,
      'ORIGIN_REFUSED',
    );
    expect((await call(sn, '/api/v1/node', { headers: { origin: sn.file.url } })).status).toBe(200);

    const post = (body: string) => call(sn, '/api/v1/messages', { method: 'POST', body });
    await refusal(post('x'.repeat(1024 * 1024 + 1)), 413, 'PAYLOAD_TOO_LARGE');
    await refusal(post('{"to": ['), 400, 'INVALID_JSON');
    await refusal(post(JSON.stringify({ to: [], subject: 's', body: 'b' })), 400, 'SCHEMA_INVALID');
    await refusal(
      post(JSON.stringify({ to: ['ke.ag@relay.test'], subject: 's', body: 'b', cc: [] })),
      400,
      'SCHEMA_INVALID',
    );
    await refusal(
      call(sn, '/api/v1/messages/01900000-0000-7000-8000-000000000000'),
      404,
      'MESSAGE_NOT_FOUND',
    );
    await refusal(call(sn, '/api/v1/nothing'), 404, 'NOT_FOUND');
    expect((await call(sn, '/api/v1/sent')).body).toHaveLength(1); // nothing of the above was sent

    const openapi = await call(sn, '/api/v1/openapi.json');
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths as object)).toEqual(
      expect.arrayContaining(['/api/v1/inbox', '/api/v1/messages', '/api/v1/requests/{id}']),
    );

    // A runaway client: past its budget for the minute, refused with the wait.
    let limited: Answer | undefined;
    for (let i = 0; i <= SERVICE_RATE_PER_MINUTE && !limited; i++) {
      const r = await call(ke, '/api/v1/node');
      if (r.status === 429) limited = r;
    }
    expect(limited?.body.error?.code).toBe('RATE_LIMITED');
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('stops on SIGTERM, removing its file; the folder is the CLI’s again', async () => {
    expect(await stop(sn)).toBe(0);
    expect(existsSync(join(homes.sn, 'service.json'))).toBe(false);
    const fp = await cli(['--home', homes.sn, 'fingerprint'], env);
    expect(fp.code, fp.stderr).toBe(0);
    const offLoopback = await cli(['--home', homes.sn, 'serve', '--host', '0.0.0.0'], env);
    expect(offLoopback.code).toBe(2);
    expect(offLoopback.stderr).toContain('TLS');

    // Killed, it leaves its file behind: the next command sees no process and opens the node itself.
    ke.child.kill('SIGKILL');
    await new Promise((done) => ke.child.once('exit', done));
    expect(existsSync(join(homes.ke, 'service.json'))).toBe(true);
    const inbox = await cli(['--home', homes.ke, 'inbox', '--json'], env);
    expect(inbox.code, inbox.stderr).toBe(0);
    expect((JSON.parse(inbox.stdout) as InboxView).messages).toHaveLength(1);
  });
});
