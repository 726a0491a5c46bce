/**
 * The envelope formats this node speaks, and those each relay on the way accepts (DESIGN:
 * Versions). A node started with ENTRAIDE_FORMATS=1 (or the `formats` option) writes, reads and
 * publishes format 1 only, as a node that has not upgraded does.
 */
import { EntraideError } from '../shared/errors.ts';
import { formatsRead, parseFormats } from '../shared/protocol/formats.ts';
import type { EnvelopeFormat, RelayInfo } from '../shared/protocol/schemas.ts';

/** The formats given, else those ENTRAIDE_FORMATS names, else every format this code knows. */
export function nodeFormats(given?: readonly EnvelopeFormat[]): readonly EnvelopeFormat[] {
  return given ?? parseFormats(process.env.ENTRAIDE_FORMATS, 'ENTRAIDE_FORMATS');
}

/** A relay's advertised formats are read again after this long. */
const KNOWN_MS = 5 * 60_000;
/** A relay that could not be asked counts as reading format 1 only for this long. */
const UNKNOWN_MS = 30_000;

/**
 * What each relay says it accepts (GET /v1/relay for the home relay, the peer's own answer passed
 * through the home relay for the others), cached. A relay that cannot be asked counts as
 * format 1 only: conservative, since a relay that reads only format 1 refuses anything newer.
 */
export class RelayFormats {
  private readonly known = new Map<string, { formats: readonly number[]; until: number }>();

  constructor(
    private readonly homeDomain: string,
    private readonly ask: (domain: string, home: boolean) => Promise<RelayInfo>,
  ) {}

  async of(domain: string): Promise<readonly number[]> {
    const hit = this.known.get(domain);
    if (hit && hit.until > Date.now()) return hit.formats;
    try {
      const info = await this.ask(domain, domain === this.homeDomain);
      const formats = formatsRead(info.formats);
      this.known.set(domain, { formats, until: Date.now() + KNOWN_MS });
      return formats;
    } catch (err) {
      if (!(err instanceof EntraideError)) throw err;
      const formats = hit?.formats ?? [1];
      this.known.set(domain, { formats, until: Date.now() + UNKNOWN_MS });
      return formats;
    }
  }
}
