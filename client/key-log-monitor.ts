/**
 * The node's copy of its relay's key log, verified entry by entry. On every check it:
 * 1. verifies the relay's signature on the latest tree head (with the key current at its timestamp,
 *    following a rollover of the relay key signed by the key pinned: relay-keys.ts);
 * 2. asks for a consistency proof from the head it stored last time, and verifies it;
 * 3. downloads the new entries and checks that they hash, with the ones it holds, to the new head;
 * 4. watches its own authority (as CONIKS does): a forged event, or a key of this node it never
 *    published, raises an alarm; a valid event made by another node of the authority, a notice.
 * A relay that rewrites, truncates or forks its log therefore fails step 2 or 3 against the head
 * this node stored, and the node stops trusting it (KEYLOG_INCONSISTENT) until that is resolved.
 * A relay that shows one consistent history to this node and another to a second node is caught
 * when a head the other node verified arrives in its signed content (head-gossip.ts, `witness`):
 * the node then stops trusting the relay in the same way (KEYLOG_SPLIT_VIEW).
 */
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { EntraideError } from '../shared/errors.ts';
import type { IndexedLeaf } from '../shared/keys/authority-state.ts';
import { keyLogLeafHash } from '../shared/keys/key-log-leaf.ts';
import { headAgreement } from '../shared/keys/head-agreement.ts';
import { headRoot, verifyTreeHead } from '../shared/keys/tree-head.ts';
import { MerkleTree } from '../shared/merkle/memory-tree.ts';
import { verifyConsistency } from '../shared/merkle/verify-consistency.ts';
import { ConsistencyProof, KeyLogEntries, KeyLogLeaf, SignedTreeHead } from '../shared/protocol/key-log.ts';
import { check, isValid } from '../shared/protocol/validate.ts';
import { pinsNotInLog } from './pins-against-log.ts';
import type { RelayKeyRing } from './relay-keys.ts';
import { ownAuthorityAlarms } from './self-monitoring.ts';
import type { AlarmRecord, KeyLogHeadRecord, NodeStore } from './store/node-store.ts';

export type NewAlarm = Omit<AlarmRecord, 'id'>;

/** Alarms after which the node trusts none of the relay's keys until an officer resolves them. */
export const LOG_ALARMS = {
  'log-inconsistent': 'KEYLOG_INCONSISTENT',
  'keylog-split-view': 'KEYLOG_SPLIT_VIEW',
} as const;
type LogAlarm = keyof typeof LOG_ALARMS;

/** Where a gossiped head came from: the node whose signed content carried it, and that envelope. */
export interface HeadSource {
  sender: string;
  envelopeId: string;
}

/** What a head another node gossiped says of this node's copy of the same log. */
export type Witnessed =
  | { verdict: 'agrees' }
  /** Not signed by the relay (with any key it held at the head's time): the sender's doing. */
  | { verdict: 'not-signed'; why: string }
  | { verdict: 'split'; ours: SignedTreeHead; theirs: SignedTreeHead; why: string };

export interface MonitorIdentity {
  relay: string;
  /** The relay's keys: each head is checked against the one current at its timestamp. */
  relayKeys: RelayKeyRing;
  authority: string;
  node: string;
}

/** Reads a path of the relay's key-log API; the answer is checked here against its schema. */
type Fetch = (path: string) => Promise<unknown>;

export class KeyLogMonitor {
  private tree: MerkleTree | undefined;
  private leaves: KeyLogLeaf[] = [];
  private stored: KeyLogHeadRecord | null = null;
  private syncing: Promise<SignedTreeHead> | undefined;
  private lastSync = 0;
  private drops = 0;

  constructor(
    private readonly store: NodeStore,
    private readonly fetch: Fetch,
    private readonly me: MonitorIdentity,
    private readonly onAlarm: (a: NewAlarm) => void = () => undefined,
  ) {}

  private async load(): Promise<MerkleTree> {
    const drops = this.store.peerKeys.copyDrops(this.me.relay);
    if (this.tree && drops === this.drops) return this.tree;
    if (this.tree) {
      // An officer pinned the relay's key by hand, and the copy held was dropped: read it again under it.
      const pin = await this.store.peerKeys.get(this.me.relay);
      if (pin) this.me.relayKeys.repin(pin.publicKey);
      this.broken = undefined;
      this.lastSync = 0;
    }
    this.drops = drops;
    const rows = await this.store.keyLogLeaves(this.me.relay);
    this.stored = await this.store.keyLogHead(this.me.relay);
    const open = (await this.store.alarms()).find(
      (a) => Object.hasOwn(LOG_ALARMS, a.kind) && a.relay === this.me.relay && !a.resolvedAt,
    );
    if (open) this.broken = { code: LOG_ALARMS[open.kind as LogAlarm], message: open.message };
    const tree = new MerkleTree();
    this.leaves = [];
    for (const r of rows) {
      tree.append(fromBase64url(r.leafHash, 'leafHash', 32));
      this.leaves.push(JSON.parse(r.leaf) as KeyLogLeaf);
    }
    if (this.stored && (this.stored.size !== tree.size || this.stored.root !== toBase64url(tree.root()))) {
      throw new EntraideError('INTERNAL', 'the node’s copy of the key log does not match its stored head');
    }
    this.tree = tree;
    return tree;
  }

  /** The verified head this node holds, if any. */
  async head(): Promise<SignedTreeHead | null> {
    await this.load();
    return this.stored ? (JSON.parse(this.stored.head) as SignedTreeHead) : null;
  }

  get size(): number {
    return this.tree?.size ?? 0;
  }

  /** The relay whose log this is. */
  get relay(): string {
    return this.me.relay;
  }

  /** Every verified entry of one authority (of all, when none is named), in log order (call sync first). */
  entriesOf(authority: string | undefined, below = Number.MAX_SAFE_INTEGER): IndexedLeaf[] {
    const out: IndexedLeaf[] = [];
    this.leaves.forEach((leaf, index) => {
      if ((authority === undefined || leaf.authority === authority) && index < below)
        out.push({ index, leaf });
    });
    return out;
  }

  leafHashAt(index: number): Uint8Array | undefined {
    return this.tree && index < this.tree.size ? this.tree.node({ level: 0, index }) : undefined;
  }

  /** The root of the verified tree at an earlier size. */
  rootAt(size: number): Uint8Array {
    if (!this.tree || size > this.tree.size)
      throw new EntraideError('INTERNAL', `no verified tree of size ${size}`);
    return this.tree.root(size);
  }

  /** The next sync asks the relay, whatever the interval. */
  invalidate(): void {
    this.lastSync = 0;
  }

  /**
   * Once this node has caught the relay showing an inconsistent log, it stops trusting it: every
   * later use of keys fails until an officer resolves the alarm (`entraide keys check --resolve`).
   */
  private broken: { code: (typeof LOG_ALARMS)[LogAlarm]; message: string } | undefined;

  assertConsistent(): void {
    if (this.broken?.code === 'KEYLOG_SPLIT_VIEW') {
      throw new EntraideError(
        'KEYLOG_SPLIT_VIEW',
        `this node caught relay ${this.me.relay} showing another node a different key log and trusts none of its keys until an officer resolves it: ${this.broken.message}`,
      );
    }
    if (this.broken) {
      throw new EntraideError(
        'KEYLOG_INCONSISTENT',
        `this node caught the relay showing an inconsistent key log and trusts none of its keys until an officer resolves it: ${this.broken.message}`,
      );
    }
  }

  /**
   * The officer resolved the inconsistency or split view (after hearing from the relay operator):
   * trust the log again. The evidence of a split view stays (store.splitViews).
   */
  async resolve(): Promise<number> {
    let n = 0;
    for (const kind of Object.keys(LOG_ALARMS))
      n += await this.store.resolveAlarms(kind, this.me.relay, new Date());
    this.broken = undefined;
    this.invalidate();
    return n;
  }

  /** Brings the copy up to the relay's latest head; at most once per `minIntervalMs`. */
  async sync(minIntervalMs = 0): Promise<SignedTreeHead> {
    await this.load();
    this.assertConsistent();
    if (this.stored && Date.now() - this.lastSync < minIntervalMs) {
      return JSON.parse(this.stored.head) as SignedTreeHead;
    }
    this.syncing ??= this.doSync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Records the evidence, stops trusting the relay, and throws KEYLOG_INCONSISTENT. */
  async inconsistent(message: string, evidence: SignedTreeHead): Promise<never> {
    const alarm: NewAlarm = {
      raisedAt: new Date(),
      kind: 'log-inconsistent',
      relay: this.me.relay,
      authority: null,
      idx: evidence.size,
      message: `${message} (head served: size ${evidence.size}, root ${evidence.root}, signed ${evidence.timestamp})`,
      resolvedAt: null,
    };
    this.broken = { code: 'KEYLOG_INCONSISTENT', message };
    if (await this.store.addAlarm(alarm)) this.onAlarm(alarm);
    throw new EntraideError('KEYLOG_INCONSISTENT', message);
  }

  /**
   * Holds a head of this relay's key log that another node verified (gossiped in its signed
   * content) against this node's copy: both must be views of one append-only log. A smaller head
   * must be a prefix of the copy; one of the same size, the same tree; for a larger one the copy is
   * brought up to date first, and what it still lacks must be proven by the relay (a consistency
   * proof from the copy to the gossiped head). A relay that signed a larger log for the other node
   * cannot honestly refuse that proof. Nothing is recorded here: see `splitView`.
   * Throws what stops the check (the log distrusted already, a sync that fails, an unreachable
   * relay, a malformed answer): the head is then left unchecked.
   */
  async witness(theirs: SignedTreeHead): Promise<Witnessed> {
    await this.load();
    this.assertConsistent();
    const signed = () => {
      try {
        verifyTreeHead(theirs, { log: 'key', relay: this.me.relay, relayKey: this.me.relayKeys.keys });
        return null;
      } catch (err) {
        if (!(err instanceof EntraideError) || err.code !== 'PROOF_INVALID') throw err;
        return err.message;
      }
    };
    if (signed() !== null) {
      // Perhaps signed by a key the relay rolled over to since: its own head leads the ring there.
      await this.sync(0);
      const why = signed();
      if (why !== null) return { verdict: 'not-signed', why };
    }
    if (theirs.size > this.size) await this.sync(0);
    const tree = this.tree!;
    const copy = { size: tree.size, rootAt: (n: number) => tree.root(n) };
    let found = headAgreement(copy, theirs);
    if (found.verdict === 'needs-proof') {
      const proof = await this.proofFor(found.from, found.to);
      found = proof
        ? headAgreement(copy, theirs, proof)
        : {
            verdict: 'split',
            why: `after signing a log of size ${found.to}, the relay shows this node one of size ${found.from} and refuses to prove the rest`,
          };
    }
    if (found.verdict !== 'split' || !this.stored) return { verdict: 'agrees' };
    return { verdict: 'split', ours: JSON.parse(this.stored.head) as SignedTreeHead, theirs, why: found.why };
  }

  /** The relay's consistency proof between two sizes; null when it says it has no log that large. */
  private async proofFor(from: number, to: number): Promise<Uint8Array[] | null> {
    let answer: unknown;
    try {
      answer = await this.fetch(`/v1/keylog/consistency?from=${from}&to=${to}`);
    } catch (err) {
      if (err instanceof EntraideError && err.code === 'SCHEMA_INVALID') return null;
      throw err;
    }
    if (!isValid(ConsistencyProof, answer)) {
      throw new EntraideError(
        'RELAY_ANSWER_INVALID',
        'the relay answered a consistency proof request with something else',
      );
    }
    return answer.proof.map((p) => fromBase64url(p, 'proof', 32));
  }

  /**
   * Records a split view `witness` found (both signed heads, the node and envelope that carried the
   * other), raises KEYLOG_SPLIT_VIEW as an alarm, and stops trusting the relay until an officer
   * resolves it, as for an inconsistent log.
   */
  async splitView(found: Extract<Witnessed, { verdict: 'split' }>, source: HeadSource): Promise<void> {
    const { ours, theirs } = found;
    const head = (h: SignedTreeHead) => `size ${h.size}, root ${h.root}, signed ${h.timestamp}`;
    const message =
      `relay ${this.me.relay} showed this node a key log (${head(ours)}) and ${source.sender} another ` +
      `(${head(theirs)}; gossiped in envelope ${source.envelopeId}): they cannot both be true, ${found.why}. ` +
      `Nothing is sent to its authorities until an officer resolves it`;
    const raisedAt = new Date();
    const alarm: NewAlarm = {
      raisedAt,
      kind: 'keylog-split-view',
      relay: this.me.relay,
      authority: null,
      idx: theirs.size,
      message,
      resolvedAt: null,
    };
    this.broken = { code: 'KEYLOG_SPLIT_VIEW', message };
    const evidence = {
      raisedAt,
      relay: this.me.relay,
      sender: source.sender,
      envelopeId: source.envelopeId,
      ours: JSON.stringify(ours),
      theirs: JSON.stringify(theirs),
    };
    if (await this.store.addSplitView(evidence, alarm)) this.onAlarm(alarm);
  }

  private async doSync(): Promise<SignedTreeHead> {
    const tree = await this.load();
    const head = check(SignedTreeHead, await this.fetch('/v1/keylog/head'), 'key-log head');
    await this.me.relayKeys.verifyHead(head);
    const known = tree.size;

    if (head.size < known) {
      // An older head: it must be a prefix of what this node verified; the node keeps its own.
      if (toBase64url(tree.root(head.size)) !== head.root) {
        await this.inconsistent(
          `the relay signed a key log of size ${head.size} that is not a prefix of the one this node verified (size ${known})`,
          head,
        );
      }
      this.lastSync = Date.now();
      return JSON.parse(this.stored!.head) as SignedTreeHead;
    }
    if (this.stored && known > 0 && head.size > known) {
      const c = check(
        ConsistencyProof,
        await this.fetch(`/v1/keylog/consistency?from=${known}&to=${head.size}`),
        'consistency proof',
      );
      try {
        verifyConsistency(
          known,
          head.size,
          tree.root(),
          headRoot(head),
          c.proof.map((p) => fromBase64url(p, 'proof', 32)),
        );
      } catch {
        await this.inconsistent(
          `the relay's key log of size ${head.size} does not extend the one of size ${known} this node verified: it was rewritten or forked`,
          head,
        );
      }
    }
    if (head.size === known) {
      if (toBase64url(tree.root()) !== head.root) {
        await this.inconsistent(`the relay signed two different key logs of size ${known}: a fork`, head);
      }
      this.lastSync = Date.now();
      if (this.stored && this.stored.head !== JSON.stringify(head)) {
        await this.store.appendKeyLog(
          this.me.relay,
          [],
          { ...this.stored, head: JSON.stringify(head), verifiedAt: new Date() },
          [],
        );
        this.stored = { ...this.stored, head: JSON.stringify(head) };
      } else if (!this.stored) {
        const alarms = pinsNotInLog(this.me, await this.store.pins(), [], new Date());
        await this.commit([], [], head, head.size, alarms);
        for (const a of alarms) this.onAlarm(a);
      }
      return head;
    }

    // Download what is new and check that it leads exactly to the signed root.
    const fresh: KeyLogLeaf[] = [];
    const hashes: Uint8Array[] = [];
    while (known + fresh.length < head.size) {
      const start = known + fresh.length;
      const page = check(
        KeyLogEntries,
        await this.fetch(`/v1/keylog/entries?start=${start}&end=${head.size}`),
        'key-log entries',
      );
      if (page.entries.length === 0) break;
      for (const [i, e] of page.entries.entries()) {
        if (e.index !== start + i) {
          await this.inconsistent(`the relay sent key-log entry ${e.index} where ${start + i} was due`, head);
        }
        fresh.push(e.leaf);
        hashes.push(keyLogLeafHash(e.leaf));
      }
    }
    const candidate = MerkleTree.fromLeafHashes([...this.allHashes(tree), ...hashes]);
    if (candidate.size !== head.size || toBase64url(candidate.root()) !== head.root) {
      await this.inconsistent(
        `the key-log entries the relay sent do not hash to its signed head of size ${head.size}`,
        head,
      );
    }
    // Events before this node's first check are history it did not witness: only forgeries alarm there.
    const baseline = this.stored?.baseline ?? head.size;
    const alarms = await this.watch(known, fresh, baseline);
    // A log read from the start must show the master keys pinned for its authorities.
    if (!this.stored) alarms.push(...pinsNotInLog(this.me, await this.store.pins(), fresh, new Date()));
    await this.commit(fresh, hashes, head, baseline, alarms);
    this.tree = candidate;
    this.leaves.push(...fresh);
    this.lastSync = Date.now();
    for (const a of alarms) this.onAlarm(a);
    return head;
  }

  private *allHashes(tree: MerkleTree): Iterable<Uint8Array> {
    for (let i = 0; i < tree.size; i++) yield tree.node({ level: 0, index: i });
  }

  private async commit(
    fresh: KeyLogLeaf[],
    hashes: Uint8Array[],
    head: SignedTreeHead,
    baseline: number,
    alarms: NewAlarm[] = [],
  ): Promise<void> {
    const start = head.size - fresh.length;
    const record = {
      size: head.size,
      root: head.root,
      head: JSON.stringify(head),
      baseline,
      verifiedAt: new Date(),
    };
    await this.store.appendKeyLog(
      this.me.relay,
      fresh.map((leaf, i) => ({
        idx: start + i,
        authority: leaf.authority,
        leaf: JSON.stringify(leaf),
        leafHash: toBase64url(hashes[i]!),
      })),
      record,
      alarms,
    );
    this.stored = { relay: this.me.relay, ...record };
  }

  /** Self-monitoring of this node's own authority over the entries new in this check. */
  private async watch(known: number, fresh: KeyLogLeaf[], baseline: number): Promise<NewAlarm[]> {
    if (!fresh.some((l) => l.authority === this.me.authority)) return [];
    return ownAuthorityAlarms(this.me, {
      before: this.entriesOf(this.me.authority),
      start: known,
      fresh,
      baseline,
      published: await this.store.publishedHashes(),
      now: new Date(),
    });
  }
}
