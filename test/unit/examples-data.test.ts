/**
 * examples/networks.json, the data the demo and the tests use: networks with unique ids, members
 * as ISO 3166-1 alpha-2 codes, working languages as ISO 639-1 codes; and the directory profiles
 * the demo publishes, each a valid ProfileDraft of the State its authority id names.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProfileDraft } from '../../shared/protocol/profile.ts';
import { check } from '../../shared/protocol/validate.ts';
import { completenessWarnings, validateDraft } from '../../shared/requests/completeness.ts';
import { ISO_639_1, isRequestLanguage } from '../../shared/requests/languages.ts';

interface Network {
  id: string;
  name: string;
  languages: string[];
  members: string[];
  note?: string;
}
const FILE = JSON.parse(readFileSync(new URL('../../examples/networks.json', import.meta.url), 'utf8')) as {
  about: string;
  networks: Network[];
  profiles: Record<string, unknown>;
};

/** Networks CTOC/COP/2018/10 names, with members drawn from each network's own membership. */
const ADDED = ['cncp', 'ejn', 'iberred', 'arin-wa'];
/** The authorities `entraide demo` enrols: the first two members of wacap, great-lakes and crimjust. */
const DEMO_AUTHORITIES = ['bj.moj', 'bf.moj', 'ao.moj', 'bi.moj', 'ar.moj', 'br.moj'];

describe('examples/networks.json', () => {
  it('gives every network a unique lower-case id and a name', () => {
    const ids = FILE.networks.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const n of FILE.networks) {
      expect(n.id).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(n.name.length).toBeGreaterThan(0);
    }
  });

  it('lists members as ISO 3166-1 alpha-2 codes, each once per network', () => {
    for (const n of FILE.networks) {
      for (const m of n.members) expect(m, `${n.id} member ${m}`).toMatch(/^[A-Z]{2}$/);
      expect(new Set(n.members).size, `${n.id} lists a member twice`).toBe(n.members.length);
    }
  });

  it('gives working languages as ISO 639-1 codes', () => {
    for (const n of FILE.networks) {
      expect(n.languages.length, n.id).toBeGreaterThan(0);
      for (const l of n.languages) expect(ISO_639_1, `${n.id} language ${l}`).toContain(l);
      expect(new Set(n.languages).size, n.id).toBe(n.languages.length);
    }
  });

  it('holds the networks the report names, with their members and languages', () => {
    const byId = new Map(FILE.networks.map((n) => [n.id, n]));
    for (const id of ADDED) {
      expect(byId.get(id)?.members.length, id).toBeGreaterThan(0);
      expect(FILE.about, id).toContain(id);
    }
    expect(byId.get('cncp')!.languages).toContain('en');
    expect(byId.get('ejn')!.languages).toEqual(expect.arrayContaining(['en', 'fr', 'de', 'es', 'it', 'pt']));
    expect(byId.get('ejn')!.members).toHaveLength(27);
    expect(byId.get('iberred')!.languages).toEqual(['es', 'pt']);
    expect(byId.get('iberred')!.members).toEqual(expect.arrayContaining(['AD', 'ES', 'PT', 'BR', 'MX']));
    expect(byId.get('arin-wa')!.languages).toEqual(['en', 'fr', 'pt']);
    // Every WACAP member listed is an ECOWAS State, so a member of ARIN-WA.
    expect(byId.get('arin-wa')!.members).toEqual(expect.arrayContaining(byId.get('wacap')!.members));
  });

  it('has a valid profile for each authority of the demo, of the State its id names', () => {
    expect(Object.keys(FILE.profiles)).toEqual(expect.arrayContaining(DEMO_AUTHORITIES));
    for (const [id, draft] of Object.entries(FILE.profiles)) {
      const profile = check(ProfileDraft, draft, `profiles["${id}"]`);
      expect(id).toMatch(/^[a-z]{2}\.[a-z0-9-]+$/);
      expect(profile.state, id).toBe(id.slice(0, 2).toUpperCase());
      // The demo fills in the node at run time; a guide never points at a real site.
      expect(profile.onCall?.node, id).toBeUndefined();
      if (profile.guide) expect(new URL(profile.guide).hostname, id).toMatch(/\.example$/);
      for (const l of profile.languages) expect(isRequestLanguage(l), `${id} language ${l}`).toBe(true);
    }
  });

  it('gives in examples/preservation-request.json a request a counterpart would not send back', () => {
    const draft = validateDraft(
      JSON.parse(readFileSync(new URL('../../examples/preservation-request.json', import.meta.url), 'utf8')),
      '2026-12-01',
    );
    expect(completenessWarnings('expedited_preservation', draft)).toEqual([]);
  });
});
