/**
 * The request lifecycle (shared/requests/lifecycle.ts) and the order-independent rebuilding of a
 * request's state from signed status updates (shared/requests/history.ts), with real Ed25519 keys
 * of one node on each side.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { check } from '../../shared/protocol/validate.ts';
import { deriveRequest, type DerivedRequest, type VerifiedUpdate } from '../../shared/requests/history.ts';
import { groundsFor, needsConsultation } from '../../shared/requests/grounds.ts';
import {
  checkUpdate,
  isAllowedUpdate,
  nextStatuses,
  TRANSITIONS,
  type Side,
} from '../../shared/requests/lifecycle.ts';
import { RequestContent } from '../../shared/requests/request.ts';
import {
  NOTE_REQUIRED,
  requestHash,
  signStatusUpdate,
  StatusUpdate,
  updateHash,
  verifyStatusUpdate,
  type UnsignedStatusUpdate,
} from '../../shared/requests/status-update.ts';
import { STATUSES, type RequestType, type Status } from '../../shared/requests/vocabulary.ts';
import { codeOf, random } from './fixtures.ts';

const REQUESTING = 'desk1/sn.moj@relay.wacap.example';
const REQUESTED = 'desk1/ng.moj@relay.wacap.example';
const REQUEST_ID = '01950a3c-8f00-7abc-8def-0123456789ab';
const SENT_AT = '2026-03-02T08:00:00.000Z';
const T0 = Date.parse(SENT_AT);
const MINUTE = 60_000;
const ENDING = new Set<Status>(['refused', 'withdrawn']);

let keys: Record<Side, SigningKeyPair>;
let reqHash: string;
/**
 * The type the derivations below are made for: each block runs for an extradition (every step,
 * the extradition track included, with the grounds of extradition) and for mutual legal
 * assistance (the grounds of art. 18(21), after a consultation or with the reason there was none).
 */
let TYPE: RequestType = 'mutual_legal_assistance';

const request: RequestContent = {
  type: 'request',
  id: REQUEST_ID,
  requestType: 'mutual_legal_assistance',
  title: 'Bank records of Sahel Trading SARL',
  language: 'en',
  legalBasis: [{ kind: 'untoc', reference: 'UNTOC art. 18' }],
  summaryOfFacts: 'Proceeds of a fraud were moved through accounts held in Lagos.',
  references: { requesting: 'SN-2026-0042' },
  handling: { visibility: 'authority', forwarding: 'consent_required' },
  urgency: 'routine',
};

beforeAll(() => {
  keys = { requesting: generateSigningKeyPair(random), requested: generateSigningKeyPair(random) };
  reqHash = requestHash(check(RequestContent, request, 'request'));
});

const facts = (over: { sentAt?: string | null; deliveredAt?: string | null } = {}) => ({
  requestType: TYPE,
  requestHash: reqHash,
  sentAt: over.sentAt === undefined ? SENT_AT : over.sentAt,
  deliveredAt: over.deliveredAt ?? null,
});

/** Signs an update as `side`'s node and returns it as a node would after checking the signature. */
function make(side: Side, u: Omit<UnsignedStatusUpdate, 'v' | 'request' | 'by'>): VerifiedUpdate {
  const update = signStatusUpdate(
    { v: 1, request: REQUEST_ID, by: side === 'requesting' ? REQUESTING : REQUESTED, ...u },
    keys[side].secretKey,
  );
  return verified(update);
}

function verified(update: StatusUpdate): VerifiedUpdate {
  const side: Side = update.by === REQUESTING ? 'requesting' : 'requested';
  check(StatusUpdate, update, 'update');
  if (!verifyStatusUpdate(update, toBase64url(keys[side].publicKey))) throw new Error('bad signature');
  return { update, hash: updateHash(update), side };
}

/** The owner of an update status (each one has exactly one). */
const ownerOf = (status: Status): Side =>
  TRANSITIONS.find((t) => t.to === status && t.by === 'update')!.owner;

/** The next update after (seq, prev), with a ground and note where the status needs them. */
function step(
  status: Status,
  seq: number,
  prev: string,
  atMs: number,
  side = ownerOf(status),
): VerifiedUpdate {
  const grounds = groundsFor(TYPE);
  const ground = grounds[seq % grounds.length]!;
  return make(side, {
    seq,
    prev,
    status: status as StatusUpdate['status'],
    at: new Date(atMs).toISOString(),
    ...(NOTE_REQUIRED[status] ? { note: 'the account numbers, please' } : {}),
    ...(status === 'refused' ? { ground } : {}),
    // The walk does not track consultations: a refusal that would need one says why there was none.
    ...(status === 'refused' && needsConsultation(ground) ? { withoutConsultation: 'urgent' } : {}),
    ...(status === 'acknowledged' ? { reference: `NG-${seq}` } : {}),
  });
}

/** A valid linear history: a walk from 'sent' driven by `choices` (ending steps are rarer). */
function walk(choices: readonly number[]): VerifiedUpdate[] {
  const out: VerifiedUpdate[] = [];
  let state: Status = 'sent';
  let prev = reqHash;
  for (const c of choices) {
    const options: Status[] = [
      ...nextStatuses(state, 'requested', TYPE),
      ...nextStatuses(state, 'requesting', TYPE),
    ];
    if (options.length === 0) break;
    const plain = options.filter((s) => !ENDING.has(s));
    const ending = options.filter((s) => ENDING.has(s));
    const pool = (c % 100 < 10 && ending.length > 0) || plain.length === 0 ? ending : plain;
    const status: Status = pool[c % pool.length]!;
    const u = step(status, out.length + 1, prev, T0 + (out.length + 1) * 7 * MINUTE);
    out.push(u);
    state = status;
    prev = u.hash;
  }
  return out;
}

const hashes = (us: readonly VerifiedUpdate[]) => us.map((u) => u.hash);
const sorted = (us: readonly VerifiedUpdate[]) => hashes(us).sort();
/** Everything a derivation says, with the unordered lists sorted. */
const summary = (d: DerivedRequest) => ({
  state: d.state,
  seq: d.seq,
  tip: d.tip,
  history: hashes(d.history),
  superseded: sorted(d.superseded),
  waiting: sorted(d.waiting),
  invalid: sorted(d.invalid.map((i) => i.update)),
  times: d.times,
});

/** A copy of an update as it would arrive again: other key order, same canonical bytes. */
const replay = (u: VerifiedUpdate): VerifiedUpdate =>
  verified(
    Object.fromEntries(
      Object.entries(JSON.parse(JSON.stringify(u.update)) as object).reverse(),
    ) as StatusUpdate,
  );

const choicesArb = fc.array(fc.nat({ max: 999 }), { minLength: 1, maxLength: 12 });

describe('lifecycle table', () => {
  /** "from to side" triples, separated by commas, and what checkUpdate says about them. */
  const TABLE = {
    REQUEST_CLOSED:
      'closed withdrawn requesting, refused in_execution requested, withdrawn refused requested, closed closed requesting',
    TRANSITION_NOT_OWNED:
      'sent acknowledged requesting, delivered refused requesting, in_execution withdrawn requested, ' +
      'executed closed requested, in_execution executed requesting, conditions_proposed conditions_accepted requested, ' +
      'in_execution postponed requesting',
    TRANSITION_INVALID:
      'sent executed requested, sent closed requesting, acknowledged partially_executed requested, ' +
      'executed refused requested, executed withdrawn requesting, draft withdrawn requesting, sent delivered requested, ' +
      'surrendered refused requested, in_execution conditions_accepted requesting, extradition_granted closed requesting',
    allowed:
      'sent acknowledged requested, delivered acknowledged requested, acknowledged in_execution requested, ' +
      'acknowledged transmitted_to_executing_authority requested, transmitted_to_executing_authority in_execution requested, ' +
      'delivered returned_for_formal_defects requested, returned_for_formal_defects acknowledged requested, ' +
      'in_execution postponed requested, postponed in_execution requested, in_execution conditions_proposed requested, ' +
      'conditions_proposed conditions_accepted requesting, conditions_declined refused requested, ' +
      'judicial_phase extradition_granted requested, extradition_granted surrendered requested, ' +
      'surrendered closed requesting, submitted_for_prosecution closed requesting, ' +
      'in_execution additional_info_requested requested, additional_info_requested in_execution requested, ' +
      'partially_executed executed requested, executed closed requesting, partially_executed closed requesting, ' +
      'sent withdrawn requesting, additional_info_requested refused requested',
  };
  const rows = Object.entries(TABLE).flatMap(([outcome, triples]) =>
    triples.split(', ').map((t) => [...(t.split(' ') as [Status, Status, Side]), outcome] as const),
  );

  it.each(rows)('from %s, %s by the %s side: %s', (from, to, side, outcome) => {
    if (outcome === 'allowed') {
      expect(() => checkUpdate(from, to, side)).not.toThrow();
      expect(isAllowedUpdate(from, to, side)).toBe(true);
    } else {
      expect(codeOf(() => checkUpdate(from, to, side))).toBe(outcome);
      expect(isAllowedUpdate(from, to, side)).toBe(false);
    }
  });

  it('nextStatuses lists what each side may set', () => {
    expect(nextStatuses('sent', 'requested')).toEqual([
      'acknowledged',
      'returned_for_formal_defects',
      'refused',
    ]);
    expect(nextStatuses('sent', 'requesting')).toEqual(['withdrawn']);
    expect(nextStatuses('in_execution', 'requested').sort()).toEqual(
      [
        'additional_info_requested',
        'postponed',
        'conditions_proposed',
        'executed',
        'partially_executed',
        'refused',
      ].sort(),
    );
    expect(nextStatuses('conditions_proposed', 'requesting').sort()).toEqual(
      ['conditions_accepted', 'conditions_declined', 'withdrawn'].sort(),
    );
    expect(nextStatuses('returned_for_formal_defects', 'requested')).toEqual(['acknowledged', 'refused']);
    // The extradition track, for extraditions only.
    expect(nextStatuses('acknowledged', 'requested', 'extradition')).toContain('provisional_arrest');
    expect(nextStatuses('acknowledged', 'requested', 'mutual_legal_assistance')).not.toContain(
      'provisional_arrest',
    );
    expect(nextStatuses('judicial_phase', 'requested', 'extradition').sort()).toEqual(
      [
        'additional_info_requested',
        'postponed',
        'extradition_granted',
        'submitted_for_prosecution',
        'refused',
      ].sort(),
    );
    expect(nextStatuses('surrendered', 'requesting', 'extradition')).toEqual(['closed']);
    expect(nextStatuses('surrendered', 'requested', 'extradition')).toEqual([]);
    expect(nextStatuses('partially_executed', 'requesting').sort()).toEqual(['closed', 'withdrawn']);
    expect(nextStatuses('executed', 'requesting')).toEqual(['closed']);
    expect(nextStatuses('executed', 'requested')).toEqual([]);
    expect(nextStatuses('draft', 'requesting')).toEqual([]);
    for (const s of ['closed', 'refused', 'withdrawn'] as const)
      for (const side of ['requesting', 'requested'] as const) expect(nextStatuses(s, side)).toEqual([]);
  });

  it('nextStatuses agrees with checkUpdate for every pair', () => {
    for (const from of STATUSES)
      for (const to of STATUSES)
        for (const side of ['requesting', 'requested'] as const) {
          const allowed = nextStatuses(from, side).includes(to);
          if (allowed) expect(() => checkUpdate(from, to, side)).not.toThrow();
          else expect(() => checkUpdate(from, to, side)).toThrow();
        }
  });
});

describe.each(['mutual_legal_assistance', 'extradition'] as const)(
  'deriveRequest with signed updates (%s)',
  (type) => {
    beforeAll(() => {
      TYPE = type;
    });
    it('applies a chain in order, records first times and proves delivery by acknowledgement', () => {
      const ack = step('acknowledged', 1, reqHash, T0 + 5 * MINUTE);
      const exe = step('in_execution', 2, ack.hash, T0 + 10 * MINUTE);
      const info = step('additional_info_requested', 3, exe.hash, T0 + 15 * MINUTE);
      const exe2 = step('in_execution', 4, info.hash, T0 + 20 * MINUTE);
      const d = deriveRequest(facts(), [exe2, info, exe, ack]);
      expect(d.state).toBe('in_execution');
      expect(d.seq).toBe(4);
      expect(d.tip).toBe(exe2.hash);
      expect(hashes(d.history)).toEqual(hashes([ack, exe, info, exe2]));
      expect(d.times).toEqual({
        sent: SENT_AT,
        delivered: ack.update.at,
        acknowledged: ack.update.at,
        in_execution: exe.update.at,
        additional_info_requested: info.update.at,
      });
      expect([d.superseded, d.waiting, d.invalid]).toEqual([[], [], []]);
      expect(verifyStatusUpdate(ack.update, toBase64url(keys.requesting.publicKey))).toBe(false);
    });

    // A draft has reached no counterpart: an update for it breaks a rule (status-rules.ts), and
    // is held to every rule again once the request is sent.
    it('a draft stays a draft and holds every update as invalid', () => {
      const ack = step('acknowledged', 1, reqHash, T0);
      const d = deriveRequest(facts({ sentAt: null, deliveredAt: SENT_AT }), [ack]);
      expect(d.state).toBe('draft');
      expect(d.times).toEqual({});
      expect(d.invalid.map((i) => [i.update.hash, i.code, i.reason])).toEqual([
        [
          ack.hash,
          'TRANSITION_INVALID',
          `request ${REQUEST_ID} is a draft: send it first (entraide request send)`,
        ],
      ]);
      expect([d.history, d.waiting, d.superseded]).toEqual([[], [], []]);
      expect(deriveRequest(facts(), [ack]).state).toBe('acknowledged');
    });

    it('a delivery receipt makes a sent request delivered', () => {
      expect(deriveRequest(facts(), []).state).toBe('sent');
      const d = deriveRequest(facts({ deliveredAt: '2026-03-02T10:00:00+02:00' }), []);
      expect(d.state).toBe('delivered');
      expect(d.times).toEqual({ sent: SENT_AT, delivered: '2026-03-02T08:00:00.000Z' });
    });

    it('delivery is the earlier of the receipt and the first step', () => {
      const ack = step('acknowledged', 1, reqHash, T0 + 30 * MINUTE);
      expect(
        deriveRequest(facts({ deliveredAt: new Date(T0 + MINUTE).toISOString() }), [ack]).times.delivered,
      ).toBe(new Date(T0 + MINUTE).toISOString());
      expect(deriveRequest(facts(), [ack]).times.delivered).toBe(ack.update.at);
    });

    // Only a step of the requested side proves delivery; the requesting side's withdrawal does not.
    it('a withdrawal before delivery does not prove delivery', () => {
      const w = step('withdrawn', 1, reqHash, T0 + 3 * MINUTE);
      const d = deriveRequest(facts(), [w]);
      expect(d.state).toBe('withdrawn');
      expect(d.times.delivered).toBeUndefined();
    });

    it('an update at the wrong position, or with a problem, is invalid', () => {
      const bad = step('acknowledged', 2, reqHash, T0);
      const noGround = make('requested', {
        seq: 1,
        prev: reqHash,
        status: 'refused',
        note: 'no',
        at: SENT_AT,
      });
      const d = deriveRequest(facts(), [bad, noGround]);
      expect(d.state).toBe('sent');
      expect(sorted(d.invalid.map((i) => i.update))).toEqual([bad.hash, noGround.hash].sort());
      const codes = Object.fromEntries(d.invalid.map((i) => [i.update.hash, i.code]));
      expect(codes).toEqual({ [bad.hash]: 'TRANSITION_INVALID', [noGround.hash]: 'UPDATE_INCOMPLETE' });
    });

    it('property: any arrival order, with duplicates and replays, ends in the in-order state (a, b)', () => {
      const arb = choicesArb.chain((choices) => {
        const h = walk(choices);
        const copies = fc.array(fc.tuple(fc.nat({ max: h.length - 1 }), fc.boolean()), { maxLength: 6 });
        return copies.chain((extra) => {
          const items = [...h, ...extra.map(([i, asReplay]) => (asReplay ? replay(h[i]!) : h[i]!))];
          return fc.tuple(
            fc.constant(h),
            fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }),
          );
        });
      });
      fc.assert(
        fc.property(arb, ([h, arrivals]) => {
          const inOrder = deriveRequest(facts(), h);
          expect(hashes(inOrder.history)).toEqual(hashes(h));
          const full = hashes(h);
          const received: VerifiedUpdate[] = [];
          let applied = 0;
          for (const u of arrivals) {
            received.push(u);
            const d = deriveRequest(facts(), received);
            const got = hashes(d.history);
            expect(got).toEqual(full.slice(0, got.length)); // a prefix: never backwards, never twice
            expect(got.length).toBeGreaterThanOrEqual(applied);
            applied = got.length;
            expect(d.superseded).toEqual([]);
            expect(d.invalid).toEqual([]);
          }
          const last = deriveRequest(facts(), received);
          expect(summary(last)).toEqual(summary(inOrder));
          const first: Partial<Record<Status, string>> = { sent: SENT_AT };
          const proof = h.find((u) => u.side === 'requested');
          if (proof) first.delivered = proof.update.at;
          for (const u of h) first[u.update.status] ??= u.update.at;
          expect(last.times).toEqual(first);
          expect(last.state).toBe(h[h.length - 1]!.update.status);
        }),
        { numRuns: 200 },
      );
    });

    it('property: concurrent updates from both sides converge, an ending one winning (c)', () => {
      const arb = choicesArb
        .map((c) => walk(c))
        .chain((h) => {
          const tipState: Status = h.length ? h[h.length - 1]!.update.status : 'sent';
          return fc.tuple(
            fc.constant(h),
            fc.constant(tipState),
            fc.nat({ max: 99 }),
            fc.nat({ max: 99 }),
            fc.array(fc.nat(), { minLength: h.length + 4, maxLength: h.length + 4 }),
          );
        })
        .filter(
          ([, s]) =>
            nextStatuses(s, 'requested', TYPE).length > 0 && nextStatuses(s, 'requesting', TYPE).length > 0,
        );
      fc.assert(
        fc.property(arb, ([h, s, i, j, keysForOrder]) => {
          const seq = h.length + 1;
          const prev = h.length ? h[h.length - 1]!.hash : reqHash;
          const at = T0 + seq * 7 * MINUTE;
          const a = step(
            nextStatuses(s, 'requested', TYPE)[i % nextStatuses(s, 'requested', TYPE).length]!,
            seq,
            prev,
            at,
          );
          const b = step(
            nextStatuses(s, 'requesting', TYPE)[j % nextStatuses(s, 'requesting', TYPE).length]!,
            seq,
            prev,
            at + 1000,
          );
          const ea = ENDING.has(a.update.status);
          const eb = ENDING.has(b.update.status);
          const [winner, loser] = ea !== eb ? (ea ? [a, b] : [b, a]) : a.hash < b.hash ? [a, b] : [b, a];
          const afterLoser = step('in_execution', seq + 1, loser.hash, at + 2 * MINUTE, 'requested');
          const next = [
            ...nextStatuses(winner.update.status, 'requested', TYPE),
            ...nextStatuses(winner.update.status, 'requesting', TYPE),
          ];
          const afterWinner = next.length ? step(next[0]!, seq + 1, winner.hash, at + 3 * MINUTE) : undefined;
          const all = [...h, a, b, afterLoser, ...(afterWinner ? [afterWinner] : [])];
          const order = all
            .map((u, k) => [keysForOrder[k]!, u] as const)
            .sort((x, y) => x[0] - y[0])
            .map((x) => x[1]);
          const d = deriveRequest(facts(), order);
          expect(summary(d)).toEqual(summary(deriveRequest(facts(), all)));
          expect(summary(d)).toEqual(summary(deriveRequest(facts(), [...all].reverse())));
          expect(hashes(d.history)).toEqual(hashes([...h, winner, ...(afterWinner ? [afterWinner] : [])]));
          expect(d.state).toBe((afterWinner ?? winner).update.status);
          if (ea || eb) expect(ENDING.has(winner.update.status)).toBe(true);
          expect(sorted(d.superseded)).toEqual([loser.hash, afterLoser.hash].sort());
          expect(d.waiting).toEqual([]);
          expect(d.invalid).toEqual([]);
        }),
        { numRuns: 200 },
      );
    });

    it('executed by the requested side and withdrawn by the requesting side at once: the withdrawal wins', () => {
      const ack = step('acknowledged', 1, reqHash, T0 + MINUTE);
      const upTo = [ack, step('in_execution', 2, ack.hash, T0 + 2 * MINUTE)];
      const executed = step('executed', 3, upTo[1]!.hash, T0 + 60 * MINUTE);
      const withdrawn = step('withdrawn', 3, upTo[1]!.hash, T0 + 61 * MINUTE);
      const closed = step('closed', 4, executed.hash, T0 + 62 * MINUTE);
      for (const order of [
        [...upTo, executed, closed, withdrawn],
        [withdrawn, closed, executed, ...upTo],
      ]) {
        const d = deriveRequest(facts(), order);
        expect(d.state).toBe('withdrawn');
        expect(sorted(d.superseded)).toEqual([executed.hash, closed.hash].sort());
      }
    });

    it('property: an update whose predecessor is missing waits, then applies (d)', () => {
      const arb = fc
        .array(fc.nat({ max: 999 }), { minLength: 2, maxLength: 12 })
        .map((c) => walk(c))
        .filter((h) => h.length >= 2)
        .chain((h) => fc.tuple(fc.constant(h), fc.nat({ max: h.length - 2 })));
      fc.assert(
        fc.property(arb, ([h, missing]) => {
          const without = h.filter((_, k) => k !== missing);
          const d = deriveRequest(facts(), without);
          expect(hashes(d.history)).toEqual(hashes(h.slice(0, missing)));
          expect(sorted(d.waiting)).toEqual(sorted(h.slice(missing + 1)));
          expect(d.superseded).toEqual([]);
          const after = deriveRequest(facts(), [...without, h[missing]!]);
          expect(hashes(after.history)).toEqual(hashes(h));
          expect(after.waiting).toEqual([]);
        }),
        { numRuns: 200 },
      );
    });

    it('property: a forged side or a wrong seq lands in invalid and changes nothing (e)', () => {
      const arb = choicesArb
        .map((c) => walk(c))
        .chain((h) =>
          fc.tuple(fc.constant(h), fc.nat({ max: h.length - 1 }), fc.integer({ min: 1, max: 50 })),
        );
      fc.assert(
        fc.property(arb, ([h, k, shift]) => {
          const real = h[k]!;
          const other: Side = real.side === 'requesting' ? 'requested' : 'requesting';
          const { sig: _sig, by: _by, ...body } = real.update;
          const forged = make(other, { ...body });
          const wrongSeq = make(real.side, { ...body, seq: real.update.seq + shift });
          const clean = summary(deriveRequest(facts(), h));
          for (const extra of [forged, wrongSeq]) {
            const d = deriveRequest(facts(), [extra, ...h]);
            expect(d.invalid.map((i) => i.update.hash)).toEqual([extra.hash]);
            expect({ ...summary(d), invalid: [] }).toEqual(clean);
          }
          expect(isAllowedUpdate(k === 0 ? 'sent' : h[k - 1]!.update.status, real.update.status, other)).toBe(
            false,
          );
        }),
        { numRuns: 200 },
      );
    });
  },
);
