/**
 * HTTP and socket.io hygiene of a real relay on loopback: security headers on every answer,
 * bodies with a key twice, a `__proto__` or `constructor` key, or deep nesting refused with
 * INVALID_JSON and nothing stored, the same rules on socket.io frames.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../shared/errors.ts';
import { rowCounts } from '../support/refusals.ts';
import { invite, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { enrolByHand, enrolmentFor, seal, type HandNode } from '../support/hand-built-node.ts';

let relay: TestRelay;
let sn: HandNode;
let ke: HandNode;
beforeAll(async () => {
  relay = await startTestRelay();
  sn = await enrolByHand(relay, 'sn.moj');
  ke = await enrolByHand(relay, 'ke.ag');
});
afterAll(async () => {
  await relay.close();
});

async function postRaw(path: string, body: string, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${relay.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as ErrorBody, headers: res.headers };
}

describe('HTTP hygiene', () => {
  it('sends security headers with every answer, errors included', async () => {
    for (const res of [await fetch(`${relay.url}/v1/relay`), await fetch(`${relay.url}/v1/nothing`)]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'|default-src/);
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      await res.arrayBuffer();
    }
  });

  it('refuses a body with a key twice, a __proto__ or constructor key, or deep nesting, storing nothing', async () => {
    const envelope = JSON.stringify(seal(sn, [ke]));
    const enrolment = JSON.stringify(
      enrolmentFor(relay.domain, 'gh.moj', await invite(relay, 'gh.moj')).request,
    );
    const cases: [string, string, string?][] = [
      // the same invitation field twice: which one would win depends on the parser
      ['/v1/enrol', enrolment.replace(/^\{/, '{"invitation":"AAAA",')],
      ['/v1/enrol', enrolment.replace(/^\{/, '{"__proto__":{"polluted":true},')],
      ['/v1/enrol', enrolment.replace(/^\{/, '{"constructor":{"prototype":{"polluted":true}},')],
      ['/v1/envelopes', envelope.replace(/^\{/, `{"id":"${'0'.repeat(8)}",`), sn.token],
      ['/v1/envelopes', `{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, sn.token],
      ['/v1/auth/challenge', `{"node":"${sn.address}","node":"${ke.address}"}`],
    ];
    for (const [path, body, token] of cases) {
      const before = rowCounts(relay);
      const res = await postRaw(path, body, token);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({
        path,
        status: 400,
        code: 'INVALID_JSON',
      });
      expect(rowCounts(relay)).toEqual(before);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    // The same envelope without the extra key is accepted.
    expect((await postRaw('/v1/envelopes', envelope, sn.token)).status).toBe(200);
  });

  it('closes a socket.io connection whose frame has a key twice, storing nothing', async () => {
    const before = rowCounts(relay);
    const ws = new WebSocket(`${relay.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const frames: string[] = [];
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      frames.push(text);
      if (text.startsWith('0{')) ws.send(`40${JSON.stringify({ token: sn.token })}`);
      if (text.startsWith('40{')) {
        const envelope = JSON.stringify(seal(sn, [ke]));
        ws.send(`420["envelope:submit",${envelope.replace(/^\{/, '{"ttl":60,')}]`);
      }
    });
    await closed;
    expect(frames.some((f) => f.startsWith('40{'))).toBe(true); // it did connect first
    expect(frames.some((f) => f.startsWith('430'))).toBe(false); // and got no acknowledgement
    expect(rowCounts(relay)).toEqual(before);
  });
});
