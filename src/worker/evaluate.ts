/**
 * Loss, accuracy and per-image scores of a model on a whole split, a chunk at a time so that
 * no tensor ever holds the whole split (a test set of thousands of X-rays would not fit a GPU).
 */
import * as tf from '@tensorflow/tfjs';
import { KERAS_EPSILON } from '../model/cnn';
import { featuresAndOutputs } from '../model/features';
import { disposeBatch, makeBatch } from './batches';
import type { ImageSet, OodFeatureLayer, TestTimeAugmentation } from '../core/types';
import { rowWidth } from '../eval/featureEnsemble';
import type { ResidentSplits } from './residentSplits';
import { predictWithTta } from './testTimeAugmentation';

/** Keras' fuzz factor: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log. */
export const EPSILON = KERAS_EPSILON;

export interface Evaluation {
  /** Mean cross-entropy (NaN for an empty split). */
  loss: number;
  /** Share of images whose predicted class is their label (NaN for an empty split). */
  accuracy: number;
  /** Binary: P(class 1) per image; otherwise numClasses probabilities per image, row after row. */
  scores: Float32Array;
  /** With feature layers asked for: their pooled outputs concatenated, one row an image, image after image. */
  features?: Float32Array;
}

/** A change of a batch's input images (a new tensor; `first`: the batch's first index in the set). */
export type InputShift = (xs: tf.Tensor4D, first: number) => tf.Tensor4D;

/**
 * With `shift`, each batch is changed by it before the model sees it (the Results' acquisition-shift check).
 * With `features`, those layers' outputs (pooled as each says) are read too, in the same pass (of the image as it is), one concatenated row an image; with `tta` other than `off`, each image's scores are the mean over its views (testTimeAugmentation.ts). With
 * `images`, the split's batches are gathered from its copy on the GPU (uploaded here the first time), where it can be
 * held.
 */
export async function evaluateInBatches(
  model: tf.LayersModel,
  set: ImageSet,
  numClasses: number,
  batchSize: number,
  features?: readonly OodFeatureLayer[],
  images?: ResidentSplits,
  tta: TestTimeAugmentation = 'off',
  shift?: InputShift,
): Promise<Evaluation> {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`Batch size must be a whole number of at least 1 (got ${batchSize}).`);
  const width = numClasses === 2 ? 1 : numClasses;
  const scores = new Float32Array(set.count * width);
  const layers = features;
  const featureSize = layers ? rowWidth(layers) : 0;
  const featureValues = layers ? new Float32Array(set.count * featureSize) : undefined;
  await images?.upload(set);

  for (let start = 0; start < set.count; start += batchSize) {
    const end = Math.min(set.count, start + batchSize);
    const indices: number[] = [];
    for (let i = start; i < end; i++) indices.push(i);
    const batch = images ? images.batch(set, indices, numClasses) : makeBatch(set, indices, numClasses);
    let probabilities: tf.Tensor | undefined;
    let featureBatch: tf.Tensor | undefined;
    let xs: tf.Tensor4D = batch.xs;
    try {
      if (shift) xs = shift(batch.xs, start);
      if (layers && featureValues) {
        const both = featuresAndOutputs(model, layers, xs);
        probabilities = both.outputs;
        featureBatch = both.features;
        if (featureBatch.shape[1] !== featureSize) {
          const names = layers.map((l) => l.name).join(', ');
          throw new Error(`Layers ${names} give ${featureBatch.shape[1]} features, not ${featureSize}.`);
        }
        featureValues.set(await featureBatch.data<'float32'>(), start * featureSize);
        if (tta !== 'off') {
          const plain = probabilities;
          probabilities = predictWithTta(model, xs, tta, plain);
          plain.dispose();
        }
      } else {
        // training: false is predict's default, so Dropout is off here; the whole batch at once (testTimeAugmentation.ts).
        probabilities = predictWithTta(model, xs, tta);
      }
      if (probabilities.shape[1] !== width) {
        throw new Error(
          `The model gives ${probabilities.shape[1]} outputs an image, but the data has ${numClasses} classes.`,
        );
      }
      scores.set(await probabilities.data<'float32'>(), start * width);
    } finally {
      probabilities?.dispose();
      featureBatch?.dispose();
      if (xs !== batch.xs) xs.dispose();
      disposeBatch(batch);
    }
  }

  return {
    ...scoreMetrics(scores, set.labels.subarray(0, set.count), numClasses),
    scores,
    ...(featureValues ? { features: featureValues } : {}),
  };
}

/** Cross-entropy and accuracy from scores, computed as tfjs computes them during training. */
export function scoreMetrics(
  scores: Float32Array,
  labels: Uint8Array,
  numClasses: number,
): { loss: number; accuracy: number } {
  const count = labels.length;
  if (count === 0) return { loss: NaN, accuracy: NaN };
  let lossSum = 0;
  let correct = 0;
  if (numClasses === 2) {
    for (let i = 0; i < count; i++) {
      const p = clip(scores[i]);
      const y = labels[i];
      lossSum -= y === 1 ? Math.log(p) : Math.log(1 - p);
      // Like tfjs' binaryAccuracy: class 1 when the probability is strictly above 0.5.
      if ((scores[i] > 0.5 ? 1 : 0) === y) correct++;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const row = scores.subarray(i * numClasses, (i + 1) * numClasses);
      // tfjs' categoricalCrossentropy rescales the row to sum 1, then clips.
      let sum = 0;
      for (const v of row) sum += v;
      lossSum -= Math.log(clip(row[labels[i]] / sum));
      if (argMax(row) === labels[i]) correct++;
    }
  }
  return { loss: lossSum / count, accuracy: correct / count };
}

function clip(p: number): number {
  return Math.min(1 - EPSILON, Math.max(EPSILON, p));
}

/** First index of the largest value, as tf.argMax breaks ties. */
function argMax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
