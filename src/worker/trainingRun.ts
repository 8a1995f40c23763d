/**
 * One training run's loop: shuffled batches, one optimizer step each, validation after every
 * epoch (the final evaluation is finalEvaluation.ts's). The Trainer owns the model and the messages' destination.
 */
import * as tf from '@tensorflow/tfjs';
import { classWeights } from '../eval/metrics';
import { mulberry32, range, shuffleInPlace } from '../core/random';
import { UserError } from '../core/userError';
import type { ImageSet, Splits, TrainingOutcome, TrainSettings } from '../core/types';
import type { TrainProgress } from './protocol';
import { isAugmenting, seededAugmenter } from './augment';
import { gpuLostMessage } from '../core/gpuLost';
import { EarlyStopping } from './earlyStopping';
import { evaluateInBatches } from './evaluate';
import { Throughput } from './throughput';
import { ResidentSplits } from './residentSplits';
import { evaluationBatchSize } from './evaluationBatch';
import {
  BatchReadback,
  defersReadback,
  startTrainStep,
  type Augment,
  type Regularise,
  type StartedBatch,
} from './trainSteps';
import { changesTargets, decayKernels, regularisedBatch } from '../model/recipe';
import { modelFilesOf } from '../model/checkpoint';
import {
  optimizerLearningRate,
  runLearningRateAt,
  setOptimizerLearningRate,
  snapshotCycleOf,
} from '../model/learningRate';
import { snapshotOf, type MemberWeights } from '../model/ensemble';
import { snapshotFilesOf } from '../model/snapshotFiles';

/** Set by message handlers while the run awaits; read between batches. */
export interface RunControl {
  stopRequested: boolean;
  /** Held between batches until released (or stopped); optional so other controls need not say. */
  paused?: boolean;
  /**
   * Rejects when the GPU is lost (a WebGL context, a WebGPU device). Work on a lost GPU may never settle (a read of GPU data waits for
   * a fence that never comes), so every await of a run races it.
   */
  lost?: Promise<never>;
  /** New data arrived: this run's results would describe a dataset the page no longer shows. */
  superseded: boolean;
  contextLost: boolean;
}

/** Where a run starts: epoch 0, or the end of a saved run's last epoch (Resume). */
export interface RunStart {
  epochsDone: number;
  /** The saved run's best epoch, its validation loss and weights (owned by the run from here). */
  best: { epoch: number; valLoss: number; weights: tf.Tensor[] } | null;
}

export const FRESH_START: RunStart = { epochsDone: 0, best: null };

export interface RunContext {
  model: tf.LayersModel;
  /** Where epochs start; `settings.epochs` more follow. */
  start: RunStart;
  data: Splits;
  settings: TrainSettings;
  control: RunControl;
  /** Reports the run's progress to the page, under the train request's id. */
  progress: (progress: TrainProgress) => void;
  /** Milliseconds, for images/s. */
  now: () => number;
  /** How a paused run waits before it looks at its control again: 50 ms by default; tests count these turns. */
  heldWait?: () => Promise<void>;
  /** Whether a batch's figures are awaited only once the next batch's step is queued (trainSteps.ts); default: on a GPU. */
  deferReadback?: boolean;
  /**
   * The splits held on the GPU for the run and its final evaluation (residentSplits.ts), the caller's to dispose;
   * without it, trainEpochs and evaluateFinal (finalEvaluation.ts) each hold their own while they run.
   */
  images?: ResidentSplits;
  /**
   * A snapshot ensemble's members (settings.snapshots > 1): the run adds a copy of the model's weights at the end of
   * each cosine cycle; the caller stacks and disposes them.
   */
  snapshots?: MemberWeights[];
}

const waitWhileHeld = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

/** `work`, unless the GPU is lost first (then the run's `lost` rejection). */
export function guarded<T>(control: RunControl, work: Promise<T>): Promise<T> {
  return control.lost ? Promise.race([work, control.lost]) : work;
}

export function shouldEnd(control: RunControl): boolean {
  return control.stopRequested || control.superseded;
}

/** The loss weight of each class for these settings: Keras' 'balanced' from the train labels, or all 1. */
export function runClassWeights(settings: TrainSettings, train: ImageSet, numClasses: number): number[] {
  if (settings.classWeighting === 'none') return new Array<number>(numClasses).fill(1);
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < train.count; i++) counts[train.labels[i]]++;
  return classWeights(counts);
}

/**
 * Posts trainingStarted, then batchEnd for every batch and epochEnd for every complete epoch.
 * Stops early when validation loss has not improved for `settings.patience` epochs, and then (and
 * after a Stop) gives the model back the weights of its best epoch. Returns how the run went
 * (`reason` is 'completed' unless it stopped early; the caller knows about Stop).
 */
export async function trainEpochs(context: RunContext): Promise<TrainingOutcome> {
  const { model, data, settings, control, progress, start } = context;
  const { batchSize } = settings;
  const epochs = start.epochsDone + settings.epochs;
  const numClasses = data.classNames.length;
  const batchesPerEpoch = Math.ceil(data.train.count / batchSize);
  const totalBatches = batchesPerEpoch * epochs;
  const weights = runClassWeights(settings, data.train, numClasses);
  progress({
    type: 'trainingStarted',
    epochs,
    batchesPerEpoch,
    totalBatches,
    classWeights: settings.classWeighting === 'none' ? null : weights,
  });
  // A snapshot ensemble needs every cycle: early stopping neither stops it nor gives back a best epoch.
  const stopping = new EarlyStopping(settings.snapshots > 1 ? 0 : settings.patience);
  if (start.best) stopping.resume(start.best.epoch, start.best.valLoss, start.best.weights);
  try {
    const { epochsDone, stoppedEarly } = await runEpochs(context, weights, stopping, batchesPerEpoch, totalBatches);
    const restoredBest = !control.superseded && stopping.restore(model);
    const bestEpoch = stopping.bestEpoch >= 0 ? stopping.bestEpoch : null;
    return { reason: stoppedEarly ? 'early-stopped' : 'completed', epochsDone, bestEpoch, restoredBest };
  } finally {
    stopping.dispose();
    // The kept model (and what is downloaded of its optimizer) carries the rate the person set, not the schedule's last.
    if (model.optimizer) setOptimizerLearningRate(model.optimizer, settings.learningRate);
  }
}

async function runEpochs(
  context: RunContext,
  weights: number[],
  stopping: EarlyStopping,
  batchesPerEpoch: number,
  totalBatches: number,
): Promise<{ epochsDone: number; stoppedEarly: boolean }> {
  const { model, data, settings, control, progress, now, start } = context;
  const heldWait = context.heldWait ?? waitWhileHeld;
  const { batchSize } = settings;
  const epochs = start.epochsDone + settings.epochs;
  const numClasses = data.classNames.length;
  const count = data.train.count;

  const random = mulberry32(settings.seed);
  const order = range(count);
  // A resumed run goes on with the batch order an unbroken run would have had.
  for (let epoch = 0; epoch < start.epochsDone; epoch++) shuffleInPlace(order, random);
  // Its own seeded streams (augment.ts): the batch order is the same with augmentation on or off.
  const augment: Augment | null = isAugmenting(settings.augmentation)
    ? seededAugmenter(settings.augmentation, settings.seed + start.epochsDone)
    : null;
  // Mixup's draws: a third stream (model/recipe.ts), so the batch order and augmentation stay as they were.
  const recipeRandom = mulberry32((Math.imul(settings.seed + start.epochsDone, 0xc2b2ae35) ^ 0x3c1d) >>> 0);
  const regularise: Regularise | null = changesTargets(settings)
    ? (xs, ys) => regularisedBatch(xs, ys, weights, settings, recipeRandom)
    : null;
  const throughput = new Throughput();
  const readback = new BatchReadback(context.deferReadback ?? defersReadback(tf.getBackend()));
  // The training and validation images on the GPU for the whole run where the backend gathers batches there and
  // they fit (else their batches are made on the CPU).
  const images = context.images ?? new ResidentSplits();
  const evaluationBatch = evaluationBatchSize(model, batchSize, tf.getBackend());
  let batchesDone = start.epochsDone * batchesPerEpoch;
  let epochsDone = start.epochsDone;
  let lastReport = -Infinity;

  try {
    await guarded(control, images.upload(data.train));
    await guarded(control, images.upload(data.validation));
    for (let epoch = start.epochsDone; epoch < epochs && !shouldEnd(control); epoch++) {
      shuffleInPlace(order, random);
      let lossSum = 0;
      let accuracySum = 0;
      let seen = 0;
      const report = async (done: StartedBatch | null): Promise<void> => {
        if (!done) return;
        const { loss, accuracy } = await guarded(control, done.figures);
        // From its start, or (deferred) from the previous report, which came after it started.
        const end = now();
        const imagesPerSecond = throughput.record(done.images, end - Math.max(done.started, lastReport));
        lastReport = end;
        batchesDone++;
        lossSum += loss * done.images;
        accuracySum += accuracy * done.images;
        seen += done.images;
        progress({
          type: 'batchEnd',
          epoch,
          batch: done.batch,
          batchesDone,
          totalBatches,
          loss,
          accuracy,
          imagesPerSecond,
        });
      };
      for (let batch = 0; batch < batchesPerEpoch; batch++) {
        // The last batch keeps the remainder (it may be smaller), as Keras does.
        const indices = order.subarray(batch * batchSize, Math.min(count, (batch + 1) * batchSize));
        // A schedule spans the run's batches (a resumed run's too, so its rate rises again: a warm restart), or each
        // snapshot cycle's. By the batches started: with deferred figures, batchesDone lags one behind.
        const rate = runLearningRateAt(settings, epoch, batch, batchesPerEpoch, epochs);
        if (rate !== null && model.optimizer) setOptimizerLearningRate(model.optimizer, rate);
        const started = now();
        const figures = startTrainStep(model, data.train, images, indices, numClasses, weights, augment, regularise);
        if (settings.weightDecay > 0 && model.optimizer)
          decayKernels(model, optimizerLearningRate(model.optimizer), settings.weightDecay);
        await report(readback.next({ batch, images: indices.length, started, figures }));
        // An epoch's figures are whole before its validation.
        if (batch === batchesPerEpoch - 1) await report(readback.drain());
        // Lets `stop`, `pause` (and the context-loss event) in between batches.
        await yieldToEventLoop();
        // A pause or a stop leaves no queued step unreported.
        if (control.paused || shouldEnd(control) || control.contextLost) await report(readback.drain());
        // Paused: the worker idles here, the model and the batch order as they are, until Continue or Stop.
        if (control.paused && !shouldEnd(control) && !control.contextLost) progress({ type: 'held', batchesDone });
        while (control.paused && !shouldEnd(control) && !control.contextLost) await heldWait();
        if (control.contextLost) throw new UserError(gpuLostMessage(tf.getBackend()));
        if (shouldEnd(control)) break;
      }
      if (seen < count) break; // Stopped mid-epoch: a partial epoch is not reported as an epoch.
      const validation = await guarded(
        control,
        evaluateInBatches(model, data.validation, numClasses, evaluationBatch, undefined, images),
      );
      epochsDone = epoch + 1;
      const stop = stopping.update(epoch, validation.loss, model);
      progress({
        type: 'epochEnd',
        epoch,
        // Like Keras: the epoch's figures are the mean over its images of the batches' figures.
        loss: lossSum / seen,
        accuracy: accuracySum / seen,
        valLoss: validation.loss,
        valAccuracy: validation.accuracy,
        bestEpoch: stopping.bestEpoch,
        // Every epoch's batch tensors are freed: this count stays flat from the first epoch on.
        tensors: tf.memory().numTensors,
      });
      const snapshotTaken =
        settings.snapshots > 1 &&
        context.snapshots &&
        snapshotCycleOf(epoch, epochs, settings.snapshots).end === epoch + 1;
      if (snapshotTaken) context.snapshots?.push(snapshotOf(model));
      // With the optimizer's state (and a new snapshot, with those before it): a reload or a crashed worker loses no
      // finished epoch, and Resume goes on from here.
      const files = await guarded(control, modelFilesOf(model, true));
      const snapshots =
        snapshotTaken && context.snapshots ? await guarded(control, snapshotFilesOf(context.snapshots)) : null;
      progress({ type: 'checkpoint', epoch, files, ...(snapshots ? { snapshots } : {}) });
      if (stop && epoch < epochs - 1) return { epochsDone, stoppedEarly: true };
    }
  } finally {
    if (!context.images) images.dispose();
  }
  return { epochsDone, stoppedEarly: false };
}

/**
 * Waits for one turn of the event loop, so messages queued meanwhile (Stop) are handled.
 * A MessageChannel round trip avoids setTimeout's 4 ms clamp, which would slow small batches.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof MessageChannel === 'undefined') {
      setTimeout(resolve, 0);
      return;
    }
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
