/**
 * A request says which language it is written in; its free-text fields must be written in that
 * language's script (languages.ts says which script, or scripts, each language uses). Text pasted
 * in the wrong script (a Russian summary in a request marked Arabic) is sent back by the
 * counterpart's translators, so it is refused before sending. Names, numbers and acronyms may be
 * in another script: a field is refused only when fewer than half of its letters are in the
 * expected scripts. A language the table does not know is not checked.
 */
import { scriptNames, scriptsOf } from './languages.ts';

/** Fields shorter than this many letters are not judged (an acronym, a case number). */
const MIN_LETTERS = 4;

const patterns = new Map<string, RegExp>();
function patternOf(language: string): RegExp | null {
  const scripts = scriptsOf(language);
  if (!scripts) return null;
  let re = patterns.get(language);
  if (!re) {
    re = new RegExp(scripts.map((s) => `\\p{Script=${s}}`).join('|'), 'u');
    patterns.set(language, re);
  }
  return re;
}

/** The name of `language`'s script(s), for messages ("Cyrillic or Latin"); "its" when unknown. */
export function scriptName(language: string): string {
  const scripts = scriptsOf(language);
  return scripts ? scriptNames(scripts) : 'its';
}

/** The share of `text`'s letters written in `language`'s script(s), or null when there are too few letters or the language is not in the table. */
export function scriptShare(text: string, language: string): number | null {
  const re = patternOf(language);
  if (!re) return null;
  let letters = 0;
  let matching = 0;
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    letters++;
    if (re.test(ch)) matching++;
  }
  return letters < MIN_LETTERS ? null : matching / letters;
}

export function inLanguageScript(text: string, language: string): boolean {
  const share = scriptShare(text, language);
  return share === null || share >= 0.5;
}
