import '@mantine/core/styles.css';
import './app.css';
import {
  DirectionProvider,
  MantineProvider,
  createTheme,
  useDirection,
  type CSSVariablesResolver,
} from '@mantine/core';
import { setNonce } from 'get-nonce';
import { StrictMode, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { dirOf, LocaleProvider, useLocale } from './i18n.tsx';

/** The per-page nonce the service writes into index.html, for the <style> tags Mantine adds. */
const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';
const getStyleNonce = () => nonce;
// Modals lock scrolling with a <style> of react-remove-scroll, which takes its nonce from get-nonce.
setNonce(nonce);

/**
 * Light and outline badges (verification state, receipts, statuses) a little darker than the darkest
 * shade: Mantine's default, and even shade 9 of orange or teal, falls under 4.5:1 on their pale
 * background (axe, test/e2e/web-officers.test.ts).
 */
const TINTED = [
  'orange',
  'teal',
  'red',
  'indigo',
  'gray',
  'green',
  'yellow',
  'blue',
  'grape',
  'cyan',
  'violet',
];
const tints = Object.fromEntries(
  TINTED.flatMap((c) => {
    const dark = `color-mix(in srgb, var(--mantine-color-${c}-9) 80%, #000)`;
    return [
      [`--mantine-color-${c}-light-color`, dark],
      [`--mantine-color-${c}-outline`, dark],
      [`--mantine-color-${c}-text`, dark],
    ];
  }),
);
/** Filled buttons in warning colours under white text: orange-8 and teal-8 give 3.6:1 and 3.4:1. */
const filled = Object.fromEntries(
  ['orange', 'teal'].flatMap((c) => [
    [`--mantine-color-${c}-filled`, `color-mix(in srgb, var(--mantine-color-${c}-9) 80%, #000)`],
    [`--mantine-color-${c}-filled-hover`, `color-mix(in srgb, var(--mantine-color-${c}-9) 65%, #000)`],
  ]),
);
const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    // Dimmed text dark enough for WCAG AA contrast (Mantine's gray-6 is 3.3:1 on white), and so
    // are fields' error messages (red-6 is 3.3:1).
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    ...tints,
    ...filled,
  },
  dark: {},
});

const theme = createTheme({
  primaryColor: 'indigo',
  // Darker shades and automatic text colour: filled buttons and badges meet WCAG AA contrast.
  primaryShade: { light: 8, dark: 6 },
  autoContrast: true,
  luminanceThreshold: 0.45,
  defaultRadius: 'sm',
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans Arabic", "Noto Sans SC", "Helvetica Neue", Arial, sans-serif',
  // Focus rings on keyboard focus only, always visible then.
  focusRing: 'auto',
});

/** Keeps Mantine's direction that of the chosen language (rtl for Arabic). */
function DirectionSync() {
  const { locale } = useLocale();
  const { setDirection } = useDirection();
  useEffect(() => setDirection(dirOf(locale)), [locale, setDirection]);
  return null;
}

function Providers() {
  const { locale } = useLocale();
  return (
    <DirectionProvider initialDirection={dirOf(locale)} detectDirection={false}>
      <DirectionSync />
      <MantineProvider
        theme={theme}
        getStyleNonce={getStyleNonce}
        cssVariablesResolver={cssVariablesResolver}
        defaultColorScheme="light"
      >
        <App />
      </MantineProvider>
    </DirectionProvider>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <LocaleProvider>
        <Providers />
      </LocaleProvider>
    </StrictMode>,
  );
