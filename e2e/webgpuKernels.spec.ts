import { expect, test, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { CHROMIUM_LAUNCH } from './chromium';
import type { Difference } from './webgpuKernelCompare';
import type { checks } from './webgpuKernels.page';

// Our WebGPU kernels against the cpu backend, in Chromium's WebGPU (SwiftShader's, on the CPU, on a machine without
// a GPU: right for correctness, says nothing of speed). The checks run in a page of their own
// (webgpuKernels.page.ts, bundled here with esbuild), served by this spec, not the app: no training UI needed.
test.use({ launchOptions: { ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args, '--enable-unsafe-webgpu'] } });
test.describe.configure({ mode: 'serial' });

/** As the app's gradient trust check (gradientCheck.ts): float32 summed in another order differs by far less. */
const TOLERANCE = 1e-3;

const PAGE = '<!doctype html><title>WebGPU kernel checks</title><script src="checks.js"></script>';
type Checks = { kernelChecks: Record<string, () => Promise<Difference[]>> };

let page: Page;
/** The page's console errors and warnings (WebGPU validation errors among them) since the last check. */
const messages: string[] = [];

test.beforeAll(async ({ browser }) => {
  const bundle = await build({
    entryPoints: ['e2e/webgpuKernels.page.ts'],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  page = await browser.newPage();
  // A shader that fails to compile or a binding that fails leaves the output zero and says why only here.
  page.on('console', (message) => {
    const type = message.type();
    if (type === 'error' || type === 'warning') messages.push(`${type}: ${message.text()}`);
  });
  // 127.0.0.1 (the preview server's origin, never reached): a secure context, which WebGPU needs.
  await page.route('**/__webgpu-kernel-checks/**', (route) =>
    route.request().url().endsWith('.js')
      ? route.fulfill({ contentType: 'text/javascript', body: bundle.outputFiles[0].text })
      : route.fulfill({ contentType: 'text/html', body: PAGE }),
  );
  await page.goto('/__webgpu-kernel-checks/index.html');
  await page.evaluate(() => (window as unknown as { kernelChecksReady: Promise<void> }).kernelChecksReady);
});

test.afterAll(async () => {
  await page?.close();
});

async function run(name: keyof typeof checks): Promise<Difference[]> {
  const differences = await page.evaluate((check) => (window as unknown as Checks).kernelChecks[check](), name);
  for (const { what, difference } of differences) {
    console.log(`${name} ${what}: relative difference ${difference.toExponential(2)}`);
  }
  expect(messages.splice(0), 'WebGPU errors and warnings in the page').toEqual([]);
  return differences;
}

/** Every difference within the tolerance, and each case ran every one of our `programs`. */
function expectWithinTolerance(differences: Difference[], programs: string[]): void {
  expect(differences.length).toBeGreaterThan(0);
  for (const { what, difference, ran } of differences) {
    expect(difference, what).toBeLessThan(TOLERANCE);
    for (const program of programs) {
      expect(
        ran.some((key) => key.startsWith(program)),
        `${what} ran ${program}`,
      ).toBe(true);
    }
  }
}

test('our kernels are registered on SwiftShader WebGPU, and the filter gradient splits the first layer', async () => {
  type Setup = Awaited<ReturnType<typeof checks.setup>>;
  const setup = (await page.evaluate(() =>
    (window as unknown as { kernelChecks: typeof checks }).kernelChecks.setup(),
  )) as Setup;
  console.log(`WebGPU adapter: ${setup.adapter}; first layer at 150 px, batch 32: ${JSON.stringify(setup.plan)}`);
  expect(setup.registered).toBe(true);
  expect(setup.plan.runs).toBeGreaterThan(100);
});

test('Conv2DBackpropFilter (split reduction) matches the cpu backend', async () => {
  expectWithinTolerance(await run('conv2DBackpropFilter'), ['filterGradPartials', 'sumRuns']);
});

test('BatchNormalization in training (two-pass channel sums), with and without ReLU, matches the cpu', async () => {
  const programs = ['channelSums_batchNormStats', 'batchNormApply', 'channelSums_batchNormGradSums'];
  programs.push('batchNormGradApply');
  expectWithinTolerance(await run('batchNorm'), programs);
});

test('convolution + bias + ReLU and its gradient (ReluGradBias) match the cpu backend', async () => {
  expectWithinTolerance(await run('convBiasRelu'), ['reluMask', 'channelSums_reluGradBias', 'filterGradPartials']);
});

test("ReLU's gradient in one pass matches the cpu backend, also over 65,535 workgroups", async () => {
  expectWithinTolerance(await run('reluGrad'), ['reluMask']);
});

test('2x2 max pool and its gradient (one pass each), ties too, match the cpu; other pools fall back', async () => {
  expectWithinTolerance(await run('maxPool'), ['maxPool2x2', 'maxPool2x2Grad']);
  expectWithinTolerance(await run('maxPoolFallback'), []);
});

test("RMSprop's update (one dispatch a variable) matches tfjs' optimizer on the cpu backend", async () => {
  const differences = await run('rmsprop');
  expectWithinTolerance(differences, ['rmsprop']);
  for (const { ran } of differences) expect(ran.filter((key) => key.startsWith('rmsprop_'))).toEqual([]);
  const counts = (await page.evaluate(() =>
    (window as unknown as { kernelChecks: typeof checks }).kernelChecks.rmspropDispatches(),
  )) as Record<string, number>;
  console.log(`dispatches of ours in an RMSprop step of 4 variables; then profiled: ${JSON.stringify(counts)}`);
  expect(counts).toEqual({ rmsprop: 4, lastEqualsFirst: 1, profiled: 4, timedKernels: 1 });
  expect(messages.splice(0), 'WebGPU errors and warnings in the page').toEqual([]);
});

test('where our own dispatch cannot be recorded, the three-pass RMSprop matches the cpu backend', async () => {
  expectWithinTolerance(await run('rmspropFallback'), ['rmsprop_value', 'rmsprop_ms', 'rmsprop_mom']);
});

test("a training step of both models: every weight's gradient matches the cpu backend's", async () => {
  expectWithinTolerance(await run('trainingStep'), [
    'filterGradPartials',
    'channelSums_batchNormStats',
    'channelSums_reluGradBias',
    'maxPool2x2Grad',
  ]);
});

test('a batch gathered from the split packed on WebGPU is the very floats of the CPU path', async () => {
  const differences = await run('gatherPackedImages');
  expect(differences.map(({ what, difference }) => `${what}: ${difference}`)).toEqual([
    '4 chunks, floats unequal (a count, not relative): 0',
    '1 chunks, floats unequal (a count, not relative): 0',
  ]);
  expect(differences.map(({ ran }) => ran.filter((key) => key.startsWith('gatherPackedImages')))).toEqual([
    [expect.stringMatching(/^gatherPackedImages_4/)],
    [expect.stringMatching(/^gatherPackedImages_1/)],
  ]);
});

test("validation and test evaluation from the split resident on WebGPU: the CPU batches' very metrics", async () => {
  const match = await page.evaluate(() =>
    (window as unknown as { kernelChecks: typeof checks }).kernelChecks.evaluation(),
  );
  console.log(`evaluation from resident images: ${JSON.stringify(match)}`);
  expect(messages.splice(0), 'WebGPU errors and warnings in the page').toEqual([]);
  expect(match.residentBytes).toBeGreaterThan(0);
  expect(match.unequal).toBe(0);
  expect(match.sameMetrics).toBe(true);
  // Larger evaluation batches (where the GPU has room): the same per-image arithmetic, to float32 rounding.
  expect(match.largerBatches).toBeLessThan(1e-6);
});
