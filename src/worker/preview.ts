/**
 * The `Augmented samples` preview: a few training images, each augmented a few times by the very
 * function training uses (augmentBatch), on the worker's current backend, as grey bytes for the page.
 */
import * as tf from '@tensorflow/tfjs';
import { seededAugmenter } from './augment';
import { checkAugmentation } from '../core/settings';
import { disposeBatch, makeBatch } from './batches';
import type { Splits } from '../core/types';
import type { AugmentationPreview, TrainerRequestOf } from './protocol';
import { UserError } from '../core/userError';

export type PreviewRequest = TrainerRequestOf<'previewAugmentation'>;

/** More would only slow the page: the figure shows a handful. */
export const MAX_PREVIEW_IMAGES = 64;

/**
 * The preview asked for. Before a dataset has arrived there is nothing to show: an empty preview (the page asks again
 * with the next dataset).
 */
export async function renderAugmentationPreview(
  data: Splits | null,
  request: PreviewRequest,
): Promise<AugmentationPreview> {
  const { augmentation, indices: picks, seed, variants } = request;
  if (!data) return { size: 0, count: 0, variants, classes: [], pixels: new Uint8Array(0) };
  const problem = checkAugmentation(augmentation);
  if (problem) throw new UserError(problem);
  const count = picks.length;
  if (!Number.isInteger(variants) || variants < 1 || count * variants > MAX_PREVIEW_IMAGES) {
    throw new UserError(
      `The augmentation preview takes 1 to ${MAX_PREVIEW_IMAGES} images (asked for ${count} × ${variants}).`,
    );
  }
  const { train, classNames } = data;
  const size = train.size;
  // The page's picks (its sample grid): the worker draws nothing the page must match.
  for (const i of picks) {
    if (!Number.isInteger(i) || i < 0 || i >= train.count) {
      throw new UserError(
        `The augmentation preview asked for train image ${i}, but the train split has ${train.count}: load the dataset again.`,
      );
    }
  }
  const indices = picks.flatMap((i) => Array.from({ length: variants }, () => i));
  const empty: AugmentationPreview = { size, count: 0, variants, classes: [], pixels: new Uint8Array(0) };
  if (indices.length === 0) return empty;

  const batch = makeBatch(train, indices, classNames.length);
  let bytes: tf.Tensor | null = null;
  try {
    // Its own streams: the preview for these settings is the same every time, and differs from the run's draws.
    const augment = seededAugmenter(augmentation, (seed ^ 0x5eed) >>> 0);
    bytes = tf.tidy(() => {
      const augmented = augment(batch.xs);
      return tf.cast(tf.round(tf.mul(augmented, 255)), 'int32');
    });
    const values = await bytes.data();
    return {
      ...empty,
      count: picks.length,
      classes: picks.map((i) => classNames[train.labels[i]]),
      pixels: Uint8Array.from(values),
    };
  } finally {
    bytes?.dispose();
    disposeBatch(batch);
  }
}
