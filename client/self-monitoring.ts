/**
 * Self-monitoring (DESIGN: Keys; as CONIKS does): a node watches its own authority's entries in
 * the key log it verified. An event our keys did not make is an alarm (`forged-event`); a valid
 * event about this node that it never published means its identity key may be in other hands
 * (`own-key-unknown`); a valid event made by another node of the authority is a notice
 * (`made-elsewhere`). Events before the node's first check (`baseline`) are history it did not
 * witness: only forgeries alarm there. The monitor decides nothing else; it stores what this returns.
 */
import { replayAuthority, type IndexedLeaf } from '../shared/keys/authority-state.ts';
import { keyEventHash } from '../shared/keys/key-log-leaf.ts';
import type { KeyLogLeaf } from '../shared/protocol/key-log.ts';
import type { AlarmRecord } from './store/node-store.ts';

type NewAlarm = Omit<AlarmRecord, 'id'>;

export interface OwnAuthority {
  relay: string;
  authority: string;
  node: string;
}

export interface NewEntries {
  /** The authority's entries this node verified before this check. */
  before: IndexedLeaf[];
  /** The log index of `fresh[0]`. */
  start: number;
  /** Every entry new in this check (of any authority). */
  fresh: KeyLogLeaf[];
  baseline: number;
  /** Hashes of the key events this node published itself. */
  published: ReadonlySet<string>;
  now: Date;
}

/** The alarms and notices that the entries new in this check raise for this node's own authority. */
export function ownAuthorityAlarms(me: OwnAuthority, input: NewEntries): NewAlarm[] {
  const { start, fresh, baseline, published } = input;
  const all = [
    ...input.before,
    ...fresh.map((leaf, i) => ({ index: start + i, leaf })).filter((e) => e.leaf.authority === me.authority),
  ];
  const { history } = replayAuthority(all);
  const alarms: NewAlarm[] = [];
  for (const item of history) {
    if (item.index < start) continue;
    const leaf = fresh[item.index - start]!;
    const base = {
      raisedAt: input.now,
      relay: me.relay,
      authority: me.authority,
      idx: item.index,
      resolvedAt: null,
    };
    if (!item.accepted) {
      alarms.push({
        ...base,
        kind: 'forged-event',
        message: `the relay logged for ${me.authority}: ${item.summary}, which our keys did not make: ${item.reason}`,
      });
      continue;
    }
    if (item.index < baseline || published.has(keyEventHash(leaf.event))) continue;
    if (item.node === me.node) {
      alarms.push({
        ...base,
        kind: 'own-key-unknown',
        message: `the key log shows ${item.summary}, but this node never published it: its identity key may be compromised`,
      });
    } else {
      alarms.push({
        ...base,
        kind: 'made-elsewhere',
        message: `${item.summary} (made by another node of ${me.authority})`,
      });
    }
  }
  return alarms;
}
