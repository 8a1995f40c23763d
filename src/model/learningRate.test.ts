import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { learningRateAt, optimizerLearningRate, setOptimizerLearningRate } from './learningRate';

describe('learning-rate schedules', () => {
  it('holds the rate when constant', () => {
    expect([0, 5, 99].map((step) => learningRateAt('constant', 1e-3, step, 100))).toEqual([1e-3, 1e-3, 1e-3]);
  });

  it('falls along half a cosine: base at the start, half way at the middle, near 0 at the last step', () => {
    expect(learningRateAt('cosine', 1e-3, 0, 100)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt('cosine', 1e-3, 50, 100)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt('cosine', 1e-3, 25, 100)).toBeCloseTo((1e-3 * (1 + Math.SQRT1_2)) / 2, 12);
    const last = learningRateAt('cosine', 1e-3, 99, 100);
    expect(last).toBeGreaterThan(0);
    expect(last).toBeCloseTo((1e-3 * (1 - Math.cos(Math.PI / 100))) / 2, 15);
    expect(learningRateAt('cosine', 1e-3, 100, 100)).toBe(0);
    // Past the end (a longer run than planned) stays at 0, never climbs back.
    expect(learningRateAt('cosine', 1e-3, 150, 100)).toBe(0);
  });

  it('is monotone over a run', () => {
    const rates = Array.from({ length: 40 }, (_, step) => learningRateAt('cosine', 0.01, step, 40));
    for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeLessThan(rates[i - 1]);
  });

  it('sets the rate the next RMSprop step uses', () => {
    const w = tf.variable(tf.scalar(1));
    const optimizer = tf.train.rmsprop(0.1);
    setOptimizerLearningRate(optimizer, 0);
    expect(optimizerLearningRate(optimizer)).toBe(0);
    optimizer.minimize(() => tf.square(w) as tf.Scalar, false, [w]);
    // Rate 0: the step leaves the weight where it was.
    expect(w.dataSync()[0]).toBe(1);
    setOptimizerLearningRate(optimizer, 0.1);
    optimizer.minimize(() => tf.square(w) as tf.Scalar, false, [w]);
    expect(w.dataSync()[0]).toBeLessThan(1);
    optimizer.dispose();
    w.dispose();
  });
});
