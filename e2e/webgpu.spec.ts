import { type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { CHROMIUM_LAUNCH } from './chromium';
import { expectAugmentedSamplesShown, expectStatus, metric, trainTwoEpochsOn, writeSyntheticZip } from './helpers';

// This file's Chromium alone gets a WebGPU adapter: --enable-unsafe-webgpu makes headless Chromium on Linux offer
// one (SwiftShader's, on the CPU, on a machine without a GPU). The other specs keep the plain launch, so their
// `auto` races as a browser without WebGPU would.
test.use({ launchOptions: { ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args, '--enable-unsafe-webgpu'] } });

// WebGPU in software is slow: tiny images, few of them.
const SIZE = 32;

/** Opens the app with `settings` (a query string) and loads a tiny generated dataset (16 training images). */
async function openWithTinyDataset(page: Page, settings: string): Promise<void> {
  const { zipPath } = await writeSyntheticZip(
    { seed: 21, perClass: { train: 8, val: 2, test: 2 }, imageSize: SIZE },
    'xray-webgpu-',
  );
  await page.goto(`/?size=${SIZE}&${settings}`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await expectAugmentedSamplesShown(page);
}

test("auto races WebGPU beside WebGL and WebAssembly; Backend WebGPU: gradients as the cpu backend's, trains to done, tensor count flat", async ({
  page,
}) => {
  await openWithTinyDataset(page, 'epochs=1&batch=8&patience=0');
  const train = page.getByRole('button', { name: 'Train', exact: true });
  const note = page.getByTestId('backend-note');

  // auto: every backend that starts is timed on this model; WebGPU is among them here.
  await train.click();
  await expectStatus(page, 'done', 120_000);
  // WebGL and WebGPU both run on SwiftShader here: a software GPU never wins, so with WebAssembly working they are
  // started (WebGPU's gradients checked) but not timed (probe.ts).
  await expect(note).toContainText(/^Auto picked wasm, the fastest here\./);
  await expect(note).toContainText(
    /webgl in software \(not timed\), wasm \d+ images\/s, webgpu in software \(not timed\); webgl and webgpu in software:/,
  );
  await expect(note).toContainText('; webgl and webgpu in software: never picked while another backend runs.');
  console.log(await note.innerText());

  // WebGPU chosen in the settings, three epochs in the same worker.
  await page.getByLabel('Backend').selectOption({ label: 'WebGPU' });
  await expect(page).toHaveURL(/[?&]backend=webgpu/);
  await page.getByLabel('Epochs', { exact: true }).fill('3');
  await train.click();
  await expectStatus(page, 'done', 120_000);
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(note).toContainText('WebGPU runs in software here (swiftshader)');
  // The worker trusted WebGPU only after a class-weighted training step of each model (tutorial with softmax,
  // batchnorm with sigmoid, Dropout on) gave the cpu backend's gradients; the note gives the largest relative difference.
  const text = await note.innerText();
  const measured =
    /WebGPU's gradients match the CPU backend's: largest relative difference (\S+) \(tolerance 1e-3\)\./.exec(text);
  expect(measured, text).not.toBeNull();
  const largest = Number(measured![1]);
  console.log(`WebGPU against cpu, largest relative difference of a gradient: ${largest}`);
  // The app allows 1e-3 (a real GPU may round differently, see gradientCheck.ts); SwiftShader computes in float32
  // as the cpu backend does, only summing in another order: 2.6e-6 measured here, so anything near 1e-4 is news.
  expect(largest).toBeLessThan(1e-4);
  await expect(page.getByTestId('throughput')).toHaveText(/^\d+(\.\d+)? images\/s/);
  expect(await metric(page, 'Accuracy')).toBeGreaterThanOrEqual(0);
  const history = page.getByRole('table', { name: 'Training history' }).locator('tbody tr');
  await expect(history).toHaveCount(3);
  const tensors = await history.evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-tensors'))));
  expect(tensors[0]).toBeGreaterThan(0);
  expect(new Set(tensors).size, `tf.memory().numTensors after each epoch on webgpu: ${tensors.join(', ')}`).toBe(1);
});

test('a WebGPU device lost mid-run: the run goes on by itself from its last finished epoch, on a fresh device', async ({
  page,
}) => {
  await openWithTinyDataset(page, 'epochs=4&batch=8&patience=0&backend=webgpu');
  const { worker, history } = await trainTwoEpochsOn(page, 'webgpu', 120_000);
  // As a driver reset would: the training worker's GPU device goes.
  type Device = { destroy(): void };
  type Engine = { _tfengine: { backendInstance: { device: Device } }; lostDevice?: Device };
  await worker.evaluate(() => {
    const global = globalThis as unknown as Engine;
    global.lostDevice = global._tfengine.backendInstance.device;
    global.lostDevice.destroy();
  });
  await expect(page.getByRole('alert')).toContainText('Training goes on from the last finished epoch', {
    timeout: 60_000,
  });
  await expectStatus(page, 'done', 120_000);
  await expect(history).toHaveCount(4);
  // The resumed run's backend: WebGPU again, on a fresh device in the same worker.
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  const fresh = await worker.evaluate(() => {
    const global = globalThis as unknown as Engine;
    return global.lostDevice !== undefined && global._tfengine.backendInstance.device !== global.lostDevice;
  });
  expect(fresh).toBe(true);
});
