/**
 * The audit API with a real relay and real nodes: an auditor registered by the operator logs in
 * with its own key, verifies the whole log and proves an envelope's events; nodes' tokens never
 * open the audit API and auditors' tokens open nothing else; a removed auditor is shut out; and
 * direct edits of the relay's database are caught by the auditor's verification.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditorClient,
  checkProofExport,
  createAuditor,
  type Credentials,
} from '../../client/audit/auditor.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import { enrolNode, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';

const AUDIT_ROUTES = [
  '/v1/audit/head',
  '/v1/audit/heads',
  '/v1/audit/entries?from=0',
  '/v1/audit/proof?index=0&size=1',
  '/v1/audit/consistency?from=1&to=1',
  '/v1/audit/envelopes/01a21dc1-3e21-71ea-984d-537ec6028e64',
];

describe('the audit API', () => {
  let relay: TestRelay;
  let sn: AuthorityNode;
  let ke: AuthorityNode;
  let creds: Credentials;
  let auditor: AuditorClient;
  const sent: string[] = [];

  beforeAll(async () => {
    relay = await startTestRelay();
    sn = await enrolNode(relay, 'sn.moj');
    ke = await enrolNode(relay, 'ke.ag');
    for (let i = 0; i < 5; i++)
      sent.push((await sn.send({ to: [ke.authority], subject: `s${i}`, body: 'b' })).id);
    await ke.fetchInbox();
    creds = await createAuditor(tempDir('entraide-auditor-'), {
      name: 'alice',
      relayUrl: relay.url,
      passphrase: 'auditor passphrase',
    });
    await relay.relay.store.addAuditor('alice', creds.publicKey, new Date());
    auditor = new AuditorClient(creds);
  });
  afterAll(async () => {
    await sn?.close();
    await ke?.close();
    await relay?.close();
  });

  const get = (path: string, token?: string) =>
    fetch(`${relay.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(
      async (r) => ({
        status: r.status,
        body: (await r.json()) as { error?: { code: string } },
      }),
    );

  it('lets the auditor verify the whole log and prove an envelope’s events', async () => {
    const report = await auditor.verify();
    expect(report.problem).toBeNull();
    expect(report.size).toBeGreaterThanOrEqual(10);
    expect(report.heads).toBeGreaterThanOrEqual(1);
    const p = await auditor.proof(sent[0]!);
    expect(p.events.map((e) => e.event.kind)).toEqual(['accepted', 'delivered']);
    expect(p.events[1]!.event.node).toBe(ke.address);
  });

  it('writes proofs that verify offline, and fail once altered or under another key', async () => {
    const p = JSON.parse(JSON.stringify(await auditor.proof(sent[1]!))) as unknown;
    const key = fromBase64url(creds.relayKey, 'key', 32);
    expect(checkProofExport(p, key).events.map((e) => e.envelope)).toEqual([sent[1], sent[1]]);
    const altered = JSON.parse(JSON.stringify(p)) as { events: { leaf: string }[] };
    altered.events[0]!.leaf = altered.events[0]!.leaf.replace('"accepted"', '"expired"');
    expect(() => checkProofExport(altered, key)).toThrow(expect.objectContaining({ code: 'PROOF_INVALID' }));
    expect(() => checkProofExport(p, new Uint8Array(32).fill(1))).toThrow(
      expect.objectContaining({ code: 'PROOF_INVALID' }),
    );
  });

  it('refuses every audit route without a token, and with a node’s token', async () => {
    const nodeToken = await sn.relay.token();
    for (const path of AUDIT_ROUTES) {
      const none = await get(path);
      expect([path, none.status, none.body.error?.code]).toEqual([path, 401, 'AUTH_REQUIRED']);
      const asNode = await get(path, nodeToken);
      expect([path, asNode.status, asNode.body.error?.code]).toEqual([path, 401, 'TOKEN_INVALID']);
    }
  });

  it('gives an auditor’s token nothing but the audit API', async () => {
    await auditor.login();
    const token = (auditor as unknown as { token: string }).token;
    expect((await get('/v1/audit/head', token)).status).toBe(200);
    for (const path of [
      '/v1/inbox',
      `/v1/envelopes/${sent[0]}`,
      `/v1/directory/${encodeURIComponent(sn.authority)}`,
      '/v1/keylog/head',
      '/v1/peers',
    ]) {
      const r = await get(path, token);
      expect([path, r.status, r.body.error?.code]).toEqual([path, 401, 'TOKEN_INVALID']);
    }
  });

  it('refuses a login signed with another key, and shuts out a removed auditor', async () => {
    const other = await createAuditor(tempDir('entraide-auditor-'), {
      name: 'alice',
      relayUrl: relay.url,
      passphrase: 'x',
    });
    await expect(new AuditorClient(other).login()).rejects.toMatchObject({ code: 'CHALLENGE_INVALID' });
    const bob = await createAuditor(tempDir('entraide-auditor-'), {
      name: 'bob',
      relayUrl: relay.url,
      passphrase: 'x',
    });
    // Not registered: refused at the token step, the same way as a wrong signature (no enumeration).
    await expect(new AuditorClient(bob).login()).rejects.toMatchObject({ code: 'CHALLENGE_INVALID' });
    await relay.relay.store.addAuditor('bob', bob.publicKey, new Date());
    const client = new AuditorClient(bob);
    await client.login();
    const token = (client as unknown as { token: string }).token;
    expect((await get('/v1/audit/head', token)).status).toBe(200);
    await relay.relay.store.removeAuditor('bob', new Date());
    expect((await get('/v1/audit/head', token)).body.error?.code).toBe('TOKEN_INVALID');
    await expect(client.login()).rejects.toMatchObject({ code: 'CHALLENGE_INVALID' });
  });

  it('catches a split view: a head for the same size with another root, shown to someone else', async () => {
    const head = await auditor.head();
    // What a relay that forks its log would show another auditor: its own key, another root.
    const forged = signTreeHead(
      {
        log: 'audit',
        relay: relay.domain,
        size: head.size,
        root: new Uint8Array(32).fill(7),
        timestamp: new Date(),
      },
      relay.relay.identity.secretKey,
    );
    expect((await auditor.verify(undefined, [])).problem).toBeNull();
    const report = await auditor.verify(undefined, [forged]);
    expect(report.problem?.message).toMatch(/split view/);
    // A head for a size the log never reached cannot be explained either.
    const ahead = signTreeHead(
      {
        log: 'audit',
        relay: relay.domain,
        size: head.size + 1000,
        root: new Uint8Array(32).fill(9),
        timestamp: new Date(),
      },
      relay.relay.identity.secretKey,
    );
    expect((await auditor.verify(undefined, [ahead])).problem?.message).toMatch(
      new RegExp(`size ${head.size + 1000}`),
    );
  });

  it('catches an entry edited directly in the relay’s database', async () => {
    await auditor.head(); // a head over the untouched log
    const db = new Database(join(relay.dataDir, 'relay.db'));
    try {
      db.prepare(
        `UPDATE "AuditEntry" SET leaf = replace(leaf, '"kind":"accepted"', '"kind":"expired"') WHERE seq = 2`,
      ).run();
    } finally {
      db.close();
    }
    const report = await auditor.verify();
    expect(report.problem).not.toBeNull();
    expect(report.problem!.index).toBeLessThanOrEqual(2);
  });
});
