/**
 * The WASM reduction and normalisation kernels against tfjs' CPU backend (the reference): sum and mean over the
 * shapes training reduces, and batchNorm's forward values and gradients.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { on, values } from './backendCompare.testutil';
import { withWasmTrainingKernels, compare, format, REL_TOLERANCE } from './wasmKernels.testutil';

withWasmTrainingKernels();

describe.each([
  ['sum', tf.sum],
  ['mean', tf.mean],
] as const)('%s matches the cpu backend', (name, reduce) => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [4, 9, 7, 5], axis: [0, 1, 2], keepDims: false }, // a bias gradient (small: JS)
    { shape: [8, 75, 75, 16], axis: [0, 1, 2], keepDims: false }, // a large one (XNNPACK pooling)
    { shape: [5, 149, 149, 32], axis: [0, 1, 2], keepDims: true },
    { shape: [70000, 3], axis: 0, keepDims: false },
    { shape: [4, 9, 7, 5], axis: [2, 0, 1], keepDims: true },
    { shape: [33, 17], axis: 0, keepDims: false },
    { shape: [3, 5, 6], axis: [0, 1], keepDims: false },
    { shape: [6, 5, 4], axis: [0], keepDims: true },
    { shape: [4, 9, 7, 5], axis: [1, 2], keepDims: false }, // not leading: original kernel
    { shape: [4, 9, 7, 5], axis: -1, keepDims: false },
    { shape: [4, 9, 7, 5], axis: [0, 1, 2, 3], keepDims: false },
  ];
  for (const c of cases) {
    it(`shape ${c.shape.join('x')} axis ${JSON.stringify(c.axis)} keepDims ${c.keepDims}`, async () => {
      const v = values(tf.util.sizeFromShape(c.shape), 21);
      const compute = (): tf.Tensor[] => tf.tidy(() => [reduce(tf.tensor(v, c.shape), c.axis, c.keepDims)]);
      await tf.setBackend('cpu');
      const cpuShape = tf.tidy(() => reduce(tf.tensor(v, c.shape), c.axis, c.keepDims).shape);
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      const wasmShape = tf.tidy(() => reduce(tf.tensor(v, c.shape), c.axis, c.keepDims).shape);
      expect(wasmShape).toEqual(cpuShape);
      const r = compare(actual[0], expected[0]);
      console.log(`${name} ${c.shape.join('x')} axis ${JSON.stringify(c.axis)}: ${format(r)}`);
      expect(r.rel).toBeLessThan(REL_TOLERANCE);
    });
  }

  it('int32 sums stay exact (original kernel)', async () => {
    await tf.setBackend('wasm');
    const s = tf.tidy(() => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0));
    expect(s.dtype).toBe('int32');
    expect(Array.from(await s.data())).toEqual([9, 12]);
    s.dispose();
  });
});

describe('batchNorm forward and gradients match the cpu backend', () => {
  const cases: {
    name: string;
    shape: [number, number, number, number];
    stats: number[];
    scale: boolean;
    offset: boolean;
  }[] = [
    {
      name: 'per-channel [c] statistics, scale and offset',
      shape: [3, 7, 5, 4],
      stats: [4],
      scale: true,
      offset: true,
    },
    {
      name: 'statistics of rank 4 [1, 1, 1, c], no scale',
      shape: [2, 6, 6, 8],
      stats: [1, 1, 1, 8],
      scale: false,
      offset: true,
    },
    { name: 'no offset', shape: [2, 5, 3, 3], stats: [3], scale: true, offset: false },
    { name: 'one channel, neither', shape: [4, 3, 3, 1], stats: [1], scale: false, offset: false },
    { name: 'mean far from zero (x − mean first)', shape: [2, 4, 4, 2], stats: [2], scale: true, offset: true },
    {
      name: 'full-shape statistics (shipped kernel)',
      shape: [1, 3, 3, 2],
      stats: [1, 3, 3, 2],
      scale: true,
      offset: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const far = c.name.startsWith('mean far') ? 1000 : 0;
      const xv = values(tf.util.sizeFromShape(c.shape), 21).map((v) => v + far);
      const n = tf.util.sizeFromShape(c.stats);
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.shape);
          const mean = tf.tensor(
            values(n, 22).map((v) => v + far),
            c.stats,
          );
          const variance = tf.tensor(
            values(n, 23).map((v) => v * v + 0.1),
            c.stats,
          );
          const scale = c.scale ? tf.tensor(values(n, 24), c.stats) : undefined;
          const offset = c.offset ? tf.tensor(values(n, 25), c.stats) : undefined;
          const y = tf.batchNorm(x, mean, variance, offset, scale, 1e-3);
          // tfjs differentiates batchNorm only with both scale and offset (it saves the scale for the backward pass).
          if (!scale || !offset) return [y];
          const r = tf.tensor(values(y.size, 26), y.shape);
          const grads = tf.grads((xx: tf.Tensor, mm: tf.Tensor, vv: tf.Tensor, ss: tf.Tensor, oo: tf.Tensor) =>
            tf
              .batchNorm(xx as tf.Tensor4D, mm, vv, oo, ss, 1e-3)
              .mul(r)
              .sum(),
          )([x, mean, variance, scale, offset]);
          return [y, ...grads];
        });
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      const results = actual.map((a, i) => compare(a, expected[i]));
      console.log(`batchNorm ${c.name}: ${results.map(format).join('; ')}`);
      for (const r of results) expect(r.rel).toBeLessThan(1e-5);
    });
  }
});
