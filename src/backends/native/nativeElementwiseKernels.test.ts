/**
 * Our native elementwise kernels (csrc/bias_relu.c, csrc/rmsprop.c) against tfjs' cpu backend as shipped: the ReLU gradient exactly, and
 * bias add, ReLU and column sums on every thread, whole and split.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { on, values } from '../backendCompare.testutil';
import { describeWithPartners, withNativeKernels, relativeError } from './nativeKernels.testutil';

withNativeKernels();

describeWithPartners(() => {
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
});
