/**
 * Learning-rate schedules, and setting the rate of a compiled tfjs optimizer between steps. Pure arithmetic
 * plus one field write: tfjs' RMSprop, Adam and SGD read `learningRate` afresh at every step.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LearningRateSchedule } from '../core/types';

/**
 * The rate for step `step` (0-based) of a run of `totalSteps`: `base` throughout for `constant`; for `cosine`,
 * base × (1 + cos(π · step / totalSteps)) / 2, which starts at `base` and reaches 0 only after the last step
 * (the last step still learns, at base × (1 − cos(π / totalSteps)) / 2).
 */
export function learningRateAt(schedule: LearningRateSchedule, base: number, step: number, totalSteps: number): number {
  switch (schedule) {
    case 'constant':
      return base;
    case 'cosine': {
      if (totalSteps <= 0) return base;
      const progress = Math.min(Math.max(step / totalSteps, 0), 1);
      return (base * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}

/** The rate the optimizer's next step uses. */
export function optimizerLearningRate(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as { learningRate: number }).learningRate;
}

/** Sets the rate of the optimizer's next steps (the field is protected in tfjs' types, public in its code). */
export function setOptimizerLearningRate(optimizer: tf.Optimizer, rate: number): void {
  if (typeof optimizerLearningRate(optimizer) !== 'number')
    throw new Error(`${optimizer.getClassName()} has no learning rate to schedule.`);
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}
