import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { registerBatchNormGradient } from './batchNormGradient';

const shipped = tf.getGradient(tf.FusedBatchNorm);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function values(n: number, seed: number): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => random() * 4 - 2);
}

/** Gradients of Σ w · batchNorm(x, mean, variance, offset, scale) with respect to every input, with the gradient now registered. */
function gradients(shape: number[], statistics: 'moments' | 'inputs'): number[][] {
  const size = shape.reduce((a, b) => a * b, 1);
  const c = shape[shape.length - 1];
  return tf.tidy(() => {
    const w = tf.tensor(values(size, 9), shape);
    const loss = (x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) =>
      tf.sum(tf.mul(w, tf.batchNorm(x, mean, variance, offset, scale, 1e-3)));
    const [x, mean, variance, scale, offset] = [
      values(size, 1),
      values(c, 2),
      values(c, 3).map(Math.abs),
      values(c, 4),
      values(c, 5),
    ].map((v, i) => tf.tensor(v, i === 0 ? shape : [c]));
    // As a BatchNormalization layer trains: the statistics are the batch's own, so the gradient flows through them to x.
    const axes = Array.from({ length: shape.length - 1 }, (_, i) => i);
    const grads =
      statistics === 'moments'
        ? tf.grads((xs: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
            const m = tf.moments(xs, axes);
            return loss(xs, m.mean, m.variance, s, o);
          })([x, scale, offset])
        : tf.grads(loss)([x, mean, variance, scale, offset]);
    return grads.map((g) => Array.from(g.dataSync()));
  });
}

function withShipped<T>(compute: () => T): T {
  tf.registerGradient(shipped);
  try {
    return compute();
  } finally {
    // Put ours back (registerBatchNormGradient registers once a realm).
    tf.registerGradient({ ...tf.getGradient(tf.FusedBatchNorm), ...ours });
  }
}

registerBatchNormGradient();
const ours = tf.getGradient(tf.FusedBatchNorm);

describe('the FusedBatchNorm gradient', () => {
  it('replaces the shipped one', () => {
    expect(ours).not.toBe(shipped);
    expect(ours.inputsToSave).toEqual(shipped.inputsToSave);
  });

  for (const [shape, statistics] of [
    [[2, 5, 4, 3], 'moments'],
    [[2, 5, 4, 3], 'inputs'],
    [[6, 4], 'moments'],
  ] as const) {
    it(`equals the shipped gradient for x ${shape.join('x')}, statistics from ${statistics}`, () => {
      const expected = withShipped(() => gradients([...shape], statistics));
      const actual = gradients([...shape], statistics);
      expect(actual).toHaveLength(expected.length);
      actual.forEach((g, i) => {
        const scale = Math.max(1e-6, ...expected[i].map(Math.abs));
        const worst = Math.max(...g.map((v, j) => Math.abs(v - expected[i][j])));
        expect(worst / scale, `input ${i}`).toBeLessThan(1e-5);
      });
    });
  }

  it('frees every tensor it makes', () => {
    gradients([2, 3, 3, 2], 'moments');
    const before = tf.memory().numTensors;
    gradients([2, 3, 3, 2], 'moments');
    expect(tf.memory().numTensors).toBe(before);
  });
});
