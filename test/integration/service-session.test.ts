/**
 * The local service as a browser meets it: an officer unlocks with the keystore's passphrase under
 * their own name and gets an HttpOnly, SameSite=Strict cookie; pages carry a strict CSP whose style
 * nonce matches the page; a browser request that changes something must carry its Origin; server-
 * sent events tell an open page what arrived and that its session ended. After the lock the next
 * API call needs the passphrase again, while the service goes on receiving and signing receipts;
 * the authority master key stays in the keystore file except during an operation that needs it.
 * Two real services (Senegal, Kenya) in this process, one real relay.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../../client/service/serve.ts';
import { sessionCookie } from '../../client/service/sessions.ts';
import { enrolHome, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => { code?: string } & Record<string, unknown>;
  code: () => string | undefined;
}

/** A request with any method and a raw body (tus PATCH), as a page or the CLI sends it. */
function raw(
  s: RunningService,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const url = new URL(s.file.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: { host: url.host, ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function call(
  s: RunningService,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const url = new URL(s.file.url);
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? 'GET',
        path,
        headers: {
          host: url.host,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as { code?: string },
            code: () => (JSON.parse(text) as { error?: { code?: string } }).error?.code,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a server-sent event stream and collects its events until it ends. */
function events(s: RunningService, cookie: string): { seen: string[]; ended: Promise<void> } {
  const url = new URL(s.file.url);
  const seen: string[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/api/v1/events', headers: { host: url.host, cookie } },
      (res) => {
        let buffer = '';
        res.on('data', (d: Buffer) => {
          buffer += d.toString();
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const event = /^event: (.+)$/m.exec(block)?.[1];
            const data = /^data: (.+)$/m.exec(block)?.[1];
            if (event) seen.push(`${event} ${data ?? ''}`);
          }
        });
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end();
  });
  return { seen, ended };
}

describe(
  'the local service for browsers: sessions, CSP, live events, the master key',
  { timeout: 120_000 },
  () => {
    let relay: TestRelay;
    let sn: RunningService;
    let ke: RunningService;
    const web = tempDir('entraide-web-');

    beforeAll(async () => {
      mkdirSync(join(web, 'assets'));
      writeFileSync(
        join(web, 'index.html'),
        '<!doctype html><meta name="csp-nonce" content="__CSP_NONCE__"><script type="module" src="./assets/app.js"></script>',
      );
      writeFileSync(join(web, 'assets', 'app.js'), 'export {};\n');
      relay = await startTestRelay();
      const homes = { sn: join(tempDir(), 'sn'), ke: join(tempDir(), 'ke') };
      await enrolHome(relay, 'sn.moj', 'desk1', homes.sn);
      await enrolHome(relay, 'ke.ag', 'desk1', homes.ke);
      const start = (home: string) => startService({ home, passphrase: PASSPHRASE, port: 0, webRoot: web });
      [sn, ke] = await Promise.all([start(homes.sn), start(homes.ke)]);
    }, 60_000);

    afterAll(async () => {
      await sn?.close();
      await ke?.close();
      await relay?.close();
    });

    const origin = () => sn.file.url;
    async function unlock(officer: string): Promise<string> {
      const r = await call(sn, '/api/v1/session', {
        method: 'POST',
        headers: { origin: origin() },
        body: { officer, passphrase: PASSPHRASE },
      });
      expect(r.status, r.text).toBe(200);
      const set = String(r.headers['set-cookie']);
      return set.split(';')[0] ?? '';
    }

    it('serves the page with a strict CSP whose style nonce is the page’s, and its assets', async () => {
      const page = await call(sn, '/');
      expect(page.status).toBe(200);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      const nonce = /<meta name="csp-nonce" content="([^"]+)">/.exec(page.text)?.[1];
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
      expect(csp).toContain(`style-src 'self' 'nonce-${nonce}'`);
      const again = await call(sn, '/');
      expect(again.text).not.toContain(nonce);
      const asset = await call(sn, '/assets/app.js');
      expect(asset.status).toBe(200);
      expect(String(asset.headers['cache-control'])).toContain('immutable');
    });

    it('unlocks with the passphrase under the officer’s name, and refuses what a browser must not do', async () => {
      expect((await call(sn, '/api/v1/inbox')).code()).toBe('AUTH_REQUIRED');
      expect((await call(sn, '/api/v1/session')).status).toBe(401);
      const wrong = await call(sn, '/api/v1/session', {
        method: 'POST',
        headers: { origin: origin() },
        body: { officer: 'Aminata Diallo', passphrase: 'not the passphrase' },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.code()).toBe('PASSPHRASE_WRONG');
      expect(wrong.headers['set-cookie']).toBeUndefined();
      const badName = await call(sn, '/api/v1/session', {
        method: 'POST',
        headers: { origin: origin() },
        body: { officer: 'Aminata\u0000', passphrase: PASSPHRASE },
      });
      expect(badName.code()).toBe('SCHEMA_INVALID');

      const r = await call(sn, '/api/v1/session', {
        method: 'POST',
        headers: { origin: origin() },
        body: { officer: 'Aminata Diallo', passphrase: PASSPHRASE },
      });
      const set = String(r.headers['set-cookie']);
      // Named after the port: two nodes served on one machine keep apart sessions (cookies ignore ports).
      expect(set).toContain(`${sessionCookie(Number(new URL(sn.file.url).port))}=`);
      expect(set).toContain('HttpOnly');
      expect(set).toContain('SameSite=Strict');
      expect(set).toContain('Path=/');
      const cookie = set.split(';')[0] ?? '';
      const me = await call(sn, '/api/v1/session', { headers: { cookie } });
      expect(me.json()).toMatchObject({ officer: 'Aminata Diallo', idleLockMinutes: 15 });
      expect((await call(sn, '/api/v1/inbox', { headers: { cookie } })).status).toBe(200);

      // A change without its Origin, from another origin, or under a rebound Host name: refused.
      const msg = { to: ['ke.ag@relay.test'], subject: 'x', body: 'y', unverifiedOk: true };
      const noOrigin = await call(sn, '/api/v1/messages', { method: 'POST', headers: { cookie }, body: msg });
      expect(noOrigin.code()).toBe('ORIGIN_REFUSED');
      const foreign = await call(sn, '/api/v1/messages', {
        method: 'POST',
        headers: { cookie, origin: 'https://evil.example' },
        body: msg,
      });
      expect(foreign.code()).toBe('ORIGIN_REFUSED');
      const rebound = await call(sn, '/api/v1/inbox', { headers: { cookie, host: 'evil.example:80' } });
      expect(rebound.code()).toBe('ORIGIN_REFUSED');
      expect((await call(sn, '/api/v1/sent', { headers: { cookie } })).json()).toEqual([]);
      // A forged cookie is nobody.
      const forged = await call(sn, '/api/v1/inbox', {
        headers: { cookie: `${sessionCookie(Number(new URL(sn.file.url).port))}=forged` },
      });
      expect(forged.code()).toBe('AUTH_REQUIRED');
    });

    it('tells open pages what arrived; after the lock the API needs the passphrase while receipts go on', async () => {
      const cookie = await unlock('Moussa Ndiaye');
      const stream = events(sn, cookie);
      await waitFor(() => stream.seen.some((e) => e.startsWith('connection {"connected":true}')), 10_000);

      // Sent by Kenya through its own service, as a CLI would; it appears on Senegal's open page.
      const sent = await call(ke, '/api/v1/messages', {
        method: 'POST',
        headers: { authorization: `Bearer ${ke.file.token}` },
        body: { to: ['sn.moj@relay.test'], subject: 'Arrives live', body: 'Habari', unverifiedOk: true },
      });
      expect(sent.status, sent.text).toBe(200);
      const first = sent.json().id as string;
      await waitFor(() => stream.seen.some((e) => e.includes(`"id":"${first}"`)), 10_000);

      // Read by Moussa: the node's record names him.
      const read = await call(sn, `/api/v1/messages/${first}`, { headers: { cookie } });
      expect(read.json()).toMatchObject({ subject: 'Arrives live', body: 'Habari' });
      const opened = sn.node.store.record
        .entries(0, 1000)
        .map((e) => JSON.parse(e.leaf) as { kind: string; envelope: string; officer?: string })
        .find((e) => e.kind === 'opened' && e.envelope === first);
      expect(opened?.officer).toBe('Moussa Ndiaye');

      // The lock ends the page's stream and the session.
      const locked = await call(sn, '/api/v1/session', {
        method: 'DELETE',
        headers: { cookie, origin: origin() },
      });
      expect(locked.status).toBe(204);
      await stream.ended;
      expect(stream.seen.at(-1)).toMatch(/^locked/);
      expect((await call(sn, '/api/v1/inbox', { headers: { cookie } })).code()).toBe('AUTH_REQUIRED');

      // Locked, the service still receives what Kenya sends and signs its delivery receipt.
      const second = (
        await call(ke, '/api/v1/messages', {
          method: 'POST',
          headers: { authorization: `Bearer ${ke.file.token}` },
          body: { to: ['sn.moj@relay.test'], subject: 'While locked', body: 'Kwaheri', unverifiedOk: true },
        })
      ).json().id as string;
      await waitFor(() => sn.node.inbox(50).some((m) => m.id === second), 10_000);
      await waitFor(
        () =>
          ke.node.store.record
            .entries(0, 1000)
            .map((e) => JSON.parse(e.leaf) as { kind: string; envelope: string; receipt?: { kind: string } })
            .some((e) => e.kind === 'receipt' && e.envelope === second && e.receipt?.kind === 'delivered'),
        15_000,
      );
    });

    it('seals a page’s upload as its bytes arrive (tus), never in plaintext, and sends it with a message', async () => {
      const cookie = await unlock('Aminata Diallo');
      const plain = Buffer.from('CONFIDENTIAL-ORDER-'.repeat(20_000));
      const tus = {
        'tus-resumable': '1.0.0',
        'upload-length': String(plain.length),
        'upload-metadata': `filename ${Buffer.from('ordonnance.pdf').toString('base64')}`,
      };
      // Without a session, or from a page that does not say where it comes from: refused.
      expect((await raw(sn, 'POST', '/api/v1/uploads', tus)).status).toBe(401);
      const noOrigin = await raw(sn, 'POST', '/api/v1/uploads', { ...tus, cookie });
      expect([noOrigin.status, JSON.parse(noOrigin.text).error.code]).toEqual([403, 'ORIGIN_REFUSED']);

      const page = { cookie, origin: origin() };
      const created = await raw(sn, 'POST', '/api/v1/uploads', { ...tus, ...page });
      expect(created.status, created.text).toBe(201);
      const at = String(created.headers.location);
      const id = at.split('/').pop()!;
      const patch = (offset: number, bytes: Buffer) =>
        raw(
          sn,
          'PATCH',
          at,
          {
            ...page,
            'tus-resumable': '1.0.0',
            'upload-offset': String(offset),
            'content-type': 'application/offset+octet-stream',
          },
          bytes,
        );
      expect((await patch(0, plain.subarray(0, 150_000))).status).toBe(204);
      const head = await raw(sn, 'HEAD', at, { ...page, 'tus-resumable': '1.0.0' });
      expect(head.headers['upload-offset']).toBe('150000');
      expect((await patch(150_000, plain.subarray(150_000))).status).toBe(204);
      // Sealed as it came: nothing of it in plaintext anywhere in the node's folder.
      const marker = Buffer.from('CONFIDENTIAL-ORDER-CONFIDENTIAL');
      const files = (d: string): string[] =>
        readdirSync(d, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)],
        );
      expect(files(sn.node.home).filter((f) => readFileSync(f).includes(marker))).toEqual([]);

      const message = {
        to: [ke.node.authority],
        subject: 'Ordonnance',
        body: 'Ci-jointe.',
        unverifiedOk: true,
        uploads: [{ id, role: 'court_order', language: 'fr' }],
      };
      const sent = await call(sn, '/api/v1/messages', { method: 'POST', headers: page, body: message });
      expect(sent.status, sent.text).toBe(200);
      const sentId = (sent.json() as { id: string }).id;
      // An upload goes with one item only.
      const again = await call(sn, '/api/v1/messages', { method: 'POST', headers: page, body: message });
      expect(again.code()).toBe('NOT_FOUND');
      await waitFor(() => ke.node.documents.of(sentId)[0]?.state === 'held', 15_000, 'Kenya to hold it');
      expect(ke.node.documents.of(sentId)[0]!.entry).toMatchObject({
        name: 'ordonnance.pdf',
        role: 'court_order',
        language: 'fr',
        size: plain.length,
        sha256: createHash('sha256').update(plain).digest('base64url'),
      });
    });

    it('holds the authority master key only while an operation that needs it runs', async () => {
      const keystore = sn.node.keystore;
      expect(keystore.keys.masterSecretKey).toBeNull();
      expect(keystore.holdsMasterKey).toBe(true);
      await expect(keystore.lendMasterKey('not the passphrase', async () => 1)).rejects.toMatchObject({
        code: 'PASSPHRASE_WRONG',
      });
      const during = await keystore.lendMasterKey(PASSPHRASE, async () => keystore.keys.masterSecretKey);
      expect(during).toMatch(/^[A-Za-z0-9_-]{80,}$/);
      expect(keystore.keys.masterSecretKey).toBeNull();
      // Saving the node's keys while the master key is withheld keeps it in the file.
      keystore.save({ ...keystore.keys });
      expect(keystore.checkPassphrase(PASSPHRASE).masterSecretKey).toBe(during);
      expect(keystore.keys.masterSecretKey).toBeNull();
    });
  },
);
