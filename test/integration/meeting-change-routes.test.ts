/**
 * The organizer's routes of the node's service (client/service/routes-meeting-changes.ts) between
 * real services and nodes on two federated relays: Senegal organizes a meeting with Nigeria (whose
 * own service runs too) and Kenya. Only a session or the token opens the routes (an auditor's
 * session does not); bad bodies are refused before anything is signed; participants whose safety
 * code was never verified are confirmed first; a participant's service may not change the meeting
 * (MEETING_NOT_ORGANIZER); an update and a cancellation reach every participant; the budget holds.
 * Every refusal is checked to have left the meeting as it was, at the organizer and at a member.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor } from '../../client/audit/auditor.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { startAuditService, type RunningAuditService } from '../../client/service/audit-serve.ts';
import { startService, type RunningService } from '../../client/service/serve.ts';
import {
  enrolHome,
  enrolNode,
  PASSPHRASE,
  startPeeredRelays,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { serviceCall, type ServiceAnswer } from '../support/service-call.ts';
import { pollUntil } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
const AUDITOR_PASS = 'auditor service passphrase';

type Answer = ServiceAnswer;
/** The officers' API, POST unless told. */
const call = (base: string, path: string, o: Parameters<typeof serviceCall>[2] = {}) =>
  serviceCall(base, `/api/v1${path}`, { method: 'POST', ...o });

describe('the organizer’s meeting routes of the node’s service', { timeout: 120_000 }, () => {
  let a: TestRelay;
  let b: TestRelay;
  let sn: RunningService;
  let ng: RunningService;
  let ke: AuthorityNode;
  let audit: RunningAuditService;
  let uid = '';
  const asSn = (path: string, body: unknown) => call(sn.file.url, path, { body, token: sn.file.token });

  /** The meeting as the organizer and a member hold it: what a refusal must leave unchanged. */
  const held = () => {
    const at = (n: AuthorityNode) => {
      const m = n.meetings.show(uid);
      return { sequence: m.sequence, startUtc: m.startUtc, title: m.title, cancelled: m.cancelled };
    };
    return { sn: at(sn.node), ke: at(ke) };
  };
  const refused = async (send: () => Promise<Answer>, status: number, code: string) => {
    const before = held();
    const r = await send();
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
    await ke.fetchInbox();
    expect(held()).toEqual(before);
  };
  /** Fetches at `node` until its copy of the meeting satisfies `ok` (bounded). */
  const arrives = (node: AuthorityNode, ok: (m: ReturnType<AuthorityNode['meetings']['show']>) => boolean) =>
    pollUntil(
      async () => {
        await node.fetchInbox();
        return node.meetings.list().find((m) => m.uid === uid);
      },
      (m) => m !== undefined && ok(m),
      { intervalMs: 100, timeoutMs: 15_000 },
    );

  beforeAll(async () => {
    [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], { outbox: fast });
    const snHome = tempDir('entraide-organizer-');
    const ngHome = tempDir('entraide-participant-');
    await enrolHome(a, 'sn.moj', 'desk1', snHome);
    await enrolHome(a, 'ng.moj', 'desk1', ngHome);
    ke = await enrolNode(b, 'ke.ag');
    [sn, ng] = await Promise.all([
      startService({ home: snHome, passphrase: PASSPHRASE, port: 0 }),
      startService({ home: ngHome, passphrase: PASSPHRASE, port: 0 }),
    ]);
    const r = await sn.node.meetings.schedule({
      title: 'Extradition working group',
      start: '2027-03-10T10:00',
      tz: 'Africa/Dakar',
      duration: '60m',
      participants: [ng.node.authority, ke.authority],
    });
    uid = r.view.uid;
    await arrives(ke, () => true);
    await pollUntil(
      async () => ng.node.meetings.list().length,
      (n) => n === 1,
      { intervalMs: 100, timeoutMs: 15_000 },
    );
    const auditHome = tempDir('entraide-auditor-');
    const creds = await createAuditor(auditHome, {
      name: 'alice',
      relayUrl: a.url,
      passphrase: AUDITOR_PASS,
    });
    await a.relay.store.addAuditor('alice', creds.publicKey, new Date());
    audit = await startAuditService({ home: auditHome, passphrase: AUDITOR_PASS, port: 0 });
  }, 90_000);
  afterAll(async () => {
    await audit?.close();
    await sn?.close();
    await ng?.close();
    await ke?.close();
    await a?.close();
    await b?.close();
  });

  it('answers the token or an officer’s session only', async () => {
    const auditor = await call(audit.file.url, '/session', {
      body: { officer: 'Alice Auditor', passphrase: AUDITOR_PASS },
    });
    expect(auditor.status).toBe(200);
    for (const path of [`/meetings/${uid}/update`, `/meetings/${uid}/cancel`]) {
      const body = path.endsWith('update') ? { title: 'Taken over' } : { reason: 'no' };
      await refused(() => call(sn.file.url, path, { body }), 401, 'AUTH_REQUIRED');
      await refused(() => call(sn.file.url, path, { body, token: 'x'.repeat(43) }), 401, 'AUTH_REQUIRED');
      // The other role: the auditor's session, on the officer's service.
      await refused(() => call(sn.file.url, path, { body, cookie: auditor.cookie! }), 401, 'AUTH_REQUIRED');
    }
  });

  it('refuses bad bodies before anything is signed', async () => {
    const update = `/meetings/${uid}/update`;
    for (const body of [
      { title: 'x'.repeat(201) },
      { title: '' },
      { start: 'next Tuesday' },
      { durationMin: 0 },
      { durationMin: 24 * 60 + 1 },
      { agenda: 'a'.repeat(20_001) },
      { title: 'ok', colour: 'red' },
    ])
      await refused(() => asSn(update, body), 400, 'SCHEMA_INVALID');
    await refused(() => asSn(update, {}), 400, 'MEETING_INVALID');
    // Past the schema, the node's own checks: nothing signed, and nobody confirmed either.
    const everyone = [ng.node.authority, ke.authority];
    await refused(
      () => asSn(update, { tz: 'Mars/Olympus_Mons', confirmed: everyone }),
      400,
      'TIMEZONE_UNKNOWN',
    );
    await refused(
      () => asSn(update, { start: '2027-02-30T10:00', confirmed: everyone }),
      400,
      'TIME_INVALID',
    );
    await refused(() => asSn(`/meetings/${uid}/cancel`, { reason: 'r'.repeat(1001) }), 400, 'SCHEMA_INVALID');
    await refused(() => asSn('/meetings/x/cancel', {}), 400, 'SCHEMA_INVALID');
  });

  it('refuses a participant’s node: only the organizer changes the meeting', async () => {
    const ngCall = (path: string, body: unknown) => call(ng.file.url, path, { body, token: ng.file.token });
    const before = ng.node.meetings.show(uid).sequence;
    await refused(
      () => ngCall(`/meetings/${uid}/update`, { title: 'Ours now' }),
      403,
      'MEETING_NOT_ORGANIZER',
    );
    await refused(
      () => ngCall(`/meetings/${uid}/cancel`, { reason: 'why not' }),
      403,
      'MEETING_NOT_ORGANIZER',
    );
    expect(ng.node.meetings.show(uid).sequence).toBe(before);
  });

  it('updates once unverified participants are confirmed, and every participant receives it', async () => {
    const change = { start: '2027-03-11T15:30', durationMin: 90, title: 'Extradition working group (2)' };
    const unconfirmed = await asSn(`/meetings/${uid}/update`, change);
    expect(unconfirmed.body.error?.code).toBe('UNVERIFIED_COUNTERPART');
    expect(unconfirmed.body.error?.unverified?.map((u) => u.authority).sort()).toEqual(
      [ke.authority, ng.node.authority].sort(),
    );
    expect(held().sn.sequence).toBe(0);
    const ok = await asSn(`/meetings/${uid}/update`, {
      ...change,
      confirmed: [ng.node.authority, ke.authority],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({
      uid,
      sequence: 1,
      start: '2027-03-11T15:30',
      startUtc: '2027-03-11T15:30:00.000Z',
      durationMin: 90,
      title: change.title,
    });
    const atKe = await arrives(ke, (m) => m.sequence === 1);
    expect(atKe).toMatchObject({
      startUtc: '2027-03-11T15:30:00.000Z',
      durationMin: 90,
      title: change.title,
    });
    await pollUntil(
      async () => ng.node.meetings.show(uid).sequence,
      (s) => s === 1,
      { intervalMs: 100, timeoutMs: 15_000 },
    );
  });

  it('cancels with a reason that reaches every participant; a cancelled meeting is not updated', async () => {
    const r = await asSn(`/meetings/${uid}/cancel`, { reason: 'The ministers meet instead.' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ uid, cancelled: true, cancelReason: 'The ministers meet instead.' });
    const atKe = await arrives(ke, (m) => m.cancelled);
    expect(atKe).toMatchObject({ cancelled: true, cancelReason: 'The ministers meet instead.', sequence: 2 });
    await refused(() => asSn(`/meetings/${uid}/update`, { title: 'Back on' }), 409, 'MEETING_CANCELLED');
    await refused(() => asSn(`/meetings/${uid}/cancel`, {}), 409, 'MEETING_CANCELLED');
  });

  it('holds the budget of 20 changes a minute', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 25; i++) {
      const r = await asSn(`/meetings/${uid}/cancel`, {});
      codes.add(r.body.error?.code ?? String(r.status));
    }
    expect(codes).toEqual(new Set(['MEETING_CANCELLED', 'RATE_LIMITED']));
  });
});
