import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  learningRateAt,
  optimizerLearningRate,
  setOptimizerLearningRate,
  runLearningRateAt,
  snapshotCycleOf,
} from './learningRate';

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

describe('snapshot cycles', () => {
  it('splits E epochs into K cycles as equal as possible: [floor(cE/K), floor((c+1)E/K))', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((e) => snapshotCycleOf(e, 10, 3))).toEqual([
      ...Array(3).fill({ start: 0, end: 3 }),
      ...Array(3).fill({ start: 3, end: 6 }),
      ...Array(4).fill({ start: 6, end: 10 }),
    ]);
    expect(() => snapshotCycleOf(10, 10, 3)).toThrow();
  });

  it('restarts a cosine at the base rate at every cycle, also under schedule constant', () => {
    const run = { learningRateSchedule: 'constant' as const, learningRate: 0.01, snapshots: 2 };
    // 4 epochs of 5 batches in 2 cycles of 10 batches each.
    const rates = [0, 1, 2, 3].flatMap((e) => [0, 1, 2, 3, 4].map((b) => runLearningRateAt(run, e, b, 5, 4)));
    const cycle = Array.from({ length: 10 }, (_, s) => learningRateAt('cosine', 0.01, s, 10));
    expect(rates).toEqual([...cycle, ...cycle]);
    expect(rates[10]).toBe(0.01);
    // A single model: the schedule spans the run, or the rate stays as set.
    expect(runLearningRateAt({ ...run, snapshots: 1 }, 2, 0, 5, 4)).toBeNull();
    expect(runLearningRateAt({ ...run, snapshots: 1, learningRateSchedule: 'cosine' }, 2, 0, 5, 4)).toBe(
      learningRateAt('cosine', 0.01, 10, 20),
    );
  });
});
