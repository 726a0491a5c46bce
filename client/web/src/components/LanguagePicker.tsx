import { NativeSelect } from '@mantine/core';
import { LOCALE_NAMES, LOCALES, useLocale, useT, type Locale } from '../i18n.tsx';

export function LanguagePicker({ size = 'sm' }: { size?: 'xs' | 'sm' }) {
  const { locale, setLocale } = useLocale();
  const t = useT();
  return (
    <NativeSelect
      size={size}
      label={t('language.label')}
      data-testid="language-picker"
      value={locale}
      onChange={(e) => setLocale(e.currentTarget.value as Locale)}
      data={LOCALES.map((l) => ({ value: l, label: LOCALE_NAMES[l] }))}
    />
  );
}
