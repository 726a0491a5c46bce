/**
 * A request says which language it is written in; its free-text fields must be written in that
 * language's script. Text pasted in the wrong script (a Russian summary in a request marked
 * Arabic) is sent back by the counterpart's translators, so it is refused before sending.
 * Names, numbers and acronyms may be in another script: a field is refused only when fewer than
 * half of its letters are in the expected script.
 */
import type { Language } from './vocabulary.ts';

const SCRIPTS: Record<Language, { name: string; re: RegExp }> = {
  ar: { name: 'Arabic', re: /\p{Script=Arabic}/u },
  zh: { name: 'Han (Chinese)', re: /\p{Script=Han}/u },
  ru: { name: 'Cyrillic', re: /\p{Script=Cyrillic}/u },
  en: { name: 'Latin', re: /\p{Script=Latin}/u },
  fr: { name: 'Latin', re: /\p{Script=Latin}/u },
  es: { name: 'Latin', re: /\p{Script=Latin}/u },
  pt: { name: 'Latin', re: /\p{Script=Latin}/u },
};

/** Fields shorter than this many letters are not judged (an acronym, a case number). */
const MIN_LETTERS = 4;

export function scriptName(language: Language): string {
  return SCRIPTS[language].name;
}

/** The share of `text`'s letters written in `language`'s script, or null when it has too few letters. */
export function scriptShare(text: string, language: Language): number | null {
  const { re } = SCRIPTS[language];
  let letters = 0;
  let matching = 0;
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    letters++;
    if (re.test(ch)) matching++;
  }
  return letters < MIN_LETTERS ? null : matching / letters;
}

export function inLanguageScript(text: string, language: Language): boolean {
  const share = scriptShare(text, language);
  return share === null || share >= 0.5;
}
