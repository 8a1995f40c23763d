import { expect, test } from './fixtures';
import { MODEL_NAMES } from '../src/core/types';
import { kernelThreadsFor } from '../src/backends/native/threadCount';
import { expectAugmentedSamplesShown, expectStatus, metric, writeSyntheticZip } from './helpers';

/** Training on each backend the page can pick, and how `auto` picks one (WebGPU's own tests: e2e/webgpu.spec.ts). */
const SIZE = 32;

// Every model on every backend: a BatchNormalization layer needs kernels (and gradients) the tutorial's CNN does not.
for (const [backend, model] of (['webgl', 'wasm', 'cpu'] as const).flatMap((b) =>
  MODEL_NAMES.map((m) => [b, m] as const),
)) {
  test(`trains with the ${backend} backend forced, its tensor count flat across epochs (${model} model)`, async ({
    page,
  }) => {
    // patience=0: all three epochs run (with augmentation and class weights on, as by default). A small set (48
    // training images, 3 batches an epoch): the kernels, gradients and tensor counts are what is tested here, and
    // the demo set's 600 images made these six runs a large share of CI on software WebGL.
    const { zipPath } = await writeSyntheticZip(
      { seed: 31, perClass: { train: 24, val: 4, test: 4 }, imageSize: SIZE },
      'xray-backend-',
    );
    await page.goto(`/?size=${SIZE}&epochs=3&batch=16&patience=0&backend=${backend}&model=${model}`);
    await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
    await expectStatus(page, 'ready');
    await expectAugmentedSamplesShown(page);
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expectStatus(page, 'done', 180_000);
    await expect(page.getByTestId('backend')).toHaveText(backend);
    await expect(page.getByTestId('throughput')).toHaveText(/^\d+(\.\d+)? images\/s/);
    expect(await metric(page, 'Accuracy')).toBeGreaterThanOrEqual(0);
    if (backend === 'wasm') {
      // The preview server sends COOP/COEP, so the threaded SIMD build runs, a thread a logical core (native/threadCount.ts).
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      const cores = kernelThreadsFor(await page.evaluate(() => navigator.hardwareConcurrency));
      await expect(page.getByTestId('backend-note')).toHaveText(
        cores > 1 ? `WebAssembly runs on ${cores} threads.` : /WebAssembly runs on one thread/,
      );
    }
    const tensors = await page
      .getByRole('table', { name: 'Training history' })
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-tensors'))));
    expect(tensors).toHaveLength(3);
    expect(tensors[0]).toBeGreaterThan(0);
    expect(new Set(tensors).size, `tf.memory().numTensors after each epoch on ${backend}: ${tensors.join(', ')}`).toBe(
      1,
    );
  });
}

test('auto measures the backends and says which it picked', async ({ page }) => {
  await page.goto(`/?size=${SIZE}&epochs=1&batch=32`);
  await page.getByRole('button', { name: 'Try demo dataset' }).click();
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  // WebGL runs on SwiftShader here: once WebAssembly works, a software GPU is not timed (it could not win).
  await expect(page.getByText(/Auto picked wasm/)).toContainText(/webgl in software \(not timed\), wasm \d+ images\/s/);
  // This Chromium offers no WebGPU adapter (e2e/webgpu.spec.ts launches one that does): WebGPU is passed over at once.
  await expect(page.getByTestId('backend-note')).toContainText(
    /, webgpu unavailable \((the browser offers no WebGPU adapter|this browser has no WebGPU)/,
  );
});
