/**
 * One training run's loop: shuffled batches, one optimizer step each, validation after every
 * epoch, and the final evaluation. The Trainer owns the model and the messages' destination.
 */
import type * as tf from '@tensorflow/tfjs';
import { mulberry32, range, shuffleInPlace } from '../model/random';
import { UserError } from '../model/userError';
import { CONTEXT_LOST_MESSAGE } from './backend';
import { disposeBatch, makeBatch } from './batches';
import { evaluateInBatches } from './evaluate';
import type { FromTrainer, ImageSet, TrainSettings } from './protocol';
import { Throughput } from './throughput';

export interface TrainingData {
  classNames: string[];
  train: ImageSet;
  validation: ImageSet;
  test: ImageSet | null;
}

/** Set by message handlers while the run awaits; read between batches. */
export interface RunControl {
  stopRequested: boolean;
  /** New data arrived: this run's results would describe a dataset the page no longer shows. */
  superseded: boolean;
  contextLost: boolean;
}

export interface RunContext {
  model: tf.LayersModel;
  data: TrainingData;
  settings: TrainSettings;
  control: RunControl;
  send: (message: FromTrainer) => void;
  /** Milliseconds, for images/s. */
  now: () => number;
}

export function shouldEnd(control: RunControl): boolean {
  return control.stopRequested || control.superseded;
}

/**
 * Posts trainingStarted, then batchEnd for every batch and epochEnd for every complete epoch.
 * Returns the number of complete epochs (fewer than asked when stopped).
 */
export async function trainEpochs(context: RunContext): Promise<number> {
  const { model, data, settings, control, send, now } = context;
  const { epochs, batchSize } = settings;
  const numClasses = data.classNames.length;
  const count = data.train.count;
  const batchesPerEpoch = Math.ceil(count / batchSize);
  const totalBatches = batchesPerEpoch * epochs;
  send({ type: 'trainingStarted', epochs, batchesPerEpoch, totalBatches });

  const random = mulberry32(settings.seed);
  const order = range(count);
  const throughput = new Throughput();
  let batchesDone = 0;
  let epochsDone = 0;

  for (let epoch = 0; epoch < epochs && !shouldEnd(control); epoch++) {
    shuffleInPlace(order, random);
    let lossSum = 0;
    let accuracySum = 0;
    let seen = 0;
    for (let batch = 0; batch < batchesPerEpoch; batch++) {
      // The last batch keeps the remainder (it may be smaller), as Keras does.
      const indices = order.subarray(batch * batchSize, Math.min(count, (batch + 1) * batchSize));
      const started = now();
      const { loss, accuracy } = await trainStep(model, data.train, indices, numClasses);
      const imagesPerSecond = throughput.record(indices.length, now() - started);
      batchesDone++;
      lossSum += loss * indices.length;
      accuracySum += accuracy * indices.length;
      seen += indices.length;
      send({ type: 'batchEnd', epoch, batch, batchesDone, totalBatches, loss, accuracy, imagesPerSecond });
      // Lets `stop` (and the context-loss event) in between batches.
      await yieldToEventLoop();
      if (control.contextLost) throw new UserError(CONTEXT_LOST_MESSAGE);
      if (shouldEnd(control)) break;
    }
    if (seen < count) break; // Stopped mid-epoch: a partial epoch is not reported as an epoch.
    const validation = await evaluateInBatches(model, data.validation, numClasses, batchSize);
    epochsDone = epoch + 1;
    send({
      type: 'epochEnd',
      epoch,
      // Like Keras: the epoch's figures are the mean over its images of the batches' figures.
      loss: lossSum / seen,
      accuracy: accuracySum / seen,
      valLoss: validation.loss,
      valAccuracy: validation.accuracy,
    });
  }
  return epochsDone;
}

/** Posts evaluating, then testResult on the test split (on validation when there is none). */
export async function evaluateFinal(context: RunContext): Promise<void> {
  const { model, data, settings, control, send } = context;
  const numClasses = data.classNames.length;
  send({ type: 'evaluating' });
  const finalSet = data.test ?? data.validation;
  const result = await evaluateInBatches(model, finalSet, numClasses, settings.batchSize);
  if (control.contextLost) throw new UserError(CONTEXT_LOST_MESSAGE);
  send({
    type: 'testResult',
    loss: result.loss,
    accuracy: result.accuracy,
    scores: result.scores,
    // A copy: the labels' own buffer is transferred to the page, the split keeps its own.
    labels: finalSet.labels.slice(0, finalSet.count),
    numClasses,
  });
}

/** One optimizer step on one batch; the batch's tensors live only for this step. */
async function trainStep(
  model: tf.LayersModel,
  set: ImageSet,
  indices: Int32Array,
  numClasses: number,
): Promise<{ loss: number; accuracy: number }> {
  const batch = makeBatch(set, indices, numClasses);
  try {
    const result = await model.trainOnBatch(batch.xs, batch.ys);
    const [loss, accuracy] = Array.isArray(result) ? result : [result, NaN];
    return { loss, accuracy };
  } finally {
    disposeBatch(batch);
  }
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
