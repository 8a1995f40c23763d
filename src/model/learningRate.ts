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

/** The epochs [start, end) of the snapshot cycle holding `epoch`: cycle c of K over E epochs is [⌊cE/K⌋, ⌊(c+1)E/K⌋). */
export function snapshotCycleOf(epoch: number, epochs: number, cycles: number): { start: number; end: number } {
  for (let c = 0; c < cycles; c++) {
    const start = Math.floor((c * epochs) / cycles);
    const end = Math.floor(((c + 1) * epochs) / cycles);
    if (epoch >= start && epoch < end) return { start, end };
  }
  throw new Error(`Epoch ${epoch} is outside a run of ${epochs} epochs.`);
}

/** How many snapshot cycles of K over E epochs have ended once `epochsDone` epochs are done (the snapshots taken). */
export function snapshotsTakenBy(epochsDone: number, epochs: number, cycles: number): number {
  let taken = 0;
  for (let c = 0; c < cycles; c++) if (Math.floor(((c + 1) * epochs) / cycles) <= epochsDone) taken++;
  return taken;
}

/**
 * The rate of batch `batch` of epoch `epoch` of a run of `epochs` epochs; null when the rate stays as set (constant
 * schedule, one model). A snapshot ensemble (`snapshots` > 1) restarts a cosine at `base` at each cycle's start,
 * whatever the schedule (the restarts are what make its snapshots differ); otherwise the schedule spans the run.
 */
export function runLearningRateAt(
  settings: { learningRateSchedule: LearningRateSchedule; learningRate: number; snapshots: number },
  epoch: number,
  batch: number,
  batchesPerEpoch: number,
  epochs: number,
): number | null {
  const { learningRateSchedule, learningRate, snapshots } = settings;
  if (snapshots > 1) {
    const { start, end } = snapshotCycleOf(epoch, epochs, snapshots);
    const step = (epoch - start) * batchesPerEpoch + batch;
    return learningRateAt('cosine', learningRate, step, (end - start) * batchesPerEpoch);
  }
  if (learningRateSchedule === 'constant') return null;
  return learningRateAt(learningRateSchedule, learningRate, epoch * batchesPerEpoch + batch, epochs * batchesPerEpoch);
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
