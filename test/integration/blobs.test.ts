/**
 * Documents on the relay (server/domain/blobs.ts, server/routes/blobs.ts): tus uploads by their
 * owner only, resumed from what the relay holds; envelopes bound to complete blobs of their sender
 * only; downloads with byte ranges by recipient nodes only; quotas refused before anything is
 * stored; deletion once every recipient holds the blob; every step in the audit log.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { applyOverrides, relayLimits } from '../../server/limits.ts';
import { sealEnvelope } from '../../shared/crypto/envelope.ts';
import type { ErrorBody } from '../../shared/errors.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { enrolByHand, postJson, recipientKey, type HandNode } from '../support/hand-built-node.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject } from '../../shared/crypto/signing.ts';
import { toBase64url, utf8 } from '../../shared/bytes.ts';
import { random } from '../support/random.ts';
import { waitFor } from '../support/wait.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function relayWith(blobs: Record<string, number> = {}, now?: () => Date): Promise<TestRelay> {
  const relay = await startTestRelay({
    limits: applyOverrides(relayLimits('test'), { blobs }, 'test'),
    ...(now ? { now } : {}),
  });
  cleanup.push(() => relay.close());
  return relay;
}

const tus = { 'tus-resumable': '1.0.0' };
const auth = (n: HandNode) => ({ authorization: `Bearer ${n.token}` });

async function create(
  relay: TestRelay,
  n: HandNode,
  size: number,
  id = randomBytes(16).toString('base64url'),
  headers: Record<string, string> = auth(n),
): Promise<Response> {
  return fetch(`${relay.url}/v1/blobs`, {
    method: 'POST',
    headers: {
      ...tus,
      ...headers,
      'upload-length': String(size),
      'upload-metadata': `blob ${Buffer.from(id).toString('base64')}`,
    },
  });
}

async function upload(relay: TestRelay, n: HandNode, bytes: Uint8Array): Promise<string> {
  const res = await create(relay, n, bytes.length);
  expect(res.status).toBe(201);
  const id = res.headers.get('location')!.split('/').pop()!;
  const patch = await patchFrom(relay, n, id, bytes, 0);
  expect(patch.status).toBe(204);
  expect(patch.headers.get('upload-offset')).toBe(String(bytes.length));
  return id;
}

function patchFrom(relay: TestRelay, n: HandNode, id: string, bytes: Uint8Array, offset: number) {
  return fetch(`${relay.url}/v1/blobs/${id}`, {
    method: 'PATCH',
    headers: {
      ...tus,
      ...auth(n),
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    },
    body: Buffer.from(bytes.subarray(offset)),
  });
}

function sealWith(from: HandNode, to: HandNode[], blobs: string[], ttl = 3600) {
  const sentAt = new Date();
  return sealEnvelope(
    {
      id: uuidv7(sentAt.getTime(), random(10)),
      from: from.address,
      to: to.map((t) => t.authority),
      sentAt,
      ttl,
      recipients: to.map(recipientKey),
      content: utf8('{"type":"message","subject":"s","body":"b"}'),
      format: 3,
      masterKeys: to.map((t) => ({ authority: t.authority, fingerprint: 'A'.repeat(22) })),
      blobs,
    },
    from.identity.secretKey,
    random,
  );
}

async function submit(relay: TestRelay, n: HandNode, env: unknown): Promise<Response> {
  return fetch(`${relay.url}/v1/envelopes`, {
    method: 'POST',
    headers: { ...auth(n), 'content-type': 'application/json' },
    body: JSON.stringify(env),
  });
}

async function codeOf(res: Response): Promise<string | undefined> {
  return ((await res.json()) as ErrorBody).error?.code;
}

/** An auditor's token, from the relay's real audit login. */
async function auditorToken(relay: TestRelay): Promise<string> {
  const keys = generateSigningKeyPair(random);
  await relay.relay.store.addAuditor('inspector', toBase64url(keys.publicKey), new Date());
  const c = await postJson(relay, '/v1/audit/auth/challenge', { auditor: 'inspector' });
  const { challenge } = c.json<{ challenge: string }>();
  const sig = signObject(
    CONTEXTS.auditChallenge,
    { relay: relay.domain, auditor: 'inspector', challenge },
    keys.secretKey,
  );
  const t = await postJson(relay, '/v1/audit/auth/token', { auditor: 'inspector', challenge, sig });
  expect(t.statusCode).toBe(200);
  return t.json<{ token: string }>().token;
}

function auditKinds(relay: TestRelay, blob: string): string[] {
  return relay.relay.store.db
    .prepare<[], { leaf: string }>('SELECT leaf FROM "AuditEntry" ORDER BY seq')
    .all()
    .map((r) => JSON.parse(r.leaf) as { kind: string; blob?: string })
    .filter((e) => e.blob === blob)
    .map((e) => e.kind);
}

describe('documents on the relay', () => {
  it('uploads resumably, binds to an envelope, serves ranges to recipients only, and deletes once held', async () => {
    const relay = await relayWith();
    const [sn, ke, ug] = [
      await enrolByHand(relay, 'sn.moj'),
      await enrolByHand(relay, 'ke.ag'),
      await enrolByHand(relay, 'ug.dpp'),
    ];
    const bytes = randomBytes(300_000);
    const res = await create(relay, sn, bytes.length);
    expect(res.status).toBe(201);
    const id = res.headers.get('location')!.split('/').pop()!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // The same creation again finds the same upload; another node, or another size, is refused.
    expect((await create(relay, sn, bytes.length, id)).status).toBe(201);
    const taken = await create(relay, ug, bytes.length, id);
    expect([taken.status, await codeOf(taken)]).toEqual([409, 'BLOB_ID_TAKEN']);

    // A first part, then the relay says where to go on from, and the rest follows.
    const first = await fetch(`${relay.url}/v1/blobs/${id}`, {
      method: 'PATCH',
      headers: {
        ...tus,
        ...auth(sn),
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
      },
      body: bytes.subarray(0, 100_000),
    });
    expect(first.status).toBe(204);
    // Not complete: an envelope naming it is refused, nothing stored.
    const early = await submit(relay, sn, sealWith(sn, [ke], [id]));
    expect([early.status, await codeOf(early)]).toEqual([409, 'BLOB_INCOMPLETE']);
    // Only the owner may see or write the upload.
    for (const other of [ke, ug]) {
      const head = await fetch(`${relay.url}/v1/blobs/${id}`, {
        method: 'HEAD',
        headers: { ...tus, ...auth(other) },
      });
      expect(head.status).toBe(404);
      const patch = await patchFrom(relay, other, id, bytes, 100_000);
      expect([patch.status, await codeOf(patch)]).toEqual([404, 'NOT_FOUND']);
    }
    const head = await fetch(`${relay.url}/v1/blobs/${id}`, {
      method: 'HEAD',
      headers: { ...tus, ...auth(sn) },
    });
    expect(head.headers.get('upload-offset')).toBe('100000');
    const rest = await patchFrom(relay, sn, id, bytes, 100_000);
    expect(rest.status).toBe(204);
    expect(auditKinds(relay, id)).toEqual(['blob_uploaded']);

    // Another node's envelope cannot name it.
    const squat = await submit(relay, ug, sealWith(ug, [ke], [id]));
    expect([squat.status, await codeOf(squat)]).toEqual([422, 'BLOB_UNKNOWN']);
    // Before an envelope names it, nobody may read it.
    expect((await fetch(`${relay.url}/v1/blobs/${id}`, { headers: auth(ke) })).status).toBe(404);

    const env = sealWith(sn, [ke], [id]);
    const ok = await submit(relay, sn, env);
    expect(ok.status).toBe(200);

    // The recipient reads it whole and from an offset; a non-recipient, no session: refused.
    const whole = await fetch(`${relay.url}/v1/blobs/${id}`, { headers: auth(ke) });
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const tail = await fetch(`${relay.url}/v1/blobs/${id}`, {
      headers: { ...auth(ke), range: 'bytes=250000-' },
    });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes 250000-299999/300000`);
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(250_000))).toBe(true);
    const beyond = await fetch(`${relay.url}/v1/blobs/${id}`, {
      headers: { ...auth(ke), range: 'bytes=300000-' },
    });
    expect([beyond.status, await codeOf(beyond)]).toEqual([416, 'RANGE_NOT_SATISFIABLE']);
    expect((await fetch(`${relay.url}/v1/blobs/${id}`, { headers: auth(ug) })).status).toBe(404);
    expect((await fetch(`${relay.url}/v1/blobs/${id}`)).status).toBe(401);
    expect(
      (await fetch(`${relay.url}/v1/blobs/${id}/held`, { method: 'POST', headers: auth(ug) })).status,
    ).toBe(404);

    // Held, but the envelope not acknowledged yet: kept. Acknowledged too: deleted, and logged.
    const held = await fetch(`${relay.url}/v1/blobs/${id}/held`, { method: 'POST', headers: auth(ke) });
    expect(held.status).toBe(200);
    await relay.relay.blobs.collect();
    expect(existsSync(join(relay.dataDir, 'blobs', id))).toBe(true);
    const ack = await fetch(`${relay.url}/v1/inbox/ack`, {
      method: 'POST',
      headers: { ...auth(ke), 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [env.id] }),
    });
    expect(ack.status).toBe(200);
    await waitFor(
      async () => (await relay.relay.blobs.collect()) === 0 && !existsSync(join(relay.dataDir, 'blobs', id)),
    );
    expect(auditKinds(relay, id)).toEqual(['blob_uploaded', 'blob_downloaded', 'blob_deleted']);
    const entries = relay.relay.store.db
      .prepare<[], { leaf: string }>('SELECT leaf FROM "AuditEntry" ORDER BY seq')
      .all()
      .map(
        (r) => JSON.parse(r.leaf) as { kind: string; blob?: string; ciphertextHash?: string; size?: number },
      );
    const uploaded = entries.find((e) => e.kind === 'blob_uploaded' && e.blob === id)!;
    expect(uploaded.ciphertextHash).toBe(createHash('sha256').update(bytes).digest('base64url'));
    expect(uploaded.size).toBe(bytes.length);
    // Gone: even its recipient cannot read it now.
    expect((await fetch(`${relay.url}/v1/blobs/${id}`, { headers: auth(ke) })).status).toBe(404);
  });

  it('refuses blobs past the largest size (413) and past a node’s bytes held (429), storing nothing', async () => {
    const relay = await relayWith({ maxBlobBytes: 1000, nodeBytes: 1500 });
    const sn = await enrolByHand(relay, 'sn.moj');
    const count = () =>
      relay.relay.store.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM "Blob"').get()!.n;
    const big = await create(relay, sn, 1001);
    expect([big.status, await codeOf(big)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(count()).toBe(0);
    await upload(relay, sn, randomBytes(1000));
    const over = await create(relay, sn, 600);
    expect([over.status, await codeOf(over)]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect(over.headers.get('retry-after')).not.toBeNull();
    expect(count()).toBe(1);
    // More bytes than declared: refused, and the blob stays as long as it was declared.
    const res = await create(relay, sn, 400);
    const id = res.headers.get('location')!.split('/').pop()!;
    const long = await patchFrom(relay, sn, id, randomBytes(500), 0);
    expect(long.status).toBeGreaterThanOrEqual(400);
    const head = await fetch(`${relay.url}/v1/blobs/${id}`, {
      method: 'HEAD',
      headers: { ...tus, ...auth(sn) },
    });
    expect(Number(head.headers.get('upload-offset'))).toBeLessThanOrEqual(400);
  });

  it('refuses every blob route to all but the blob’s owner or recipients, with one audit entry each', async () => {
    const relay = await relayWith();
    const [sn, ke, ug] = [
      await enrolByHand(relay, 'sn.moj'),
      await enrolByHand(relay, 'ke.ag'),
      await enrolByHand(relay, 'ug.dpp'),
    ];
    const auditor = await auditorToken(relay);
    const id = await upload(relay, sn, randomBytes(2000));
    const pending = (await create(relay, sn, 3000)).headers.get('location')!.split('/').pop()!;
    expect((await submit(relay, sn, sealWith(sn, [ke], [id]))).status).toBe(200);

    const routes: { name: string; call: (headers: Record<string, string>) => Promise<Response> }[] = [
      { name: 'create', call: (h) => create(relay, { token: '' } as HandNode, 10, undefined, h) },
      {
        name: 'head',
        call: (h) => fetch(`${relay.url}/v1/blobs/${pending}`, { method: 'HEAD', headers: { ...tus, ...h } }),
      },
      {
        name: 'patch',
        call: (h) =>
          fetch(`${relay.url}/v1/blobs/${pending}`, {
            method: 'PATCH',
            headers: {
              ...tus,
              ...h,
              'upload-offset': '0',
              'content-type': 'application/offset+octet-stream',
            },
            body: Buffer.alloc(10),
          }),
      },
      { name: 'get', call: (h) => fetch(`${relay.url}/v1/blobs/${id}`, { headers: h }) },
      {
        name: 'held',
        call: (h) => fetch(`${relay.url}/v1/blobs/${id}/held`, { method: 'POST', headers: h }),
      },
    ];
    const entries = () =>
      relay.relay.store.db
        .prepare<[], { leaf: string }>('SELECT leaf FROM "AuditEntry" ORDER BY seq')
        .all()
        .map((r) => JSON.parse(r.leaf) as { kind: string; node?: string; reason?: string; count?: number });
    // Nodes with a session: one entry each, naming the node and the code.
    const refusedTo: [HandNode, string[]][] = [
      [ug, ['head', 'patch', 'get', 'held']], // another authority, never a recipient
      [ke, ['head', 'patch']], // a recipient, but not the owner of the upload
      [sn, ['get', 'held']], // the owner, but not a recipient of its own envelope
    ];
    for (const [node, names] of refusedTo) {
      for (const r of routes.filter((x) => names.includes(x.name))) {
        const before = entries().filter((e) => e.node === node.address && e.reason === 'NOT_FOUND').length;
        const res = await r.call(auth(node));
        expect(res.status, `${r.name} by ${node.address}`).toBe(404);
        const after = entries().filter((e) => e.node === node.address && e.reason === 'NOT_FOUND').length;
        expect(after - before, `${r.name} by ${node.address}`).toBe(1);
      }
    }
    // No session, or an auditor's token (not a node's session): 401, counted per code and source.
    let anonymous = 0;
    for (const headers of [{}, { authorization: `Bearer ${auditor}` }] as Record<string, string>[]) {
      for (const r of routes) {
        const res = await r.call(headers);
        expect(res.status, `${r.name} with ${JSON.stringify(headers).slice(0, 20)}`).toBe(401);
        anonymous++;
      }
    }
    relay.relay.audit.flushRefusals();
    const counted = entries()
      .filter((e) => e.reason === 'AUTH_REQUIRED' || e.reason === 'TOKEN_INVALID')
      .reduce((n, e) => n + (e.count ?? 1), 0);
    expect(counted).toBe(anonymous);
    // Nothing of the refused uploads was written.
    const head = await fetch(`${relay.url}/v1/blobs/${pending}`, {
      method: 'HEAD',
      headers: { ...tus, ...auth(sn) },
    });
    expect(head.headers.get('upload-offset')).toBe('0');
  });

  it('deletes blobs whose envelopes expired, recipients or not', async () => {
    let now = Date.now();
    const relay = await relayWith({}, () => new Date(now));
    const [sn, ke] = [await enrolByHand(relay, 'sn.moj'), await enrolByHand(relay, 'ke.ag')];
    const id = await upload(relay, sn, randomBytes(4000));
    expect((await submit(relay, sn, sealWith(sn, [ke], [id], 60))).status).toBe(200);
    await relay.relay.blobs.collect();
    expect(existsSync(join(relay.dataDir, 'blobs', id))).toBe(true);
    now += 61_000;
    relay.relay.store.expire(new Date(now));
    await relay.relay.blobs.collect();
    expect(existsSync(join(relay.dataDir, 'blobs', id))).toBe(false);
    expect(auditKinds(relay, id)).toEqual(['blob_uploaded', 'blob_deleted']);
  });

  it('deletes a blob no envelope ever named once its grace time is over', async () => {
    const relay = await relayWith({ unboundHours: 0 });
    const sn = await enrolByHand(relay, 'sn.moj');
    const id = await upload(relay, sn, randomBytes(5000));
    await waitFor(
      async () => (await relay.relay.blobs.collect()) >= 0 && !existsSync(join(relay.dataDir, 'blobs', id)),
    );
    expect(auditKinds(relay, id)).toEqual(['blob_uploaded', 'blob_deleted']);
  });
});
