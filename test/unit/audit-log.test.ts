/**
 * The audit log's leaves and its streaming verifier (shared/audit/): an untouched log verifies
 * against every signed head; each kind of tampering with the stored entries (modify, delete,
 * reorder, insert, cut the tail), a split view and a forged head are caught, with the index from
 * which the log is no longer proven. Text from outside is stored printable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AuditEvent,
  auditLeafHash,
  printable,
  type AuditEvent as Event,
} from '../../shared/audit/audit-event.ts';
import { LogVerifier } from '../../shared/audit/verify-log.ts';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import type { SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { check } from '../../shared/protocol/validate.ts';
import { random } from '../support/random.ts';

const RELAY = 'relay.wacap.example';
let relayKey: SigningKeyPair;
let otherKey: SigningKeyPair;

beforeAll(() => {
  relayKey = generateSigningKeyPair(random);
  otherKey = generateSigningKeyPair(random);
});

function event(seq: number): Event {
  return check(
    AuditEvent,
    {
      v: 1,
      seq,
      at: new Date(Date.UTC(2026, 10, 27, 10, 0, seq)).toISOString(),
      relay: RELAY,
      kind: seq % 3 === 0 ? 'accepted' : seq % 3 === 1 ? 'delivered' : 'forwarded',
      envelope: '01a21dc1-3e21-71ea-984d-537ec6028e64',
      sender: 'desk1/sn.moj@relay.wacap.example',
      ...(seq % 3 === 1 ? { node: 'desk1/ng.moj@relay.wacap.example' } : {}),
      ...(seq % 3 === 2 ? { peer: 'relay.great-lakes.example' } : {}),
      size: 1000 + seq,
    },
    'event',
  );
}

/** A log of `n` events with heads signed at `sizes`, as a relay would serve it. */
function log(n: number, sizes: number[], key = relayKey) {
  const hashes = Array.from({ length: n }, (_, i) => auditLeafHash(event(i)));
  const tree = MerkleTree.fromLeafHashes(hashes);
  const heads = sizes.map((size) =>
    signTreeHead(
      { log: 'audit', relay: RELAY, size, root: tree.root(size), timestamp: new Date() },
      key.secretKey,
    ),
  );
  return { hashes, heads };
}

function verify(hashes: Uint8Array[], heads: SignedTreeHead[]) {
  const v = new LogVerifier({ log: 'audit', relay: RELAY, relayKey: relayKey.publicKey });
  for (const h of heads) v.addHead(h);
  hashes.forEach((h, i) => v.addLeafHash(i, h));
  return { problem: v.finish(), verifier: v };
}

describe('streaming verification of an audit log', () => {
  it('an untouched log verifies against every head, including the empty one', () => {
    const { hashes, heads } = log(100, [0, 1, 37, 64, 100]);
    const { problem, verifier } = verify(hashes, heads);
    expect(problem).toBeNull();
    expect(verifier.checkedHeads).toBe(5);
    expect(verifier.provenSize).toBe(100);
  });

  it('catches a modified entry, from the last head it still matched', () => {
    const { hashes, heads } = log(100, [10, 50, 100]);
    const edited = [...hashes];
    edited[60] = auditLeafHash({ ...event(60), size: 1 });
    expect(verify(edited, heads).problem).toMatchObject({ index: 50 });
  });

  it('catches a deleted entry, an insertion and a reordering', () => {
    const { hashes, heads } = log(40, [20, 40]);
    const deleted = hashes.filter((_, i) => i !== 25);
    expect(verify(deleted, heads).problem?.index).toBe(20);
    const inserted = [...hashes.slice(0, 30), auditLeafHash(event(99)), ...hashes.slice(30, 39)];
    expect(verify(inserted, heads).problem?.index).toBe(20);
    const reordered = [...hashes];
    [reordered[5], reordered[6]] = [reordered[6]!, reordered[5]!];
    expect(verify(reordered, heads).problem?.index).toBe(0);
  });

  it('catches a cut tail: a head signed for more entries than the log holds', () => {
    const { hashes, heads } = log(50, [25, 50]);
    const problem = verify(hashes.slice(0, 45), heads).problem;
    expect(problem?.index).toBe(25); // proven up to the head of size 25
    expect(problem?.message).toMatch(/cut off/);
  });

  it('catches a split view: two signed heads of one size with different roots', () => {
    const { hashes, heads } = log(30, [30]);
    const forked = log(31, []).hashes;
    const other = signTreeHead(
      {
        log: 'audit',
        relay: RELAY,
        size: 30,
        root: MerkleTree.fromLeafHashes([...forked.slice(0, 29), forked[30]!]).root(30),
        timestamp: new Date(),
      },
      relayKey.secretKey,
    );
    const problem = verify(hashes, [...heads, other]).problem;
    expect(problem?.message).toMatch(/split view/);
  });

  it('refuses a head signed by another key, or altered after signing', () => {
    const { hashes, heads } = log(10, [10]);
    expect(verify(hashes, log(10, [10], otherKey).heads).problem?.message).toMatch(/not signed/);
    expect(verify(hashes, [{ ...heads[0]!, size: 9 }]).problem?.message).toMatch(/not signed/);
    expect(verify(hashes, [{ ...heads[0]!, log: 'key' as const }]).problem?.message).toMatch(/key log/);
  });

  it('refuses entries out of order', () => {
    const v = new LogVerifier({ log: 'audit', relay: RELAY, relayKey: relayKey.publicKey });
    v.addLeafHash(0, auditLeafHash(event(0)));
    v.addLeafHash(2, auditLeafHash(event(2)));
    expect(v.finish()).toMatchObject({ index: 1 });
  });
});

describe('text from outside in the audit log', () => {
  it('turns CR, LF, ANSI escapes and lone surrogates into U+FFFD and bounds the length', () => {
    expect(printable('a\r\nb')).toBe('a\ufffd\ufffdb');
    expect(printable('\u001b[31mred\u001b[0m')).toBe('\ufffd[31mred\ufffd[0m');
    expect(printable('x\ud800y')).toBe('x\ufffdy');
    expect(printable('ok \u{1F600} مرحبا 你好')).toBe('ok \u{1F600} مرحبا 你好');
    expect([...printable('é'.repeat(1000))]).toHaveLength(300);
  });

  it('keeps JSON-breaking characters intact inside the canonical leaf', () => {
    const e = check(
      AuditEvent,
      { ...event(1), kind: 'rejected', reason: 'SCHEMA_INVALID', detail: printable('"}], {"x":1\n') },
      'event',
    );
    const text = new TextDecoder().decode(new Uint8Array(Buffer.from(JSON.stringify(e))));
    expect(JSON.parse(text)).toEqual(e);
  });

  it('refuses a reason that is not an error code', () => {
    expect(() =>
      check(AuditEvent, { ...event(1), kind: 'rejected', reason: 'bad\nreason' }, 'event'),
    ).toThrow(/reason/);
  });
});
