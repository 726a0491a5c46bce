/**
 * The status rules of shared/requests/status-rules.ts held on arrival, between two real nodes on a
 * real relay. A counterpart that skips its own checks signs an update that breaks one and sends it
 * through the node's dispatch (as the request desk does, without the desk's guard); the receiving
 * node refuses it with the rule's code, stores nothing of it, and the request's state stays put.
 * The node that would send such an update refuses it with the same code, and sends nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorityNode, ReceiveOutcome } from '../../client/node.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import type { StatusContent } from '../../shared/protocol/content.ts';
import type { RequestContent } from '../../shared/requests/request.ts';
import {
  requestHash,
  signStatusUpdate,
  type UnsignedStatusUpdate,
} from '../../shared/requests/status-update.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';
import { preservationDraft } from '../support/requests.ts';

describe('status rules on arrival, between Senegal and Nigeria', () => {
  let relay: TestRelay;
  let senegal: AuthorityNode;
  let nigeria: AuthorityNode;

  beforeAll(async () => {
    relay = await startTestRelay();
    senegal = await enrolNode(relay, 'sn.moj');
    nigeria = await enrolNode(relay, 'ng.moj');
  });
  afterAll(async () => {
    await senegal?.close();
    await nigeria?.close();
    await relay?.close();
  });

  /** Fetches until the envelope `id` has arrived at `node` (bounded), and returns its outcome. */
  async function arrival(node: AuthorityNode, id: string): Promise<ReceiveOutcome> {
    for (let i = 0; i < 50; i++) {
      const got = (await node.fetchInbox()).find(
        (o) =>
          (o.kind === 'rejected' ? o.rejection.envelopeId : o.kind === 'message' ? o.message.id : '') === id,
      );
      if (got) return got;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`envelope ${id} did not arrive at ${node.address}`);
  }

  /**
   * Signs `u` as `from`'s node, following what `from` holds of the request, and sends it to the
   * counterpart through dispatch: no check of the request desk runs, and the sender keeps nothing.
   */
  async function craft(
    from: AuthorityNode,
    to: AuthorityNode,
    request: string,
    u: Omit<Partial<UnsignedStatusUpdate>, 'status' | 'ground'> & { status: string; ground?: string },
    follows?: { seq: number; tip: string },
  ): Promise<string> {
    const at = follows ?? from.requests.derive(from.requests.mustExist(request));
    const update = signStatusUpdate(
      {
        v: 1,
        request,
        seq: at.seq + 1,
        prev: at.tip,
        by: from.address,
        at: new Date().toISOString(),
        ...u,
      } as UnsignedStatusUpdate,
      from.identitySecretKey,
    );
    const content: StatusContent = { type: 'status', update };
    const sent = await from.dispatch({
      to: [to.authority],
      content,
      record: {
        kind: 'status',
        subject: 'crafted',
        body: '',
        language: null,
        requestId: request,
        handling: null,
      },
      store: false,
    });
    return sent.id;
  }

  /** Fetches until `node` holds request `id` in `state` (receipts settled before a comparison). */
  async function settle(node: AuthorityNode, id: string, state: string): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await node.fetchInbox();
      if (node.requests.derive(node.requests.mustExist(id)).state === state) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`request ${id} did not become ${state} at ${node.address}`);
  }

  /** What the node holds of a request: its derived state and the updates stored for it. */
  const held = (node: AuthorityNode, id: string) => {
    const row = node.requests.mustExist(id);
    const d = node.requests.derive(row);
    return { state: d.state, seq: d.seq, tip: d.tip, updates: node.store.requests.updates(id).length };
  };

  /** The receiving node refuses the envelope with `code`, and stores nothing of it. */
  async function refusedOnArrival(
    node: AuthorityNode,
    request: string,
    send: () => Promise<string>,
    code: ErrorCode,
  ): Promise<void> {
    const before = held(node, request);
    const envelopeId = await send();
    const outcome = await arrival(node, envelopeId);
    expect(outcome).toMatchObject({ kind: 'rejected', rejection: { envelopeId, code } });
    expect(node.store.message(envelopeId)).toBeUndefined();
    expect(held(node, request)).toEqual(before);
  }

  it('a reference number comes only with the requested side’s acknowledgement (USAGE)', async () => {
    const { id } = await senegal.requests.create({
      type: 'expedited_preservation',
      to: nigeria.authority,
      draft: preservationDraft(),
    });
    await settle(nigeria, id, 'delivered');
    await settle(senegal, id, 'delivered');

    // The requested side, with a reference on another step: refused by its own node first...
    const beforeSend = held(nigeria, id);
    await expect(
      nigeria.requests.update(id, 'refused', {
        ground: 'ne_bis_in_idem',
        note: 'Tried in Lagos already.',
        reference: 'NG-CA-2026-1',
      }),
    ).rejects.toMatchObject({
      code: 'USAGE',
      message: 'a reference number is given by the requested authority when it acknowledges',
    });
    expect(held(nigeria, id)).toEqual(beforeSend);

    // ...and by Senegal's when its node is bypassed.
    await refusedOnArrival(
      senegal,
      id,
      () =>
        craft(nigeria, senegal, id, {
          status: 'refused',
          ground: 'ne_bis_in_idem',
          note: 'Tried in Lagos already.',
          reference: 'NG-CA-2026-1',
        }),
      'USAGE',
    );
    expect(senegal.requests.show(id).state).toBe('delivered');

    // An acknowledgement with a reference goes through; a reference on the next step does not.
    await nigeria.requests.update(id, 'acknowledged', { reference: 'NG-CA-2026-77' });
    await settle(senegal, id, 'acknowledged');
    expect(senegal.requests.show(id)).toMatchObject({
      state: 'acknowledged',
      references: { requested: 'NG-CA-2026-77' },
    });
    await refusedOnArrival(
      senegal,
      id,
      () => craft(nigeria, senegal, id, { status: 'in_execution', reference: 'NG-CA-2026-78' }),
      'USAGE',
    );
    expect(senegal.requests.show(id).references.requested).toBe('NG-CA-2026-77');

    // The requesting side gives no reference in a status update either.
    await refusedOnArrival(
      nigeria,
      id,
      () => craft(senegal, nigeria, id, { status: 'withdrawn', reference: 'SN-2026-0042' }),
      'USAGE',
    );
    expect(nigeria.requests.show(id).state).toBe('acknowledged');
  });

  it('a request kept as a draft takes no status update (TRANSITION_INVALID)', async () => {
    const { id } = await senegal.requests.create({
      type: 'expedited_preservation',
      to: nigeria.authority,
      draft: preservationDraft(),
      asDraft: true,
    });
    await expect(senegal.requests.update(id, 'withdrawn')).rejects.toMatchObject({
      code: 'TRANSITION_INVALID',
      message: `request ${id} is a draft: send it first (entraide request send)`,
    });
    // Nigeria could only chain an update to the draft by knowing its content: the test hands it over.
    const content: RequestContent = senegal.requests.show(id).content;
    await refusedOnArrival(
      senegal,
      id,
      () =>
        craft(
          nigeria,
          senegal,
          id,
          { status: 'acknowledged', reference: 'NG-CA-2026-90' },
          { seq: 0, tip: requestHash(content) },
        ),
      'TRANSITION_INVALID',
    );
    expect(held(senegal, id)).toMatchObject({ state: 'draft', updates: 0 });
    // Sent later, the request starts from its own beginning.
    await senegal.requests.sendDraft(id);
    expect(senegal.requests.show(id).state).toBe('sent');
  });

  it('a status set by hand, or a ground that is none, is refused at the edge by the schema', async () => {
    const { id } = await senegal.requests.create({
      type: 'expedited_preservation',
      to: nigeria.authority,
      draft: preservationDraft(),
    });
    await settle(nigeria, id, 'delivered');
    await settle(senegal, id, 'delivered');
    for (const [status, opts, code] of [
      ['delivered', {}, 'TRANSITION_INVALID'],
      ['refused', { ground: 'not_a_ground', note: 'No.' }, 'UPDATE_INCOMPLETE'],
    ] as const) {
      // Its own node refuses it with the rule's code...
      await expect(nigeria.requests.update(id, status, opts)).rejects.toMatchObject({ code });
      // ...and the wire schema of a status update has no room for it: the content is invalid.
      await refusedOnArrival(
        senegal,
        id,
        () => craft(nigeria, senegal, id, { status, ...opts }),
        'CONTENT_INVALID',
      );
    }
    expect(senegal.requests.show(id).state).toBe('delivered');
  });
});
