import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTutorialCnn, disposeCnn } from './cnn';
import { syntheticSet, wholeBatch } from './testImages.testutil';
import { perSampleCrossEntropy, sampleWeights, weightedCrossEntropy, weightedTrainStep } from './weightedStep';

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('weighted cross-entropy', () => {
  it('is the per-image binary cross-entropy times its class weight, averaged over the batch', () => {
    tf.tidy(() => {
      const p = tf.tensor2d([[0.9], [0.2], [0.6]]);
      const y = tf.tensor2d([[1], [0], [0]]);
      const each = [-Math.log(0.9), -Math.log(0.8), -Math.log(0.4)];
      values(perSampleCrossEntropy(p, y, 1e-7)).forEach((v, i) => expect(v).toBeCloseTo(each[i], 5));
      expect(values(sampleWeights(y, [2, 0.5]))).toEqual([0.5, 2, 2]);
      const expected = (0.5 * each[0] + 2 * each[1] + 2 * each[2]) / 3;
      expect(weightedCrossEntropy(p, y, [2, 0.5], 1e-7).dataSync()[0]).toBeCloseTo(expected, 5);
      // Unweighted, it is what tfjs-layers' own loss gives.
      const keras = tf.mean(tf.metrics.binaryCrossentropy(y, p)).dataSync()[0];
      expect(weightedCrossEntropy(p, y, [1, 1], 1e-7).dataSync()[0]).toBeCloseTo(keras, 5);
    });
  });

  it('handles softmax outputs and one-hot targets, and clips certainties', () => {
    tf.tidy(() => {
      const p = tf.tensor2d([
        [0.7, 0.2, 0.1],
        [0.1, 0.1, 0.8],
        [1, 0, 0],
      ]);
      const y = tf.tensor2d([
        [1, 0, 0],
        [0, 1, 0],
        [0, 1, 0],
      ]);
      expect(values(sampleWeights(y, [1, 3, 5]))).toEqual([1, 3, 3]);
      const each = values(perSampleCrossEntropy(p, y, 1e-7));
      expect(each[0]).toBeCloseTo(-Math.log(0.7), 5);
      expect(each[1]).toBeCloseTo(-Math.log(0.1), 5);
      expect(each[2]).toBeCloseTo(-Math.log(1e-7), 3);
      const keras = tf.mean(tf.metrics.categoricalCrossentropy(y, p)).dataSync()[0];
      expect(weightedCrossEntropy(p, y, [1, 1, 1], 1e-7).dataSync()[0]).toBeCloseTo(keras, 4);
    });
  });

  it('refuses weights that do not fit the classes', () => {
    tf.tidy(() => {
      expect(() => sampleWeights(tf.tensor2d([[1]]), [1, 2, 3])).toThrow(/2 class weights/);
      expect(() => sampleWeights(tf.tensor2d([[1, 0, 0]]), [1, 2])).toThrow(/3 classes/);
    });
  });
});

describe('weightedTrainStep', () => {
  /** Two identical models; a seeded Dropout draws the same mask in both, so their steps can be compared. */
  function twins(numClasses: number) {
    const make = () => buildTutorialCnn({ imageSize: SIZE, numClasses, learningRate: 1e-3, seed: 4, dropoutSeed: 9 });
    return [make(), make()] as const;
  }

  it.each([2, 3])('with weights of 1 takes the very step trainOnBatch takes (%i classes)', async (numClasses) => {
    const [a, b] = twins(numClasses);
    const set = syntheticSet(16, SIZE, numClasses, 1);
    const batch = wholeBatch(set, numClasses);
    try {
      for (let step = 0; step < 2; step++) {
        const [keras, kerasAccuracy] = (await a.trainOnBatch(batch.xs, batch.ys)) as number[];
        const ours = await weightedTrainStep(b, batch.xs, batch.ys, new Array<number>(numClasses).fill(1));
        expect(ours.loss).toBeCloseTo(keras, 5);
        expect(ours.accuracy).toBeCloseTo(kerasAccuracy, 6);
      }
      const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
      const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
      wa.forEach((w, i) => w.forEach((v, j) => expect(wb[i][j]).toBeCloseTo(v, 4)));
    } finally {
      tf.dispose([batch.xs, batch.ys]);
      disposeCnn(a);
      disposeCnn(b);
    }
  });

  it('minimises the weighted loss, with Dropout on, and leaves no tensor behind', async () => {
    const [a, b] = twins(2);
    const set = syntheticSet(12, SIZE, 2, 2);
    const batch = wholeBatch(set, 2);
    try {
      // The same seeded Dropout mask as the step will draw, so this is the loss the step sees.
      const expected = tf.tidy(
        () =>
          weightedCrossEntropy(
            a.apply(batch.xs, { training: true }) as tf.Tensor2D,
            batch.ys,
            [3, 0.6],
            1e-7,
          ).dataSync()[0],
      );
      const unweighted = tf.tidy(
        () =>
          weightedCrossEntropy(
            a.apply(batch.xs, { training: true }) as tf.Tensor2D,
            batch.ys,
            [1, 1],
            1e-7,
          ).dataSync()[0],
      );
      const inference = tf.tidy(
        () => weightedCrossEntropy(a.predict(batch.xs) as tf.Tensor2D, batch.ys, [3, 0.6], 1e-7).dataSync()[0],
      );
      expect(expected).not.toBeCloseTo(inference, 6);
      expect(expected).not.toBeCloseTo(unweighted, 4);
      await weightedTrainStep(b, batch.xs, batch.ys, [3, 0.6]); // creates the optimizer's slots
      const before = tf.memory().numTensors;
      const c = buildTutorialCnn({ imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 4, dropoutSeed: 9 });
      const step = await weightedTrainStep(c, batch.xs, batch.ys, [3, 0.6]);
      expect(step.loss).toBeCloseTo(expected, 5);
      expect(step.accuracy).toBeGreaterThanOrEqual(0);
      disposeCnn(c);
      await weightedTrainStep(b, batch.xs, batch.ys, [3, 0.6]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([batch.xs, batch.ys]);
      disposeCnn(a);
      disposeCnn(b);
    }
  });
});
