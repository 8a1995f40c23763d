/**
 * `npm run bench:gpu`: the app on the GPU, as issue 22's table. Two parts, in headless Chromium launched with
 * --enable-unsafe-webgpu (WebGPU on headless Linux) and Dawn's timestamp queries (tf.profile's kernel times):
 *   1. Kernels: for each backend, tf.profile's kernels of one training step of the model (weightedTrainStep, the
 *      app's step, on random images), with the step's own time, in a page of its own (scripts/profile-page,
 *      gpuProfile.worker.ts, served by Vite's dev server). WebGPU also with tfjs' shipped kernels (--shipped), for
 *      before and after.
 *   2. The page: per backend and image size, the app's own `throughput` figure (the built app, demo dataset,
 *      Train, batch 32), and which backend `auto` picks.
 * Each line says whether the GPU is real or software (SwiftShader, llvmpipe…): software figures say nothing
 * about a GPU. Options: --sizes 64,150  --backends webgpu,webgl,wasm,auto  --model batchnorm  --batches 4 (timed
 * batches a cell)  --budget 240 (s a cell)  --profile-size 64  --profile-batch 32  --shipped  --no-page  --no-profile
 */
import { chromium } from '@playwright/test';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH, serveBuiltApp, trainDemoOnPage } from './benchApp';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '64,150' },
    backends: { type: 'string', default: 'webgpu,webgl,wasm,auto' },
    model: { type: 'string', default: 'batchnorm' },
    batches: { type: 'string', default: '4' },
    budget: { type: 'string', default: '240' },
    'profile-size': { type: 'string' },
    'profile-batch': { type: 'string', default: '32' },
    shipped: { type: 'boolean', default: false },
    'no-page': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
  },
});
const sizes = values.sizes.split(',').map(Number);
const backends = values.backends.split(',');
const GPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-dawn-features=allow_unsafe_apis'];

/** Part 1: each backend's kernels of one step, in the profiling page. */
async function profileKernels(): Promise<void> {
  const server = await createServer({ server: { host: '127.0.0.1', port: 0 }, logLevel: 'error' });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...GPU_FLAGS] });
  try {
    const address = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5173/';
    const runs = backends
      .filter((b) => b !== 'auto')
      .flatMap((backend) =>
        (backend === 'webgpu' && values.shipped ? ['1', '0'] : ['0']).map((shipped) => [backend, shipped]),
      );
    const size = values['profile-size'] ?? String(sizes[0]);
    const timeout = Number(values.budget) * 1000 * 4;
    for (const [backend, shipped] of runs) {
      const page = await browser.newPage();
      try {
        const batch = values['profile-batch'];
        const query = new URLSearchParams({ worker: 'gpu', backend, shipped, size, batch, model: values.model });
        await page.goto(`${address}scripts/profile-page/index.html?${query}`);
        const answered = () => (window as { profileResult?: string }).profileResult !== undefined;
        await page.waitForFunction(answered, null, { timeout });
        console.log(await page.evaluate(() => (window as { profileResult?: string }).profileResult ?? ''));
      } catch (error) {
        console.log(`${backend}: no profile (${firstLine(error)})`);
      } finally {
        await page.close();
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0] : String(error));

/** The app's note names software GPUs ("in software here (swiftshader)"). */
function deviceOf(used: string, note: string): string {
  if (used !== 'webgl' && used !== 'webgpu') return 'CPU';
  const software = /in software here \(([^)]+)\)/.exec(note);
  return software ? `SOFTWARE GPU (${software[1]})` : 'GPU';
}

/** Part 2: the page's own throughput figure per backend and size. */
async function measurePage(): Promise<void> {
  const app = await serveBuiltApp(GPU_FLAGS);
  const rows: string[][] = [];
  try {
    for (const size of sizes) {
      for (const backend of backends) {
        const batches = Number(values.batches);
        const options = { size, backend, model: values.model, batches, budgetMs: Number(values.budget) * 1000 };
        // Once more on failure: a software GPU may still be busy with the previous page's queued work.
        const result = await trainDemoOnPage(app.browser, app.baseUrl, options)
          .catch(() => trainDemoOnPage(app.browser, app.baseUrl, options))
          .catch((error: unknown) => {
            const message = firstLine(error);
            rows.push([backend, `${size} px`, `n/a (${message})`, '-']);
            console.log(`${backend} ${size} px: failed (${message})`);
            return null;
          });
        if (result === null) continue;
        const figure = result.imagesPerSecond?.toFixed(1) ?? `n/a (${result.batches} batches in the budget)`;
        const fellBack = result.used !== backend ? ` (fell back to ${result.used})` : '';
        const picked = backend === 'auto' ? ` (picked ${result.used})` : fellBack;
        rows.push([backend, `${size} px`, `${figure}${picked}`, deviceOf(result.used, result.note)]);
        console.log(`${backend} ${size} px: ${result.text}${picked}, ${deviceOf(result.used, result.note)}`);
      }
    }
  } finally {
    await app.close();
  }
  console.log(`\nThe page's throughput (images/s), ${values.model}, batch 32, demo dataset:`);
  console.log('| backend | size | images/s | device |\n| --- | --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  if (rows.some((row) => row[3].startsWith('SOFTWARE'))) {
    console.log('Software GPU: the GPU rows ran on the CPU (emulated); they say nothing about speed on a GPU.');
  }
}

if (!values['no-profile']) await profileKernels();
if (!values['no-page']) await measurePage();
