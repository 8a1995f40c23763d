/**
 * Turns a few images of a split into tensors. Only the batch is copied out of the split's bytes;
 * the scaling to [0, 1] runs on the backend (GPU with WebGL), never on the whole set in JS.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../core/types';

export interface Batch {
  /** [n, size, size, 1] float32 in [0, 1]. */
  xs: tf.Tensor4D;
  /** [n, 1] (binary: 1 for class 1) or one-hot [n, numClasses]. */
  ys: tf.Tensor2D;
}

/** The pixel scaling the model is trained with (Keras' `rescale=1./255`); exported models need it too. */
export const PIXEL_SCALE = 1 / 255;

export function makeBatch(set: ImageSet, indices: Int32Array | readonly number[], numClasses: number): Batch {
  const labels = checkedLabels(set, indices, numClasses);
  const n = indices.length;
  const area = set.size * set.size;
  // One int32 per pixel: tfjs has no uint8 dtype; the backend makes floats of it.
  const pixels = new Int32Array(n * area);
  for (let i = 0; i < n; i++) pixels.set(set.pixels.subarray(indices[i] * area, (indices[i] + 1) * area), i * area);
  return tf.tidy(() => {
    const xs = tf.mul(
      tf.cast(tf.tensor4d(pixels, [n, set.size, set.size, 1], 'int32'), 'float32'),
      PIXEL_SCALE,
    ) as tf.Tensor4D;
    return { xs, ys: labelTensor(labels, numClasses) };
  });
}

/** The labels of the images at `indices`, after checking the split's bytes, the indices and the labels. */
export function checkedLabels(set: ImageSet, indices: Int32Array | readonly number[], numClasses: number): Int32Array {
  const n = indices.length;
  if (n === 0) throw new Error('A batch needs at least one image.');
  if (!Number.isInteger(numClasses) || numClasses < 2)
    throw new Error(`A classifier needs at least 2 classes (got ${numClasses}).`);
  const area = set.size * set.size;
  if (set.pixels.length < set.count * area) {
    throw new Error(
      `The image data is incomplete: ${set.pixels.length} bytes for ${set.count} images of ${set.size} px.`,
    );
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const index = indices[i];
    if (!Number.isInteger(index) || index < 0 || index >= set.count) {
      throw new Error(`Image ${index} is outside this split of ${set.count} images.`);
    }
    const label = set.labels[index];
    if (label >= numClasses)
      throw new Error(`Image ${index} has class ${label}, but the model has only ${numClasses} classes.`);
    labels[i] = label;
  }
  return labels;
}

/** A batch's targets: [n, 1] (binary: 1 for class 1) or one-hot [n, numClasses], float32. */
export function labelTensor(labels: Int32Array, numClasses: number): tf.Tensor2D {
  return tf.tidy(() =>
    numClasses === 2
      ? tf.tensor2d(Float32Array.from(labels), [labels.length, 1], 'float32')
      : (tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses), 'float32') as tf.Tensor2D),
  );
}

/** Frees a batch's tensors (call when the step that used them is done). */
export function disposeBatch(batch: Batch): void {
  batch.xs.dispose();
  batch.ys.dispose();
}
