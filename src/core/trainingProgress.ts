/**
 * What a training run reports as it goes and as it ends: batch and epoch figures, the test pass's result, how the
 * run ended. No DOM, no tfjs.
 */

import type { OodJudgement } from './scoreTypes';

export interface BatchMetrics {
  epoch: number;
  batch: number;
  batchesDone: number;
  totalBatches: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** The epoch (0-based) with the lowest validation loss so far; -1 while none has a finite one. */
  bestEpoch: number;
  /** tf.memory().numTensors in the worker at the end of the epoch (a leak shows as growth). */
  tensors: number;
}

export interface TestResult {
  loss: number;
  accuracy: number;
  /** Per image: probability of each class, `count * numClasses` values (binary: P(class 1) only, `count` values). */
  scores: Float32Array;
  labels: Uint8Array;
  numClasses: number;
  /**
   * Pixels of the images that can be misclassified worst at some decision threshold (see
   * `misclassifiedCandidates`): `indices` into the evaluated split, `count` squares of `size` px.
   */
  gallery: { indices: Uint32Array; pixels: Uint8Array; size: number };
  /** Whether each image is unlike the training data; absent when the model carries no OodDetector. */
  ood?: OodJudgement;
}

/** How a run ended, for the page's words and marks. */
export interface TrainingOutcome {
  /** `early-stopped`: validation loss did not improve for `patience` epochs. */
  reason: 'completed' | 'stopped' | 'early-stopped';
  epochsDone: number;
  /** The epoch (0-based) with the lowest validation loss; null when no epoch was validated. */
  bestEpoch: number | null;
  /** True when the model was given back the best epoch's weights (it then is the model evaluated and exported). */
  restoredBest: boolean;
}
