/**
 * Our native BatchNormalization in training (csrc/batch_norm.c), alone and fused with the ReLU after it, against tfjs-layers
 * on the cpu backend and a float64 reference: output, moving statistics and every gradient to 1e-5, whole and split.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchNormalization, reLU } from '../../model/batchNormLayer';
import { on, values } from '../backendCompare.testutil';
import { describeWithPartners, withNativeKernels, relativeError } from './nativeKernels.testutil';

withNativeKernels();

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

describeWithPartners(() => {
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
});
