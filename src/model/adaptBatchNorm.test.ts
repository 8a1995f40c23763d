import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeCnn } from './cnn';
import { buildModel } from './models';
import { hasBatchNorm, withBatchNormAdaptedTo } from './adaptBatchNorm';
import { syntheticSet, wholeBatch } from './testImages.testutil';

const SIZE = 32;
const model = buildModel('batchnorm', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 3 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => disposeCnn(model));

describe('BatchNorm re-estimation', () => {
  it('measures each BatchNorm layer’s input statistics on the new images, in layer order, and puts the model back after', async () => {
    // A "new source": the same kind of images, darker and less contrasted.
    const set = syntheticSet(10, SIZE, 2, 5);
    const shifted = { ...set, pixels: Uint8Array.from(set.pixels, (v) => Math.round(v * 0.6)) };
    const { xs, ys } = wholeBatch(shifted, 2);
    ys.dispose();
    const before = model.getWeights().map((w) => w.dataSync().slice());
    const predict = () => tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync().slice());
    const predictedBefore = predict();
    const tensors = tf.memory().numTensors;

    const inside = await withBatchNormAdaptedTo(model, shifted, 4, async () => {
      // The first BatchNorm's statistics are those of conv2d_1's outputs on these images; the third's, of conv2d_3's
      // outputs after the first two blocks were adapted.
      const check = (index: number) =>
        tf.tidy(() => {
          let x: tf.Tensor = xs;
          for (const layer of model.layers.slice(0, index)) x = layer.apply(x, { training: false }) as tf.Tensor;
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          const [, , movingMean, movingVariance] = model.layers[index].getWeights();
          return [
            tf.max(tf.abs(tf.sub(mean, movingMean))).dataSync()[0],
            tf.max(tf.abs(tf.sub(variance, movingVariance))).dataSync()[0],
          ];
        });
      for (const index of [1, 9]) {
        expect(model.layers[index].getClassName()).toBe('BatchNormalization');
        const [meanGap, varianceGap] = check(index);
        expect(meanGap).toBeLessThan(1e-4);
        expect(varianceGap).toBeLessThan(1e-4);
      }
      return predict();
    });
    expect(Math.max(...inside.map((p, i) => Math.abs(p - predictedBefore[i])))).toBeGreaterThan(1e-4);
    // Back exactly as it was, with no tensor left behind.
    model.getWeights().forEach((w, i) => expect(w.dataSync()).toEqual(before[i]));
    expect(tf.memory().numTensors).toBe(tensors);
    xs.dispose();
  });

  it('knows which models have BatchNorm', () => {
    const tutorial = buildModel('tutorial', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 3 });
    expect(hasBatchNorm(tutorial)).toBe(false);
    expect(hasBatchNorm(model)).toBe(true);
    disposeCnn(tutorial);
  });
});
