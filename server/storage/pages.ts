/**
 * Pages bounded in bytes as well as in count (DESIGN.md, "At the edge"): the inbox, the socket
 * catch-up and the federation outbox read envelope sizes first, decide where the page ends, and
 * only then read the bodies of that page, so that memory holds one page's bodies and no more.
 */

/** One row of a page as the first pass sees it: its position, and its envelope's size in bytes. */
export interface SizedRow {
  seq: number;
  size: number;
}

/**
 * The rows of `rows` (in order) that fit in `maxCount` rows and `maxBytes` bytes, counting each
 * row's size plus one byte for its separator; at least one row when there is any, however large,
 * so that an envelope larger than a page still goes. `more` says whether a row was left out. Stops
 * reading at the first row left out (a `for...of` break closes a better-sqlite3 iterator).
 * Preconditions: maxCount >= 1, maxBytes >= 0.
 */
export function takeWithin<R extends SizedRow>(
  rows: Iterable<R>,
  maxCount: number,
  maxBytes: number,
  skip?: (row: R) => boolean,
): { rows: R[]; bytes: number; more: boolean } {
  const taken: R[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (skip?.(row)) continue;
    const cost = row.size + 1;
    if (taken.length >= maxCount || (taken.length > 0 && bytes + cost > maxBytes)) {
      return { rows: taken, bytes, more: true };
    }
    taken.push(row);
    bytes += cost;
  }
  return { rows: taken, bytes, more: false };
}
