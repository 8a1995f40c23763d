/**
 * `npm run bench:smooth -- <zip> [--size 150] [--epochs 1] [--repeats 1] [--<URL key of a setting> value]…`
 *
 * Does the page stutter? (Issue 12: no main-thread task over 50 ms from drop to download.) Builds and serves the
 * app, and for each repeat opens a fresh headless Chromium page, drops the zip, trains with the app's defaults
 * (a stratified 15% of train held out as test when the zip has no test folder; anything else by its URL key), waits
 * for the results, and downloads the model (TensorFlow.js zip). Prints, for each phase (loading, training, results,
 * download), the count of main-thread tasks over 50 ms and the longest, then the long animation frames with the
 * scripts that ran in them (function and character offset in the built file; `--no-minify` builds readable names).
 */
import type { Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { serveBuiltApp } from './benchApp';
import { describeFrame, longFrames, longTasks, pageNow, recordLongTasks } from './longTasks';

const PHASES = ['loading', 'training', 'results', 'download'] as const;
type Phase = (typeof PHASES)[number];

function parseArgs(argv: string[]) {
  let zip: string | null = null;
  let repeats = 1;
  let minify = true;
  const query: Record<string, string> = { size: '150', epochs: '1', holdout: '15' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) zip = arg;
    else if (arg === '--no-minify') minify = false;
    else if (arg === '--repeats') repeats = Number(argv[++i]);
    else query[arg.slice(2)] = argv[++i];
  }
  if (!zip || !existsSync(zip))
    throw new Error(
      'Usage: npm run bench:smooth -- <zip> [--size 150] [--epochs 1] [--repeats 1] [--no-minify] [--<URL key> value]…',
    );
  return { zip: resolve(zip), repeats, minify, query };
}

async function waitForStatus(page: Page, wanted: string[]): Promise<void> {
  for (;;) {
    const status = (await page.getByTestId('status').innerText()).trim();
    if (wanted.includes(status)) return;
    if (status === 'error')
      throw new Error(
        `The app reported an error: ${await page
          .getByRole('alert')
          .innerText()
          .catch(() => '?')}`,
      );
    await page.waitForTimeout(250);
  }
}

async function runOnce(page: Page, baseUrl: string, zip: string, query: Record<string, string>): Promise<void> {
  await page.goto(`${baseUrl}/?${new URLSearchParams(query)}`);
  await waitForStatus(page, ['idle']);
  const from: Record<Phase, number> = { loading: 0, training: 0, results: 0, download: 0 };
  const seconds: Record<Phase, number> = { loading: 0, training: 0, results: 0, download: 0 };
  const begin = async (phase: Phase) => {
    from[phase] = await pageNow(page);
    seconds[phase] = Date.now();
  };
  await begin('loading');
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zip);
  await waitForStatus(page, ['ready']);
  await begin('training');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStatus(page, ['done', 'stopped']);
  await begin('results');
  // The intervals come in the worker's report a moment after the run ends; the gallery and predictions follow.
  await page
    .getByRole('table', { name: 'Test metrics' })
    .getByText(/95% intervals/)
    .waitFor({ timeout: 600_000 });
  await page.getByRole('figure', { name: 'Misclassified images' }).waitFor();
  await page.waitForTimeout(2000);
  await begin('download');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download model' }).click();
  await (await download).path();
  await page.waitForTimeout(1000);
  const end = await pageNow(page);
  const ends = Date.now();

  const tasks = await longTasks(page, from.loading);
  const all = await page.evaluate(() => (window as unknown as { __longTasks: [number, number][] }).__longTasks);
  for (const [i, phase] of PHASES.entries()) {
    const until = i + 1 < PHASES.length ? from[PHASES[i + 1]] : end;
    const inPhase = all.filter(([start]) => start >= from[phase] && start < until).map(([, d]) => Math.round(d));
    const wall = ((i + 1 < PHASES.length ? seconds[PHASES[i + 1]] : ends) - seconds[phase]) / 1000;
    console.log(
      `  ${phase.padEnd(8)} ${wall.toFixed(1).padStart(6)} s: ${inPhase.length} tasks over 50 ms${inPhase.length ? `, longest ${Math.max(...inPhase)} ms (${inPhase.join(', ')})` : ''}`,
    );
  }
  console.log(`  drop to download: ${tasks.length} tasks over 50 ms, longest ${Math.max(0, ...tasks)} ms`);
  const frames = await longFrames(page, from.loading);
  for (const frame of frames) {
    const phase = [...PHASES].reverse().find((p) => frame.start >= from[p]) ?? 'loading';
    console.log(`    [${phase}] ${describeFrame(frame)}`);
  }
}

const options = parseArgs(process.argv.slice(2));
const { baseUrl, browser, close } = await serveBuiltApp([], options.minify ? [] : ['--minify', 'false']);
try {
  console.log(
    `bench:smooth on ${options.zip}, ${Object.entries(options.query)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  for (let r = 1; r <= options.repeats; r++) {
    console.log(`run ${r}:`);
    const page = await browser.newPage({ acceptDownloads: true });
    page.setDefaultTimeout(600_000);
    await recordLongTasks(page);
    try {
      await runOnce(page, baseUrl, options.zip, options.query);
    } finally {
      await page.close();
    }
  }
} finally {
  await close();
}
