import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { buildModel } from './models';
import { betaSample, changesTargets, decayKernels, decayedWeights, mixupShares, regularisedBatch } from './recipe';
import { startWeightedTrainStep, weightedTrainStep } from './weightedStep';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const OFF = { labelSmoothing: 0, mixup: 0, weightDecay: 0 };

/** Four 2x2 images, image i all i/4; labels 0, 1, 1, 0 (binary). */
function batch() {
  const xs = tf.tensor4d(
    Array.from({ length: 16 }, (_, i) => Math.floor(i / 4) / 4),
    [4, 2, 2, 1],
  );
  const ys = tf.tensor2d([0, 1, 1, 0], [4, 1]);
  return { xs, ys };
}

describe('betaSample and mixupShares', () => {
  it('draw Beta(alpha, alpha): in 0..1, mean 1/2, U-shaped for a small alpha, flat at 1', () => {
    const random = mulberry32(3);
    for (const [alpha, middleShare] of [
      [0.2, 0.35],
      [1, 0.8],
    ]) {
      const draws = Array.from({ length: 4000 }, () => betaSample(alpha, random));
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThanOrEqual(1);
      expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeCloseTo(0.5, 1);
      // Share of draws in 0.1..0.9: about 0.35 for Beta(0.2, 0.2), exactly 0.8 for the uniform Beta(1, 1).
      const middle = draws.filter((d) => d > 0.1 && d < 0.9).length / draws.length;
      expect(Math.abs(middle - middleShare)).toBeLessThan(0.05);
    }
    const shares = mixupShares(50, 0.4, mulberry32(1));
    expect(Math.min(...shares)).toBeGreaterThanOrEqual(0.5);
    expect(mixupShares(50, 0.4, mulberry32(1))).toEqual(shares);
  });
});

describe('regularisedBatch', () => {
  it('smooths binary and one-hot targets toward uniform, keeping images and class weights', () => {
    const { xs, ys } = batch();
    const out = regularisedBatch(xs, ys, [1, 3], { ...OFF, labelSmoothing: 0.1 }, Math.random);
    expect(Array.from(out.targets.dataSync())).toEqual([0.05, 0.95, 0.95, 0.05].map(Math.fround));
    expect(Array.from(out.weights.dataSync())).toEqual([1, 3, 3, 1]);
    expect(Array.from(out.xs.dataSync())).toEqual(Array.from(xs.dataSync()));
    const oneHot = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3).toFloat() as tf.Tensor2D;
    const three = regularisedBatch(xs.slice(0, 2), oneHot, [1, 1, 1], { ...OFF, labelSmoothing: 0.3 }, Math.random);
    const t = three.targets.arraySync();
    expect(t[0][0]).toBeCloseTo(0.8, 6);
    expect(t[0][1]).toBeCloseTo(0.1, 6);
    expect(t[1][2]).toBeCloseTo(0.8, 6);
  });

  it('blends each image with its partner at its share, targets and class weights alike', () => {
    const { xs, ys } = batch();
    const out = regularisedBatch(xs, ys, [1, 3], { ...OFF, mixup: 0.4 }, mulberry32(9));
    const shares = mixupShares(4, 0.4, mulberry32(9));
    const images = out.xs.arraySync() as number[][][][];
    const targets = out.targets.dataSync();
    const weights = out.weights.dataSync();
    const label = [0, 1, 1, 0];
    const weight = [1, 3, 3, 1];
    shares.forEach((s, i) => {
      const j = 3 - i;
      expect(images[i][1][1][0]).toBeCloseTo((s * i + (1 - s) * j) / 4, 6);
      expect(targets[i]).toBeCloseTo(s * label[i] + (1 - s) * label[j], 6);
      expect(weights[i]).toBeCloseTo(s * weight[i] + (1 - s) * weight[j], 6);
    });
    expect(changesTargets(OFF)).toBe(false);
    expect(changesTargets({ ...OFF, weightDecay: 1 })).toBe(false);
    expect(changesTargets({ ...OFF, mixup: 0.2 })).toBe(true);
  });

  it('leaves its inputs alone and leaks nothing', () => {
    const { xs, ys } = batch();
    const before = tf.memory().numTensors;
    const out = regularisedBatch(xs, ys, [1, 1], { labelSmoothing: 0.1, mixup: 0.2, weightDecay: 0 }, mulberry32(1));
    expect(tf.memory().numTensors).toBe(before + 3);
    for (const t of [out.xs, out.targets, out.weights]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(xs.isDisposed || ys.isDisposed).toBe(false);
  });

  it('gives the plain weighted loss when the soft targets are the labels themselves', async () => {
    const { xs, ys } = batch();
    const model = () =>
      buildModel('tutorial', { imageSize: 32, numClasses: 2, learningRate: 1e-3, seed: 2, dropoutSeed: 1 });
    const images = tf.image.resizeBilinear(xs, [32, 32]);
    const a = model();
    const b = model();
    const soft = regularisedBatch(images, ys, [1, 3], OFF, Math.random);
    const plain = await weightedTrainStep(a, images, ys, [1, 3]);
    const withSoft = await startWeightedTrainStep(b, images, ys, [1, 3], soft);
    expect(withSoft.loss).toBeCloseTo(plain.loss, 6);
  });
});

describe('decoupled weight decay', () => {
  it('shrinks convolution and Dense kernels by learning rate x decay, and nothing else', () => {
    const model = buildModel('batchnorm', { imageSize: 32, numClasses: 2, learningRate: 1e-3, seed: 2 });
    const names = decayedWeights(model).map((w) => w.originalName);
    expect(names.length).toBeGreaterThan(4);
    expect(names.every((n) => n.endsWith('kernel'))).toBe(true);
    const before = model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    const tensors = tf.memory().numTensors;
    decayKernels(model, 0.01, 5);
    expect(tf.memory().numTensors).toBe(tensors);
    model.trainableWeights.forEach((w, i) => {
      const after = w.read().dataSync();
      const factor = names.includes(w.originalName) ? 0.95 : 1;
      for (let k = 0; k < after.length; k += 97) expect(after[k]).toBeCloseTo(before[i][k] * factor, 6);
    });
  });
});
