/**
 * The web app's message catalogues (client/web/i18n/<family>/<lang>.json), held to one standard:
 * every message is valid ICU as react-intl parses it (tags included), every language has the
 * keys of English and the same placeholders, plurals carry the categories the language needs
 * (CLDR, through Intl.PluralRules), and nothing is left empty or untranslated. The codes
 * catalogues must also label exactly the codes shared/ defines (codeKeys()).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isArgumentElement,
  isDateElement,
  isLiteralElement,
  isNumberElement,
  isPluralElement,
  isSelectElement,
  isTagElement,
  isTimeElement,
  parse,
  type MessageFormatElement,
} from '@formatjs/icu-messageformat-parser';
import { describe, expect, it } from 'vitest';
import { codeKey, codeKeys } from '../../client/web/i18n/code-keys.ts';
import { ERROR_CODES, type ErrorCode } from '../../shared/errors.ts';
import { RSVP_ANSWERS } from '../../shared/meetings/meeting.ts';
import { FLAGS } from '../../shared/requests/deadlines.ts';
import { RequestDraft } from '../../shared/requests/request.ts';
import { LANGUAGES } from '../../shared/requests/vocabulary.ts';

const I18N = resolve(dirname(fileURLToPath(import.meta.url)), '../../client/web/i18n');

/** Each family of catalogues and the languages it must have; English is always the reference. */
const FAMILIES: { name: string; required: readonly string[] }[] = [
  { name: 'codes', required: LANGUAGES },
  { name: 'ui', required: LANGUAGES },
];

/** Values a translation may keep as in English: names and codes, not words. */
const SAME_AS_ENGLISH_ALLOWED = new Set(['entraide', 'SHA-256', 'UTC', 'IANA', 'JSON', 'URL', 'TLS']);
/** Cognates ("extradition", "message" in French) are fine; more than a handful is a forgotten file. */
const MAX_SAME_AS_ENGLISH = 5;

type Catalogue = Record<string, string>;
interface Loaded {
  lang: string;
  file: string;
  catalogue: Catalogue;
  problem: string | null;
}

function load(family: string): Loaded[] {
  const dir = join(I18N, family);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const file = `${family}/${name}`;
      const lang = name.slice(0, -'.json'.length);
      try {
        const value: unknown = JSON.parse(readFileSync(join(dir, name), 'utf8'));
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          return { lang, file, catalogue: {}, problem: 'not a JSON object' };
        const notStrings = Object.entries(value).filter(([, v]) => typeof v !== 'string');
        if (notStrings.length > 0)
          return {
            lang,
            file,
            catalogue: {},
            problem: `values that are not strings: ${notStrings.map(([k]) => k).join(', ')}`,
          };
        return { lang, file, catalogue: value as Catalogue, problem: null };
      } catch (err) {
        return { lang, file, catalogue: {}, problem: `not valid JSON: ${(err as Error).message}` };
      }
    });
}

/** Parses as react-intl does by default (tags are elements); null with the reason if invalid. */
function tryParse(message: string): { ast: MessageFormatElement[] | null; error: string | null } {
  try {
    return { ast: parse(message), error: null };
  } catch (err) {
    return { ast: null, error: (err as Error).message };
  }
}

/** Calls `visit` on every element, nested ones (plural and select branches, tag content) too. */
function walk(ast: MessageFormatElement[], visit: (el: MessageFormatElement) => void): void {
  for (const el of ast) {
    visit(el);
    if (isPluralElement(el) || isSelectElement(el))
      for (const option of Object.values(el.options)) walk(option.value, visit);
    if (isTagElement(el)) walk(el.children, visit);
  }
}

/** The named arguments a message needs, tags written `<b>`: what the caller must pass in. */
function placeholders(ast: MessageFormatElement[]): string[] {
  const names = new Set<string>();
  walk(ast, (el) => {
    if (
      isArgumentElement(el) ||
      isNumberElement(el) ||
      isDateElement(el) ||
      isTimeElement(el) ||
      isSelectElement(el) ||
      isPluralElement(el)
    )
      names.add(el.value);
    if (isTagElement(el)) names.add(`<${el.value}>`);
  });
  return [...names].sort();
}

/** The plural categories each plural argument lacks in this language (`=0` does not count). */
function missingPluralCategories(lang: string, ast: MessageFormatElement[]): string[] {
  const missing: string[] = [];
  walk(ast, (el) => {
    if (!isPluralElement(el)) return;
    const rules = new Intl.PluralRules(lang, { type: el.pluralType ?? 'cardinal' });
    const needed = new Set([...rules.resolvedOptions().pluralCategories, 'other']);
    for (const category of needed)
      if (!(category in el.options)) missing.push(`{${el.value}} needs "${category}"`);
  });
  return missing;
}

/** The text of a message made of literals only (an ICU-escaped `'<code>'` is a literal). */
function literalText(ast: MessageFormatElement[]): string | null {
  return ast.every(isLiteralElement) ? ast.map((el) => el.value).join('') : null;
}

for (const family of FAMILIES) {
  const loaded = load(family.name);
  const english = loaded.find((c) => c.lang === 'en');
  const others = loaded.filter((c) => c.lang !== 'en');

  describe(`${family.name} catalogues`, () => {
    it.each(family.required.map((lang) => [lang]))(`has ${family.name}/%s.json`, (lang) => {
      const present = loaded.map((c) => c.lang);
      expect(present, `missing catalogue client/web/i18n/${family.name}/${lang}.json`).toContain(lang);
    });

    it('has an English catalogue, the reference, as soon as it has any', () => {
      if (loaded.length > 0)
        expect(english, `client/web/i18n/${family.name}/en.json is missing`).toBeDefined();
    });

    if (loaded.length === 0) return;

    describe.each(loaded.map((c) => [c.file, c] as const))('%s', (_file, c) => {
      it('is a flat object of strings', () => {
        expect(c.problem).toBeNull();
      });

      it('has no empty message', () => {
        const empty = Object.entries(c.catalogue).filter(([, v]) => v.trim() === '');
        expect(empty.map(([k]) => k)).toEqual([]);
      });

      it('has only messages that parse as ICU', () => {
        const invalid = Object.entries(c.catalogue)
          .map(([key, message]) => ({ key, error: tryParse(message).error }))
          .filter((r) => r.error !== null)
          .map((r) => `${r.key}: ${r.error}`);
        expect(invalid).toEqual([]);
      });

      it('gives each plural argument the categories of its language', () => {
        const faults = Object.entries(c.catalogue).flatMap(([key, message]) => {
          const { ast } = tryParse(message);
          return ast ? missingPluralCategories(c.lang, ast).map((m) => `${key}: ${m}`) : [];
        });
        expect(faults).toEqual([]);
      });
    });

    if (!english || others.length === 0) return;

    describe.each(others.map((c) => [c.file, c] as const))('%s against English', (_file, c) => {
      it('has exactly the keys of en.json', () => {
        const keys = Object.keys(c.catalogue);
        const reference = Object.keys(english.catalogue);
        expect({
          missing: reference.filter((k) => !(k in c.catalogue)),
          extra: keys.filter((k) => !(k in english.catalogue)),
        }).toEqual({ missing: [], extra: [] });
      });

      it('uses the same placeholders as English in each message', () => {
        const differ = Object.entries(c.catalogue).flatMap(([key, message]) => {
          const source = english.catalogue[key];
          const ours = tryParse(message).ast;
          const theirs = source === undefined ? null : tryParse(source).ast;
          if (!ours || !theirs) return [];
          const a = placeholders(ours).join(' ');
          const b = placeholders(theirs).join(' ');
          return a === b ? [] : [`${key}: ${a || '(none)'} where English has ${b || '(none)'}`];
        });
        expect(differ).toEqual([]);
      });

      it(`keeps at most ${MAX_SAME_AS_ENGLISH} messages identical to English`, () => {
        const same = Object.entries(c.catalogue)
          .filter(([key, value]) => english.catalogue[key] === value && !SAME_AS_ENGLISH_ALLOWED.has(value))
          .map(([key]) => key);
        expect(same.length, `identical to English: ${same.join(', ')}`).toBeLessThanOrEqual(
          MAX_SAME_AS_ENGLISH,
        );
      });
    });
  });
}

describe('codes catalogues and the codes of shared/', () => {
  const keys = codeKeys();
  const codes = load('codes');

  it('lists each key once, RSVP answers included (copied there as a type-checked list)', () => {
    expect(new Set(keys).size).toBe(keys.length);
    for (const answer of RSVP_ANSWERS) expect(keys).toContain(codeKey('rsvp', answer));
    expect(keys.filter((k) => k.startsWith('rsvp.'))).toHaveLength(RSVP_ANSWERS.length);
  });

  it.each(codes.map((c) => [c.file, c] as const))('%s labels every code and nothing else', (_file, c) => {
    const missing = keys.filter((k) => !(k in c.catalogue));
    const extra = Object.keys(c.catalogue).filter((k) => !keys.includes(k));
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  });

  it('English errorHint messages read exactly as the hints of shared/errors.ts', () => {
    const english = codes.find((c) => c.lang === 'en');
    expect(english, 'client/web/i18n/codes/en.json is missing').toBeDefined();
    const differ = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => {
      const message = english?.catalogue[codeKey('errorHint', code)];
      const ast = message === undefined ? null : tryParse(message).ast;
      return !ast || literalText(ast) !== ERROR_CODES[code].hint;
    });
    expect(differ).toEqual([]);
  });
});

describe('the request form: every field of the draft has a label', () => {
  /** Each property path of a JSON schema, array items folded ("persons.name"). */
  function paths(schema: { properties?: Record<string, unknown>; items?: unknown }, prefix = ''): string[] {
    const out: string[] = [];
    const node = schema as { properties?: Record<string, object>; items?: object; type?: string };
    if (node.items) return paths(node.items as typeof schema, prefix);
    for (const [key, sub] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.push(path, ...paths(sub as typeof schema, path));
    }
    return out;
  }
  const english = load('ui').find((c) => c.lang === 'en')!;

  it('labels each flag a request can carry', () => {
    expect(FLAGS.filter((f) => !(`flag.${f}` in english.catalogue))).toEqual([]);
  });

  it('labels each path of RequestDraft in ui/en.json (the other languages have the same keys)', () => {
    const missing = paths(RequestDraft).filter((p) => !(`field.${p}` in english.catalogue));
    expect(missing).toEqual([]);
  });
});
