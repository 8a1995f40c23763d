/**
 * Our native WASM kernels (training.c) against tfjs' cpu backend as shipped: the max-pool gradient
 * exactly, the BatchNormalization layer in training (output, moving statistics and every gradient)
 * to 1e-5, and training steps of the BatchNorm CNN; plus the module's safety in tfjs' heap.
 * Node runs tfjs-backend-wasm's single-threaded SIMD build, whose heap is an ordinary memory (training.wasm).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchNormalization, reLU } from '../../model/batchNormLayer';
import { hasBatchNormTrainingKernels } from '../../model/batchNormTraining';
import { convBiasRelu, hasConvBiasRelu } from '../../model/convBiasRelu';
import { buildModel } from '../../model/models';
import { rmsprop } from '../../model/rmsprop';
import { on, values } from '../backendCompare.testutil';
import { unregisterFastCpuKernels } from '../cpuKernels';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../wasmKernels';
import { problemOfKernelsModule } from './moduleCheck';
import { nativeKernelsFor } from './nativeKernels';
import { nativeBytesFromDisk, startNativeKernels, stopNativeKernels } from './register';

const here = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const fromDisk = nativeBytesFromDisk((url) => readFile(url));

/** Max |actual − expected| over max |expected|. */
function relativeError(actual: Float32Array, expected: Float32Array | Float64Array): number {
  expect(actual.length).toBe(expected.length);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? maxAbs : maxAbs / scale;
}

/** tfjs' Conv2DBackpropFilter of a stride-1 unpadded NHWC convolution (not in tfjs' public ops). */
function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number]): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape },
    ) as tf.Tensor;
}

/** y and dx (for upstream gradient dy) of batch normalisation in training, in float64: the exact reference. */
function batchNormInFloat64(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  dy: Float32Array,
  c: number,
  eps: number,
): Float64Array[] {
  const n = x.length / c;
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  for (let k = 0; k < c; k++) {
    let mean = 0;
    for (let p = 0; p < n; p++) mean += x[p * c + k] / n;
    let variance = 0;
    for (let p = 0; p < n; p++) variance += (x[p * c + k] - mean) ** 2 / n;
    const sd = Math.sqrt(variance + eps);
    let meanDy = 0;
    let meanDyHat = 0;
    for (let p = 0; p < n; p++) {
      const hat = (x[p * c + k] - mean) / sd;
      y[p * c + k] = gamma[k] * hat + beta[k];
      meanDy += dy[p * c + k] / n;
      meanDyHat += (dy[p * c + k] * hat) / n;
    }
    for (let p = 0; p < n; p++) {
      const hat = (x[p * c + k] - mean) / sd;
      dx[p * c + k] = (gamma[k] / sd) * (dy[p * c + k] - meanDy - hat * meanDyHat);
    }
  }
  return [y, dx];
}

beforeAll(async () => {
  unregisterFastCpuKernels(); // the reference is the cpu backend as shipped
  expect(await tf.setBackend('wasm')).toBe(true);
  registerWasmTrainingKernels();
  expect(await startNativeKernels(tf.findBackend('wasm') as BackendWasm, fromDisk)).toBeNull();
  await tf.setBackend('cpu');
});

afterAll(() => {
  stopNativeKernels();
  unregisterWasmTrainingKernels();
});

describe('the compiled modules', () => {
  it.each(['training.wasm', 'training-shared.wasm'])(
    '%s imports only tfjs’ memory and writes nothing of its own into it',
    (file) => {
      expect(problemOfKernelsModule(readFileSync(here(file)))).toBeNull();
    },
  );

  it('load into the WASM backend’s heap and register the BatchNormalization kernels there only', async () => {
    expect(nativeKernelsFor(tf.findBackend('wasm') as BackendWasm)).not.toBeNull();
    await tf.setBackend('wasm');
    expect(hasBatchNormTrainingKernels()).toBe(true);
    await tf.setBackend('cpu');
    expect(hasBatchNormTrainingKernels()).toBe(false);
  });

  const clang = ['/usr/bin/clang', '/usr/bin/wasm-ld'].every(existsSync);
  it.skipIf(!clang)('are what training.c compiles to (where clang and wasm-ld are installed)', () => {
    const out = mkdtempSync(join(tmpdir(), 'native-'));
    execFileSync('bash', [fileURLToPath(new URL('../../../scripts/build-native-kernels.sh', import.meta.url)), out], {
      stdio: 'pipe',
    });
    for (const file of ['training.wasm', 'training-shared.wasm']) {
      expect(
        readFileSync(join(out, file)).equals(readFileSync(here(file))),
        `${file} is stale: run npm run build:kernels`,
      ).toBe(true);
    }
  });
});

// Each kernel whole, and split into three runs (two inline partners: the splitting of the helper threads, on one thread).
describe.each([0, 2])('with %i partners', (partners) => {
  beforeAll(async () => {
    stopNativeKernels();
    expect(
      await startNativeKernels(tf.findBackend('wasm') as BackendWasm, fromDisk, {
        threads: partners + 1,
        inlinePartners: partners,
      }),
    ).toBeNull();
    expect(nativeKernelsFor(tf.findBackend('wasm') as BackendWasm)?.threads).toBe(partners + 1);
  });

  describe('the 2×2 max-pool gradient matches the cpu backend exactly', () => {
    const cases: { name: string; shape: [number, number, number, number]; quantize?: number; special?: boolean }[] = [
      { name: 'even sizes, 32 channels', shape: [2, 8, 6, 32] },
      { name: 'odd sizes (last row and column in no window)', shape: [2, 9, 7, 8] },
      { name: 'channels not a multiple of four', shape: [3, 6, 5, 6] },
      { name: 'ties everywhere (first maximum wins)', shape: [2, 6, 6, 8], quantize: 1 },
      { name: 'NaN and −∞ windows', shape: [1, 4, 4, 4], special: true },
    ];
    it.each(cases)('$name', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.shape), 31, c.quantize);
      if (c.special) {
        const at = (h: number, w: number, ch: number) => (h * c.shape[2] + w) * c.shape[3] + ch;
        xv[at(0, 0, 0)] = NaN; // a NaN and a maximum: the maximum takes it
        xv[at(1, 1, 0)] = 5;
        for (const [h, w] of [
          [0, 2],
          [0, 3],
          [1, 2],
          [1, 3],
        ])
          xv[at(h, w, 1)] = -Infinity; // all −∞: nobody
        for (const [h, w] of [
          [2, 0],
          [2, 1],
          [3, 0],
        ])
          xv[at(h, w, 2)] = -Infinity;
        xv[at(3, 1, 2)] = NaN; // −∞ and a NaN: nobody
      }
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.shape);
          const y = tf.maxPool(x, 2, 2, 'valid');
          const r = tf.tensor(values(y.size, 32), y.shape);
          return [
            tf.grad((xx: tf.Tensor) =>
              tf
                .maxPool(xx as tf.Tensor4D, 2, 2, 'valid')
                .mul(r)
                .sum(),
            )(x),
          ];
        });
      const [expected] = await on('cpu', compute);
      const [actual] = await on('wasm', compute);
      expect(Array.from(actual)).toEqual(Array.from(expected));
    });
  });

  describe('the 2×2 max pool matches the cpu backend exactly', () => {
    const cases: { name: string; shape: [number, number, number, number]; special?: boolean }[] = [
      { name: 'even sizes, 32 channels, enough images for every chunk', shape: [12, 8, 6, 32] },
      { name: 'odd sizes (last row and column in no window)', shape: [2, 9, 7, 8] },
      { name: 'channels not a multiple of four', shape: [3, 6, 5, 6] },
      { name: 'NaN and −∞ windows (a NaN is never the maximum)', shape: [1, 4, 4, 4], special: true },
    ];
    it.each(cases)('$name', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.shape), 33);
      if (c.special) {
        const at = (h: number, w: number, ch: number) => (h * c.shape[2] + w) * c.shape[3] + ch;
        xv[at(0, 0, 0)] = NaN;
        xv[at(1, 1, 0)] = 5;
        for (const [h, w] of [
          [0, 2],
          [0, 3],
          [1, 2],
          [1, 3],
        ])
          xv[at(h, w, 1)] = -Infinity;
        for (const [h, w] of [
          [2, 0],
          [2, 1],
          [3, 0],
          [3, 1],
        ])
          xv[at(h, w, 2)] = NaN;
      }
      const compute = (): tf.Tensor[] => tf.tidy(() => [tf.maxPool(tf.tensor4d(xv, c.shape), 2, 2, 'valid')]);
      const [expected] = await on('cpu', compute);
      const [actual] = await on('wasm', compute);
      expect(Array.from(actual)).toEqual(Array.from(expected));
    });
  });

  it('BatchNormalization in inference (FusedBatchNorm) matches the cpu backend', async () => {
    const shape: [number, number, number, number] = [6, 16, 16, 12];
    const xv = values(tf.util.sizeFromShape(shape), 34);
    const compute = (): tf.Tensor[] =>
      tf.tidy(() => [
        tf.batchNorm(
          tf.tensor4d(xv, shape),
          tf.tensor1d(values(12, 35)),
          tf.tensor1d(values(12, 36).map((v) => 0.5 + Math.abs(v))),
          tf.tensor1d(values(12, 37)),
          tf.tensor1d(values(12, 38)),
          1e-3,
        ),
      ]);
    const [expected] = await on('cpu', compute);
    const [actual] = await on('wasm', compute);
    for (let i = 0; i < expected.length; i++)
      expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i])));
  });

  describe('BatchNormalization in training matches tfjs-layers on the cpu backend', () => {
    const cases: { name: string; shape: [number, number, number, number]; shift: number; spread: number }[] = [
      { name: '32 channels', shape: [4, 9, 7, 32], shift: 0, spread: 1 },
      { name: 'enough pixels to split (8,192)', shape: [8, 32, 32, 8], shift: 0.5, spread: 1 },
      { name: 'channels not a multiple of four', shape: [3, 5, 6, 6], shift: 0.3, spread: 2 },
      { name: 'one channel', shape: [2, 8, 8, 1], shift: 0, spread: 1 },
      { name: 'mean far from zero against the spread', shape: [2, 6, 6, 8], shift: 1000, spread: 0.5 },
    ];
    it.each(cases)('$name: output, moving statistics and gradients', async (c) => {
      const channels = c.shape[3];
      const xv = values(tf.util.sizeFromShape(c.shape), 41).map((v) => c.shift + c.spread * v);
      const gammaV = values(channels, 42).map((v) => 1 + 0.5 * v);
      const betaV = values(channels, 43);
      const compute = (): tf.Tensor[] => {
        const layer = batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-3 });
        layer.build(c.shape);
        tf.tidy(() =>
          layer.setWeights([tf.tensor1d(gammaV), tf.tensor1d(betaV), tf.zeros([channels]), tf.ones([channels])]),
        );
        const results = tf.tidy(() => {
          const x = tf.tensor4d(xv, c.shape);
          const r = tf.tensor(values(x.size, 44), c.shape);
          const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
          const f = (xx: tf.Tensor) => (layer.apply(xx, { training: true }) as tf.Tensor).mul(r).sum() as tf.Scalar;
          const { value, grads } = tf.variableGrads(() => f(x), [gamma, beta]);
          const dx = tf.grad(f)(x);
          const y = layer.apply(x, { training: true }) as tf.Tensor;
          return [y, dx, grads[gamma.name], grads[beta.name], value];
        });
        // The moving statistics after three training calls (apply ×3 above: variableGrads, grad, apply).
        const moving = layer
          .getWeights()
          .slice(2)
          .map((w) => w.clone());
        for (const w of layer.weights) w.dispose();
        return [...results, ...moving];
      };
      const expected = await on('cpu', compute);
      const before = tf.memory().numTensors;
      const actual = await on('wasm', compute);
      expect(tf.memory().numTensors).toBe(before);
      const names = ['y', 'dx', 'dgamma', 'dbeta', 'loss', 'moving mean', 'moving variance'];
      const errors = actual.map((a, i) => relativeError(a, expected[i]));
      console.log(
        `BatchNormalization ${c.name}: ${errors.map((e, i) => `${names[i]} ${e.toExponential(1)}`).join(', ')}`,
      );
      for (const e of errors) expect(e).toBeLessThan(1e-5);
      if (c.shift / c.spread < 100) return;
      // Far from zero, float32 itself loses digits of the spread (the mean's rounding): no worse than tfjs' own chain.
      const [y64, dx64] = batchNormInFloat64(xv, gammaV, betaV, values(xv.length, 44), channels, 1e-3);
      const ours = [relativeError(actual[0], y64), relativeError(actual[1], dx64)];
      const shipped = [relativeError(expected[0], y64), relativeError(expected[1], dx64)];
      console.log(
        `  against float64: y ${ours[0].toExponential(1)} (tfjs ${shipped[0].toExponential(1)}), dx ${ours[1].toExponential(1)} (tfjs ${shipped[1].toExponential(1)})`,
      );
      for (let i = 0; i < 2; i++) expect(ours[i]).toBeLessThan(1.25 * shipped[i] + 1e-6);
    });

    it('runs through the two kernels on wasm (and not on cpu)', async () => {
      const count = async (backend: string) => {
        await tf.setBackend(backend);
        const layer = batchNormalization({ axis: -1 });
        const x = tf.randomUniform([2, 4, 4, 8]);
        const profile = await tf.profile(() =>
          tf.grad((xx: tf.Tensor) => (layer.apply(xx, { training: true }) as tf.Tensor).sum())(x),
        );
        tf.dispose(x);
        for (const w of layer.weights) w.dispose();
        return profile.kernelNames.filter((name) => name.startsWith('BatchNormTraining')).sort();
      };
      expect(await count('wasm')).toEqual(['BatchNormTraining', 'BatchNormTrainingGrad']);
      expect(await count('cpu')).toEqual([]);
    });
  });

  describe('BatchNormalization then ReLU in training, fused into the kernels, matches the two layers on cpu', () => {
    const cases: { name: string; shape: [number, number, number, number]; maxValue?: number }[] = [
      { name: '32 channels', shape: [4, 9, 7, 32] },
      { name: 'enough pixels to split, 6 channels', shape: [8, 32, 32, 6] },
      { name: 'a ReLU with a maximum (not fused)', shape: [3, 5, 6, 8], maxValue: 0.5 },
    ];
    /** Input → BatchNormalization → ReLU, as the batchnorm model's blocks. */
    function block(shape: number[], maxValue?: number): tf.Sequential {
      const model = tf.sequential();
      model.add(batchNormalization({ inputShape: shape.slice(1), axis: -1, momentum: 0.9, epsilon: 1e-3 }));
      model.add(reLU(maxValue === undefined ? {} : { maxValue }));
      return model;
    }
    it.each(cases)('$name: output and the gradients of x, gamma and beta', async (c) => {
      const channels = c.shape[3];
      const xv = values(tf.util.sizeFromShape(c.shape), 45);
      const gammaV = values(channels, 46).map((v) => 1 + 0.5 * v);
      const betaV = values(channels, 47).map((v) => 0.3 * v);
      const compute = (): tf.Tensor[] => {
        const model = block(c.shape, c.maxValue);
        tf.tidy(() =>
          model.layers[0].setWeights([
            tf.tensor1d(gammaV),
            tf.tensor1d(betaV),
            tf.zeros([channels]),
            tf.ones([channels]),
          ]),
        );
        const results = tf.tidy(() => {
          const x = tf.tensor4d(xv, c.shape);
          const r = tf.tensor(values(x.size, 48), c.shape);
          const [gamma, beta] = model.trainableWeights.map((w) => w.read() as tf.Variable);
          const f = (xx: tf.Tensor) => (model.apply(xx, { training: true }) as tf.Tensor).mul(r).sum() as tf.Scalar;
          const { grads } = tf.variableGrads(() => f(x), [gamma, beta]);
          return [model.apply(x, { training: true }) as tf.Tensor, tf.grad(f)(x), grads[gamma.name], grads[beta.name]];
        });
        model.dispose();
        return results;
      };
      const expected = await on('cpu', compute);
      const before = tf.memory().numTensors;
      const actual = await on('wasm', compute);
      expect(tf.memory().numTensors).toBe(before);
      expect(expected[0].some((v) => v === 0) && expected[0].some((v) => v > 0)).toBe(true);
      const errors = actual.map((a, i) => relativeError(a, expected[i]));
      console.log(
        `BatchNormalization + ReLU ${c.name}: ${errors.map((e, i) => `${['y', 'dx', 'dgamma', 'dbeta'][i]} ${e.toExponential(1)}`).join(', ')}`,
      );
      for (const e of errors) expect(e).toBeLessThan(1e-5);
    });

    it('leaves no Relu or ReluGrad kernel on wasm in training, and the layers as they were in inference', async () => {
      const kernels = async (training: boolean) => {
        await tf.setBackend('wasm');
        const model = block([2, 4, 4, 8]);
        const x = tf.randomUniform([2, 4, 4, 8]);
        const profile = await tf.profile(() =>
          tf.grad((xx: tf.Tensor) => (model.apply(xx, { training }) as tf.Tensor).sum())(x),
        );
        tf.dispose(x);
        model.dispose();
        return profile.kernelNames;
      };
      const training = await kernels(true);
      expect(training).toContain('BatchNormTraining');
      expect(training.filter((name) => name === 'Relu' || name === 'ReluGrad')).toEqual([]);
      expect(await kernels(false)).toContain('Relu');
    });
  });

  describe('the ReLU gradient matches the cpu backend exactly', () => {
    it.each([
      { name: 'small, zeros included', shape: [3, 5, 7, 3] },
      { name: 'enough to split (2^17 elements)', shape: [8, 64, 64, 4] },
    ])('$name', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.shape), 71, 8); // quantised: exact zeros occur
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor(xv, c.shape);
          const r = tf.tensor(values(x.size, 72), c.shape);
          return [tf.grad((xx: tf.Tensor) => tf.relu(xx).mul(r).sum())(x)];
        });
      const [expected] = await on('cpu', compute);
      const [actual] = await on('wasm', compute);
      expect(xv.some((v) => v === 0)).toBe(true);
      expect(relativeError(actual, expected)).toBe(0); // the same numbers (tfjs' −0 where dy < 0 is our +0)
    });

    it('goes through ReluGrad on wasm', async () => {
      await tf.setBackend('wasm');
      const x = tf.tensor1d([-1, 0, 2]);
      const profile = await tf.profile(() => tf.grad((xx: tf.Tensor) => tf.relu(xx).sum())(x));
      expect(profile.kernelNames).toContain('ReluGrad');
      expect(profile.kernelNames).not.toContain('Step');
      tf.dispose(x);
    });
  });

  describe('stride-1 unpadded convolutions and their input gradient match the cpu backend', () => {
    const cases: { name: string; x: [number, number, number, number]; filter: [number, number, number, number] }[] = [
      { name: '2×2, 32 to 32 channels, 3 images', x: [3, 9, 8, 32], filter: [2, 2, 32, 32] },
      {
        name: 'one input channel (the first layer: its one-pass forward path)',
        x: [4, 12, 11, 1],
        filter: [2, 2, 1, 32],
      },
      { name: 'one input channel, 13 outputs and a 3×2 filter', x: [3, 8, 9, 1], filter: [3, 2, 1, 13] },
      { name: 'three input channels (XNNPACK forward, ours for dx)', x: [2, 6, 7, 3], filter: [2, 2, 3, 8] },
      { name: 'odd channel counts and a 3×2 filter', x: [2, 7, 9, 6], filter: [3, 2, 6, 13] },
      { name: 'rows of fewer than four pixels', x: [2, 4, 3, 8], filter: [2, 2, 8, 16] },
    ];
    it.each(cases)('$name: conv, conv + bias + ReLU, and dx', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.x), 63);
      const wv = values(tf.util.sizeFromShape(c.filter), 64);
      const bv = values(c.filter[3], 65);
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const w = tf.tensor4d(wv, c.filter);
          const bias = tf.tensor1d(bv);
          const plain = tf.conv2d(x, w, 1, 'valid');
          const fused = tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias, activation: 'relu' });
          const linear = tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias });
          const r = tf.tensor(values(plain.size, 66), plain.shape);
          const dx = tf.grad((xx: tf.Tensor) =>
            tf
              .conv2d(xx as tf.Tensor4D, w, 1, 'valid')
              .mul(r)
              .sum(),
          )(x);
          return [plain, fused, linear, dx];
        });
      const expected = await on('cpu', compute);
      const before = tf.memory().numTensors;
      const actual = await on('wasm', compute);
      expect(tf.memory().numTensors).toBe(before);
      const errors = actual.map((a, i) => relativeError(a, expected[i]));
      console.log(
        `convolution ${c.name}, ${partners} partners: conv ${errors[0].toExponential(1)}, +bias+ReLU ${errors[1].toExponential(1)}, +bias ${errors[2].toExponential(1)}, dx ${errors[3].toExponential(1)}`,
      );
      for (const e of errors) expect(e).toBeLessThan(1e-5);
    });

    it('give the right numbers whichever path runs, padded ones too', async () => {
      await tf.setBackend('wasm');
      const x = tf.ones([2, 5, 5, 4]) as tf.Tensor4D;
      const w = tf.ones([2, 2, 4, 8]) as tf.Tensor4D;
      const y = tf.conv2d(x, w, 1, 'valid');
      expect(Array.from(await y.data()).every((v) => v === 16)).toBe(true);
      const same = tf.conv2d(x, w, 1, 'same'); // padded: WASM's own kernel
      expect(same.shape).toEqual([2, 5, 5, 8]);
      tf.dispose([x, w, y, same]);
    });
  });

  describe('a convolution with its bias and ReLU as one kernel in training (ConvBiasRelu) matches the unfused chain on cpu', () => {
    const cases: { name: string; x: [number, number, number, number]; filter: [number, number, number, number] }[] = [
      { name: 'the first layer (one input channel), enough to split', x: [8, 33, 34, 1], filter: [2, 2, 1, 32] },
      { name: '32 to 64 channels', x: [4, 12, 11, 32], filter: [2, 2, 32, 64] },
      { name: 'odd channel counts', x: [3, 7, 9, 6], filter: [3, 2, 6, 13] },
      { name: 'three input channels (XNNPACK forward)', x: [2, 6, 7, 3], filter: [2, 2, 3, 8] },
    ];
    it.each(cases)('$name: output and the gradients of x, filter and bias', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.x), 91, 8); // quantised, so that some outputs are exactly 0
      const wv = values(tf.util.sizeFromShape(c.filter), 92, 8);
      const bv = values(c.filter[3], 93);
      const compute = (fused: boolean) => (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const w = tf.tensor4d(wv, c.filter);
          const bias = tf.tensor1d(bv);
          const layer = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            fused
              ? convBiasRelu(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D)
              : tf.relu(tf.add(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'valid'), bb));
          const y = layer(x, w, bias);
          const r = tf.tensor(values(y.size, 94), y.shape);
          const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => layer(xx, ww, bb).mul(r).sum())([
            x,
            w,
            bias,
          ]);
          return [y, ...grads];
        });
      const expected = await on('cpu', compute(false));
      const before = tf.memory().numTensors;
      const actual = await on('wasm', compute(true));
      expect(tf.memory().numTensors).toBe(before);
      expect(expected[0].some((v) => v === 0) && expected[0].some((v) => v > 0)).toBe(true);
      const errors = actual.map((a, i) => relativeError(a, expected[i]));
      console.log(
        `ConvBiasRelu ${c.name}, ${partners} partners: y ${errors[0].toExponential(1)}, dx ${errors[1].toExponential(1)}, dw ${errors[2].toExponential(1)}, db ${errors[3].toExponential(1)}`,
      );
      for (const e of errors) expect(e).toBeLessThan(1e-5);
    });

    it('runs as ConvBiasRelu forward and ReluGradBias backward on wasm, with no Add, Relu or Sum; not on cpu', async () => {
      const kernelsOf = async (backend: string) => {
        await tf.setBackend(backend);
        expect(hasConvBiasRelu()).toBe(backend === 'wasm');
        const x = tf.ones([2, 9, 9, 4]) as tf.Tensor4D;
        const w = tf.ones([2, 2, 4, 8]) as tf.Tensor4D;
        const b = tf.zeros([8]) as tf.Tensor1D;
        const profile = await tf.profile(() =>
          tf.grads((ww: tf.Tensor, bb: tf.Tensor) => convBiasRelu(x, ww as tf.Tensor4D, bb as tf.Tensor1D).sum())([
            w,
            b,
          ]),
        );
        tf.dispose([x, w, b]);
        return profile.kernelNames;
      };
      const names = await kernelsOf('wasm');
      expect(names).toContain('ConvBiasRelu');
      expect(names).toContain('ReluGradBias');
      expect(names).toContain('Conv2DBackpropFilter');
      expect(names).not.toContain('Conv2DBackpropInput'); // x needs no gradient here
      for (const name of ['Add', 'Relu', 'ReluGrad', 'Conv2D']) expect(names).not.toContain(name);
    });
  });

  describe('bias add, ReLU and column sums on every thread match the cpu backend', () => {
    it('a per-channel bias, ReLU (NaN and -0 kept) and the bias gradient’s sum, large enough to run natively', async () => {
      const shape = [8, 32, 32, 16];
      const xv = values(tf.util.sizeFromShape(shape), 95);
      xv[5] = NaN;
      xv[6] = -0;
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor(xv, shape);
          const bias = tf.tensor1d(values(16, 96));
          return [
            tf.add(x, bias),
            tf.add(bias.reshape([1, 1, 1, 16]), x),
            tf.relu(x),
            tf.sum(x, [0, 1, 2]),
            tf.mean(x, [0, 1, 2]),
          ];
        });
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      expect(Number.isNaN(actual[2][5]) && Object.is(actual[2][6], -0)).toBe(true);
      actual[2][5] = expected[2][5] = 0;
      for (const [i, a] of actual.entries())
        expect(
          relativeError(
            Float32Array.from(a, (v) => (Number.isNaN(v) ? 0 : v)),
            Float32Array.from(expected[i], (v) => (Number.isNaN(v) ? 0 : v)),
          ),
        ).toBeLessThan(1e-5);
    });
  });

  describe('the filter gradient of stride-1 unpadded convolutions matches the cpu backend', () => {
    const cases: { name: string; x: [number, number, number, number]; filter: [number, number, number, number] }[] = [
      { name: '2×2, 32 to 32 channels, 3 images', x: [3, 9, 8, 32], filter: [2, 2, 32, 32] },
      { name: 'one input channel (the first layer)', x: [4, 12, 11, 1], filter: [2, 2, 1, 32] },
      { name: 'odd channel counts and a 3×2 filter', x: [2, 7, 9, 6], filter: [3, 2, 6, 13] },
      { name: 'one image', x: [1, 6, 6, 8], filter: [2, 2, 8, 16] },
    ];
    it.each(cases)('$name', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.x), 61);
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const dyShape: [number, number, number, number] = [
            c.x[0],
            c.x[1] - c.filter[0] + 1,
            c.x[2] - c.filter[1] + 1,
            c.filter[3],
          ];
          const dy = tf.tensor4d(values(tf.util.sizeFromShape(dyShape), 62), dyShape);
          return [filterGradient(x, dy, c.filter)];
        });
      const [expected] = await on('cpu', compute);
      const before = tf.memory().numTensors;
      const [actual] = await on('wasm', compute);
      expect(tf.memory().numTensors).toBe(before);
      const error = relativeError(actual, expected);
      console.log(`filter gradient ${c.name}, ${partners} partners: rel ${error.toExponential(1)}`);
      expect(error).toBeLessThan(1e-5);
    });

    it('goes through the native kernel', async () => {
      await tf.setBackend('wasm');
      const x = tf.ones([2, 5, 5, 4]) as tf.Tensor4D;
      const dy = tf.ones([2, 4, 4, 8]) as tf.Tensor4D;
      const dw = filterGradient(x, dy, [2, 2, 4, 8]);
      expect(Array.from(await dw.data()).every((v) => v === 32)).toBe(true); // 2 images × 16 positions
      tf.dispose([x, dy, dw]);
    });

    it('counts the chunks partners did', () => {
      const counts = nativeKernelsFor(tf.findBackend('wasm') as BackendWasm)!.chunkCounts();
      if (partners === 0) expect(counts).toEqual({ chunks: 0, byHelpers: 0 });
      else {
        expect(counts.byHelpers).toBeGreaterThan(0);
        expect(counts.byHelpers).toBeLessThan(counts.chunks);
      }
    });
  });
});

describe('RMSprop through RMSPropUpdate matches tfjs’ own on the cpu backend', () => {
  it('three steps of two variables: values and state', async () => {
    const run = async (backend: string, ours: boolean): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const a = tf.tidy(() => tf.variable(tf.tensor2d(values(35, 81), [5, 7]), true, `a_${backend}_${ours}`));
      const b = tf.tidy(() => tf.variable(tf.tensor1d(values(3, 82)), true, `b_${backend}_${ours}`));
      const optimizer = ours ? rmsprop(1e-2, 0.9, 0, 1e-7) : tf.train.rmsprop(1e-2, 0.9, 0, 1e-7);
      for (let step = 0; step < 3; step++) {
        tf.tidy(() =>
          optimizer.applyGradients({
            [a.name]: tf.tensor2d(values(35, 83 + step), [5, 7]),
            [b.name]: tf.tensor1d(values(3, 90 + step)),
          }),
        );
      }
      const state = await optimizer.getWeights();
      const out = await Promise.all(
        [a, b, ...state.slice(1).map((s) => s.tensor)].map(async (t) => (await t.data()) as Float32Array),
      );
      optimizer.dispose();
      tf.dispose([a, b, ...state.map((s) => s.tensor)]);
      return out;
    };
    const expected = await run('cpu', false);
    const before = tf.memory().numTensors;
    const actual = await run('wasm', true);
    expect(tf.memory().numTensors).toBe(before);
    expect(actual.length).toBe(6); // a, b, their mean squares and moments
    for (let i = 0; i < expected.length; i++) expect(relativeError(actual[i], expected[i])).toBeLessThan(1e-6);
  });

  it('is one kernel a variable on wasm', async () => {
    await tf.setBackend('wasm');
    const a = tf.variable(tf.ones([4]));
    const optimizer = rmsprop(1e-3);
    const profile = await tf.profile(() => tf.tidy(() => optimizer.applyGradients({ [a.name]: tf.ones([4]) })));
    expect(
      profile.kernelNames.filter((name) => name !== 'Identity' && name !== 'ZerosLike' && name !== 'Fill'),
    ).toEqual(['RMSPropUpdate']);
    optimizer.dispose();
    a.dispose();
  });
});

describe.each(['batchnorm', 'tutorial'] as const)(
  'training the %s CNN (32 px) on wasm with the native kernels',
  (name) => {
    async function losses(backend: string): Promise<{ losses: number[]; tensors: number[] }> {
      await tf.setBackend(backend);
      const model = buildModel(name, { imageSize: 32, numClasses: 2, learningRate: 1e-3, seed: 5, dropoutSeed: 6 });
      const xs = tf.tensor4d(
        values(8 * 32 * 32, 51).map((v) => 0.5 + 0.5 * v),
        [8, 32, 32, 1],
      );
      const ys = tf.tensor2d([0, 1, 0, 1, 1, 0, 1, 0], [8, 1]);
      const out = { losses: [] as number[], tensors: [] as number[] };
      for (let i = 0; i < 5; i++) {
        const result = await model.trainOnBatch(xs, ys);
        out.losses.push(Array.isArray(result) ? result[0] : result);
        out.tensors.push(tf.memory().numTensors);
      }
      tf.dispose([xs, ys]);
      model.dispose();
      return out;
    }

    it('follows the cpu loss trajectory, with a flat tensor count', async () => {
      const cpu = await losses('cpu');
      const wasm = await losses('wasm');
      console.log(`losses cpu [${cpu.losses.map((l) => l.toFixed(6))}] wasm [${wasm.losses.map((l) => l.toFixed(6))}]`);
      for (let i = 0; i < cpu.losses.length; i++) expect(wasm.losses[i]).toBeCloseTo(cpu.losses[i], 4);
      expect(new Set(wasm.tensors.slice(1)).size).toBe(1);
    });
  },
);
