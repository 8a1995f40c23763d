/**
 * Our native 2×2 max pool and its gradient (csrc/max_pool.c) against tfjs' cpu backend as shipped, exactly, ties and odd
 * sizes included, whole and split across threads.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { on, values } from '../backendCompare.testutil';
import { describeWithPartners, withNativeKernels } from './nativeKernels.testutil';

withNativeKernels();

describeWithPartners(() => {
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
});
