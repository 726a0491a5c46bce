/**
 * The quota ledger (server/domain/quotas.ts) on its own: the check and its refusal, reservations
 * that keep a burst from overshooting, and the counts it follows through the changes the store
 * reports, cross-checked against a reference that counts from the rows themselves (what the
 * database would hold: one row per pending delivery or outbox row).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuotaLedger, QUOTA_RETRY_AFTER_SECONDS, type Tally } from '../../server/domain/quotas.ts';
import { envelopeKey, type WaitingChange, type WaitingRow } from '../../server/storage/waiting.ts';
import { EntraideError } from '../../shared/errors.ts';

const big = { senderBytes: 1e12, senderEnvelopes: 1e9, recipientBytes: 1e12, recipientEnvelopes: 1e9 };
const A1 = 'desk1/sn.moj@relay.test';
const B1 = 'desk1/ke.ag@relay.test';
const B2 = 'desk2/ke.ag@relay.test';
const C1 = 'desk1/ma.mj@relay.test';

function refusal(fn: () => unknown): EntraideError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EntraideError) return err;
    throw err;
  }
  throw new Error('expected QUOTA_EXCEEDED');
}

function accepted(key: string, sender: string, size: number, nodes: string[], peers = 0): WaitingChange {
  return { kind: 'accepted', key, sender, size, nodes, peers };
}

describe('the quota check', () => {
  it('refuses past each of the four quotas with QUOTA_EXCEEDED and a Retry-After, naming the quota', () => {
    const cases: [Partial<typeof big>, RegExp][] = [
      [{ senderEnvelopes: 1 }, /sent by desk1\/sn\.moj@relay\.test .*quota of 1 envelopes/],
      [{ senderBytes: 150 }, /sent by desk1\/sn\.moj@relay\.test .*quota of 150 bytes/],
      [{ recipientEnvelopes: 1 }, /for ke\.ag@relay\.test .*quota of 1 envelopes/],
      [{ recipientBytes: 150 }, /for ke\.ag@relay\.test .*quota of 150 bytes/],
    ];
    for (const [quota, message] of cases) {
      const ledger = new QuotaLedger({ ...big, ...quota });
      ledger.apply([accepted('e1', A1, 100, [B1])]);
      const err = refusal(() => ledger.reserve({ key: 'e2', sender: A1, size: 100, nodes: [B1], peers: 0 }));
      expect(err.code).toBe('QUOTA_EXCEEDED');
      expect(err.status).toBe(429);
      expect(err.retryAfter).toBe(QUOTA_RETRY_AFTER_SECONDS);
      expect(err.message).toMatch(message);
      // Nothing was counted for the refused envelope.
      expect(ledger.sender(A1)).toEqual({ envelopes: 1, bytes: 100 });
    }
  });

  it('counts a reservation until it is released, so that a burst cannot overshoot', () => {
    const ledger = new QuotaLedger({ ...big, senderEnvelopes: 3 });
    const releases = [1, 2, 3].map((i) =>
      ledger.reserve({ key: `e${i}`, sender: A1, size: 10, nodes: [B1], peers: 0 }),
    );
    expect(() => ledger.reserve({ key: 'e4', sender: A1, size: 10, nodes: [B1], peers: 0 })).toThrow(
      EntraideError,
    );
    // Two commit (reported, then their callers answered), one fails: two wait.
    ledger.apply([accepted('e1', A1, 10, [B1]), accepted('e2', A1, 10, [B1])]);
    releases.forEach((release) => release());
    releases[0]!(); // a second release changes nothing
    expect(ledger.sender(A1)).toEqual({ envelopes: 2, bytes: 20 });
    expect(ledger.recipient('ke.ag@relay.test')).toEqual({ envelopes: 2, bytes: 20 });
    ledger.reserve({ key: 'e4', sender: A1, size: 10, nodes: [B1], peers: 0 });
  });

  it('does not check an envelope that waits for nobody, or a second copy of one that waits', () => {
    const ledger = new QuotaLedger({ ...big, senderEnvelopes: 1 });
    ledger.apply([accepted('e1', A1, 10, [B1])]);
    ledger.reserve({ key: 'e1', sender: A1, size: 10, nodes: [B1], peers: 0 })();
    ledger.reserve({ key: 'e2', sender: A1, size: 10, nodes: [], peers: 0 })();
    expect(ledger.sender(A1)).toEqual({ envelopes: 1, bytes: 10 });
  });

  it('checks and counts apart two senders’ envelopes under one id: a squatted id is no free pass', () => {
    const id = '0190a000-0000-7000-8000-000000000001';
    const ledger = new QuotaLedger({ ...big, recipientEnvelopes: 1 });
    ledger.apply([accepted(envelopeKey(A1, id), A1, 10, [B1])]);
    const err = refusal(() =>
      ledger.reserve({ key: envelopeKey(C1, id), sender: C1, size: 10, nodes: [B2], peers: 0 }),
    );
    expect(err.code).toBe('QUOTA_EXCEEDED');
    ledger.apply([{ kind: 'delivery-ended', key: envelopeKey(C1, id), node: B1 }]); // not A1's delivery
    expect(ledger.recipient('ke.ag@relay.test')).toEqual({ envelopes: 1, bytes: 10 });
  });
});

describe('what waits', () => {
  it('follows deliveries per node, counts an authority once per envelope, and the outbox for the sender', () => {
    const ledger = new QuotaLedger(big);
    ledger.apply([accepted('e1', A1, 100, [B1, B2, C1], 1), accepted('e2', A1, 50, [B2])]);
    expect(ledger.sender(A1)).toEqual({ envelopes: 2, bytes: 150 });
    expect(ledger.recipient('ke.ag@relay.test')).toEqual({ envelopes: 2, bytes: 150 });
    expect(ledger.recipient('ma.mj@relay.test')).toEqual({ envelopes: 1, bytes: 100 });

    ledger.apply([{ kind: 'delivery-ended', key: 'e1', node: B1 }]);
    expect(ledger.recipient('ke.ag@relay.test')).toEqual({ envelopes: 2, bytes: 150 }); // B2 still waits
    ledger.apply([
      { kind: 'delivery-ended', key: 'e1', node: B2 },
      { kind: 'delivery-ended', key: 'e1', node: B2 }, // reported twice: once counts
      { kind: 'delivery-ended', key: 'e1', node: C1 },
    ]);
    expect(ledger.recipient('ke.ag@relay.test')).toEqual({ envelopes: 1, bytes: 50 });
    expect(ledger.recipient('ma.mj@relay.test')).toEqual({ envelopes: 0, bytes: 0 });
    expect(ledger.sender(A1)).toEqual({ envelopes: 2, bytes: 150 }); // e1 is still in the outbox
    ledger.apply([{ kind: 'forward-ended', key: 'e1' }]);
    expect(ledger.sender(A1)).toEqual({ envelopes: 1, bytes: 50 });
    ledger.apply([{ kind: 'expired', key: 'e2' }]);
    expect(ledger.sender(A1)).toEqual({ envelopes: 0, bytes: 0 });
    expect(ledger.recipient('ke.ag@relay.test')).toEqual({ envelopes: 0, bytes: 0 });
    expect(ledger.size).toBe(0);
  });

  it('agrees with a count from the rows through any sequence of changes, and loads the same counts', () => {
    const nodes = [A1, B1, B2, C1];
    const senders = [A1, 'desk9/fr.mj@relay.peer'];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('accept' as const),
        sender: fc.constantFrom(...senders),
        size: fc.integer({ min: 1, max: 1000 }),
        nodes: fc.subarray(nodes),
        peers: fc.integer({ min: 0, max: 2 }),
      }),
      fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), node: fc.constantFrom(...nodes) }),
      fc.record({ kind: fc.constant('forward' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const ledger = new QuotaLedger(big);
        // The reference: the rows a database would hold, and counts made from them alone.
        const rows: (WaitingRow & { pending: boolean })[] = [];
        const ids: string[] = [];
        for (const o of ops) {
          const id = ids[o.kind === 'accept' ? 0 : o.pick % Math.max(1, ids.length)];
          if (o.kind === 'accept') {
            const next = `e${ids.length}`;
            ids.push(next);
            for (const node of o.nodes)
              rows.push({ key: next, sender: o.sender, size: o.size, node, pending: true });
            for (let p = 0; p < o.peers; p++)
              rows.push({ key: next, sender: o.sender, size: o.size, node: null, pending: true });
            ledger.apply([accepted(next, o.sender, o.size, o.nodes, o.peers)]);
          } else if (id !== undefined && o.kind === 'deliver') {
            const row = rows.find((r) => r.key === id && r.node === o.node && r.pending);
            if (row) {
              row.pending = false;
              ledger.apply([{ kind: 'delivery-ended', key: id, node: o.node }]);
            }
          } else if (id !== undefined && o.kind === 'forward') {
            const row = rows.find((r) => r.key === id && r.node === null && r.pending);
            if (row) {
              row.pending = false;
              ledger.apply([{ kind: 'forward-ended', key: id }]);
            }
          } else if (id !== undefined && o.kind === 'expire') {
            rows.filter((r) => r.key === id).forEach((r) => (r.pending = false));
            ledger.apply([{ kind: 'expired', key: id }]);
          }
        }
        const pending = rows.filter((r) => r.pending);
        const tally = (keep: (r: WaitingRow) => boolean): Tally => {
          const seen = new Map<string, number>();
          for (const r of pending.filter(keep)) seen.set(r.key, r.size);
          return { envelopes: seen.size, bytes: [...seen.values()].reduce((a, b) => a + b, 0) };
        };
        const loaded = QuotaLedger.load(big, pending);
        for (const s of senders) {
          const expected = tally((r) => r.sender === s);
          expect(ledger.sender(s)).toEqual(expected);
          expect(loaded.sender(s)).toEqual(expected);
        }
        for (const a of ['sn.moj@relay.test', 'ke.ag@relay.test', 'ma.mj@relay.test']) {
          const expected = tally((r) => r.node !== null && r.node.endsWith(`/${a}`));
          expect(ledger.recipient(a)).toEqual(expected);
          expect(loaded.recipient(a)).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });
});
