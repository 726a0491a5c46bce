/**
 * The languages a request may be written in: any ISO 639 code (art. 18(14) lets each State say
 * which it accepts, so a CASC request may be in Uzbek or Georgian), and the scripts each is
 * written in, for the check that free text is in the request's language (script.ts).
 * - Two-letter codes must be ISO 639-1 codes (the table below); three-letter codes (ISO 639-2/3)
 *   are taken as given, since no table of them is kept here.
 * - A language absent from SCRIPTS is not checked: no script is guessed.
 * Names of languages are not kept here: a page names them in its own language with
 * Intl.DisplayNames, the CLI in English.
 */

/** ISO 639-1, every two-letter code in force. */
export const ISO_639_1 = (
  'aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ' +
  'ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ' +
  'ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi ' +
  'mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw ' +
  'sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ' +
  'ur uz ve vi vo wa wo xh yi yo za zh zu'
).split(' ');

/** A request language: an ISO 639-1 code, or an ISO 639-2/3 code of three letters. */
export const REQUEST_LANGUAGE_PATTERN = '^[a-z]{2,3}$';

export function isRequestLanguage(code: string): boolean {
  return /^[a-z]{3}$/.test(code) || ISO_639_1.includes(code);
}

/** Unicode scripts by name, as the `\p{Script=…}` property names them, with a name for people. */
const SCRIPT_NAMES = {
  Latin: 'Latin',
  Arabic: 'Arabic',
  Cyrillic: 'Cyrillic',
  Han: 'Han (Chinese)',
  Hiragana: 'Hiragana',
  Katakana: 'Katakana',
  Hangul: 'Hangul',
  Georgian: 'Georgian',
  Armenian: 'Armenian',
  Greek: 'Greek',
  Hebrew: 'Hebrew',
  Devanagari: 'Devanagari',
  Bengali: 'Bengali',
  Thai: 'Thai',
  Lao: 'Lao',
  Khmer: 'Khmer',
  Myanmar: 'Myanmar',
  Ethiopic: 'Ethiopic',
  Tamil: 'Tamil',
  Telugu: 'Telugu',
  Kannada: 'Kannada',
  Malayalam: 'Malayalam',
  Gujarati: 'Gujarati',
  Gurmukhi: 'Gurmukhi',
  Oriya: 'Oriya',
  Sinhala: 'Sinhala',
  Tibetan: 'Tibetan',
  Thaana: 'Thaana',
} as const;
export type Script = keyof typeof SCRIPT_NAMES;

const LATIN =
  'af ak ay az bm br bs ca ch co cs cy da de ee en eo es et eu ff fi fj fo fr fy ga gd gl gn ha hr ht hu ' +
  'id ig is it jv kg ki kl kr la lb lg ln lt lu lv mg mh mi ms mt na nb nd nl nn no nr ny oc om pl pt qu ' +
  'rm rn ro rw se sg sk sl sm sn so sq ss st su sv sw tk tl tn to tr ts tw ty ve vi wa wo xh yo za zu';

/** The scripts each language is written in; where several are in use, each counts. */
export const SCRIPTS: Record<string, readonly Script[]> = {
  ...Object.fromEntries(LATIN.split(' ').map((l) => [l, ['Latin']])),
  ...Object.fromEntries('ar fa ps sd ug ur'.split(' ').map((l) => [l, ['Arabic']])),
  ...Object.fromEntries(
    'av ba be bg ce cu cv kv ky mk mn os ru tg tt uk'.split(' ').map((l) => [l, ['Cyrillic']]),
  ),
  // Written in both: Uzbek, Kazakh and Serbian (and Kurdish in Latin and Arabic).
  ...Object.fromEntries('kk sr uz'.split(' ').map((l) => [l, ['Cyrillic', 'Latin']])),
  ku: ['Latin', 'Arabic'],
  zh: ['Han'],
  ja: ['Han', 'Hiragana', 'Katakana'],
  ko: ['Hangul', 'Han'],
  ka: ['Georgian'],
  hy: ['Armenian'],
  el: ['Greek'],
  he: ['Hebrew'],
  yi: ['Hebrew'],
  ...Object.fromEntries('hi mr ne sa'.split(' ').map((l) => [l, ['Devanagari']])),
  bn: ['Bengali'],
  as: ['Bengali'],
  th: ['Thai'],
  lo: ['Lao'],
  km: ['Khmer'],
  my: ['Myanmar'],
  am: ['Ethiopic'],
  ti: ['Ethiopic'],
  ta: ['Tamil'],
  te: ['Telugu'],
  kn: ['Kannada'],
  ml: ['Malayalam'],
  gu: ['Gujarati'],
  pa: ['Gurmukhi'],
  or: ['Oriya'],
  si: ['Sinhala'],
  bo: ['Tibetan'],
  dz: ['Tibetan'],
  dv: ['Thaana'],
};

/** The scripts of `language`, or null when the table does not know it (no check is made). */
export function scriptsOf(language: string): readonly Script[] | null {
  return SCRIPTS[language] ?? null;
}

export function scriptNames(scripts: readonly Script[]): string {
  return scripts.map((s) => SCRIPT_NAMES[s]).join(' or ');
}
