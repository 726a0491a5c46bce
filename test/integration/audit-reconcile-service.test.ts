/**
 * Reconciliation in the auditor's local service (the routes behind the web app's Reconcile page),
 * across two federated relays in-process: two relays' logs set against each other, and a node's
 * exported record set against its relay's log, each answering what `entraide audit reconcile
 * --json` is made of. A bad body, a relay the folder has no account on and a malformed record are
 * refused with typed errors; only the auditor's session or token reaches the routes, and each has
 * its budget. Each group of calls comes from its own address, so that budgets do not mix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditorClient, createAuditor, readAuditor } from '../../client/audit/auditor.ts';
import {
  reconcileRecord,
  recordDifferences,
  type RecordReport,
} from '../../client/audit/record-reconcile.ts';
import { reconcile, type Reconciliation } from '../../client/audit/relay-reconcile.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { random } from '../../client/random.ts';
import { exportRecord } from '../../client/record.ts';
import { RECONCILE_PER_MINUTE, RECORD_BODY_LIMIT } from '../../client/service/audit-reconcile-routes.ts';
import { startAuditService, type RunningAuditService } from '../../client/service/audit-serve.ts';
import { startService, type RunningService } from '../../client/service/serve.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import {
  enrolHome,
  enrolNode,
  PASSPHRASE,
  startPeeredRelays,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
const PASS = 'auditor reconcile passphrase';
const [A, B] = ['relay.a.test', 'relay.b.test'];

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
  cookie: string | undefined;
}

interface Call {
  method?: 'GET' | 'POST';
  /** An object sent as JSON, or text sent as it is (a file as the page reads it). */
  body?: unknown;
  cookie?: string;
  token?: string;
  /** The caller's address: each budget counts per address. */
  from?: string;
}

async function inject(
  svc: { app: RunningAuditService['app']; file: { url: string } },
  path: string,
  o: Call,
) {
  const host = new URL(svc.file.url).host;
  const res = await svc.app.inject({
    method: o.method ?? 'POST',
    url: `/api/v1${path}`,
    remoteAddress: o.from ?? '127.0.0.1',
    headers: {
      host,
      origin: svc.file.url,
      ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(o.cookie ? { cookie: o.cookie } : {}),
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
    },
    ...(o.body === undefined
      ? {}
      : { payload: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) }),
  });
  const cookie = res.headers['set-cookie'];
  return {
    status: res.statusCode,
    body: (res.body ? JSON.parse(res.body) : {}) as Answer['body'],
    cookie: (Array.isArray(cookie) ? cookie[0] : cookie)?.split(';')[0],
  };
}

const relaysPath = '/audit/reconcile/relays';
const recordPath = (relay: string) => `/audit/reconcile/record?relay=${relay}`;

describe('reconciliation in the auditor’s service', { timeout: 120_000 }, () => {
  let a: TestRelay;
  let b: TestRelay;
  let sn: AuthorityNode;
  let officer: RunningService;
  let audit: RunningAuditService;
  let clients: [AuditorClient, AuditorClient];
  let cookie = '';
  const home = tempDir('entraide-auditor-rec-');
  const ids: string[] = [];
  const as = (path: string, o: Call = {}) => inject(audit, path, { cookie, ...o });

  beforeAll(async () => {
    [a, b] = await startPeeredRelays([A, B], { outbox: fast });
    sn = await enrolNode(a, 'sn.moj');
    const keHome = tempDir('entraide-ke-rec-');
    await enrolHome(b, 'ke.ag', 'desk1', keHome);
    officer = await startService({ home: keHome, passphrase: PASSPHRASE, port: 0 });
    for (let i = 0; i < 3; i++)
      ids.push((await sn.send({ to: ['ke.ag@relay.b.test'], subject: `to ke ${i}`, body: 'b' })).id);
    await waitFor(
      async () => {
        await officer.node.fetchInbox();
        return officer.node.inbox().length >= 3;
      },
      15_000,
      'messages at Kenya',
    );
    for (const r of [a, b]) {
      const creds = await createAuditor(home, { name: 'alice', relayUrl: r.url, passphrase: PASS });
      await r.relay.store.addAuditor('alice', creds.publicKey, new Date());
    }
    clients = [new AuditorClient(readAuditor(home, PASS, A)), new AuditorClient(readAuditor(home, PASS, B))];
    audit = await startAuditService({ home, passphrase: PASS, port: 0 });
    const unlocked = await inject(audit, '/session', {
      body: { officer: 'Alice Auditor', passphrase: PASS },
    });
    expect(unlocked.status, JSON.stringify(unlocked.body)).toBe(200);
    cookie = unlocked.cookie!;
  });
  afterAll(async () => {
    await audit?.close();
    await officer?.close();
    await sn?.close();
    await a?.close();
    await b?.close();
  });

  it('sets two relays’ logs against each other, as `audit reconcile --relay A --relay B` does', async () => {
    // Receipts travel back as envelopes too: wait (through the CLI's own function) until both
    // outboxes are empty, then ask the service.
    await waitFor(
      async () => {
        const r = await reconcile(...clients);
        return (
          r.directions.every((d) => d.notReceived.length === 0 && d.notForwarded.length === 0) &&
          r.directions[0]!.matched >= 3
        );
      },
      20_000,
      'both logs to agree',
    );
    const r = await as(relaysPath, { body: { a: A, b: B }, from: '127.0.0.2' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const cli = await reconcile(...clients);
    const got = r.body as unknown as Reconciliation;
    expect(Object.keys(got).sort()).toEqual(Object.keys(cli).sort());
    expect(got.logs.map((l) => [l.relay, l.problem])).toEqual([
      [A, null],
      [B, null],
    ]);
    expect(got.logs[0]!.size).toBeGreaterThan(0);
    expect(got.directions).toEqual(cli.directions);
    expect(got.directions.map((d) => [d.from, d.to])).toEqual([
      [A, B],
      [B, A],
    ]);
    expect(got.directions[0]!.matched).toBeGreaterThanOrEqual(3);
    expect(got.alarms).toEqual([]);
  });

  it('sets a node’s exported record against its relay’s log, and shows what differs', async () => {
    const client = clients[0];
    let last: RecordReport | undefined;
    await waitFor(
      async () => recordDifferences((last = await reconcileRecord(client, exportRecord(sn)))) === 0,
      20_000,
      'the record of Senegal to agree with its relay',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
    const from = '127.0.0.3';
    const same = await as(recordPath(A), { body: exportRecord(sn), from });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    const report = same.body as unknown as RecordReport;
    expect(Object.keys(report).sort()).toEqual(Object.keys(last!).sort());
    expect(report).toMatchObject({
      node: sn.address,
      record: { problem: null },
      log: { relay: A, problem: null },
    });
    expect(report.matched.sent).toBeGreaterThanOrEqual(3);
    expect(recordDifferences(report)).toBe(0);

    // What the node recorded as sent but the relay never accepted.
    const ghost = uuidv7(Date.now(), random(10));
    sn.store.record.transaction(() =>
      sn.store.record.append({
        kind: 'sent',
        envelope: ghost,
        item: 'message',
        counterparts: ['ke.ag@relay.b.test'],
      }),
    );
    const differs = await as(recordPath(A), { body: exportRecord(sn), from });
    expect(differs.status).toBe(200);
    expect((differs.body as unknown as RecordReport).sentNotAccepted).toEqual([ghost]);
    expect(recordDifferences(differs.body as unknown as RecordReport)).toBe(1);
  });

  it('refuses a bad body, a relay without an account and a malformed record, with typed errors', async () => {
    const from = '127.0.0.4';
    const refused = async (path: string, body: unknown) => {
      const r = await as(path, { body, from });
      return [r.status, r.body.error?.code];
    };
    expect(await refused(relaysPath, { a: A })).toEqual([400, 'SCHEMA_INVALID']);
    expect(await refused(relaysPath, { a: A, b: B, c: 'x' })).toEqual([400, 'SCHEMA_INVALID']);
    expect(await refused(relaysPath, { a: A, b: 'relay.elsewhere.test' })).toEqual([400, 'AUDITOR_MISSING']);
    expect(await refused(relaysPath, { a: A, b: A })).toEqual([400, 'USAGE']);

    const record = exportRecord(sn);
    // The codes the CLI gives for the same file: not JSON, not a record, of another relay's node.
    expect(await refused(recordPath(A), '{"v": 1, "type": "entraide/node-rec')).toEqual([
      400,
      'INVALID_JSON',
    ]);
    expect(await refused(recordPath(A), { v: 1, type: 'something else' })).toEqual([400, 'SCHEMA_INVALID']);
    expect(await refused(recordPath(B), record)).toEqual([400, 'AUDITOR_MISSING']);
    expect(await refused(recordPath('relay.elsewhere.test'), record)).toEqual([400, 'AUDITOR_MISSING']);
    // Larger than the service's usual bound is read (and found not to be a record); over the
    // record's bound is refused unread.
    const padded = { ...record, padding: 'x'.repeat(2 * 1024 * 1024) };
    expect(await refused(recordPath(A), padded)).toEqual([400, 'SCHEMA_INVALID']);
    const huge = `{"entries":["${'x'.repeat(RECORD_BODY_LIMIT)}"]}`;
    const over = await as(recordPath(A), { body: huge, from: '127.0.0.5' });
    expect([over.status, over.body.error?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(over.body.error?.message).toContain(String(RECORD_BODY_LIMIT));
  });

  it('answers the auditor’s session or token only, never an officer’s', async () => {
    const from = '127.0.0.6';
    const routes = [
      { path: relaysPath, body: { a: A, b: B } },
      { path: recordPath(A), body: exportRecord(sn) },
    ];
    const o = await inject(officer, '/session', { body: { officer: 'Otieno', passphrase: PASSPHRASE } });
    expect(o.status).toBe(200);
    for (const { path, body } of routes) {
      const none = await inject(audit, path, { body, from });
      expect([none.status, none.body.error?.code]).toEqual([401, 'AUTH_REQUIRED']);
      const officers = await inject(audit, path, { body, from, cookie: o.cookie! });
      expect([officers.status, officers.body.error?.code]).toEqual([401, 'AUTH_REQUIRED']);
      // The officer's own service serves no such route, even to its own token.
      const there = await inject(officer, path, { body, from, token: officer.file.token });
      expect(there.status).toBe(404);
    }
    const token = await inject(audit, relaysPath, { body: { a: A, b: B }, from, token: audit.file.token });
    expect(token.status).toBe(200);
  });

  it('budgets each reconciliation a minute', async () => {
    for (const { path, from } of [
      { path: relaysPath, from: '127.0.0.7' },
      { path: recordPath(A), from: '127.0.0.8' },
    ]) {
      const codes: string[] = [];
      // The bodies are refused at once (no account on that relay): only the budget is tried.
      for (let i = 0; i <= RECONCILE_PER_MINUTE; i++) {
        const body = path === relaysPath ? { a: A, b: 'relay.elsewhere.test' } : { v: 1 };
        const r = await as(path, { body, from });
        codes.push(r.body.error?.code ?? String(r.status));
      }
      expect(codes.slice(0, RECONCILE_PER_MINUTE)).not.toContain('RATE_LIMITED');
      expect(codes.at(-1)).toBe('RATE_LIMITED');
    }
  });
});
