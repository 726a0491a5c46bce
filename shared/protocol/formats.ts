/**
 * Which envelope format to write (DESIGN: Versions). Nodes publish the formats they read with
 * their keys, relays advertise the formats they accept; a list that is absent means [1], and
 * numbers this code does not know are ignored (a newer peer may read formats we cannot write).
 */
import { EntraideError } from '../errors.ts';
import { ENVELOPE_FORMATS, type EnvelopeFormat } from './schemas.ts';

/** What a published or advertised list says, with absent meaning format 1 only. */
export function formatsRead(list: readonly number[] | undefined): readonly number[] {
  return list ?? [1];
}

/**
 * The highest format this code writes that every list contains. Every party reads format 1, the
 * format before lists existed, so the answer is never below 1.
 */
export function commonFormat(lists: readonly (readonly number[])[]): EnvelopeFormat {
  let best: EnvelopeFormat = 1;
  for (const f of ENVELOPE_FORMATS) if (lists.every((l) => l.includes(f)) && f > best) best = f;
  return best;
}

/**
 * The formats a node or relay speaks, from a setting such as ENTRAIDE_FORMATS="1" or "1,2"
 * (absent or empty: every format this code knows). A node set to [1] models one not upgraded yet.
 */
export function parseFormats(setting: string | undefined, what: string): EnvelopeFormat[] {
  if (setting === undefined || setting.trim() === '') return [...ENVELOPE_FORMATS];
  const out = new Set<EnvelopeFormat>();
  for (const part of setting.split(',')) {
    const n = Number(part.trim());
    if (!(ENVELOPE_FORMATS as readonly number[]).includes(n)) {
      throw new EntraideError(
        'USAGE',
        `${what}: ${part.trim() || '(empty)'} is not an envelope format this version writes (${ENVELOPE_FORMATS.join(', ')})`,
      );
    }
    out.add(n as EnvelopeFormat);
  }
  if (!out.has(1)) throw new EntraideError('USAGE', `${what}: every node and relay reads format 1`);
  return [...out].sort((a, b) => a - b);
}

/** What a node writes into its certificate or key statement: nothing when it reads format 1 only, as before lists existed. */
export function formatsToPublish(formats: readonly number[]): number[] | undefined {
  return formats.length === 1 && formats[0] === 1 ? undefined : [...formats];
}

/** True when two lists name the same formats, in any order. */
export function sameFormats(a: readonly number[], b: readonly number[]): boolean {
  const x = new Set(a);
  return x.size === new Set(b).size && b.every((f) => x.has(f));
}
