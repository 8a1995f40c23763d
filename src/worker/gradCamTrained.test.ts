/**
 * Grad-CAM (model/gradCam.ts) on a network trained as the worker trains on a CPU, where only the left half of an image
 * decides its class: the map looks there.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import { mulberry32 } from '../core/random';
import { disposeCnn } from '../model/cnn';
import { gradCam } from '../model/gradCam';
import { buildModel } from '../model/models';
import { upsampleMap } from '../model/gradCamMap.testutil';

beforeAll(async () => {
  // The page's CPU path, as the worker's tests train on it: WebAssembly with our training kernels.
  await new WasmOnlyBackends().choose('wasm');
});

/**
 * Class 1 has a bright square somewhere in the LEFT half; class 0 has none there. Both classes get a
 * square of the same kind in the right half half of the time, so "is there a bright square" alone
 * does not decide the class (it is right 3 times in 4): only the left half does. Squares keep 5 px clear
 * of the middle so each lies plainly in its half.
 */
function leftHalfSet(
  count: number,
  size: number,
  seed: number,
): { xs: tf.Tensor4D; ys: tf.Tensor2D; labels: Uint8Array; distractor: Uint8Array } {
  const random = mulberry32(seed);
  const pixels = new Float32Array(count * size * size);
  const labels = new Uint8Array(count);
  const distractor = new Uint8Array(count);
  const square = Math.round(size / 6);
  const half = size / 2;
  const MARGIN = 5;
  const span = half - square - MARGIN - 1;
  for (let n = 0; n < count; n++) {
    const image = pixels.subarray(n * size * size, (n + 1) * size * size);
    for (let p = 0; p < image.length; p++) image[p] = random() * 0.25;
    const paint = (x0: number) => {
      const y0 = 1 + Math.floor(random() * (size - square - 2));
      for (let y = y0; y < y0 + square; y++)
        for (let x = x0; x < x0 + square; x++) image[y * size + x] = 0.75 + random() * 0.25;
    };
    labels[n] = random() < 0.5 ? 1 : 0;
    distractor[n] = random() < 0.5 ? 1 : 0;
    if (labels[n] === 1) paint(1 + Math.floor(random() * span));
    if (distractor[n] === 1) paint(half + MARGIN + Math.floor(random() * span));
  }
  return {
    xs: tf.tensor4d(pixels, [count, size, size, 1]),
    ys: tf.tensor2d(Float32Array.from(labels), [count, 1]),
    labels,
    distractor,
  };
}

/** Share of `map`'s heat (upsampled to the image, as the page shows it) in the left half of the image; 0 for an all-zero map. */
function leftShare(map: Float32Array, side: number, size: number): number {
  const full = upsampleMap(map, side, size);
  let left = 0;
  let total = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      total += full[y * size + x];
      if (x < size / 2) left += full[y * size + x];
    }
  }
  return total > 0 ? left / total : 0;
}

describe('gradCam on a trained network', () => {
  // 48 px: the last block's activation is 4x4, so the image's halves are whole columns of the map.
  // The tutorial CNN; Dropout seeded so the run repeats exactly. Over 6 seeds of this recipe the left share was
  // 76-89% (mean 83%).
  it('looks at the left half when only the left half decides the class', { timeout: 180_000 }, async () => {
    const SIZE = 48;
    const model = buildModel('tutorial', {
      imageSize: SIZE,
      numClasses: 2,
      learningRate: 1e-3,
      seed: 13,
      dropoutSeed: 14,
    });
    const train = leftHalfSet(256, SIZE, 51);
    const started = performance.now();
    const history = await model.fit(train.xs, train.ys, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0 });
    const seconds = (performance.now() - started) / 1000;
    const accuracy = history.history.acc as number[];

    const test = leftHalfSet(120, SIZE, 52);
    const result = gradCam(model, test.xs, 1);
    const predicted = gradCam(model, test.xs, 'predicted').classes;
    const testAccuracy = predicted.reduce((s, c, i) => s + (c === test.labels[i] ? 1 : 0), 0) / test.labels.length;
    const shares = { all: [] as number[], distractor: [] as number[], alone: [] as number[] };
    for (let n = 0; n < test.labels.length; n++) {
      if (test.labels[n] !== 1) continue;
      const share = leftShare(
        result.maps.subarray(n * result.side ** 2, (n + 1) * result.side ** 2),
        result.side,
        SIZE,
      );
      shares.all.push(share);
      (test.distractor[n] === 1 ? shares.distractor : shares.alone).push(share);
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const percent = (v: number) => `${(100 * v).toFixed(1)}%`;
    console.log(
      `Grad-CAM heat in the left half, class-1 test images: ${percent(mean(shares.all))} on average over ${shares.all.length} ` +
        `(${percent(mean(shares.alone))} on the ${shares.alone.length} without a right-half square, ${percent(mean(shares.distractor))} on the ` +
        `${shares.distractor.length} with one; lowest ${percent(Math.min(...shares.all))}). Training accuracy by epoch ` +
        `${accuracy.map((a) => a.toFixed(2)).join(', ')}; test accuracy ${testAccuracy.toFixed(2)}; fit ${seconds.toFixed(1)} s.`,
    );
    expect(accuracy[accuracy.length - 1]).toBeGreaterThan(0.9);
    expect(testAccuracy).toBeGreaterThan(0.9);
    expect(mean(shares.all)).toBeGreaterThanOrEqual(0.7);

    for (const t of [train.xs, train.ys, test.xs, test.ys]) t.dispose();
    disposeCnn(model);
  });
});
