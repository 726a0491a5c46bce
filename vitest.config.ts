import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The tiers in the order their files start: end-to-end and adversarial files each take minutes
 * (real relays and CLI processes), so they start first and the short files fill in beside them;
 * started last, one of them would run alone at the end. Within a tier, vitest's own order: the
 * longest last time when it has timings in its cache, the largest file otherwise.
 */
const TIERS = ['/test/e2e/', '/test/adversarial/', '/test/integration/'];

function tierOf(spec: TestSpecification): number {
  const i = TIERS.findIndex((t) => spec.moduleId.includes(t));
  return i === -1 ? TIERS.length : i;
}

class SlowTiersFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((spec, index) => ({ spec, index }))
      .sort((a, b) => tierOf(a.spec) - tierOf(b.spec) || a.index - b.index)
      .map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: keep parallel files few so that end-to-end tests with real processes stay stable.
    maxWorkers: 2,
    setupFiles: ['test/support/setup.ts'],
    // One module graph per worker, not per file: each file still builds its own relays, nodes and
    // folders and closes them, and an environment variable a test sets is unstubbed after it.
    // Loading the relay, the node and Prisma again for each of some sixty files cost a third of
    // the suite's time.
    isolate: false,
    sequence: { sequencer: SlowTiersFirst },
  },
});
