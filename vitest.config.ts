import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: keep parallel files few so that end-to-end tests with real processes stay stable.
    maxWorkers: 2,
    setupFiles: ['test/support/setup.ts'],
  },
});
