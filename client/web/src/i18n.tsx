/**
 * The officer's language: UI strings (i18n/ui/<lang>.json, English as the fallback for any missing
 * key) merged with the codes catalogue (i18n/codes/<lang>.json: request types, statuses, grounds,
 * errors...). Each language's catalogues are separate chunks, fetched only when chosen.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { IntlProvider, useIntl } from 'react-intl';
import en from '../i18n/ui/en.json';

export const LOCALES = ['ar', 'zh', 'en', 'fr', 'ru', 'es', 'pt'] as const;
export type Locale = (typeof LOCALES)[number];

/** Each language's name in itself, for the picker (the same in every UI language). */
export const LOCALE_NAMES: Record<Locale, string> = {
  ar: 'العربية',
  zh: '中文',
  en: 'English',
  fr: 'Français',
  ru: 'Русский',
  es: 'Español',
  pt: 'Português',
};

type Catalogue = Record<string, string>;
type Loader = () => Promise<unknown>;

const uiLoaders: Record<string, Loader> = import.meta.glob(['../i18n/ui/*.json', '!../i18n/ui/en.json'], {
  import: 'default',
});
const codeLoaders: Record<string, Loader> = import.meta.glob('../i18n/codes/*.json', { import: 'default' });

const STORAGE_KEY = 'entraide.locale';

const isLocale = (v: unknown): v is Locale =>
  typeof v === 'string' && (LOCALES as readonly string[]).includes(v);

function initialLocale(): Locale {
  try {
    const kept = localStorage.getItem(STORAGE_KEY);
    if (isLocale(kept)) return kept;
  } catch {
    // storage refused (private mode): the browser's languages decide
  }
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLocale(base)) return base;
  }
  return 'en';
}

async function load(loaders: Record<string, Loader>, dir: string, locale: Locale): Promise<Catalogue> {
  const loader = loaders[`../i18n/${dir}/${locale}.json`];
  if (!loader) return {};
  try {
    const data = await loader();
    return data && typeof data === 'object' ? (data as Catalogue) : {};
  } catch {
    return {};
  }
}

export const dirOf = (locale: Locale): 'rtl' | 'ltr' => (locale === 'ar' ? 'rtl' : 'ltr');

interface LocaleState {
  locale: Locale;
  setLocale: (locale: Locale) => void;
}

const LocaleContext = createContext<LocaleState>({ locale: 'en', setLocale: () => undefined });
export const useLocale = (): LocaleState => useContext(LocaleContext);

export function LocaleProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [messages, setMessages] = useState<{ locale: Locale; catalogue: Catalogue } | null>(null);

  useEffect(() => {
    let live = true;
    void (async () => {
      const [ui, codes] = await Promise.all([
        locale === 'en' ? Promise.resolve({}) : load(uiLoaders, 'ui', locale),
        load(codeLoaders, 'codes', locale),
      ]);
      if (live) setMessages({ locale, catalogue: { ...(en as Catalogue), ...ui, ...codes } });
    })();
    document.documentElement.lang = locale;
    document.documentElement.dir = dirOf(locale);
    return () => {
      live = false;
    };
  }, [locale]);

  const setLocale = useCallback((next: Locale) => {
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // not kept: fine for this visit
    }
    setLocaleState(next);
  }, []);

  const state = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  // Until the chosen catalogue arrives, English keeps the page readable.
  const shown = messages ?? { locale: 'en' as Locale, catalogue: en as Catalogue };
  return (
    <LocaleContext.Provider value={state}>
      <IntlProvider
        locale={shown.locale}
        messages={shown.catalogue}
        defaultLocale="en"
        onError={(err) => {
          if (err.code === 'MISSING_TRANSLATION') return;
          console.warn(err.message);
        }}
      >
        {children}
      </IntlProvider>
    </LocaleContext.Provider>
  );
}

type Values = Record<string, string | number | boolean | null | undefined | Date>;

/** `t('inbox.title')`: a UI string of the catalogue. */
export function useT(): (id: string, values?: Values) => string {
  const intl = useIntl();
  return useCallback(
    (id: string, values?: Values) =>
      intl.formatMessage({ id, defaultMessage: (en as Catalogue)[id] ?? id }, values),
    [intl],
  );
}

/** A code read through the codes catalogue (`status.refused`); never shown raw: a missing one reads as words. */
export function useCode(): (kind: string, code: string | null | undefined) => string {
  const intl = useIntl();
  return useCallback(
    (kind: string, code: string | null | undefined) => {
      if (!code) return '';
      const id = `${kind}.${code}`;
      if (intl.messages[id] !== undefined) return intl.formatMessage({ id });
      const words = code.replace(/[_.]+/g, ' ').toLowerCase();
      return words.charAt(0).toUpperCase() + words.slice(1);
    },
    [intl],
  );
}

/** Dates in the officer's locale and time zone (Intl.DateTimeFormat through react-intl). */
export function useDates(): {
  dateTime: (iso: string | null | undefined) => string;
  date: (iso: string | null | undefined) => string;
} {
  const intl = useIntl();
  return useMemo(() => {
    const valid = (iso: string | null | undefined): Date | null => {
      if (!iso) return null;
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? null : d;
    };
    return {
      dateTime: (iso) => {
        const d = valid(iso);
        return d ? intl.formatDate(d, { dateStyle: 'medium', timeStyle: 'short' }) : '';
      },
      // A calendar day (YYYY-MM-DD) is a day, not an instant: format it in UTC so it does not shift.
      date: (iso) => {
        if (!iso) return '';
        const day = /^\d{4}-\d{2}-\d{2}$/.test(iso);
        const d = valid(day ? `${iso}T00:00:00Z` : iso);
        return d ? intl.formatDate(d, { dateStyle: 'medium', ...(day ? { timeZone: 'UTC' } : {}) }) : '';
      },
    };
  }, [intl]);
}

/** A completeness warning in the officer's language (`warning.<code>`), else as the node wrote it. */
export function useWarningText(): (w: { code: string; message: string }) => string {
  const intl = useIntl();
  return useCallback(
    (w: { code: string; message: string }) => {
      const id = `warning.${w.code}`;
      return intl.messages[id] !== undefined ? intl.formatMessage({ id }) : w.message;
    },
    [intl],
  );
}
