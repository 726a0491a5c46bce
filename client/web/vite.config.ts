import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = new URL('.', import.meta.url).pathname;

// The officers' web app: built into <repo>/dist/web, served by `entraide serve` at `/`.
export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: new URL('../../dist/web', import.meta.url).pathname,
    emptyOutDir: true,
    // No inline script or data: URL may run under the service's Content-Security-Policy.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // React, Mantine and react-intl make one ~200 KiB (gzip) chunk; the budget is 300 KiB.
    chunkSizeWarningLimit: 800,
  },
  server: { fs: { allow: [new URL('../..', import.meta.url).pathname] } },
});
