/**
 * `npm run bench:profile`: where a training step's time goes on the WebAssembly backend as the app runs it in the
 * page (cross-origin isolated: our native kernels on a thread a core), kernel by kernel. Serves a small page
 * (scripts/profile-page) with Vite's dev server, opens it in headless Chromium, and prints its report: step and
 * prediction times on random images, then each kernel's time in a profiled step (tf.profile), largest first.
 *
 * Options: --size 64  --batch 32  --models batchnorm,tutorial  --steps 15 (timed steps and predictions)  --calls (also every
 * kernel call of one step, with its input shapes)
 */
import { chromium } from '@playwright/test';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './benchApp';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    models: { type: 'string', default: 'batchnorm,tutorial' },
    steps: { type: 'string', default: '15' },
    calls: { type: 'boolean', default: false },
    batch: { type: 'string', default: '32' },
  },
});

const server = await createServer({ server: { host: '127.0.0.1', port: 0 }, logLevel: 'error' });
await server.listen();
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  const query = new URLSearchParams({
    size: values.size,
    models: values.models,
    steps: values.steps,
    batch: values.batch,
    ...(values.calls ? { calls: '1' } : {}),
  });
  const address = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5173/';
  await page.goto(`${address}scripts/profile-page/index.html?${query}`);
  await page.waitForFunction(() => (window as { profileResult?: string }).profileResult !== undefined, null, {
    timeout: 900_000,
  });
  const text = await page.evaluate(() => (window as { profileResult?: string }).profileResult ?? '');
  console.log(text);
  if (text.startsWith('error')) process.exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
