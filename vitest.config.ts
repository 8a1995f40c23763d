import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // The fast cpu kernels of the app's training worker, in the test files that load tfjs.
    setupFiles: ['test/vitest.setup.ts'],
  },
});
