import { availableParallelism } from 'node:os';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_LAUNCH } from './e2e/chromium';

/** The tag of tests that must have the machine to themselves (e2e/train.spec.ts' main-thread timing). */
const ALONE = /@alone/;

// E2E_PORT: two checkouts can run their e2e tests side by side.
const port = Number(process.env.E2E_PORT ?? 4173);

/** E2E tests drive the built app (vite preview) in Debian's Chromium, by role and accessible name. */
export default defineConfig({
  testDir: 'e2e',
  // Training runs on SwiftShader (a CPU rasteriser) here: generous limits. Two tests at a time on 2 cores finish the
  // suite in about 0.7 of the time of one at a time (docs/benchmarks.md, "CI"); at most 4 on a larger machine.
  timeout: 240_000,
  expect: { timeout: 60_000 },
  workers: Math.max(1, Math.min(4, availableParallelism())),
  // Tests, not files, are shared out: a file's long tests at the end of the queue would otherwise run one after
  // another on one worker while the others idle (docs/benchmarks.md, "CI"). Files that share a page keep their order.
  fullyParallel: true,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: '.cache/playwright.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    acceptDownloads: true,
    launchOptions: CHROMIUM_LAUNCH,
    // Each test's fresh context would install the service worker, which precaches the whole build (~11 MB) while
    // the test runs; only e2e/offline.spec.ts needs it (it allows it again).
    serviceWorkers: 'block',
  },
  projects: [
    { name: 'e2e', grepInvert: ALONE },
    // Tests that time the page's main thread run after the others, by themselves: a second test's training on the
    // same two cores would lengthen the page's tasks, not the page's code.
    { name: 'alone', grep: ALONE, dependencies: ['e2e'] },
  ],
  webServer: {
    command: `npx vite preview --port ${port} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
