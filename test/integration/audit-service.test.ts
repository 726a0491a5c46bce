/**
 * The auditor's local service (`entraide serve` on an auditor's folder): its API answers the
 * auditor's session or the token only, never an officer's session, and an officer's service never
 * answers the auditor's; the log is browsed from a local copy with each filter of the CLI's
 * `audit log`; a check runs as a job with progress, holds on an honest log, names the index an edit
 * in the relay's database broke, can be cancelled, and keeps the heads seen; an envelope's proof
 * verifies offline; pages and checks have their budgets and bounds. One real relay, in-process.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditorClient,
  checkProofExport,
  createAuditor,
  knownHeadsFile,
  readAuditor,
} from '../../client/audit/auditor.ts';
import type { VerifyJob } from '../../client/audit/audit-desk.ts';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { startAuditService, type RunningAuditService } from '../../client/service/audit-serve.ts';
import { startService, type RunningService } from '../../client/service/serve.ts';
import { enrolHome, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { serviceCall, type ServiceAnswer } from '../support/service-call.ts';
import { waitFor } from '../support/wait.ts';
import { AuthorityNode } from '../../client/node.ts';

const AUDITOR_PASS = 'auditor service passphrase';

type Answer = ServiceAnswer;
const call = serviceCall;

describe('the auditor’s local service', { timeout: 120_000 }, () => {
  let relay: TestRelay;
  let audit: RunningAuditService;
  let officer: RunningService;
  const home = tempDir('entraide-auditor-svc-');
  const keHome = tempDir('entraide-ke-svc-');
  const ids: string[] = [];
  let cookie = '';
  let base = '';
  const relayParam = () => `relay=${relay.domain}`;
  const as = (path: string, o: Parameters<typeof call>[2] = {}) => call(base, path, { cookie, ...o });

  beforeAll(async () => {
    relay = await startTestRelay();
    await enrolHome(relay, 'ke.ag', 'desk1', keHome);
    const snHome = tempDir('entraide-sn-svc-');
    await enrolHome(relay, 'sn.moj', 'desk1', snHome);
    const sn = await AuthorityNode.open(snHome, PASSPHRASE);
    for (let i = 0; i < 3; i++)
      ids.push((await sn.send({ to: ['ke.ag@relay.test'], subject: `s${i}`, body: 'b' })).id);
    await sn.close();
    const creds = await createAuditor(home, { name: 'alice', relayUrl: relay.url, passphrase: AUDITOR_PASS });
    await relay.relay.store.addAuditor('alice', creds.publicKey, new Date());
    audit = await startAuditService({ home, passphrase: AUDITOR_PASS, port: 0 });
    base = audit.file.url;
    officer = await startService({ home: keHome, passphrase: PASSPHRASE, port: 0 });
    const unlocked = await call(base, '/api/v1/session', {
      method: 'POST',
      body: { officer: 'Alice Auditor', passphrase: AUDITOR_PASS },
    });
    expect(unlocked.status, JSON.stringify(unlocked.body)).toBe(200);
    cookie = unlocked.cookie!;
  });
  afterAll(async () => {
    await officer?.close();
    await audit?.close();
    await relay?.close();
  });

  it('opens the auditor’s view only with the passphrase, and says it is one', async () => {
    const wrong = await call(base, '/api/v1/session', {
      method: 'POST',
      body: { officer: 'Mallory', passphrase: 'not it' },
    });
    expect(wrong.status).toBeGreaterThanOrEqual(400);
    expect(wrong.cookie).toBeUndefined();
    expect((await call(base, `/api/v1/audit/relays`)).body.error?.code).toBe('AUTH_REQUIRED');
    const s = await as('/api/v1/session');
    expect(s.body).toMatchObject({
      officer: 'Alice Auditor',
      role: 'auditor',
      auditor: { name: 'alice', relays: [{ domain: 'relay.test', auditor: 'alice' }] },
    });
    expect((await as('/api/v1/audit/relays')).body.relays).toHaveLength(1);
    expect((await call(base, '/api/v1/audit/relays', { token: audit.file.token })).status).toBe(200);
  });

  it('keeps the auditor’s and the officers’ sessions apart, both ways', async () => {
    const o = await call(officer.file.url, '/api/v1/session', {
      method: 'POST',
      body: { officer: 'Otieno', passphrase: PASSPHRASE },
    });
    expect(o.status).toBe(200);
    expect((await call(officer.file.url, '/api/v1/session', { cookie: o.cookie })).body.role).toBe('officer');
    // The officer's session on the auditor's service, and the auditor's on the officer's.
    expect((await call(base, '/api/v1/audit/relays', { cookie: o.cookie! })).body.error?.code).toBe(
      'AUTH_REQUIRED',
    );
    expect((await call(officer.file.url, '/api/v1/inbox', { cookie })).body.error?.code).toBe(
      'AUTH_REQUIRED',
    );
    // Neither service serves the other's API, even to its own token.
    expect((await call(base, '/api/v1/inbox', { token: audit.file.token })).status).toBe(404);
    expect(
      (
        await call(officer.file.url, `/api/v1/audit/log?${relayParam()}&offset=0&limit=10`, {
          token: officer.file.token,
        })
      ).status,
    ).toBe(404);
  });

  it('browses the log from its copy with each filter of `audit log`', async () => {
    expect((await as('/api/v1/audit/sync', { method: 'POST', body: { relay: relay.domain } })).status).toBe(
      200,
    );
    const client = new AuditorClient(readAuditor(home, AUDITOR_PASS));
    const all: AuditEvent[] = [];
    for await (const e of client.events()) all.push(e);
    let page: Answer | undefined;
    await waitFor(
      async () => {
        page = await as(`/api/v1/audit/log?${relayParam()}&offset=0&limit=500`);
        const sync = page.body.sync as { held: number; running: boolean };
        return !sync.running && sync.held >= all.length;
      },
      20_000,
      'the copy to catch up',
    );
    expect((page!.body.entries as AuditEvent[]).slice(0, all.length)).toEqual(all);
    // Entries the relay adds meanwhile (a receipt the officer's node sends) are not in `all`: every
    // query below stops at the last entry read.
    const last = Date.parse(all.at(-1)!.at);
    const seqs = async (q: string) =>
      ((await as(`/api/v1/audit/log?${relayParam()}&offset=0&limit=500&${q}`)).body.entries as AuditEvent[])
        .filter((e) => Date.parse(e.at) <= last)
        .map((e) => e.seq);
    const want = (f: (e: AuditEvent) => boolean) => all.filter(f).map((e) => e.seq);
    const accepted = want((e) => e.kind === 'accepted');
    expect(await seqs('kind=accepted')).toEqual(accepted);
    expect(all.filter((e) => e.kind === 'accepted' && ids.includes(e.envelope!))).toHaveLength(3);
    expect(await seqs(`envelope=${ids[1]}`)).toEqual(want((e) => e.envelope === ids[1]));
    const ke = want(
      (e) =>
        e.recipients?.includes('ke.ag@relay.test') === true ||
        e.node?.endsWith('/ke.ag@relay.test') === true ||
        e.sender?.endsWith('/ke.ag@relay.test') === true,
    );
    expect(ke.length).toBeGreaterThan(3);
    expect(await seqs('authority=ke.ag@relay.test')).toEqual(ke);
    const mid = Date.parse(all[Math.floor(all.length / 2)]!.at);
    expect(await seqs(`from=${mid}`)).toEqual(want((e) => Date.parse(e.at) >= mid));
    expect(await seqs(`to=${mid}&kind=login`)).toEqual(
      want((e) => Date.parse(e.at) <= mid && e.kind === 'login'),
    );
    const offset = await as(`/api/v1/audit/log?${relayParam()}&offset=2&limit=2&kind=accepted&to=${last}`);
    expect(offset.body.total).toBe(accepted.length);
    expect((offset.body.entries as AuditEvent[]).map((e) => e.seq)).toEqual(accepted.slice(2, 4));
  });

  it('refuses a page over its bound, a kind it does not know, and a relay it has no account on', async () => {
    const over = await as(`/api/v1/audit/log?${relayParam()}&offset=0&limit=501`);
    expect([over.status, over.body.error?.code]).toEqual([400, 'SCHEMA_INVALID']);
    const kind = await as(`/api/v1/audit/log?${relayParam()}&offset=0&limit=5&kind=stolen`);
    expect(kind.body.error?.code).toBe('SCHEMA_INVALID');
    const other = await as('/api/v1/audit/verify', {
      method: 'POST',
      body: { relay: 'relay.elsewhere.test' },
    });
    expect([other.status, other.body.error?.code]).toEqual([400, 'AUDITOR_MISSING']);
  });

  /** The check `id` once it is no longer running. */
  const ended = async (id: string): Promise<VerifyJob> => {
    let job: VerifyJob | undefined;
    await waitFor(
      async () => {
        job = (await as(`/api/v1/audit/verify/${id}`)).body as unknown as VerifyJob;
        return job.state !== 'running';
      },
      30_000,
      'the check to end',
    );
    return job!;
  };
  const runCheck = async (): Promise<VerifyJob> => {
    const started = await as('/api/v1/audit/verify', { method: 'POST', body: { relay: relay.domain } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return ended(started.body.id as string);
  };

  it('checks the log with progress, keeps the heads seen, and names the index an edit broke', async () => {
    const ok = await runCheck();
    expect(ok).toMatchObject({ state: 'ok', phase: 'done', problem: null });
    expect(ok.done).toBe(ok.total);
    expect(ok.heads).toBeGreaterThan(0);
    expect(existsSync(knownHeadsFile(home, relay.domain))).toBe(true);
    const heads = await as(`/api/v1/audit/heads?${relayParam()}`);
    expect((heads.body.kept as { size: number }[])[0]!.size).toBe(ok.total);
    expect(heads.body.peers).toEqual([]);

    const db = new Database(join(relay.dataDir, 'relay.db'));
    const row = db.prepare('SELECT leaf FROM "AuditEntry" WHERE seq = 2').get() as { leaf: string };
    db.prepare('UPDATE "AuditEntry" SET leaf = ? WHERE seq = 2').run(row.leaf.replace('"v":1', '"v":1 '));
    db.close();
    const bad = await runCheck();
    expect(bad.state).toBe('failed');
    expect(bad.problem?.index).toBe(2);
    const again = new Database(join(relay.dataDir, 'relay.db'));
    again.prepare('UPDATE "AuditEntry" SET leaf = ? WHERE seq = 2').run(row.leaf);
    again.close();
    expect((await runCheck()).state).toBe('ok');
  });

  it('cancels a check on the auditor’s word', async () => {
    // A log long enough that the check is still under way when the cancellation arrives.
    const store = relay.relay.store.audit;
    for (let done = 0; done < 60_000; done += 1000)
      store.transaction(() => {
        for (let i = 0; i < 1000; i++)
          store.append({ kind: 'auth_failed', reason: 'TOKEN_INVALID', detail: 'x' });
      });
    const started = await as('/api/v1/audit/verify', { method: 'POST', body: { relay: relay.domain } });
    const id = started.body.id as string;
    const cancelled = await as(`/api/v1/audit/verify/${id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    const job = await ended(id);
    expect(job.state).toBe('cancelled');
    expect(job.error?.code).toBe('VERIFY_CANCELLED');
    expect(job.done).toBeLessThan(60_000);
  });

  it('proves an envelope’s events, and the proof verifies offline', async () => {
    const p = await as(`/api/v1/audit/proof/${ids[0]}?${relayParam()}`);
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    const key = fromBase64url(relay.relay.identity.publicKeyB64, 'key', 32);
    const offline = checkProofExport(p.body, key);
    expect(offline.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['accepted']));
    expect(offline.events.every((e) => e.envelope === ids[0])).toBe(true);
    const missing = await as(`/api/v1/audit/proof/not-an-id?${relayParam()}`);
    expect(missing.body.error?.code).toBe('SCHEMA_INVALID');
  });

  it('budgets the checks a minute', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await as('/api/v1/audit/verify', { method: 'POST', body: { relay: relay.domain } });
      codes.push(r.status === 202 ? 'started' : (r.body.error?.code ?? String(r.status)));
    }
    expect(codes).toContain('RATE_LIMITED');
  });
});
