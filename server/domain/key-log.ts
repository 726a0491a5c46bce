/**
 * The relay's key log (key transparency): an append-only RFC 9162 Merkle tree with one leaf per
 * key event, and a tree head signed by the relay key after every append. Appends are serialised
 * (one at a time, in this process) and written in the same transaction as their effect on the
 * relay's tables; the in-memory tree and states change only after the commit.
 */
import { toBase64url } from '../../shared/bytes.ts';
import { EntraideError } from '../../shared/errors.ts';
import { applyKeyEvent, type AuthorityState, eventNode } from '../../shared/keys/authority-state.ts';
import { keyEventHash, keyLogLeafHash, leafBytes, makeLeaf } from '../../shared/keys/key-log-leaf.ts';
import { CONTEXTS, verifyObject, withoutSig } from '../../shared/crypto/signing.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import { CompactRange } from '../../shared/merkle/compact-range.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import type {
  ConsistencyProof,
  DirectoryEntry,
  KeyEvent,
  KeyLogEntry,
  KeyLogLeaf,
  SignedTreeHead,
} from '../../shared/protocol/key-log.ts';
import {
  KeyLogLeaf as KeyLogLeafSchema,
  SignedTreeHead as HeadSchema,
} from '../../shared/protocol/key-log.ts';
import { check } from '../../shared/protocol/validate.ts';
import { LIMITS } from '../../shared/limits.ts';
import type { KeyLogAppend, RelayStore } from '../storage/relay-store.ts';

export interface PreparedAppend {
  /** The states after the events, by authority. */
  states: Map<string, AuthorityState>;
  append: KeyLogAppend;
  indexes: number[];
  head: SignedTreeHead;
}

export class KeyLog {
  private readonly tree = new MerkleTree();
  private range = CompactRange.empty();
  private readonly leaves: KeyLogLeaf[] = [];
  private readonly byAuthority = new Map<string, number[]>();
  private readonly states = new Map<string, AuthorityState>();
  private currentHead!: SignedTreeHead;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: RelayStore,
    private readonly relay: { domain: string; secretKey: Uint8Array },
    private readonly now: () => Date,
  ) {}

  /** Rebuilds the tree and every authority's state from the database; signs a head if none covers the log. */
  async load(): Promise<void> {
    for (const row of await this.store.keyLogEntries()) {
      if (row.idx !== this.leaves.length) {
        throw new EntraideError('INTERNAL', `the key log has a gap at index ${this.leaves.length}`);
      }
      const leaf = check(KeyLogLeafSchema, JSON.parse(row.leaf), 'key-log leaf');
      this.remember(row.idx, leaf);
      try {
        this.states.set(
          leaf.authority,
          applyKeyEvent(this.states.get(leaf.authority), { index: row.idx, leaf }),
        );
      } catch {
        // A refused entry can only come from outside the relay's own checks (an edited database);
        // it stays in the log, where every node sees and refuses it too.
      }
    }
    const stored = await this.store.latestKeyLogHead();
    const head = stored ? check(HeadSchema, JSON.parse(stored), 'key-log head') : undefined;
    // A head signed before the relay's key was rotated stays valid, but the head served from now on
    // is signed with the current key (the last 32 bytes of libsodium's secret key), so that it shows
    // the key the relay holds.
    if (
      head &&
      head.size === this.tree.size &&
      head.root === toBase64url(this.tree.root()) &&
      verifyObject(CONTEXTS.treeHead, withoutSig(head), head.sig, this.relay.secretKey.subarray(32))
    ) {
      this.currentHead = head;
    } else {
      this.currentHead = this.sign(this.tree.size, this.tree.root());
      await this.store.saveKeyLogHead(this.headRow(this.currentHead));
    }
  }

  private remember(index: number, leaf: KeyLogLeaf): void {
    const hash = keyLogLeafHash(leaf);
    this.tree.append(hash);
    this.range.append(hash);
    this.leaves.push(leaf);
    let list = this.byAuthority.get(leaf.authority);
    if (!list) this.byAuthority.set(leaf.authority, (list = []));
    list.push(index);
  }

  private sign(size: number, root: Uint8Array): SignedTreeHead {
    return signTreeHead(
      { log: 'key', relay: this.relay.domain, size, root, timestamp: this.now() },
      this.relay.secretKey,
    );
  }

  private headRow(head: SignedTreeHead): KeyLogAppend['head'] {
    return {
      size: head.size,
      root: head.root,
      signedAt: new Date(head.timestamp),
      head: JSON.stringify(head),
    };
  }

  get size(): number {
    return this.tree.size;
  }

  head(): SignedTreeHead {
    return this.currentHead;
  }

  /** The root the log had at an earlier size. */
  rootAt(size: number): Uint8Array {
    return this.tree.root(size);
  }

  state(authority: string): AuthorityState | undefined {
    return this.states.get(authority);
  }

  /** Index of an identical event already in the log, if any. */
  async find(event: KeyEvent): Promise<number | null> {
    return this.store.findKeyEvent(keyEventHash(event));
  }

  /**
   * Validates `events` (in order, against the current states), then lets `commit` write them with
   * their effect in one transaction, then updates the tree. Throws the first refusal, before
   * anything is written. Appends run one at a time.
   */
  append<T>(events: KeyEvent[], commit: (prepared: PreparedAppend) => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      const at = this.now();
      const states = new Map<string, AuthorityState>();
      const range = this.range.clone();
      const entries: KeyLogAppend['entries'] = [];
      const leaves: KeyLogLeaf[] = [];
      const indexes: number[] = [];
      for (const event of events) {
        const index = this.tree.size + leaves.length;
        const leaf = makeLeaf(event, at);
        const before = states.get(leaf.authority) ?? this.states.get(leaf.authority);
        states.set(leaf.authority, applyKeyEvent(before, { index, leaf }));
        range.append(keyLogLeafHash(leaf));
        leaves.push(leaf);
        indexes.push(index);
        entries.push({
          idx: index,
          authority: leaf.authority,
          type: event.type,
          node: eventNode(event),
          leaf: new TextDecoder().decode(leafBytes(leaf)),
          eventHash: keyEventHash(event),
          loggedAt: at,
        });
      }
      const head = this.sign(range.size, range.root());
      const result = await commit({ states, append: { entries, head: this.headRow(head) }, indexes, head });
      leaves.forEach((leaf, i) => this.remember(indexes[i]!, leaf));
      for (const [authority, state] of states) this.states.set(authority, state);
      this.currentHead = head;
      return result;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * The authority's events after index `after`, at most `limit` of them, each with its inclusion
   * proof against the current head; `more` when others follow.
   */
  directoryEntry(authority: string, after = -1, limit = Number.MAX_SAFE_INTEGER): DirectoryEntry {
    const indexes = this.byAuthority.get(authority);
    if (!indexes) throw new EntraideError('UNKNOWN_AUTHORITY', `${authority} is not enrolled on this relay`);
    const head = this.currentHead;
    const all = indexes.filter((i) => i > after && i < head.size);
    return {
      authority,
      head,
      events: all.slice(0, limit).map((index) => ({
        index,
        leaf: this.leaves[index]!,
        proof: this.tree.inclusionProof(index, head.size).map(toBase64url),
      })),
      more: all.length > limit,
    };
  }

  entries(start: number, end: number): KeyLogEntry[] {
    const size = this.currentHead.size;
    if (start > size) {
      throw new EntraideError('SCHEMA_INVALID', `start ${start} is beyond the log size ${size}`);
    }
    const stop = Math.min(end, size, start + LIMITS.keyLogPage);
    const out: KeyLogEntry[] = [];
    for (let i = start; i < stop; i++) out.push({ index: i, leaf: this.leaves[i]! });
    return out;
  }

  consistency(from: number, to: number): ConsistencyProof {
    const size = this.currentHead.size;
    if (from < 1 || from > to || to > size) {
      throw new EntraideError(
        'SCHEMA_INVALID',
        `a consistency proof needs 1 <= from <= to <= ${size}; asked for ${from} -> ${to}`,
      );
    }
    return { from, to, proof: this.tree.consistencyProof(from, to).map(toBase64url) };
  }
}
