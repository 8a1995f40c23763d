import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EPSILON, evaluateInBatches, scoreMetrics } from './evaluate';
import type { ImageSet } from '../core/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * A model whose output is known by hand: 1x1 images, Dense(1, sigmoid) with weight w and bias b
 * on the scaled pixel, so P(class 1) = sigmoid(w * pixel / 255 + b).
 */
function binaryModel(w: number, b: number): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [1, 1, 1] }));
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  tf.tidy(() => model.setWeights([tf.tensor2d([[w]]), tf.tensor1d([b])]));
  return model;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('evaluateInBatches', () => {
  it('matches hand-computed binary loss, accuracy and scores, in any chunk size', async () => {
    const pixels = Uint8Array.from([0, 255, 51, 204, 102]);
    const labels = Uint8Array.from([0, 1, 1, 0, 0]);
    const set: ImageSet = { size: 1, count: 5, pixels, labels };
    const model = binaryModel(4, -2);
    const p = Array.from(pixels, (v) => sigmoid(4 * (v / 255) - 2));
    // p ≈ 0.119, 0.881, 0.310, 0.690, 0.401 → predicted 0,1,0,1,0 → 3 of 5 right.
    const loss = -(Math.log(1 - p[0]) + Math.log(p[1]) + Math.log(p[2]) + Math.log(1 - p[3]) + Math.log(1 - p[4])) / 5;

    for (const batchSize of [1, 2, 5, 64]) {
      const before = tf.memory().numTensors;
      const result = await evaluateInBatches(model, set, 2, batchSize);
      expect(tf.memory().numTensors).toBe(before);
      expect(result.scores.length).toBe(5);
      result.scores.forEach((s, i) => expect(s).toBeCloseTo(p[i], 5));
      expect(result.accuracy).toBeCloseTo(3 / 5, 10);
      expect(result.loss).toBeCloseTo(loss, 5);
    }
    // tfjs' own evaluate agrees (same loss definition).
    const xs = tf.tensor4d(
      Float32Array.from(pixels, (v) => v / 255),
      [5, 1, 1, 1],
    );
    const ys = tf.tensor2d(Float32Array.from(labels), [5, 1]);
    model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const [tfLoss, tfAccuracy] = model.evaluate(xs, ys) as tf.Scalar[];
    expect(tfLoss.dataSync()[0]).toBeCloseTo(loss, 5);
    expect(tfAccuracy.dataSync()[0]).toBeCloseTo(3 / 5, 6);
    tf.dispose([xs, ys, tfLoss, tfAccuracy]);
    model.dispose();
  });

  it('handles softmax outputs: categorical cross-entropy and argmax accuracy', async () => {
    // 1x1 images; a Dense(3, softmax) with weights chosen so the classes' logits are known.
    const model = tf.sequential();
    model.add(tf.layers.flatten({ inputShape: [1, 1, 1] }));
    model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
    tf.tidy(() => model.setWeights([tf.tensor2d([[3, 0, -3]]), tf.tensor1d([0, 1, 0])]));
    const pixels = Uint8Array.from([0, 255, 255]);
    const labels = Uint8Array.from([1, 0, 2]);
    const set: ImageSet = { size: 1, count: 3, pixels, labels };
    const softmax = (z: number[]) => {
      const e = z.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const rows = [softmax([0, 1, 0]), softmax([3, 1, -3]), softmax([3, 1, -3])];
    // Predicted 1, 0, 0 → 2 of 3 right.
    const loss = -(Math.log(rows[0][1]) + Math.log(rows[1][0]) + Math.log(rows[2][2])) / 3;
    const result = await evaluateInBatches(model, set, 3, 2);
    expect(result.scores.length).toBe(9);
    rows.flat().forEach((v, i) => expect(result.scores[i]).toBeCloseTo(v, 5));
    expect(result.accuracy).toBeCloseTo(2 / 3, 10);
    expect(result.loss).toBeCloseTo(loss, 5);
    model.dispose();
  });

  it('clips probabilities as Keras does, so a confident mistake costs -log(1e-7), not infinity', () => {
    const { loss, accuracy } = scoreMetrics(Float32Array.from([1, 0]), Uint8Array.from([0, 1]), 2);
    expect(loss).toBeCloseTo(-Math.log(EPSILON), 6);
    expect(accuracy).toBe(0);
  });

  it('counts exactly 0.5 as class 0, as tfjs’ binary accuracy does', () => {
    expect(scoreMetrics(Float32Array.from([0.5]), Uint8Array.from([0]), 2).accuracy).toBe(1);
  });

  it('gives NaN, not a made-up number, for an empty split', async () => {
    const model = binaryModel(1, 0);
    const result = await evaluateInBatches(
      model,
      { size: 1, count: 0, pixels: new Uint8Array(0), labels: new Uint8Array(0) },
      2,
      8,
    );
    expect(result.scores.length).toBe(0);
    expect(result.loss).toBeNaN();
    expect(result.accuracy).toBeNaN();
    model.dispose();
  });
});
