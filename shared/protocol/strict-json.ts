/**
 * What JSON.parse lets through and entraide does not: an object with the same key twice (parsers
 * disagree on which one wins, and a signature checked over one reading can be shown with another),
 * the keys `__proto__` and `constructor` (which reach an object's prototype once merged or
 * spread), and nesting deeper than any entraide message (a stack exhausted in a later recursive
 * walk). One pass over the text before it is parsed, iterative, jumping from quote to quote, so
 * that a megabyte of base64 costs a few native scans.
 */
import { EntraideError } from '../errors.ts';

/** No entraide body nests deeper than this (an envelope is 4 levels, a batch of them 6). */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);

/**
 * Throws INVALID_JSON if `text` has a duplicate key in one object, a `__proto__` or `constructor`
 * key, or nests deeper than `maxDepth`. Text that is not JSON at all is left to JSON.parse, which
 * reports it.
 */
export function checkJsonText(text: string, maxDepth = MAX_JSON_DEPTH): void {
  // One entry per open object (its keys so far) or array (null).
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i + 1);
      if (end < 0) return; // unterminated: not JSON, JSON.parse says so
      const keys = open.length > 0 ? open[open.length - 1] : null;
      if (expectKey && keys) {
        let key = text.slice(i + 1, end);
        if (key.includes('\\')) {
          try {
            key = JSON.parse(text.slice(i, end + 1)) as string;
          } catch {
            return;
          }
        }
        if (FORBIDDEN_KEYS.has(key))
          throw new EntraideError(
            'INVALID_JSON',
            `the body has a "${key}" key, which no entraide message has`,
          );
        if (keys.has(key))
          throw new EntraideError(
            'INVALID_JSON',
            `the body has the key "${printableKey(key)}" twice in one object`,
          );
        keys.add(key);
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (open.length >= maxDepth)
        throw new EntraideError('INVALID_JSON', `the body nests deeper than ${maxDepth} levels`);
      open.push(c === OPEN_OBJECT ? new Set() : null);
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = open.length > 0 && open[open.length - 1] !== null;
    } else if (c === COLON) {
      expectKey = false;
    }
    i++;
  }
}

/** The index of the quote that ends the string whose text starts at `from`, or -1. */
function closingQuote(text: string, from: number): number {
  let at = from;
  for (;;) {
    const q = text.indexOf('"', at);
    if (q < 0) return -1;
    let slashes = 0;
    while (q - 1 - slashes >= from && text.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q;
    at = q + 1;
  }
}

function printableKey(key: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  const clean = key.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

/** JSON.parse after checkJsonText. */
export function parseStrictJson(text: string): unknown {
  checkJsonText(text);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EntraideError('INVALID_JSON', 'the body is not well-formed JSON');
  }
}
