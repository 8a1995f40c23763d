/**
 * A run's optimizer steps, one a batch, and when their figures are read. On a GPU backend the next step is queued
 * before the previous step's loss and accuracy are awaited (their read-back started at once), so that the GPU never
 * waits for the worker to learn them; the figures are the same, one batch later. On the CPU backends a step's work
 * is done when it is queued: its figures are read at once, as before.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../core/types';
import { disposeRegularised, type RegularisedBatch } from '../model/recipe';
import { startWeightedTrainStep, type StepResult } from '../model/weightedStep';
import { disposeBatch, makeBatch } from './batches';
import type { ResidentSplits } from './residentSplits';

/** Changes a batch's images at random (augment.ts); returns a new tensor, the caller's to dispose. */
export type Augment = (xs: tf.Tensor4D) => tf.Tensor4D;

/** Turns a batch into what the step minimises (label smoothing, mixup: model/recipe.ts); new tensors, the caller's. */
export type Regularise = (xs: tf.Tensor4D, ys: tf.Tensor2D) => RegularisedBatch;

/** The backends whose work is queued on a GPU: there a read of a step's figures would stall it. */
const QUEUEING_BACKENDS: ReadonlySet<string> = new Set(['webgpu', 'webgl']);

export function defersReadback(backend: string): boolean {
  return QUEUEING_BACKENDS.has(backend);
}

/** A batch whose step is queued and whose figures are on their way. */
export interface StartedBatch {
  /** Its place in the epoch. */
  batch: number;
  images: number;
  /** When its step was started (RunContext.now). */
  started: number;
  figures: Promise<StepResult>;
}

/** Which started batch's figures to await now: each at once, or (deferred) each when the next has been started. */
export class BatchReadback {
  private pending: StartedBatch | null = null;

  constructor(readonly deferred: boolean) {}

  /** Takes the batch just started; returns the one to report now: this one, or (deferred) the one before, if any. */
  next(started: StartedBatch): StartedBatch | null {
    // Awaited later (deferred): marked handled now, so that a failure meanwhile is no unhandled rejection.
    started.figures.catch(() => undefined);
    if (!this.deferred) return started;
    const previous = this.pending;
    this.pending = started;
    return previous;
  }

  /** The batch still on its way, if any: reported before an epoch ends, a pause or a stop. */
  drain(): StartedBatch | null {
    const pending = this.pending;
    this.pending = null;
    return pending;
  }
}

/**
 * Queues one class-weighted optimizer step on one batch (its images from the GPU's copy of the split where `images`
 * holds one, augmented first when `augment` is given, then mixed or its targets smoothed when `regularise` is); the
 * batch's tensors live only until the step is queued.
 */
export function startTrainStep(
  model: tf.LayersModel,
  set: ImageSet,
  images: ResidentSplits | null,
  indices: Int32Array,
  numClasses: number,
  classWeights: number[],
  augment: Augment | null,
  regularise: Regularise | null = null,
): Promise<StepResult> {
  const batch = images ? images.batch(set, indices, numClasses) : makeBatch(set, indices, numClasses);
  let xs = batch.xs;
  let soft: RegularisedBatch | null = null;
  try {
    if (augment) xs = augment(batch.xs);
    if (regularise) soft = regularise(xs, batch.ys);
    return startWeightedTrainStep(model, soft?.xs ?? xs, batch.ys, classWeights, soft);
  } finally {
    if (soft) disposeRegularised(soft);
    if (xs !== batch.xs) xs.dispose();
    disposeBatch(batch);
  }
}
