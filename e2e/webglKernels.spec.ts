import { expect, test } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import type { CheckResult } from './webgl-kernels/checks';

// Our WebGL kernels (src/backends/webglKernels.ts) against the cpu backend, in Chromium's WebGL: SwiftShader on a
// machine without a GPU, right for correctness only. The page (e2e/webgl-kernels) is served by Vite's dev server:
// a test page has no place in the app's build.
let server: ViteDevServer;

test.beforeAll(async () => {
  server = await createServer({ server: { host: '127.0.0.1', port: 0 }, logLevel: 'error' });
  await server.listen();
});

test.afterAll(async () => {
  await server?.close();
});

test("our WebGL filter gradient, Sum, BatchNorm and image gather kernels give the cpu backend's values", async ({
  page,
}) => {
  const address = server.resolvedUrls?.local[0];
  expect(address).toBeDefined();
  await page.goto(`${address}e2e/webgl-kernels/index.html`);
  await page.waitForFunction(() => (window as { checkResult?: unknown }).checkResult !== undefined, null, {
    timeout: 180_000,
  });
  const result = await page.evaluate(
    () => (window as unknown as { checkResult: CheckResult | { error: string } }).checkResult,
  );
  if ('error' in result) throw new Error(result.error);
  console.log(`WebGL renderer: ${result.renderer}`);
  for (const c of result.cases)
    console.log(`${c.name}: largest relative difference ${c.largest.toExponential(1)} (${c.where})`);
  expect(result.active).toBe(true);
  expect(result.cases).toHaveLength(11);
  // And a whole training step of each model, its BatchNormalization layers (ReLU fused) on our kernels.
  console.log(
    `${result.models.name}: largest relative difference ${result.models.largest.toExponential(1)} (${result.models.where})`,
  );
  result.cases.push(result.models);
  // The app's tolerance for a GPU backend's gradients (gradientCheck.ts): float32 summed in another order.
  for (const c of result.cases) expect(c.largest, `${c.name}, ${c.where}`).toBeLessThanOrEqual(1e-3);
  // A batch gathered from the split packed 3 bytes a float32 word: the cpu path's very floats, tensor counts flat.
  console.log(`gather from packed images: ${JSON.stringify(result.gather)}`);
  expect(result.gather.layouts).toEqual([
    { chunks: 4, unequal: 0, floats: 8 * 81 },
    { chunks: 1, unequal: 0, floats: 8 * 81 },
  ]);
  expect(new Set(result.gather.tensorsAfterBatches).size).toBe(1);
  // Evaluation from the resident split: the CPU batches' very scores and metrics; in larger batches, within 1e-6.
  console.log(`evaluation from resident images: ${JSON.stringify(result.evaluation)}`);
  expect(result.evaluation.residentBytes).toBeGreaterThan(0);
  expect(result.evaluation.unequal).toBe(0);
  expect(result.evaluation.sameMetrics).toBe(true);
  expect(result.evaluation.largerBatches).toBeLessThan(1e-6);
  // Every intermediate texture of ours freed, every tensor disposed.
  expect(result.leakedData).toBe(0);
  expect(result.leakedTensors).toBe(0);
});
