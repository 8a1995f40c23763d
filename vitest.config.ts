import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // Vitest's default is one worker fewer than the cores: a single worker on a 2-core CI box, which then idles a
    // core for the whole run (docs/benchmarks.md, "CI"). The main thread only collects results.
    maxWorkers: availableParallelism(),
    // The fast cpu kernels of the app's training worker, in the test files that load tfjs.
    setupFiles: ['test/vitest.setup.ts'],
  },
});
