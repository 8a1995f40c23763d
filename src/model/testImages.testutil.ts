/**
 * Tiny synthetic grey images a CNN can learn in a few steps, for tests only (no file needed):
 * class 0 is dark noise, class 1 has a bright square, class 2 (if any) a bright bar.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../core/types';
import { mulberry32 } from '../core/random';

export function syntheticSet(count: number, size: number, numClasses: number, seed: number): ImageSet {
  const random = mulberry32(seed);
  const area = size * size;
  const pixels = new Uint8Array(count * area);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % numClasses;
    labels[i] = label;
    const image = pixels.subarray(i * area, (i + 1) * area);
    for (let p = 0; p < area; p++) image[p] = Math.floor(random() * 60);
    const half = Math.floor(size / 2);
    const x0 = Math.floor(random() * (size - half));
    const y0 = Math.floor(random() * (size - half));
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inSquare = x >= x0 && x < x0 + half && y >= y0 && y < y0 + half;
        const inBar = y >= y0 && y < y0 + 3;
        if ((label === 1 && inSquare) || (label === 2 && inBar)) image[y * size + x] = 200 + Math.floor(random() * 55);
      }
    }
  }
  return { size, count, pixels, labels };
}

/** Every image of `set` as one batch, pixels / 255 (the worker's batches.ts makes the real ones; model/ may not import it). */
export function wholeBatch(set: ImageSet, numClasses: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  return tf.tidy(() => {
    const xs = tf.div(
      tf.tensor4d(Float32Array.from(set.pixels), [set.count, set.size, set.size, 1]),
      255,
    ) as tf.Tensor4D;
    const labels = tf.tensor1d(Int32Array.from(set.labels), 'int32');
    const ys =
      numClasses === 2
        ? tf.reshape(tf.cast(labels, 'float32'), [set.count, 1])
        : tf.cast(tf.oneHot(labels, numClasses), 'float32');
    return { xs, ys: ys as tf.Tensor2D };
  });
}
