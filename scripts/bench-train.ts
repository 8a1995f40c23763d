/**
 * `npm run bench:train`: images per second of whole training steps in headless Chromium, through the real app
 * (worker, protocol, batches), for each backend at 64 and 150 px, batch 32; one table, ratio to the fastest.
 * Chromium is launched with --enable-unsafe-webgpu, so that WebGPU runs where the browser would not offer it by
 * default (headless Linux): on a machine with a GPU, WebGL and WebGPU side by side; without one, both run in
 * software (SwiftShader) and the table says so, for their figures then say nothing about a GPU.
 * Builds the app, serves it with `vite preview`, trains on the demo dataset and reads the page's own
 * throughput figure (a moving average that leaves out the first, warm-up batch).
 * Options: --sizes 64,150  --backends webgl,webgpu,wasm,cpu  --batches 4 (timed batches after warm-up)  --budget 240 (s per cell)
 *   --epoch-zip <zip> [--epoch-backends wasm] [--epoch-size 150]: also one whole epoch of that dataset per backend
 */
import type { Browser } from '@playwright/test';
import { serveBuiltApp, trainDemoOnPage } from './benchApp';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const sizes = (args.get('sizes') ?? '64,150').split(',').map(Number);
const backends = (args.get('backends') ?? 'webgl,webgpu,wasm,cpu').split(',');
const batches = Number(args.get('batches') ?? 4);
const budgetMs = Number(args.get('budget') ?? 240) * 1000;
const epochZip = args.get('epoch-zip');
const epochBackends = (args.get('epoch-backends') ?? 'wasm').split(',');
const epochSize = Number(args.get('epoch-size') ?? 150);

interface StepRow {
  backend: string;
  size: number;
  imagesPerSecond: number | null;
  used: string;
  batches: number;
  /** For a GPU backend: 'GPU', or the software that stood in for one (from the page's note); '' for CPU backends. */
  device: string;
}

interface EpochRow {
  backend: string;
  trainImages: number;
  batchesTimed: number;
  seconds: number;
}

/** Each backend at each size on the demo set: the page's own moving average after the warm-up batch. */
async function measureSteps(browser: Browser, baseUrl: string): Promise<StepRow[]> {
  const rows: StepRow[] = [];
  for (const size of sizes) {
    for (const backend of backends) {
      const result = await trainDemoOnPage(browser, baseUrl, { size, backend, batches, budgetMs });
      const device = deviceOf(result.used, result.note);
      rows.push({
        backend,
        size,
        imagesPerSecond: result.imagesPerSecond,
        used: result.used,
        batches: result.batches,
        device,
      });
      console.log(
        `${backend} ${size} px: ${result.text} (backend in use: ${result.used}${device ? ` on ${device}` : ''}, ${result.batches} batches)`,
      );
    }
  }
  return rows;
}

/** The app's note names software rendering ("drawn in software here (SwiftShader)", "runs in software here (…)"). */
function deviceOf(used: string, note: string): string {
  if (used !== 'webgl' && used !== 'webgpu') return '';
  const software = /in software here \(([^)]+)\)/.exec(note);
  return software ? `software (${software[1]})` : 'GPU';
}

/**
 * One full epoch of `zip`'s train split per backend, timed from the end of the first batch (after the
 * warm-up) to the end of the last, so the figure includes every batch's data preparation, shuffling and
 * the page's live updates, as a real run does.
 */
async function measureEpochs(browser: Browser, baseUrl: string, zip: string): Promise<EpochRow[]> {
  const rows: EpochRow[] = [];
  for (const backend of epochBackends) {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/?size=${epochSize}&epochs=1&batch=32&patience=0&backend=${backend}`);
    await page.getByLabel('Dataset', { exact: true }).setInputFiles(zip);
    await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout: 600_000 });
    await page.getByRole('button', { name: 'Train' }).click();
    const progress = page.getByRole('progressbar', { name: 'Training' });
    let first = 0;
    let total = 0;
    for (;;) {
      const done = Number((await progress.getAttribute('aria-valuenow').catch(() => null)) ?? 0);
      total = Number((await progress.getAttribute('aria-valuemax').catch(() => null)) ?? 0);
      if (done >= 1 && !first) first = Date.now();
      if (total > 0 && done >= total) break;
      await page.waitForTimeout(100);
    }
    const seconds = (Date.now() - first) / 1000;
    const trainImages = Number(
      /Training uses (\d+) images/.exec(await page.getByTestId('validation-source').innerText())?.[1] ?? 0,
    );
    rows.push({ backend, trainImages, batchesTimed: total - 1, seconds });
    await page.close();
  }
  return rows;
}

const { baseUrl, browser, close } = await serveBuiltApp(['--enable-unsafe-webgpu']);
let steps: StepRow[];
let epochs: EpochRow[] = [];
try {
  steps = await measureSteps(browser, baseUrl);
  if (epochZip) epochs = await measureEpochs(browser, baseUrl, epochZip);
} finally {
  await close();
}

console.log('\nTraining throughput, headless Chromium, batch 32 (moving average after the warm-up batch)');
console.log('backend | size | images/s | ms/step | vs fastest at this size | device');
console.log('--- | --- | --- | --- | --- | ---');
for (const row of steps) {
  const best = Math.max(
    ...steps.filter((r) => r.size === row.size && r.imagesPerSecond).map((r) => r.imagesPerSecond as number),
  );
  const ips = row.imagesPerSecond;
  console.log(
    `${row.backend}${row.used !== row.backend ? ` (ran ${row.used})` : ''} | ${row.size} | ${ips?.toFixed(1) ?? 'n/a'} | ${ips ? ((32 / ips) * 1000).toFixed(0) : 'n/a'} | ${ips ? `${(best / ips).toFixed(1)}x slower` : 'n/a'} | ${row.device || 'CPU'}`.replace(
      '1.0x slower',
      'fastest',
    ),
  );
}
const gpuRows = steps.filter((r) => r.device !== '');
if (gpuRows.length > 0 && gpuRows.every((r) => r.device !== 'GPU')) {
  console.log(
    '\nNo GPU here: WebGL and WebGPU ran in software, so WebGL against WebGPU on a real GPU is unmeasured by this run.',
  );
}
if (epochZip) {
  console.log(`\nWhole training epoch of ${epochZip} at ${epochSize} px, batch 32 (the app's defaults otherwise)`);
  console.log('backend | train images | batches timed | seconds | images/s');
  console.log('--- | --- | --- | --- | ---');
  // Every batch but the first (warm-up) is timed.
  for (const r of epochs)
    console.log(
      `${r.backend} | ${r.trainImages} | ${r.batchesTimed} | ${r.seconds.toFixed(1)} | ${((r.trainImages - 32) / r.seconds).toFixed(1)}`,
    );
}
