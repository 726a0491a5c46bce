/**
 * The officer's routes of the node's service (routes-requests.ts, routes-keys.ts,
 * routes-meetings.ts) on real nodes and a real relay, in-process: each plugin registered under
 * /api/v1 on a bare fastify instance with a RouteContext built from the real node, and driven with
 * app.inject(). A request created, refused to an unverified counterpart until confirmed, sent,
 * acknowledged by the other side, and its evidence verified; safety codes verified (a wrong one
 * stores nothing); nodes approved and revoked under the master key (a wrong passphrase does
 * nothing, a node without the master key says who holds it); an RSVP and a calendar file; and the
 * bodies past their bounds or with unknown fields refused.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueJoinTicket } from '../../client/join-tickets.ts';
import { completeJoin, requestToJoin } from '../../client/join.ts';
import { AuthorityNode } from '../../client/node.ts';
import type { ChangeKind, RouteContext } from '../../client/service/route-context.ts';
import { keyRoutes } from '../../client/service/routes-keys.ts';
import { meetingRoutes } from '../../client/service/routes-meetings.ts';
import { requestRoutes } from '../../client/service/routes-requests.ts';
import { EntraideError } from '../../shared/errors.ts';
import { enrolNode, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { dayFromNow, preservationDraft } from '../support/requests.ts';
import { waitFor } from '../support/wait.ts';

/** An answer's body as JSON.parse types it: the tests read into it freely. */
type Json = ReturnType<typeof JSON.parse>;

interface Served {
  app: FastifyInstance;
  changes: { what: ChangeKind; id?: string | undefined }[];
  call(
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
  ): Promise<{ status: number; json: Json; raw: string; headers: Record<string, unknown> }>;
}

/** The routes on a bare fastify, as service-app.ts sets it up: unknown fields refused, typed errors. */
async function serve(node: AuthorityNode): Promise<Served> {
  node.keystore.withholdMasterKey();
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false } } });
  app.setErrorHandler((err: FastifyError | EntraideError, _req, reply) => {
    const e =
      err instanceof EntraideError
        ? err
        : err.validation
          ? new EntraideError('SCHEMA_INVALID', `the ${err.validationContext ?? 'request'} ${err.message}`)
          : new EntraideError('INTERNAL', err.message);
    void reply.code(e.status).send(e.toJSON());
  });
  // As the service does: the routes' schemas make its /api/v1/openapi.json.
  await app.register(swagger, { openapi: { openapi: '3.0.3', info: { title: 'test', version: '0' } } });
  const changes: Served['changes'] = [];
  const ctx: RouteContext = {
    node,
    officer: () => 'officer-test',
    changed: (what, id) => void changes.push({ what, id }),
    // As serve does: the master key stays in the file, lent for one operation under the passphrase.
    withMasterKey: (passphrase, operation) => node.keystore.lendMasterKey(passphrase, operation),
  };
  await app.register(
    async (scope) => {
      await requestRoutes(scope, ctx);
      await keyRoutes(scope, ctx);
      await meetingRoutes(scope, ctx);
    },
    { prefix: '/api/v1' },
  );
  await app.ready();
  return {
    app,
    changes,
    async call(method, url, body) {
      const r = await app.inject({
        method,
        url: `/api/v1${url}`,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      let json: Json = null;
      try {
        json = r.json();
      } catch {
        // not JSON (a calendar file)
      }
      return { status: r.statusCode, json, raw: r.body, headers: r.headers };
    },
  };
}

describe('the officer’s routes of the node service', () => {
  let relay: TestRelay;
  let sn: AuthorityNode;
  let ng: AuthorityNode;
  let desk2: AuthorityNode | undefined;
  let atSn: Served;
  let atNg: Served;
  let requestId = '';

  beforeAll(async () => {
    relay = await startTestRelay();
    sn = await enrolNode(relay, 'sn.moj');
    ng = await enrolNode(relay, 'ng.moj');
    atSn = await serve(sn);
    atNg = await serve(ng);
  }, 30_000);
  afterAll(async () => {
    for (const s of [atSn, atNg]) await s?.app.close();
    for (const n of [sn, ng, desk2]) await n?.close();
    await relay?.close();
  });

  it('gives the vocabularies and the draft’s schema, and checks a draft while it is typed', async () => {
    const types = await atSn.call('GET', '/requests/types');
    expect(types.status).toBe(200);
    expect(types.json.types).toContainEqual({ type: 'extradition', label: 'extradition' });
    expect(types.json.refusalGrounds.map((g: { ground: string }) => g.ground)).toContain('ne_bis_in_idem');
    expect(types.json.draftSchema.properties.title).toMatchObject({ type: 'string', maxLength: 300 });
    expect(types.json.handling.forwardings).toContain('consent_required');
    expect(types.json.handling.default).toMatchObject({ visibility: 'authority' });
    expect(types.json.draftSchema.required).toEqual(expect.arrayContaining(['title', 'language']));

    const paths = Object.keys((atSn.app.swagger() as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/requests/types',
        '/api/v1/requests/{id}/evidence',
        '/api/v1/nodes/revoke',
        '/api/v1/meetings/{id}/ics',
      ]),
    );

    const { legalBasis: _lb, ...incomplete } = preservationDraft();
    const check = await atSn.call('POST', '/requests/check', {
      type: 'expedited_preservation',
      draft: incomplete,
    });
    expect(check.status).toBe(200);
    expect(check.json.warnings.map((w: { field: string }) => w.field)).toContain('legalBasis');
    expect(check.json.invalid).toBeNull();
    // A draft not yet valid, as the officer is typing it, is an answer, not a refusal.
    const typing = await atSn.call('POST', '/requests/check', { type: 'expedited_preservation', draft: {} });
    expect(typing.status).toBe(200);
    expect(typing.json.invalid.code).toBe('SCHEMA_INVALID');
    const unknownType = await atSn.call('POST', '/requests/check', { type: 'espionage', draft: incomplete });
    expect(unknownType.json.error.code).toBe('REQUEST_TYPE_UNKNOWN');
  });

  it('sends a request only once the unverified counterpart is confirmed; the other side acknowledges; the evidence verifies', async () => {
    const input = {
      type: 'expedited_preservation',
      to: ng.authority,
      draft: preservationDraft(),
      send: true,
    };
    const refused = await atSn.call('POST', '/requests', input);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('UNVERIFIED_COUNTERPART');
    expect(sn.requests.list({})).toHaveLength(0);

    const created = await atSn.call('POST', '/requests', { ...input, confirmed: [ng.authority] });
    expect(created.status, created.raw).toBe(200);
    expect(created.json.state).toBe('sent');
    expect(created.json.request.story.map((e: { what: string }) => e.what)).toContain('sent');
    requestId = created.json.id;
    expect(atSn.changes).toContainEqual({ what: 'requests', id: requestId });
    expect((await sn.store.pin(ng.authority))?.confirmedAt).toBeTruthy();

    const actions = await atNg.call('GET', `/requests/${requestId}/actions`);
    expect(actions.status, actions.raw).toBe(200);
    expect(actions.json).toMatchObject({ side: 'requested', state: 'delivered', draft: false });
    expect(actions.json.actions).toContainEqual({
      status: 'acknowledged',
      note: 'optional',
      ground: 'none',
      grounds: [],
      consultation: 'none',
      reference: 'optional',
      date: 'none',
    });
    expect(actions.json.actions).toContainEqual(
      expect.objectContaining({ status: 'returned_for_formal_defects', note: 'required', ground: 'none' }),
    );
    // A refusal: the grounds this type allows (never bank secrecy), and no consultation held yet.
    const refusal = (actions.json.actions as { status: string; grounds: string[] }[]).find(
      (a) => a.status === 'refused',
    );
    expect(refusal).toMatchObject({ note: 'required', ground: 'required', consultation: 'not_held' });
    expect(refusal!.grounds).toContain('essential_interests');
    expect(refusal!.grounds).not.toContain('bank_secrecy');

    // A refusal without its reasons is refused, typed; nothing is sent.
    const noReasons = await atNg.call('POST', `/requests/${requestId}/status`, {
      status: 'refused',
      ground: 'other',
    });
    expect(noReasons.json.error.code).toBe('UPDATE_INCOMPLETE');
    const ack = await atNg.call('POST', `/requests/${requestId}/status`, {
      status: 'acknowledged',
      reference: 'NG-CA-2026-77',
    });
    expect(ack.status, ack.raw).toBe(200);
    expect(ack.json).toMatchObject({ request: requestId, status: 'acknowledged', seq: 1 });
    expect(atNg.changes).toContainEqual({ what: 'requests', id: requestId });

    // Only the requesting side sends supplements.
    const supplement = await atNg.call('POST', `/requests/${requestId}/supplement`, { text: 'x' });
    expect(supplement.json.error.code).toBe('TRANSITION_NOT_OWNED');
    const message = await atNg.call('POST', `/requests/${requestId}/messages`, {
      body: 'Received; working on it.',
    });
    expect(message.status, message.raw).toBe(200);

    await waitFor(
      async () => {
        await ng.receipts.flush();
        const e = await atSn.call('GET', `/requests/${requestId}/evidence`);
        return e.status === 200 && e.json.receipts.some((r: { kind: string }) => r.kind === 'delivered');
      },
      10_000,
      'the delivery receipt at Senegal',
    );
    const evidence = await atSn.call('GET', `/requests/${requestId}/evidence`);
    expect(evidence.json.undelivered).toEqual([]);
    expect(evidence.json.receipts.length).toBeGreaterThan(0);
    for (const r of evidence.json.receipts) expect(r).toMatchObject({ valid: true, problem: null });
    expect(evidence.json.envelope.to).toEqual([ng.authority]);
    expect(sn.requests.show(requestId).state).toBe('acknowledged');

    const atSnActions = await atSn.call('GET', `/requests/${requestId}/actions`);
    expect(atSnActions.json.side).toBe('requesting');
    expect(atSnActions.json.actions.map((a: { status: string }) => a.status)).toEqual(['withdrawn']);
    expect(atSnActions.json.supplement).toBe(true);
    const sup = await atSn.call('POST', `/requests/${requestId}/supplement`, { text: 'All times are UTC.' });
    expect(sup.status, sup.raw).toBe(200);
  });

  it('keeps a draft and sends it later', async () => {
    const kept = await atSn.call('POST', '/requests', {
      type: 'expedited_preservation',
      to: ng.authority,
      draft: preservationDraft({ references: { requesting: 'SN-2' } }),
    });
    expect(kept.json.state).toBe('draft');
    const before = await atSn.call('GET', `/requests/${kept.json.id}/actions`);
    expect(before.json).toMatchObject({ draft: true, actions: [] });
    const sent = await atSn.call('POST', `/requests/${kept.json.id}/send`, {});
    expect(sent.status, sent.raw).toBe(200);
    expect(sent.json.request.state).toBe('sent');
    const again = await atSn.call('POST', `/requests/${kept.json.id}/send`, {});
    expect(again.json.error.code).toBe('TRANSITION_INVALID');
  });

  it('refuses bodies past their bounds and unknown fields, before anything is done', async () => {
    const cases: [string, unknown][] = [
      ['/requests', { type: 'extradition', to: ng.authority, draft: preservationDraft(), sendNow: true }],
      ['/requests', { type: 'extradition', to: ng.authority, draft: preservationDraft({ colour: 'red' }) }],
      [
        '/requests',
        { type: 'extradition', to: ng.authority, draft: preservationDraft({ title: 'x'.repeat(301) }) },
      ],
      ['/requests/check', { type: 'extradition', draft: preservationDraft(), confirmed: 'x'.repeat(400) }],
      [`/requests/${requestId}/status`, { status: 'withdrawn', note: 'x'.repeat(20_001) }],
      [`/requests/${requestId}/status`, { status: 'refused', ground: 'dislike', note: 'no' }],
      [`/requests/${requestId}/status`, { status: 'withdrawn', by: 'someone' }],
      [`/requests/${requestId}/messages`, { body: 'x'.repeat(800_001) }],
      [`/requests/${requestId}/supplement`, { text: 'x', measures: Array(51).fill('m') }],
      ['/counterparts/verify', { authority: ng.authority, code: '1'.repeat(40), force: true }],
      [
        '/counterparts/verify',
        { authority: ng.authority, code: 'one two three four five six seven eight nine ten' },
      ],
      ['/nodes/approve', { code: 'ABCD-EFGH', passphrase: 'x'.repeat(1025) }],
      ['/nodes/revoke', { node: 'desk9', passphrase: PASSPHRASE, now: true }],
      ['/meetings/0123456789/rsvp', { answer: 'maybe' }],
      ['/meetings/0123456789/rsvp', { answer: 'accept', comment: 'x'.repeat(2001) }],
    ];
    const sentBefore = sn.sent(1000).length;
    for (const [url, body] of cases) {
      const r = await atSn.call('POST', url, body);
      expect([url, r.status, r.json?.error?.code]).toEqual([url, 400, 'SCHEMA_INVALID']);
    }
    expect(sn.sent(1000).length).toBe(sentBefore);
  });

  it('lists counterparts; a wrong safety code is refused and nothing stored; the right one verifies', async () => {
    const list = await atSn.call('GET', '/counterparts');
    expect(list.status, list.raw).toBe(200);
    const entry = list.json.counterparts.find((c: { authority: string }) => c.authority === ng.authority);
    expect(entry).toMatchObject({ state: 'confirmed-unverified', verifiedAt: null, keysError: null });
    expect(entry.keys.activeNodes).toBe(1);
    expect(list.json.counterparts.map((c: { authority: string }) => c.authority)).not.toContain(sn.authority);

    const wrong = await atSn.call('POST', '/counterparts/verify', {
      authority: ng.authority,
      code: '1'.repeat(40),
    });
    expect(wrong.status).toBe(409);
    expect(wrong.json.error.code).toBe('SAFETY_CODE_MISMATCH');
    expect((await sn.store.pin(ng.authority))?.verifiedAt).toBeNull();
    expect(atSn.changes.filter((c) => c.what === 'keys')).toEqual([]);

    const code = (await ng.fingerprint()).safetyCode;
    const right = await atSn.call('POST', '/counterparts/verify', { authority: ng.authority, code });
    expect(right.status, right.raw).toBe(200);
    expect((await sn.store.pin(ng.authority))?.verifiedAt).toBeTruthy();
    expect(atSn.changes).toContainEqual({ what: 'keys', id: ng.authority });
    const after = await atSn.call('GET', '/counterparts');
    expect(after.json.counterparts[0]).toMatchObject({ authority: ng.authority, state: 'verified' });

    const history = await atSn.call('GET', `/counterparts/${encodeURIComponent(ng.authority)}/history`);
    expect(history.status, history.raw).toBe(200);
    expect(history.json.safetyCode).toBe(code);
    expect(history.json.events[0]).toMatchObject({ accepted: true, proof: 'checked' });

    const alarms = await atSn.call('GET', '/alarms');
    expect(alarms.status, alarms.raw).toBe(200);
    expect(alarms.json).toMatchObject({ consistent: true, checked: true, open: 0, alarms: [] });
  });

  it('approves and revokes a node under the master key; a wrong passphrase does nothing', async () => {
    const home = tempDir('entraide-join-');
    const joined = await requestToJoin({
      home,
      relayUrl: relay.url,
      authorityId: 'sn.moj',
      nodeName: 'desk2',
      ticket: (await issueJoinTicket(sn, 'desk2')).ticket,
      passphrase: PASSPHRASE,
    });
    const listed = await atSn.call('GET', '/nodes');
    expect(listed.status, listed.raw).toBe(200);
    expect(listed.json).toMatchObject({ thisNode: sn.address, holdsMasterKey: true });
    expect(listed.json.nodes).toHaveLength(1);
    expect(listed.json.pending).toContainEqual(
      expect.objectContaining({ code: joined.code, node: `desk2/${sn.authority}`, certified: false }),
    );

    const wrongApprove = await atSn.call('POST', '/nodes/approve', {
      code: joined.code,
      passphrase: 'not the passphrase',
    });
    expect(wrongApprove.json.error.code).toBe('PASSPHRASE_WRONG');
    expect((await atSn.call('GET', '/nodes')).json.nodes).toHaveLength(1);

    const approved = await atSn.call('POST', '/nodes/approve', { code: joined.code, passphrase: PASSPHRASE });
    expect(approved.status, approved.raw).toBe(200);
    expect(approved.json.node).toBe(`desk2/${sn.authority}`);

    // The new node holds no master key: it says so, and names the node that does.
    desk2 = await AuthorityNode.open(home, PASSPHRASE);
    await completeJoin(desk2);
    const atDesk2 = await serve(desk2);
    const noMaster = await atDesk2.call('POST', '/nodes/revoke', { node: 'desk1', passphrase: PASSPHRASE });
    expect(noMaster.json.error.code).toBe('MASTER_KEY_REQUIRED');
    expect(noMaster.json.error.message).toContain(sn.address);
    await atDesk2.app.close();

    const wrongRevoke = await atSn.call('POST', '/nodes/revoke', {
      node: 'desk2',
      passphrase: 'not the passphrase',
    });
    expect(wrongRevoke.json.error.code).toBe('PASSPHRASE_WRONG');
    expect((await atSn.call('GET', '/nodes')).json.nodes.map((n: { state: string }) => n.state)).toEqual([
      'active',
      'active',
    ]);
    const revoked = await atSn.call('POST', '/nodes/revoke', {
      node: 'desk2',
      passphrase: PASSPHRASE,
      reason: 'test over',
    });
    expect(revoked.status, revoked.raw).toBe(200);
    const after = (await atSn.call('GET', '/nodes')).json.nodes;
    expect(after.find((n: { node: string }) => n.node === approved.json.node)).toMatchObject({
      state: 'revoked',
      revokeReason: 'test over',
    });
    expect(atSn.changes).toContainEqual({ what: 'keys', id: approved.json.node });

    // A join request rejected: the relay drops it.
    const other = await requestToJoin({
      home: tempDir('entraide-join-'),
      relayUrl: relay.url,
      authorityId: 'sn.moj',
      nodeName: 'desk3',
      ticket: (await issueJoinTicket(sn, 'desk3')).ticket,
      passphrase: PASSPHRASE,
    });
    const reject = await atSn.call('POST', '/nodes/reject', { code: other.code });
    expect(reject.status, reject.raw).toBe(200);
    const pending = (await atSn.call('GET', '/nodes')).json.pending as { code: string }[];
    expect(pending.map((j) => j.code)).not.toContain(other.code);
  });

  it('lists meetings, answers an invitation, and gives its calendar file', async () => {
    const r = await sn.meetings.schedule({
      title: 'Preservation follow-up',
      start: `${dayFromNow(30)}T10:00`,
      tz: 'Africa/Dakar',
      duration: '45m',
      participants: [ng.authority],
    });
    const uid = r.view.uid;
    await waitFor(
      async () => {
        await ng.fetchInbox();
        return ng.meetings.list().length > 0;
      },
      10_000,
      'the invitation at Nigeria',
    );
    const list = await atNg.call('GET', '/meetings?upcoming=true');
    expect(list.status, list.raw).toBe(200);
    expect(list.json.meetings[0]).toMatchObject({ uid, upcoming: true, organizer: sn.authority });
    const one = await atNg.call('GET', `/meetings/${uid}?tz=Africa/Lagos`);
    expect(one.json.local.tz).toBe('Africa/Lagos');

    // Nigeria never verified Senegal's safety code: it confirms, as for any send.
    const unconfirmed = await atNg.call('POST', `/meetings/${uid}/rsvp`, { answer: 'accept' });
    expect(unconfirmed.json.error.code).toBe('UNVERIFIED_COUNTERPART');
    const rsvp = await atNg.call('POST', `/meetings/${uid}/rsvp`, {
      answer: 'accept',
      comment: 'With an interpreter',
      confirmed: [sn.authority],
    });
    expect(rsvp.status, rsvp.raw).toBe(200);
    expect(rsvp.json.replies[ng.authority]).toMatchObject({ answer: 'accept', note: 'With an interpreter' });
    expect(atNg.changes).toContainEqual({ what: 'meetings', id: uid });
    const ownRsvp = await atSn.call('POST', `/meetings/${uid}/rsvp`, { answer: 'decline' });
    expect(ownRsvp.json.error.code).toBe('MEETING_NOT_INVITED');

    const ics = await atNg.call('GET', `/meetings/${uid}/ics`);
    expect(ics.status).toBe(200);
    expect(ics.headers['content-type']).toMatch(/^text\/calendar/);
    expect(ics.headers['content-disposition']).toBe(`attachment; filename="meeting-${uid}.ics"`);
    expect(ics.raw).toContain('BEGIN:VCALENDAR');
    expect(ics.raw).toContain(uid);

    const missing = await atNg.call('GET', '/meetings/0123456789');
    expect(missing.json.error.code).toBe('MEETING_NOT_INVITED');
  });
});
