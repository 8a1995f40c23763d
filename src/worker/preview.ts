/**
 * The `Augmented samples` preview: a few training images, each augmented a few times by the very
 * function training uses (augmentBatch), on the worker's current backend, as grey bytes for the page.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32, pickSamples } from '../data/splits';
import { augmentBatch, augmentationRandom } from './augment';
import { checkAugmentation } from './augmentSettings';
import { disposeBatch, makeBatch } from './batches';
import type { FromTrainer, ToTrainer } from './protocol';
import type { TrainingData } from './trainingRun';
import { UserError } from '../model/userError';

export type PreviewRequest = Extract<ToTrainer, { type: 'previewAugmentation' }>;
export type PreviewMessage = Extract<FromTrainer, { type: 'augmentationPreview' }>;

/** More would only slow the page: the figure shows a handful. */
export const MAX_PREVIEW_IMAGES = 64;

export async function renderAugmentationPreview(data: TrainingData, request: PreviewRequest): Promise<PreviewMessage> {
  const { id, augmentation, seed, count, variants } = request;
  const problem = checkAugmentation(augmentation);
  if (problem) throw new UserError(problem);
  if (!Number.isInteger(count) || !Number.isInteger(variants) || count < 1 || variants < 1 || count * variants > MAX_PREVIEW_IMAGES) {
    throw new UserError(`The augmentation preview takes 1 to ${MAX_PREVIEW_IMAGES} images (asked for ${count} × ${variants}).`);
  }
  const { train, classNames } = data;
  const size = train.size;
  // The same draw as the page's sample grid (loadDataset, makeDemoDataset): its first `count` images.
  const picks = pickSamples(train.labels.subarray(0, train.count), classNames.length, count, mulberry32(seed));
  const indices = picks.flatMap((i) => Array.from({ length: variants }, () => i));
  const empty: PreviewMessage = { type: 'augmentationPreview', id, size, count: 0, variants, classes: [], pixels: new Uint8Array(0) };
  if (indices.length === 0) return empty;

  const batch = makeBatch(train, indices, classNames.length);
  let bytes: tf.Tensor | null = null;
  try {
    // Its own stream: the preview for these settings is the same every time, and differs from the run's draws.
    const random = augmentationRandom((seed ^ 0x5eed) >>> 0);
    bytes = tf.tidy(() => {
      const augmented = augmentBatch(batch.xs, augmentation, random);
      return tf.cast(tf.round(tf.mul(augmented, 255)), 'int32');
    });
    const values = await bytes.data();
    return { ...empty, count: picks.length, classes: picks.map((i) => classNames[train.labels[i]]), pixels: Uint8Array.from(values) };
  } finally {
    bytes?.dispose();
    disposeBatch(batch);
  }
}
