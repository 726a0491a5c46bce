/**
 * The rules a status update is held to on both sides (shared/requests/status-rules.ts): the node
 * that makes an update meets them before signing (checkStatusUpdate), the node that receives one
 * refuses it at once when no history is needed (standaloneBreach) and leaves it out of the
 * derived state otherwise (updateBreach in deriveRequest), with the same code.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { deriveRequest, type DerivedRequest, type VerifiedUpdate } from '../../shared/requests/history.ts';
import { nextStatuses, type Side } from '../../shared/requests/lifecycle.ts';
import {
  NOTE_REQUIRED,
  signStatusUpdate,
  updateHash,
  type StatusUpdate,
  type UnsignedStatusUpdate,
} from '../../shared/requests/status-update.ts';
import {
  checkStatusUpdate,
  draftBreach,
  groundBreach,
  referenceBreach,
  setByHandBreach,
  standaloneBreach,
  updateBreach,
  type ProposedUpdate,
  type UpdateCheck,
} from '../../shared/requests/status-rules.ts';
import {
  REFUSAL_GROUND_CODES,
  REQUEST_TYPES,
  STATUSES,
  type RequestType,
  type Status,
} from '../../shared/requests/vocabulary.ts';
import { entraideErrorOf, random } from './fixtures.ts';

const REQUEST_ID = '01950a3c-8f00-7abc-8def-0123456789ab';
const SENT_AT = '2026-03-02T08:00:00.000Z';
const T0 = Date.parse(SENT_AT);
const REQ_HASH = 'r'.repeat(43);
const MLA: RequestType = 'mutual_legal_assistance';
const SENT = { id: REQUEST_ID, requestType: MLA, sentAt: SENT_AT };
const DRAFT = { id: REQUEST_ID, requestType: MLA, sentAt: null };
const BY: Record<Side, string> = {
  requesting: 'desk1/sn.moj@relay.wacap.example',
  requested: 'desk1/ng.moj@relay.wacap.example',
};
const BY_HAND_MESSAGE = (s: string) =>
  `"${s}" is not set by hand: a request becomes sent when it is sent, delivered when the counterpart's node stores it`;
const GROUND_MESSAGE = (g: string) =>
  `"${g}" is not a ground of refusal; the grounds are: ${REFUSAL_GROUND_CODES.join(', ')}`;
const DRAFT_MESSAGE = `request ${REQUEST_ID} is a draft: send it first (entraide request send)`;
const REFERENCE_MESSAGE = 'a reference number is given by the requested authority when it acknowledges';

let keys: Record<Side, SigningKeyPair>;
beforeAll(() => {
  keys = { requesting: generateSigningKeyPair(random), requested: generateSigningKeyPair(random) };
});

/**
 * An update signed by `side`'s node as a counterpart could make it, without its own checks: the
 * status and ground are not held to the wire schema (a node reading its store does not re-check it).
 */
function signed(
  side: Side,
  u: Omit<UnsignedStatusUpdate, 'v' | 'request' | 'by' | 'status' | 'ground'> & {
    status: Status;
    ground?: string;
  },
): VerifiedUpdate {
  const update = signStatusUpdate(
    { v: 1, request: REQUEST_ID, by: BY[side], ...u } as UnsignedStatusUpdate,
    keys[side].secretKey,
  );
  return { update, hash: updateHash(update), side };
}

const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const facts = (sentAt: string | null = SENT_AT, requestType: RequestType = MLA) => ({
  requestType,
  requestHash: REQ_HASH,
  sentAt,
  deliveredAt: null,
});
const invalidCodes = (d: DerivedRequest) => d.invalid.map((i) => [i.update.hash, i.code, i.reason]);
const check = (
  state: Status,
  update: ProposedUpdate,
  side: Side,
  request: UpdateCheck['request'] = SENT,
  past: readonly Status[] = [],
): UpdateCheck => ({
  state,
  update,
  side,
  request,
  past,
});

describe('each rule on its own: what passes, what breaks it, with the code and message', () => {
  it('draft, sent and delivered are never set by hand; every update status is', () => {
    for (const s of ['draft', 'sent', 'delivered'] as const)
      expect(setByHandBreach(s)).toEqual({ code: 'TRANSITION_INVALID', message: BY_HAND_MESSAGE(s) });
    for (const s of STATUSES.filter((x) => !['draft', 'sent', 'delivered'].includes(x)))
      expect(setByHandBreach(s)).toBeNull();
  });

  it('a ground is one of the grounds of refusal, or absent', () => {
    expect(groundBreach(undefined, MLA)).toBeNull();
    for (const g of REFUSAL_GROUND_CODES.filter((x) => x !== 'bank_secrecy' && x !== 'fiscal_matters'))
      expect(groundBreach(g, MLA)).toBeNull();
    for (const g of ['bogus', '', 'POLITICAL_OFFENCE'])
      expect(groundBreach(g, MLA)).toEqual({ code: 'UPDATE_INCOMPLETE', message: GROUND_MESSAGE(g) });
  });

  it('bank secrecy and fiscal matters are never grounds, whatever the type (arts. 18(8), 18(22), 16(15))', () => {
    for (const type of REQUEST_TYPES) {
      expect(groundBreach('bank_secrecy', type)).toEqual({
        code: 'GROUND_PROHIBITED',
        message: 'bank secrecy is never a ground for declining assistance (UNTOC art. 18(8))',
      });
      expect(groundBreach('fiscal_matters', type)?.code).toBe('GROUND_PROHIBITED');
    }
    expect(groundBreach('fiscal_matters', 'extradition')?.message).toContain('art. 16(15)');
    expect(groundBreach('fiscal_matters', MLA)?.message).toContain('art. 18(22)');
  });

  it('the grounds of art. 18(21) belong to assistance, not to extradition', () => {
    for (const g of [
      'not_in_conformity',
      'essential_interests',
      'domestic_law_prohibits',
      'contrary_to_legal_system',
    ]) {
      expect(groundBreach(g, 'expedited_preservation')).toBeNull();
      const breach = groundBreach(g, 'extradition');
      expect(breach?.code).toBe('GROUND_NOT_FOR_TYPE');
      expect(breach?.message).toContain('no_dual_criminality');
    }
    expect(groundBreach('no_dual_criminality', 'extradition')).toBeNull();
  });

  it('a draft takes no update; a sent request does', () => {
    expect(draftBreach(SENT)).toBeNull();
    expect(draftBreach(DRAFT)).toEqual({ code: 'TRANSITION_INVALID', message: DRAFT_MESSAGE });
  });

  it('a reference comes only with the requested side’s acknowledgement', () => {
    const usage = { code: 'USAGE', message: REFERENCE_MESSAGE };
    expect(referenceBreach({ status: 'acknowledged', reference: 'NG-1' }, 'requested')).toBeNull();
    expect(referenceBreach({ status: 'in_execution' }, 'requested')).toBeNull();
    expect(referenceBreach({ status: 'withdrawn' }, 'requesting')).toBeNull();
    expect(referenceBreach({ status: 'acknowledged', reference: 'SN-1' }, 'requesting')).toEqual(usage);
    expect(referenceBreach({ status: 'in_execution', reference: 'NG-1' }, 'requested')).toEqual(usage);
    expect(referenceBreach({ status: 'withdrawn', reference: 'SN-1' }, 'requesting')).toEqual(usage);
    expect(referenceBreach({ status: 'refused', reference: '' }, 'requested')).toEqual(usage);
  });

  it('standaloneBreach applies the four, in order, and nothing that needs history', () => {
    expect(standaloneBreach({ status: 'acknowledged', reference: 'NG-1' }, 'requested', SENT)).toBeNull();
    // A transition the lifecycle forbids, or a refusal without its reasons, needs the derivation.
    expect(standaloneBreach({ status: 'closed' }, 'requested', SENT)).toBeNull();
    expect(standaloneBreach({ status: 'refused', ground: 'ne_bis_in_idem' }, 'requested', SENT)).toBeNull();
    const codeFor = (u: ProposedUpdate, side: Side, request: UpdateCheck['request'] = SENT) =>
      standaloneBreach(u, side, request)?.message;
    expect(codeFor({ status: 'delivered', ground: 'bogus' }, 'requested')).toBe(BY_HAND_MESSAGE('delivered'));
    expect(codeFor({ status: 'refused', ground: 'bogus' }, 'requested', DRAFT)).toBe(GROUND_MESSAGE('bogus'));
    expect(codeFor({ status: 'in_execution', reference: 'x' }, 'requested', DRAFT)).toBe(DRAFT_MESSAGE);
    expect(codeFor({ status: 'in_execution', reference: 'x' }, 'requested')).toBe(REFERENCE_MESSAGE);
  });
});

describe('steps that need a reason, a type or a consultation', () => {
  it('a postponement, conditions and formal defects each say what they are in a note', () => {
    for (const status of ['postponed', 'conditions_proposed', 'returned_for_formal_defects'] as const) {
      const from = status === 'returned_for_formal_defects' ? 'delivered' : 'in_execution';
      const err = entraideErrorOf(() => checkStatusUpdate(check(from, { status }, 'requested')));
      expect([err.code, err.message]).toEqual(['UPDATE_INCOMPLETE', NOTE_REQUIRED[status]]);
      expect(checkStatusUpdate(check(from, { status, note: 'why' }, 'requested'))).toEqual({
        status,
        note: 'why',
      });
    }
  });

  it('the extradition track is for extraditions only', () => {
    const arrest = { status: 'provisional_arrest' } as const;
    const ext = { ...SENT, requestType: 'extradition' as const };
    expect(checkStatusUpdate(check('acknowledged', arrest, 'requested', ext))).toBe(arrest);
    const err = entraideErrorOf(() => checkStatusUpdate(check('acknowledged', arrest, 'requested')));
    expect([err.code, err.message]).toEqual([
      'TRANSITION_INVALID',
      '"provisional_arrest" is a step of extradition requests only; this request is mutual_legal_assistance',
    ]);
  });

  it('a refusal on a ground of art. 18(21) follows proposed conditions, or says why not (art. 18(26))', () => {
    const refusal = { status: 'refused', ground: 'essential_interests', note: 'security' } as const;
    const err = entraideErrorOf(() => checkStatusUpdate(check('in_execution', refusal, 'requested')));
    expect(err.code).toBe('CONSULTATION_REQUIRED');
    expect(err.message).toContain('art. 18(26)');
    const consulted = ['acknowledged', 'conditions_proposed', 'conditions_declined'] as const;
    expect(checkStatusUpdate(check('conditions_declined', refusal, 'requested', SENT, consulted))).toBe(
      refusal,
    );
    const waived = { ...refusal, withoutConsultation: 'the suspect would learn of the case' };
    expect(checkStatusUpdate(check('in_execution', waived, 'requested'))).toBe(waived);
    // Other grounds need no consultation.
    const other = { status: 'refused', ground: 'ne_bis_in_idem', note: 'tried' } as const;
    expect(checkStatusUpdate(check('in_execution', other, 'requested'))).toBe(other);
    // Only a refusal says why it came without consultation.
    const stray = entraideErrorOf(() =>
      checkStatusUpdate(
        check('acknowledged', { status: 'in_execution', withoutConsultation: 'x' }, 'requested'),
      ),
    );
    expect(stray.code).toBe('UPDATE_INCOMPLETE');
  });
});

describe('checkStatusUpdate, on the node that makes the update', () => {
  it('throws the code and message of the first rule broken, in the order the officer met them', () => {
    const cases: [UpdateCheck, string, string][] = [
      [
        check('sent', { status: 'delivered' }, 'requested'),
        'TRANSITION_INVALID',
        BY_HAND_MESSAGE('delivered'),
      ],
      [
        check('sent', { status: 'refused', ground: 'x' }, 'requested'),
        'UPDATE_INCOMPLETE',
        GROUND_MESSAGE('x'),
      ],
      [check('draft', { status: 'withdrawn' }, 'requesting', DRAFT), 'TRANSITION_INVALID', DRAFT_MESSAGE],
      // The lifecycle comes before the reference: a reference on a step the side may not take.
      [
        check('sent', { status: 'acknowledged', reference: 'SN-1' }, 'requesting'),
        'TRANSITION_NOT_OWNED',
        'only the requested authority may set "acknowledged"; this node is on the requesting side',
      ],
      [
        check('sent', { status: 'refused', ground: 'ne_bis_in_idem', reference: 'r' }, 'requested'),
        'UPDATE_INCOMPLETE',
        'a refusal needs its reasons in a note (UNTOC art. 18(23))',
      ],
      [
        check('acknowledged', { status: 'in_execution', reference: 'r' }, 'requested'),
        'USAGE',
        REFERENCE_MESSAGE,
      ],
      [
        check('closed', { status: 'withdrawn' }, 'requesting'),
        'REQUEST_CLOSED',
        'the request is closed: no status can follow',
      ],
    ];
    for (const [c, code, message] of cases) {
      const err = entraideErrorOf(() => checkStatusUpdate(c));
      expect([err.code, err.message]).toEqual([code, message]);
    }
  });

  it('returns the update when every rule holds', () => {
    const u = { status: 'acknowledged', reference: 'NG-1' } as const;
    expect(checkStatusUpdate(check('delivered', u, 'requested'))).toBe(u);
    const refusal = { status: 'refused', ground: 'ne_bis_in_idem', note: 'tried already' } as const;
    expect(checkStatusUpdate(check('in_execution', refusal, 'requested'))).toBe(refusal);
  });

  const statusArb = fc.constantFrom(...STATUSES);
  const checkArb = fc.record({
    state: statusArb,
    update: fc.record(
      {
        status: statusArb,
        ground: fc.constantFrom(...REFUSAL_GROUND_CODES, 'bogus'),
        note: fc.constant('a note'),
        reference: fc.constant('REF-1'),
        withoutConsultation: fc.constant('urgent'),
      },
      { requiredKeys: ['status'] },
    ),
    side: fc.constantFrom<Side>('requesting', 'requested'),
    request: fc.record({
      id: fc.constant(REQUEST_ID),
      requestType: fc.constantFrom(...REQUEST_TYPES),
      sentAt: fc.constantFrom(SENT_AT, null),
    }),
    past: fc.subarray(['acknowledged', 'conditions_proposed', 'in_execution'] as Status[]),
  });

  it('property: the sender and the receiver decide alike, with the same code', () => {
    fc.assert(
      fc.property(checkArb, (c) => {
        const atArrival = updateBreach(c);
        let thrown: string | null = null;
        try {
          checkStatusUpdate(c);
        } catch (err) {
          thrown = (err as { code: string }).code;
        }
        expect(thrown).toBe(atArrival?.code ?? null);
        // What needs no history is refused at once on arrival, and the sender refuses it too.
        const standalone = standaloneBreach(c.update, c.side, c.request);
        if (standalone) expect(thrown).not.toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});

describe('deriveRequest holds every update that arrived to the same rules', () => {
  it('an update that breaks a rule is invalid with its code, and the state does not move', () => {
    const ack = signed('requested', {
      seq: 1,
      prev: REQ_HASH,
      status: 'acknowledged',
      reference: 'NG-7',
      at: at(5),
    });
    const base = deriveRequest(facts(), [ack]);
    expect(base.state).toBe('acknowledged');
    const breaking: [VerifiedUpdate, string, string][] = [
      [
        signed('requested', { seq: 2, prev: ack.hash, status: 'in_execution', reference: 'NG-8', at: at(6) }),
        'USAGE',
        REFERENCE_MESSAGE,
      ],
      [
        signed('requesting', { seq: 2, prev: ack.hash, status: 'withdrawn', reference: 'SN-2', at: at(6) }),
        'USAGE',
        REFERENCE_MESSAGE,
      ],
      [
        signed('requested', { seq: 2, prev: ack.hash, status: 'delivered', at: at(6) }),
        'TRANSITION_INVALID',
        BY_HAND_MESSAGE('delivered'),
      ],
      [
        signed('requested', {
          seq: 2,
          prev: ack.hash,
          status: 'refused',
          ground: 'bogus',
          note: 'no',
          at: at(6),
        }),
        'UPDATE_INCOMPLETE',
        GROUND_MESSAGE('bogus'),
      ],
      [
        signed('requesting', { seq: 2, prev: ack.hash, status: 'in_execution', at: at(6) }),
        'TRANSITION_NOT_OWNED',
        'the requesting side may not move a acknowledged request to in_execution',
      ],
    ];
    for (const [u, code, reason] of breaking) {
      for (const order of [
        [ack, u],
        [u, ack],
      ]) {
        const d = deriveRequest(facts(), order);
        expect(invalidCodes(d)).toEqual([[u.hash, code, reason]]);
        expect({ ...d, invalid: [] }).toEqual(base);
      }
    }
  });

  it('the same updates without the breach apply', () => {
    const ack = signed('requested', {
      seq: 1,
      prev: REQ_HASH,
      status: 'acknowledged',
      reference: 'NG-7',
      at: at(5),
    });
    const refusal = signed('requested', {
      seq: 2,
      prev: ack.hash,
      status: 'refused',
      ground: 'ne_bis_in_idem',
      note: 'tried already',
      at: at(6),
    });
    const d = deriveRequest(facts(), [refusal, ack]);
    expect(d.history.map((h) => h.hash)).toEqual([ack.hash, refusal.hash]);
    expect(d.state).toBe('refused');
    expect(d.invalid).toEqual([]);
  });

  it('a refusal on a ground of art. 18(21) applies after proposed conditions, in any arrival order', () => {
    const ack = signed('requested', { seq: 1, prev: REQ_HASH, status: 'acknowledged', at: at(5) });
    const refusal = (prev: VerifiedUpdate, seq: number) =>
      signed('requested', {
        seq,
        prev: prev.hash,
        status: 'refused',
        ground: 'essential_interests',
        note: 'security',
        at: at(9),
      });
    const early = refusal(ack, 2);
    const d = deriveRequest(facts(), [early, ack]);
    expect(d.state).toBe('acknowledged');
    expect(d.invalid.map((i) => i.code)).toEqual(['CONSULTATION_REQUIRED']);
    const proposed = signed('requested', {
      seq: 2,
      prev: ack.hash,
      status: 'conditions_proposed',
      note: 'the records may be used for this case only',
      at: at(6),
    });
    const declined = signed('requesting', {
      seq: 3,
      prev: proposed.hash,
      status: 'conditions_declined',
      at: at(7),
    });
    const late = refusal(declined, 4);
    for (const order of [
      [late, declined, proposed, ack],
      [ack, proposed, declined, late],
      [declined, ack, late, proposed],
    ]) {
      const after = deriveRequest(facts(), order);
      expect(after.state).toBe('refused');
      expect(after.invalid).toEqual([]);
    }
  });

  it('a request held as a draft takes none, whatever the update', () => {
    const ack = signed('requested', { seq: 1, prev: REQ_HASH, status: 'acknowledged', at: at(5) });
    const byHand = signed('requested', { seq: 1, prev: REQ_HASH, status: 'sent', at: at(5) });
    const d = deriveRequest(facts(null), [ack, byHand]);
    expect(d.state).toBe('draft');
    expect(Object.fromEntries(d.invalid.map((i) => [i.update.hash, i.code]))).toEqual({
      [ack.hash]: 'TRANSITION_INVALID',
      [byHand.hash]: 'TRANSITION_INVALID',
    });
    expect(d.invalid.find((i) => i.update.hash === byHand.hash)!.reason).toBe(BY_HAND_MESSAGE('sent'));
    expect(d.invalid.find((i) => i.update.hash === ack.hash)!.reason).toBe(DRAFT_MESSAGE);
  });

  /** A valid chain from 'sent' driven by `choices`, the requested side acknowledging with a reference. */
  function walk(choices: readonly number[], type: RequestType = MLA): VerifiedUpdate[] {
    const out: VerifiedUpdate[] = [];
    let state: Status = 'sent';
    let prev = REQ_HASH;
    for (const c of choices) {
      const options = (['requested', 'requesting'] as const).flatMap((side) =>
        nextStatuses(state, side, type)
          .filter((s) => s !== 'refused' && s !== 'withdrawn')
          .map((s) => [s, side] as const),
      );
      if (options.length === 0) break;
      const [status, side] = options[c % options.length]!;
      const u = signed(side, {
        seq: out.length + 1,
        prev,
        status,
        at: at(out.length + 1),
        ...(status === 'acknowledged' ? { reference: `NG-${c}` } : {}),
        ...(NOTE_REQUIRED[status] ? { note: 'which accounts?' } : {}),
      });
      out.push(u);
      state = status;
      prev = u.hash;
    }
    return out;
  }

  /** Variants of an update that each break one rule of status-rules.ts, and the code each gets. */
  function breaches(u: VerifiedUpdate): [VerifiedUpdate, string][] {
    const { sig: _sig, by: _by, ...body } = u.update as StatusUpdate;
    const other: Side = u.side === 'requested' ? 'requesting' : 'requested';
    return [
      [signed(u.side, { ...body, status: 'delivered' }), 'TRANSITION_INVALID'],
      [signed(u.side, { ...body, status: 'refused', ground: 'bogus', note: 'no' }), 'UPDATE_INCOMPLETE'],
      [
        signed(u.side, { ...body, status: 'refused', ground: 'bank_secrecy', note: 'no' }),
        'GROUND_PROHIBITED',
      ],
      [
        signed(u.side, { ...body, reference: 'X-1' }),
        u.update.status === 'acknowledged' ? 'NONE' : 'USAGE', // an acknowledgement may carry one
      ],
      [signed(other, { ...body, reference: 'X-1' }), 'NOT_OWNED'], // the lifecycle speaks first
    ];
  }

  it('property: a breaking update at any position, in any arrival order, changes nothing', () => {
    const arb = fc
      .tuple(
        fc.array(fc.nat({ max: 999 }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom(...REQUEST_TYPES),
      )
      .map(([choices, type]) => [walk(choices, type), type] as const)
      .filter(([h]) => h.length > 0)
      .chain(([h, type]) =>
        fc.tuple(
          fc.constant(h),
          fc.constant(type),
          fc.nat({ max: h.length - 1 }),
          fc.nat({ max: 4 }),
          fc.array(fc.nat(), {
            minLength: h.length + 1,
            maxLength: h.length + 1,
          }),
        ),
      );
    fc.assert(
      fc.property(arb, ([h, type, k, which, orderKeys]) => {
        const [bad, expected] = breaches(h[k]!)[which]!;
        if (expected === 'NONE') return; // same status and side with another reference: a fork, not a breach
        const clean = deriveRequest(facts(SENT_AT, type), h);
        const all = [...h, bad];
        const shuffled = all
          .map((u, i) => [orderKeys[i]!, u] as const)
          .sort((x, y) => x[0] - y[0])
          .map((x) => x[1]);
        const d = deriveRequest(facts(SENT_AT, type), shuffled);
        expect(d.invalid.map((i) => i.update.hash)).toEqual([bad.hash]);
        const code = d.invalid[0]!.code;
        if (expected === 'NOT_OWNED') expect(['TRANSITION_NOT_OWNED', 'TRANSITION_INVALID']).toContain(code);
        else expect(code).toBe(expected);
        expect({ ...d, invalid: [] }).toEqual(clean);
      }),
      { numRuns: 200 },
    );
  });
});
