/**
 * The federation routes for documents (POST /v1/federation/blobs, /v1/federation/blobs/:id/pieces):
 * only a pinned peer, signing the exact request, may announce a blob, and only for a node homed on
 * it; only that peer may send its pieces; a blob whose bytes do not have the announced SHA-256 is
 * dropped whole; an unsigned or forged request learns nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signFederationRequest } from '../../server/federation/s2s-token.ts';
import { startTestRelay, type TestRelay } from '../support/fixtures.ts';

const A = 'relay.a.test';
const B = 'relay.b.test';
const C = 'relay.c.test';
let a: TestRelay;
let b: TestRelay;
let c: TestRelay;

async function pin(on: TestRelay, other: TestRelay): Promise<void> {
  await on.relay.store.addPeer({
    domain: other.domain,
    url: other.url,
    publicKey: other.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
  await on.relay.ctx.federation.peers.load();
}

/** POSTs `body` to `to`, signed by `from` for exactly this request (or not at all). */
async function post(from: TestRelay | null, to: TestRelay, path: string, body: unknown) {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (from) {
    const token = await signFederationRequest(
      { domain: from.domain, privateKey: from.relay.identity.privateKeyObject },
      to.domain,
      { method: 'POST', path, body: text },
      new Date(),
    );
    headers.authorization = `Bearer ${token}`;
  }
  return to.relay.app.inject({ method: 'POST', url: path, headers, payload: text });
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64url');
const id = () => randomBytes(16).toString('base64url');

beforeAll(async () => {
  const quiet = { gossipIntervalMs: 3_600_000 };
  a = await startTestRelay({ domain: A, ...quiet });
  b = await startTestRelay({ domain: B, ...quiet });
  c = await startTestRelay({ domain: C, ...quiet });
  await pin(b, a);
  await pin(b, c);
});
afterAll(async () => {
  for (const r of [a, b, c]) await r?.close();
});

describe('federation routes for documents', () => {
  it('takes a blob from its sender’s relay only, checks its hash, and refuses everyone else', async () => {
    const bytes = randomBytes(100_000);
    const blob = id();
    const offer = { id: blob, sender: `desk1/sn.moj@${A}`, size: bytes.length, sha256: sha(bytes) };

    // Unsigned: refused, nothing stored.
    expect((await post(null, b, '/v1/federation/blobs', offer)).statusCode).toBe(401);
    // A pinned peer announcing a node of another relay: refused.
    const forged = await post(c, b, '/v1/federation/blobs', offer);
    expect([forged.statusCode, forged.json<{ error: { code: string } }>().error.code]).toEqual([
      403,
      'FORBIDDEN',
    ]);
    expect(b.relay.store.blobs.get(blob)).toBeUndefined();

    const held = await post(a, b, '/v1/federation/blobs', offer);
    expect([held.statusCode, held.json()]).toEqual([200, { offset: 0, complete: false }]);
    // Another peer may not write to it.
    const squat = await post(c, b, `/v1/federation/blobs/${blob}/pieces`, { offset: 0, data: 'AAAA' });
    expect(squat.statusCode).toBe(404);
    // Two pieces, the first sent twice (a lost answer): the second copy is skipped.
    const first = { offset: 0, data: bytes.subarray(0, 60_000).toString('base64url') };
    expect((await post(a, b, `/v1/federation/blobs/${blob}/pieces`, first)).json()).toEqual({
      offset: 60_000,
      complete: false,
    });
    expect((await post(a, b, `/v1/federation/blobs/${blob}/pieces`, first)).json()).toEqual({
      offset: 60_000,
      complete: false,
    });
    const last = { offset: 60_000, data: bytes.subarray(60_000).toString('base64url') };
    expect((await post(a, b, `/v1/federation/blobs/${blob}/pieces`, last)).json()).toEqual({
      offset: bytes.length,
      complete: true,
    });
    expect(b.relay.store.blobs.get(blob)).toMatchObject({
      origin: A,
      sha256: sha(bytes),
      owner: offer.sender,
    });

    // Bytes that are not those announced: dropped whole when the last one arrives.
    const other = id();
    await post(a, b, '/v1/federation/blobs', { ...offer, id: other });
    const damaged = await post(a, b, `/v1/federation/blobs/${other}/pieces`, {
      offset: 0,
      data: randomBytes(bytes.length).toString('base64url'),
    });
    expect([damaged.statusCode, damaged.json<{ error: { code: string } }>().error.code]).toEqual([
      422,
      'FILE_DAMAGED',
    ]);
    expect(b.relay.store.blobs.get(other)?.deletedAt).not.toBeNull();
  });
});
