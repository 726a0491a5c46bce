/**
 * A directory answer's own proofs: every event it serves is the authority's, and is included in
 * the key log under the root of the answer's head. Whoever checks the answer also checks that head
 * (its signature, and for a node, that it matches the copy of the log the node verified).
 */
import { fromBase64url } from '../bytes.ts';
import { EntraideError } from '../errors.ts';
import { verifyInclusion } from '../merkle/verify-inclusion.ts';
import { DirectoryEntry } from '../protocol/key-log.ts';
import { check } from '../protocol/validate.ts';
import { keyLogLeafHash } from './key-log-leaf.ts';
import { headRoot } from './tree-head.ts';

/** Throws KEYLOG_INCONSISTENT for another authority's event, PROOF_INVALID for a bad proof. */
export function verifyDirectoryEvents(entry: DirectoryEntry): void {
  const root = headRoot(entry.head);
  for (const e of entry.events) {
    if (e.leaf.authority !== entry.authority) {
      throw new EntraideError(
        'KEYLOG_INCONSISTENT',
        `the directory answer for ${entry.authority} includes an event of ${e.leaf.authority}`,
      );
    }
    verifyInclusion(
      keyLogLeafHash(e.leaf),
      e.index,
      entry.head.size,
      e.proof.map((p) => fromBase64url(p, 'proof', 32)),
      root,
    );
  }
}

/** How often a directory read starts again because the log grew between two of its pages. */
const MAX_RESTARTS = 3;

/**
 * The whole directory answer of an authority, read page by page (`?after=<last index>`): every
 * page proven against one head. When the log grows between two pages (a key event meanwhile), the
 * read starts again, a few times at most. Each page is checked against the schema; indexes must
 * grow, or the relay is answering in circles (PROOF_INVALID).
 */
export async function collectDirectory(
  fetchPage: (query: string) => Promise<unknown>,
  what = 'directory entry',
): Promise<DirectoryEntry> {
  for (let attempt = 0; ; attempt++) {
    const first = check(DirectoryEntry, await fetchPage('?after=-1'), what);
    const events = [...first.events];
    let page = first;
    let restart = false;
    while (page.more) {
      const after = events.at(-1)?.index ?? -1;
      page = check(DirectoryEntry, await fetchPage(`?after=${after}`), what);
      if (page.head.size !== first.head.size || page.head.root !== first.head.root) {
        restart = true;
        break;
      }
      if (page.events.length === 0 || page.events[0]!.index <= after)
        throw new EntraideError('PROOF_INVALID', `the pages of the ${what} do not advance`);
      events.push(...page.events);
    }
    if (!restart) return { authority: first.authority, head: first.head, events };
    if (attempt + 1 >= MAX_RESTARTS)
      throw new EntraideError(
        'PROOF_INVALID',
        `the key log kept changing while the ${what} was read; try again`,
      );
  }
}
