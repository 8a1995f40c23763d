import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { disposeCnn } from './cnn';
import { gradCam } from './gradCam';
import { buildModel, type ModelName } from './models';
import { upsampleMap } from './gradCamMap.testutil';

beforeAll(async () => {
  // The fast cpu kernels come from test/vitest.setup.ts, as the worker registers them.
  await tf.setBackend('cpu');
});

/** Same as `compute`, checking it frees every tensor it makes (run once first so lazily made constants do not count). */
function noLeaks<T>(compute: () => T): T {
  compute();
  const before = tf.memory().numTensors;
  const result = compute();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('gradCam against a hand computation', () => {
  // Input 4x4x1 → Conv2D 2 filters 2x2 'valid' + ReLU (A: 3x3x2) → Flatten (18) → Dense (sigmoid 1 or softmax 3).
  // Every number is a multiple of 1/32, so float32 sums of them are exact and only a few roundings remain.
  const image = [
    [1, 7, 3, 0],
    [6, 2, 5, 4],
    [2, 5, 0, 8],
    [4, 1, 7, 2],
  ].map((row) => row.map((v) => v / 8));
  // kernel[di][dj][filter]
  const kernel = [
    [
      [1, -0.5],
      [-0.75, 0.75],
    ],
    [
      [0.5, 0.5],
      [0.25, -0.25],
    ],
  ];
  const convBias = [-0.5, 0.125];
  // Dense kernel [18, units], row-major; chosen so that every class's map has zeros and values strictly between 0 and 1.
  const weights = (units: number) => {
    const [m, a] = units === 1 ? [7, 2] : [3, 4];
    return Array.from({ length: 18 * units }, (_, i) => (((i * m + a) % 15) - 7) / 8);
  };
  const denseBias = (units: number) => Array.from({ length: units }, (_, u) => (u - 1) / 8);

  function tinyModel(units: number): tf.Sequential {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2, activation: 'relu' }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units, activation: units === 1 ? 'sigmoid' : 'softmax' }));
    model.layers[0].setWeights([tf.tensor4d(kernel.flat(2), [2, 2, 1, 2]), tf.tensor1d(convBias)]);
    model.layers[2].setWeights([tf.tensor2d(weights(units), [18, units]), tf.tensor1d(denseBias(units))]);
    return model;
  }

  /** A[i][j][k], the logits, and the Grad-CAM map of class c, in plain arithmetic. */
  function byHand(units: number, c: number): { map: number[]; probabilities: number[] } {
    const A: number[][][] = [];
    for (let i = 0; i < 3; i++) {
      A.push([]);
      for (let j = 0; j < 3; j++) {
        A[i].push(
          [0, 1].map((k) => {
            let s = convBias[k];
            for (let di = 0; di < 2; di++)
              for (let dj = 0; dj < 2; dj++) s += image[i + di][j + dj] * kernel[di][dj][k];
            return Math.max(0, s);
          }),
        );
      }
    }
    const W = weights(units);
    // Flatten of NHWC: feature (i * 3 + j) * 2 + k; the Dense kernel is [18, units].
    const logits = Array.from({ length: units }, (_, u) => {
      let z = denseBias(units)[u];
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) z += A[i][j][k] * W[((i * 3 + j) * 2 + k) * units + u];
      return z;
    });
    // dy^c / dA_k(i, j): y^c is linear in A, so the gradient is the Dense weight (negated for class 0 of a sigmoid: y^0 = -z).
    const dy = (i: number, j: number, k: number) => {
      const f = (i * 3 + j) * 2 + k;
      return units === 1 ? (c === 1 ? 1 : -1) * W[f] : W[f * units + c];
    };
    const alpha = [0, 1].map((k) => {
      let s = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += dy(i, j, k);
      return s / 9;
    });
    const cam: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) cam.push(Math.max(0, alpha[0] * A[i][j][0] + alpha[1] * A[i][j][1]));
    const max = Math.max(...cam);
    let probabilities: number[];
    if (units === 1) {
      const p = 1 / (1 + Math.exp(-logits[0]));
      probabilities = [1 - p, p];
    } else {
      const m = Math.max(...logits);
      const e = logits.map((z) => Math.exp(z - m));
      const total = e.reduce((x, y) => x + y, 0);
      probabilities = e.map((v) => v / total);
    }
    return { map: cam.map((v) => (max > 0 ? v / max : 0)), probabilities };
  }

  const input = () => tf.tensor4d(image.flat(), [1, 4, 4, 1]);

  for (const units of [1, 3]) {
    const numClasses = units === 1 ? 2 : 3;
    for (let c = 0; c < numClasses; c++) {
      it(`matches for a ${units === 1 ? 'sigmoid' : 'softmax'} output, class ${c}`, () => {
        const model = tinyModel(units);
        const x = input();
        const result = noLeaks(() => gradCam(model, x, c));
        const expected = byHand(units, c);
        expect(result.side).toBe(3);
        expect(result.numClasses).toBe(numClasses);
        expect(result.layer).toBe(model.layers[0].name);
        expect(Array.from(result.classes)).toEqual([c]);
        // Not a trivial map: some cells 0 (ReLU), some strictly between 0 and 1.
        expect(expected.map.filter((v) => v > 0 && v < 1).length).toBeGreaterThanOrEqual(2);
        expect(expected.map).toContain(0);
        expect(maxAbsDiff(result.maps, expected.map)).toBeLessThan(1e-6);
        expect(maxAbsDiff(result.scores, expected.probabilities)).toBeLessThan(1e-6);
        x.dispose();
        model.dispose();
      });
    }
  }

  it("explains the predicted class with 'predicted'", () => {
    for (const units of [1, 3]) {
      const model = tinyModel(units);
      const x = input();
      const { probabilities } = byHand(units, 0);
      const predicted = probabilities.indexOf(Math.max(...probabilities));
      const result = gradCam(model, x, 'predicted');
      expect(Array.from(result.classes)).toEqual([predicted]);
      expect(maxAbsDiff(result.maps, byHand(units, predicted).map)).toBeLessThan(1e-6);
      if (units === 1) {
        // A threshold above P(class 1) turns the decision to class 0.
        expect(gradCam(model, x, 'predicted', { threshold: probabilities[1] + 0.01 }).classes[0]).toBe(0);
        expect(gradCam(model, x, 'predicted', { threshold: probabilities[1] - 0.01 }).classes[0]).toBe(1);
      }
      x.dispose();
      model.dispose();
    }
  });

  it('gives an all-zero map when no location speaks for the class', () => {
    const model = tinyModel(1);
    // A negative Dense kernel everywhere: every alpha_k < 0 for class 1, A >= 0, so ReLU(sum_k alpha_k A_k) = 0.
    model.layers[2].setWeights([tf.fill([18, 1], -0.5), tf.zeros([1])]);
    const x = input();
    const result = gradCam(model, x, 1);
    expect(Array.from(result.maps)).toEqual(new Array(9).fill(0));
    expect(Math.max(...gradCam(model, x, 0).maps)).toBe(1);
    x.dispose();
    model.dispose();
  });

  it('refuses models it cannot explain and class indices out of range, saying why', () => {
    const dense = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 1, activation: 'sigmoid' })],
    });
    const x = input();
    expect(() => gradCam(dense, x, 1)).toThrow(/no convolution layer/);
    const linear = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    expect(() => gradCam(linear, x, 1)).toThrow(/sigmoid or softmax/);
    const model = tinyModel(1);
    expect(() => gradCam(model, x, 2)).toThrow(/from 0 to 1/);
    expect(() => gradCam(model, x, [0, 1])).toThrow(/2 class indices for 1 images/);
    const wrongSize = tf.zeros([1, 5, 5, 1]) as tf.Tensor4D;
    expect(() => gradCam(model, wrongSize, 1)).toThrow(/like the model's input/);
    [dense, linear, model].forEach((m) => m.dispose());
    [x, wrongSize].forEach((t) => t.dispose());
  });
});

/** `count` grey images of `size` px with values in 0..1, from a seed. */
function noiseImages(count: number, size: number, seed: number): tf.Tensor4D {
  const random = mulberry32(seed);
  return tf.tensor4d(
    Float32Array.from({ length: count * size * size }, () => random()),
    [count, size, size, 1],
  );
}

describe('gradCam on the app networks', () => {
  const SIZE = 40;
  for (const name of ['tutorial', 'batchnorm'] as ModelName[]) {
    for (const numClasses of [2, 3]) {
      it(`${name}, ${numClasses} classes: ${SIZE} px maps of side 3 in 0..1, the same every time and in any batch, no leaks`, () => {
        const model = buildModel(name, { imageSize: SIZE, numClasses, learningRate: 1e-3, seed: 7 });
        const images = noiseImages(6, SIZE, 3);
        const result = noLeaks(() => gradCam(model, images, 'predicted'));
        expect(result.side).toBe(3);
        expect(result.layer).toBe(name === 'tutorial' ? 'conv2d_4' : 're_lu_4');
        expect(result.maps).toHaveLength(6 * 9);
        expect(result.scores).toHaveLength(6 * numClasses);
        for (let i = 0; i < 6; i++) {
          const map = Array.from(result.maps.subarray(i * 9, (i + 1) * 9));
          expect(map.every((v) => v >= 0 && v <= 1)).toBe(true);
          expect([0, 1]).toContain(Math.max(...map));
        }
        expect(result.maps.some((v) => v > 0)).toBe(true);

        // The scores are the model's own in inference mode, and 'predicted' is their decision.
        const predicted = tf.tidy(() => model.predict(images) as tf.Tensor2D).dataSync();
        for (let i = 0; i < 6; i++) {
          const p =
            numClasses === 2
              ? [1 - predicted[i], predicted[i]]
              : Array.from(predicted.subarray(i * numClasses, (i + 1) * numClasses));
          expect(maxAbsDiff(result.scores.subarray(i * numClasses, (i + 1) * numClasses), p)).toBeLessThan(1e-5);
          expect(result.classes[i]).toBe(numClasses === 2 ? (p[1] >= 0.5 ? 1 : 0) : p.indexOf(Math.max(...p)));
        }

        // Deterministic despite Dropout (off) and BatchNormalization (moving statistics): twice, and one image alone.
        const again = gradCam(model, images, 'predicted');
        expect(Array.from(again.maps)).toEqual(Array.from(result.maps));
        const first = tf.slice(images, [2, 0, 0, 0], [1, SIZE, SIZE, 1]);
        const alone = gradCam(model, first, result.classes[2]);
        expect(maxAbsDiff(alone.maps, result.maps.subarray(2 * 9, 3 * 9))).toBeLessThan(1e-5);
        // One class for all, or one per image.
        const perImage = gradCam(model, images, Array.from(result.classes));
        expect(Array.from(perImage.maps)).toEqual(Array.from(result.maps));

        first.dispose();
        images.dispose();
        disposeCnn(model);
      });
    }
  }
});

describe('upsampleMap and heatmapRgba', () => {
  it('upsamples as tf.image.resizeBilinear with halfPixelCenters', () => {
    const random = mulberry32(11);
    for (const [side, outSide] of [
      [3, 40],
      [4, 48],
      [16, 150],
      [5, 5],
      [1, 7],
    ]) {
      const map = Float32Array.from({ length: side * side }, () => random());
      const expected = tf.tidy(() =>
        tf.image.resizeBilinear(tf.tensor3d(map, [side, side, 1]), [outSide, outSide], false, true).dataSync(),
      );
      expect(maxAbsDiff(upsampleMap(map, side, outSide), expected)).toBeLessThan(1e-6);
    }
  });
});
